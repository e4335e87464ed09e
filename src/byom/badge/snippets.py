"""Embed snippets and the claim that travels with the badge (R6.1).

The link target, the asset file names and the HTML ``alt`` text are a published contract; the
snippets below reproduce that contract so an embed made with byom looks like any other.
"""

from __future__ import annotations

from html import escape
from typing import Final

from byom.badge.mark import BADGE_VARIANTS, Variant, badge_set

SITE_URL: Final = "https://byom.flkp.nl/"
"""Where every badge links: the site that explains the pattern."""
DEFAULT_ASSET_BASE: Final = "https://byom.flkp.nl/assets/badge/"
"""Where the published badge files are served."""
MARKDOWN_ALT: Final = "BYOM badge"
"""Markdown alt text. Kept short: the full claim is restated in the text around the badge."""
HTML_ALT: Final = (
    "BYOM badge — Bring Your Own Model: follows the pattern and security invariants, "
    "not proof of safety."
)
"""The canonical HTML alt text."""
CLAIM: Final = (
    "This app follows the BYOM pattern and its security invariants. The badge does not prove "
    "the app is safe: any web page can copy a badge, and keeping the key on your own device "
    "gives you privacy and control, not a cryptographic guarantee against a determined attacker."
)
"""The honest claim: show it near the badge wherever the badge appears."""
SELF_HOST_NOTE: Final = (
    "An app with a strict Content-Security-Policy (img-src 'self') cannot load these images "
    "from byom.flkp.nl. Copy the SVG files into your own site (for example under "
    "/assets/badge/) and point the snippets there with --asset-base /assets/badge/."
)


def _size(variant: Variant) -> tuple[int, int]:
    for item in badge_set():
        if item.variant == variant:
            return item.width, item.height
    raise ValueError(f"unknown badge variant: {variant!r}")


def asset_url(variant: Variant, asset_base: str = DEFAULT_ASSET_BASE) -> str:
    """The URL of one badge file under ``asset_base`` (a trailing slash is added if missing)."""
    if variant not in BADGE_VARIANTS:
        raise ValueError(f"unknown badge variant: {variant!r}")
    base = asset_base if asset_base.endswith("/") else asset_base + "/"
    return f"{base}byom-badge-{variant}.svg"


def markdown_snippet(variant: Variant = "light", asset_base: str = DEFAULT_ASSET_BASE) -> str:
    """A Markdown embed: the badge image, linked to the BYOM site."""
    url = asset_url(variant, asset_base)
    if any(ch in url for ch in "()<> \n"):
        raise ValueError("the asset URL must not contain spaces, parentheses or angle brackets")
    return f"[![{MARKDOWN_ALT}]({url})]({SITE_URL})"


def html_snippet(variant: Variant = "light", asset_base: str = DEFAULT_ASSET_BASE) -> str:
    """An HTML embed with the canonical alt text, explicit size and ``rel="noopener"``."""
    width, height = _size(variant)
    src = escape(asset_url(variant, asset_base), quote=True)
    return (
        f'<a href="{SITE_URL}" rel="noopener">\n'
        f'  <img src="{src}"\n'
        f'       alt="{escape(HTML_ALT, quote=True)}"\n'
        f'       width="{width}" height="{height}" loading="lazy" decoding="async">\n'
        "</a>"
    )
