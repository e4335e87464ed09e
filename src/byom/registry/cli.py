"""``byom registry check`` and ``byom registry render`` (R6.2)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from byom.registry.check import RegistryReport

_MISSING_EXTRA = (
    "byom registry: this command needs the registry extra; install it with "
    "pip install 'byom[registry]'"
)


def register(subparsers: Any) -> None:
    """Add ``registry check`` and ``registry render``."""
    parser = subparsers.add_parser(
        "registry",
        help="check or render a BYOM app registry (registry.yaml)",
        description="Check a BYOM registry.yaml against the registry contract, or render it.",
    )
    sub = parser.add_subparsers(dest="registry_command", metavar="ACTION")
    parser.set_defaults(func=lambda _args: _usage(parser))

    check = sub.add_parser(
        "check",
        help="validate a registry.yaml",
        description=(
            "Validate a registry.yaml with the published validator's rules (JSON Schema draft "
            "2020-12 with format checks). Schema errors make the check fail. Further checks "
            "(duplicates, unreleased constitution tags, integration document links, "
            "overclaiming descriptions) are warnings, which fail only with --strict. "
            "Exit code: 0 passed, 1 failed."
        ),
    )
    check.add_argument(
        "file",
        nargs="?",
        default="registry.yaml",
        help="the registry file (default: ./registry.yaml)",
    )
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.add_argument(
        "--schema",
        metavar="FILE",
        help="validate against this schema file instead of the bundled one",
    )
    check.set_defaults(func=run_check)

    render = sub.add_parser(
        "render",
        help="render a registry.yaml as a static page",
        description=(
            "Write a static registry page (index.html), a badge page (badge.html), a "
            "stylesheet, a _headers file and the badge images into a directory. The pages run "
            "no script and carry the policy default-src 'none'; style-src 'self'; "
            "img-src 'self'. An invalid registry is not rendered."
        ),
    )
    render.add_argument("file", metavar="REGISTRY", help="the registry file")
    render.add_argument("-o", "--out", metavar="DIR", required=True, help="output directory")
    render.set_defaults(func=run_render)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _load(args: argparse.Namespace, file: str) -> RegistryReport | None:
    from byom.registry.check import FormatCheckUnavailable, check_registry_file, load_schema

    try:
        schema = load_schema(args.schema) if getattr(args, "schema", None) else None
        return check_registry_file(file, schema=schema)
    except ImportError:
        print(_MISSING_EXTRA, file=sys.stderr)
        return None
    except FormatCheckUnavailable as exc:
        print(f"byom registry: {exc}", file=sys.stderr)
        return None
    except (OSError, ValueError) as exc:
        print(f"byom registry: cannot use the schema file: {exc}", file=sys.stderr)
        return None


def print_report(report: RegistryReport, strict: bool, out: TextIO) -> None:
    """Plain, one-problem-a-line output."""
    name = report.source
    if report.errors:
        n = len(report.errors)
        out.write(f"{name}: INVALID, {n} error{'s' if n != 1 else ''}\n")
        for finding in report.errors:
            out.write(f"  error    {finding.path}: {finding.message}\n")
    else:
        apps = report.app_count or 0
        out.write(f"{name}: valid, {apps} app{'s' if apps != 1 else ''}\n")
    for finding in report.warnings:
        out.write(f"  warning  {finding.path}: {finding.message}\n")
    if report.warnings and report.schema_valid:
        if strict:
            out.write("Failed: --strict turns the warnings above into errors.\n")
        else:
            out.write("Warnings do not fail the check; use --strict to make them.\n")


def run_check(args: argparse.Namespace) -> int:
    """Handle ``byom registry check``."""
    report = _load(args, args.file)
    if report is None:
        return 1
    if args.json:
        print(json.dumps(report.to_dict(args.strict), indent=2, ensure_ascii=False))
    else:
        print_report(report, args.strict, sys.stdout)
    return 0 if report.ok(args.strict) else 1


def run_render(args: argparse.Namespace) -> int:
    """Handle ``byom registry render``."""
    report = _load(args, args.file)
    if report is None:
        return 1
    if not report.schema_valid:
        print_report(report, False, sys.stderr)
        print("Not rendered: fix the errors above first.", file=sys.stderr)
        return 1
    from byom.registry.render import render_site

    try:
        written = render_site(report.data, args.out)
    except OSError as exc:
        print(f"byom registry: cannot write to {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    for finding in report.warnings:
        print(f"  warning  {finding.path}: {finding.message}", file=sys.stderr)
    print(f"Wrote {len(written)} files to {args.out} (open {args.out}/index.html).")
    return 0
