"""Issue 16 item 4: ``byom --help`` is built from a table, importing no command module."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from byom.cli import _COMMAND_MODULES, _COMMANDS, build_parser


def test_r6_the_command_table_matches_what_the_modules_register() -> None:
    registered = []
    for module_name in _COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module_name).register(sub)
        registered += [(a.dest, module_name, a.help) for a in sub._choices_actions]
    assert registered == list(_COMMANDS)


def test_r6_help_is_the_same_as_the_full_parsers_and_imports_no_command() -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from byom.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('byom.', 'httpx', 'typing'))\n"
        "               and m != 'byom.cli')\n"
        "print(repr(heavy))\n"
        "print(out.getvalue(), end='')\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    first, _, shown = child.stdout.partition("\n")
    assert first == "[]"
    assert shown == build_parser().format_help()


def test_r6_a_command_still_parses_with_only_its_module() -> None:
    args = build_parser(only="byom.sim.cli").parse_args(["sim", "--port", "0"])
    assert args.command == "sim" and callable(args.func)
