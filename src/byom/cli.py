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


#: Every top-level command, its module and its one-line help, in the order ``--help`` lists
#: them. ``byom --help`` (and ``byom --version``) is built from this table alone, and a command
#: imports only its own module, so start-up stays fast (issue 16). A test checks that the table
#: matches what the modules register.
_COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "sim",
        "byom.sim.cli",
        "run the provider simulator (OpenRouter, OpenAI, Anthropic, Gemini, Ollama) on loopback",
    ),
    ("badge", "byom.badge.cli", "write the BYOM badge SVGs and print embed snippets"),
    ("registry", "byom.registry.cli", "check or render a BYOM app registry (registry.yaml)"),
    ("integration", "byom.integration.cli", "write or check an app's BYOM-INTEGRATION.md"),
    ("connect", "byom.terminal.cli", "connect an app to your model provider (the wizard)"),
    ("status", "byom.terminal.cli", "show the connection, models, allowances and spend"),
    ("models", "byom.terminal.cli", "list the models you can choose"),
    ("model", "byom.terminal.cli", "choose the model a feature uses"),
    (
        "category",
        "byom.terminal.cli",
        "set a model's category (your own models count as worker)",
    ),
    ("budget", "byom.terminal.cli", "show or set the allowance (a spending ceiling)"),
    ("key", "byom.terminal.cli", "forget or replace (rotate) the key"),
    (
        "reconcile",
        "byom.terminal.cli",
        "fetch the real cost of requests whose usage never came back",
    ),
    ("history", "byom.terminal.cli", "spend history: chart, totals, export, delete"),
    ("web", "byom.web.cli", "build static BYOM web apps (Python in the browser via Pyodide)"),
    ("demo", "byom.web.cli", "run the reference app (Reader) against the simulator, offline"),
    ("audit", "byom.audit.cli", "check a BYOM web app against the invariants in a real browser"),
)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse measures sub-command names one indent level shallower than it prints them, so
    the longest name ("integration") would push its help onto the next line and out of the
    column. Measure them where they are printed."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            names = [len(self._format_action_invocation(a)) for a in action._get_subactions()]
            if names:
                deepest = max(names) + self._current_indent + self._indent_increment
                self._action_max_length = max(self._action_max_length, deepest)


_COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for _, module, _ in _COMMANDS))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser (used by ``main`` and by the tests).

    With ``only`` (a module name), only that module is imported and registers its commands; the
    others appear as entries in ``--help`` without being imported. Without it, every module
    registers (the full parser)."""
    from byom import __version__

    parser = argparse.ArgumentParser(
        prog="byom",
        description="Bring your own model: run model features on the user's own key.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"byom {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    for name, module_name, help_text in _COMMANDS:
        if module_name in registered:
            continue
        if only is not None and module_name != only:
            subparsers.add_parser(name, help=help_text, add_help=False)
            continue
        registered.add(module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # an optional part that is not installed
            if exc.name is not None and exc.name.startswith("byom"):
                raise
            continue
        module.register(subparsers)
    return parser


def _module_for(argv: Sequence[str]) -> str:
    """The module of the command in ``argv`` (its first word that is not an option; the
    top-level options take no value), or ``""`` for none or an unknown one."""
    for word in argv:
        if word == "--":
            break
        if not word.startswith("-"):
            return next((m for name, m, _ in _COMMANDS if name == word), "")
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``byom`` console script; returns the process exit code."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_module_for(words))
    args = parser.parse_args(words)
    func = getattr(args, "func", None)
    if func is None:  # a bare ``byom``: the help is what was asked for
        parser.print_help(sys.stdout)
        return 0
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
