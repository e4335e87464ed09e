"""Issue 15, item 12: requirement ids ("R3.7") and pitfall numbers belong in tests and code
comments, not in what a developer or user reads — CLI help and the docstrings of the public API
(``help(byom.App)``, an IDE's hover)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import pytest

import byom
from byom.terminal import Terminal

INTERNAL = re.compile(r"\bR\d\.\d\b|\bpitfalls?\b", re.IGNORECASE)
COMMANDS = [
    [], ["connect"], ["status"], ["models"], ["model"], ["budget"], ["key"], ["history"],
    ["reconcile"], ["sim"], ["badge"], ["registry"], ["integration"], ["audit"], ["web"],
]  # fmt: skip


def _public_docs(cls: type) -> list[tuple[str, str]]:
    docs = [(cls.__name__, inspect.getdoc(cls) or "")]
    for name, member in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        target = member.fget if isinstance(member, property) else member
        docs.append((f"{cls.__name__}.{name}", inspect.getdoc(target) or ""))
    return docs


@pytest.mark.parametrize("cls", [byom.App, Terminal, byom.Tool, byom.RunResult, byom.Reply])
def test_r5_6_public_docstrings_hold_no_internal_ids(cls: type) -> None:
    found = [(where, INTERNAL.findall(doc)) for where, doc in _public_docs(cls)]
    assert [f for f in found if f[1]] == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "byom")
def test_r5_6_cli_help_holds_no_internal_ids(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "byom", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert INTERNAL.findall(result.stdout) == [], result.stdout
