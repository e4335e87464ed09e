"""``byom audit TARGET``: the browser audit of a BYOM web app (R7.1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from byom.audit.model import EXIT_INCOMPLETE


def register(subparsers: Any) -> None:
    """Add ``byom audit``."""
    parser = subparsers.add_parser(
        "audit",
        help="check a BYOM web app against the invariants in a real browser",
        description=(
            "Load a BYOM web app (a URL, or a directory of static files served on 127.0.0.1 "
            "with its _headers file) in headless Chromium, drive it with a canary key and "
            "prompt, answer every provider request with the byom simulator (nothing is spent, "
            "nothing reaches the internet) and check it against the invariants. "
            "Exit code: 0 every mandatory check passed, 1 a mandatory check failed, "
            "2 the audit could not run or could not check a mandatory check."
        ),
    )
    parser.add_argument("target", metavar="TARGET", help="URL or directory of the built site")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    parser.add_argument(
        "--chromium",
        metavar="PATH",
        default="/usr/bin/chromium",
        help="the Chromium binary (default: /usr/bin/chromium)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="byom-audit.toml (default: the one in TARGET or its parent, or at the URL)",
    )
    parser.add_argument(
        "--provider-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="another provider origin to answer with the simulator; repeatable",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=180.0,
        help="give up after this long (default: 180)",
    )
    parser.add_argument(
        "--screenshots", metavar="DIR", help="keep screenshots here (default: a temporary folder)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handle ``byom audit``."""
    from byom.audit.config import ConfigError, load_config
    from byom.audit.report import render_html, render_json, render_text

    try:
        from byom.audit.engine import run_audit
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("playwright"):
            print("byom audit needs Playwright: pip install 'byom[audit]'", file=sys.stderr)
            return EXIT_INCOMPLETE
        raise
    config = None
    config_path = Path(args.config) if args.config else None
    if config_path is not None:
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            print(f"byom audit: {exc}", file=sys.stderr)
            return EXIT_INCOMPLETE
    report = run_audit(
        args.target,
        chromium=args.chromium,
        config=config,
        provider_origins=tuple(args.provider_origin),
        timeout=args.timeout,
        screenshot_dir=Path(args.screenshots) if args.screenshots else None,
    )
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
    if args.json:
        sys.stdout.write(render_json(report) + "\n")
    else:
        sys.stdout.write(render_text(report))
        if args.html:
            sys.stdout.write(f"HTML report: {args.html}\n")
    return report.exit_code
