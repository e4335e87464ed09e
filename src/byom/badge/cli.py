"""``byom badge``: write the badge SVGs and print the embed snippets (R6.1)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

_VARIANT_CHOICES = ("light", "dark", "light-small", "dark-small", "all")


def register(subparsers: Any) -> None:
    """Add the ``badge`` sub-command."""
    parser = subparsers.add_parser(
        "badge",
        help="write the BYOM badge SVGs and print embed snippets",
        description=(
            "Print Markdown and HTML snippets for the BYOM badge, together with the honest "
            "claim that must be shown next to it. With --out, also write the seven SVG files "
            "(four badges and three bare marks) so you can serve them from your own site."
        ),
    )
    parser.add_argument("--out", metavar="DIR", help="write the seven SVG files into DIR")
    parser.add_argument(
        "--variant",
        choices=_VARIANT_CHOICES,
        default="light",
        help="which badge the snippets show (default: light)",
    )
    parser.add_argument(
        "--asset-base",
        metavar="URL",
        default=None,
        help=(
            "where the SVG files are served, used in the snippets; for self-hosted files "
            "use e.g. /assets/badge/ (default: the published files on byom.flkp.nl)"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handle ``byom badge``; returns the exit code."""
    from byom.badge import (
        BADGE_VARIANTS,
        CLAIM,
        DEFAULT_ASSET_BASE,
        HTML_ALT,
        MARKDOWN_ALT,
        SELF_HOST_NOTE,
        SITE_URL,
        Variant,
        badge_set,
        html_snippet,
        markdown_snippet,
        write_badge_set,
    )

    asset_base: str = args.asset_base or DEFAULT_ASSET_BASE
    variants: tuple[Variant, ...] = BADGE_VARIANTS if args.variant == "all" else (args.variant,)
    try:
        snippets = {
            v: {"markdown": markdown_snippet(v, asset_base), "html": html_snippet(v, asset_base)}
            for v in variants
        }
    except ValueError as exc:
        print(f"byom badge: {exc}", file=sys.stderr)
        return 2

    written = []
    if args.out:
        try:
            written = write_badge_set(args.out)
        except OSError as exc:
            print(f"byom badge: cannot write to {args.out}: {exc.strerror}", file=sys.stderr)
            return 1
    suggest_self_host = args.asset_base is None

    if args.json:
        sizes = {item.filename: (item.width, item.height) for item in badge_set()}
        payload = {
            "link": SITE_URL,
            "asset_base": asset_base,
            "alt": {"markdown": MARKDOWN_ALT, "html": HTML_ALT},
            "claim": CLAIM,
            "snippets": snippets,
            "files": [
                {
                    "path": str(path),
                    "width": sizes[path.name][0],
                    "height": sizes[path.name][1],
                }
                for path in written
            ],
            "self_host_note": SELF_HOST_NOTE if suggest_self_host else None,
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0

    out = sys.stdout
    if written:
        out.write(f"Wrote {len(written)} SVG files to {args.out}:\n")
        for path in written:
            w, h = next((i.width, i.height) for i in badge_set() if i.filename == path.name)
            out.write(f"  {path.name}  ({w}×{h})\n")
        out.write("\n")
    for variant, pair in snippets.items():
        out.write(f"Markdown ({variant}):\n\n{pair['markdown']}\n\n")
        out.write(f"HTML ({variant}):\n\n{pair['html']}\n\n")
    out.write("Show this sentence next to the badge, wherever it appears:\n\n")
    out.write(f"  {CLAIM}\n")
    if suggest_self_host:
        out.write(f"\nSelf-hosting: {SELF_HOST_NOTE}\n")
        if not written:
            out.write("Add --out DIR to write the SVG files.\n")
    return 0
