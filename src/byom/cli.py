"""The ``byom`` command: a thin shell that parses arguments and calls the library.

Each command group lives beside the code it drives and contributes its sub-parser through a
``register(subparsers)`` function listed in ``_COMMAND_MODULES``. Registering must stay cheap:
heavy imports happen inside the handler, so ``byom --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that add sub-commands. Each exposes ``register(subparsers) -> None`` and sets
# ``func`` on its parsers (``parser.set_defaults(func=handler)``); a handler returns an exit code.
_COMMAND_MODULES: tuple[str, ...] = (
    "byom.sim.cli",
    "byom.badge.cli",
    "byom.registry.cli",
    "byom.integration.cli",
    "byom.terminal.cli",
    "byom.web.cli",
    "byom.audit.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (used by ``main`` and by the tests)."""
    from byom import __version__

    parser = argparse.ArgumentParser(
        prog="byom",
        description="Bring your own model: run model features on the user's own key.",
    )
    parser.add_argument("--version", action="version", version=f"byom {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an optional part that is not installed
            if exc.name is not None and exc.name.startswith("byom"):
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``byom`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
