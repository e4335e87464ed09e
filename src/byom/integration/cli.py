"""``byom integration init`` and ``byom integration check`` (R6.3)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``integration init`` and ``integration check``."""
    parser = subparsers.add_parser(
        "integration",
        help="write or check an app's BYOM-INTEGRATION.md",
        description="Write a BYOM-INTEGRATION.md skeleton, or check an existing one.",
    )
    sub = parser.add_subparsers(dest="integration_command", metavar="ACTION")
    parser.set_defaults(func=lambda _args: _usage(parser))

    init = sub.add_parser(
        "init",
        help="write a BYOM-INTEGRATION.md skeleton from the app's features",
        description=(
            "Write a BYOM-INTEGRATION.md with every required section and the conformance "
            "checklist. The app's name, features and categories are filled in; everything "
            "else is a TODO line to replace. Features come from --feature options and/or a "
            "TOML or JSON description file (--from)."
        ),
    )
    init.add_argument("--app-name", metavar="NAME", help="the app's name")
    init.add_argument("--one-line", metavar="TEXT", help="one sentence saying what the app is")
    init.add_argument(
        "--feature",
        metavar="NAME:CATEGORY",
        action="append",
        default=[],
        help="a model-powered feature and its category (frontier or worker); repeatable",
    )
    init.add_argument(
        "--from",
        dest="description",
        metavar="FILE",
        help="app description file (.toml, or JSON) with name, one_line and [[features]]",
    )
    init.add_argument(
        "--pinned-version", metavar="TAG", help="constitution tag (default: the newest known)"
    )
    init.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )
    init.add_argument(
        "--builtin",
        action="store_true",
        default=None,
        help="the site is built with the built-in model (builtin = true): add why its policy "
        "has worker-src blob:",
    )
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    init.set_defaults(func=run_init)

    check = sub.add_parser(
        "check",
        help="check a BYOM-INTEGRATION.md",
        description=(
            "Check that every required section is present and filled in, that the feature "
            "table's categories are frontier or worker, and that the unchecked boxes of the "
            "conformance checklist and the deviations list agree. Exit code: 0 passed, "
            "1 problems found (warnings count only with --strict)."
        ),
    )
    check.add_argument("file", metavar="FILE", help="the document to check")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.set_defaults(func=run_check)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_init(args: argparse.Namespace) -> int:
    """Handle ``byom integration init``."""
    from byom.integration import (
        build_description,
        parse_feature_option,
        read_description_file,
        render_document,
    )

    try:
        data = read_description_file(args.description) if args.description else None
        features = [parse_feature_option(option) for option in args.feature]
        app = build_description(
            data,
            name=args.app_name,
            one_line=args.one_line,
            features=features,
            pinned_version=args.pinned_version,
            builtin=args.builtin,
        )
    except (OSError, ValueError) as exc:
        print(f"byom integration init: {exc}", file=sys.stderr)
        return 2
    document = render_document(app)
    if not args.output or args.output == "-":
        sys.stdout.write(document)
        return 0
    target = Path(args.output)
    if target.exists() and not args.force:
        print(
            f"byom integration init: {target} exists; use --force to overwrite it",
            file=sys.stderr,
        )
        return 1
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(document, encoding="utf-8")
    except OSError as exc:
        print(f"byom integration init: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    print(
        f"Wrote {target}. Replace every TODO line, tick the checklist boxes that are true, "
        f"then run: byom integration check {target}"
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Handle ``byom integration check``."""
    from byom.integration import check_document, judged_by

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"byom integration check: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    problems = check_document(text)
    template, own = judged_by(text)
    judged = f"the {template.version} template" + ("" if own else " (the newest known)")
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    ok = not errors and not (args.strict and warnings)
    if args.json:
        payload = {
            "file": args.file,
            "ok": ok,
            "strict": args.strict,
            "errors": len(errors),
            "warnings": len(warnings),
            "template": {"version": template.version, "own": own, "source": template.source},
            "problems": [p.to_dict() for p in problems],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0 if ok else 1
    print(f"{args.file}: judged by {judged}, read from {template.source}")
    for p in problems:
        where = f"{args.file}:{p.line}" if p.line is not None else args.file
        print(f"{where}: {p.severity}: {p.message}")
    if not problems:
        print(f"{args.file}: passed, every required section is present and filled in.")
    else:
        print(
            f"{args.file}: {'passed' if ok else 'FAILED'}, "
            f"{len(errors)} error{'s' if len(errors) != 1 else ''}, "
            f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}."
        )
    return 0 if ok else 1
