"""The BYOM badge: the SVG set, embed snippets and the honest claim (R6.1).

Standard library only. ``byom badge`` (see :mod:`byom.badge.cli`) is a thin shell over this.
"""

from __future__ import annotations

from pathlib import Path

from byom.badge.mark import BADGE_VARIANTS, BadgeFile, Variant, badge_set
from byom.badge.snippets import (
    CLAIM,
    DEFAULT_ASSET_BASE,
    HTML_ALT,
    MARKDOWN_ALT,
    SELF_HOST_NOTE,
    SITE_URL,
    asset_url,
    html_snippet,
    markdown_snippet,
)

__all__ = [
    "BADGE_VARIANTS",
    "CLAIM",
    "DEFAULT_ASSET_BASE",
    "HTML_ALT",
    "MARKDOWN_ALT",
    "SELF_HOST_NOTE",
    "SITE_URL",
    "BadgeFile",
    "Variant",
    "asset_url",
    "badge_set",
    "html_snippet",
    "markdown_snippet",
    "write_badge_set",
]


def write_badge_set(directory: str | Path) -> list[Path]:
    """Write the seven SVG files into ``directory`` (created if needed); return their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for item in badge_set():
        path = out / item.filename
        path.write_text(item.svg, encoding="utf-8")
        written.append(path)
    return written
