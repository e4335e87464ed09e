"""Issue 13 items 14–16: the READMEs' commands run as written, ``byom`` alone is help (exit 0)
with its commands in one column, and ``byom demo`` prints its address once.

Item 14: every shell command in a ``sh`` block of README.md and examples/*/README.md names
something that exists after the README's two commands (``make demo`` / ``make test``): a make
target, ``.venv/bin/…``, a shell builtin, and files of this repository. The ones that are safe
to run (the free features: no key, no network, no wizard) are run, as written, from the
repository root.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*/README.md"))]
READMES.append(ROOT / "examples" / "README.md")
VENV_BIN = Path(sys.executable).parent
BUILTINS = {"kill", "cd", "export"}
#: Words that mark a command as needing something a test must not do (a wizard, a server that
#: runs until stopped, a key): such a command is checked, not run.
FREE_WORDS = {"stats", "outline", "--list", "--search", "list", "add"}


def shell_commands(readme: Path) -> list[str]:
    """The commands of a README's ``sh`` blocks, continuation lines joined."""
    commands: list[str] = []
    inside = False
    pending = ""
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```sh" if not inside else False
            continue
        if not inside or not line.strip() or line.lstrip().startswith("#"):
            continue  # outside a block, blank, or a comment line
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        commands.append(pending + line)
        pending = ""
    return commands


ALL = [(readme, command) for readme in READMES for command in shell_commands(readme)]


def words_of(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value prefix
        words.pop(0)
    return [w for w in words if w != "&"]


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w.-]*):", text, flags=re.MULTILINE))


def test_r5_1_the_readmes_have_commands_to_check() -> None:
    assert len(ALL) >= 15
    assert {readme.parent.name for readme, _ in ALL} >= {"notes", "terminal_reader"}


@pytest.mark.parametrize(
    ("readme", "command"), ALL, ids=[f"{r.parent.name}:{c[:40]}" for r, c in ALL]
)
def test_r5_1_every_readme_command_names_what_exists_after_setup(
    readme: Path, command: str
) -> None:
    words = words_of(command)
    assert words, command
    program = words[0]
    if program == "make":
        assert set(words[1:]) <= make_targets(), command
    elif program in BUILTINS:
        pass
    else:
        # Never a bare "python" or "byom": on a fresh machine those are not these.
        assert program.startswith(".venv/bin/"), f"{readme.name}: {command!r} runs {program!r}"
        assert (VENV_BIN / program.removeprefix(".venv/bin/")).exists(), program
    for word in words[1:]:
        if re.fullmatch(r"(examples|src|docs|benchmarks|tests)/[\w./-]+", word):
            if word.endswith(("dist", "dist/")):
                continue  # an output folder the command creates
            assert (ROOT / word).exists(), f"{command!r}: {word} does not exist"


SAFE = [
    (readme, command)
    for readme, command in ALL
    if words_of(command)[0].startswith(".venv/bin/python")
    and FREE_WORDS & set(words_of(command))
    and not any(w.isupper() for w in words_of(command))
]


@pytest.mark.parametrize(
    ("readme", "command"), SAFE, ids=[f"{r.parent.name}:{c[:40]}" for r, c in SAFE]
)
def test_r5_1_the_safe_readme_commands_run_as_written(
    readme: Path, command: str, tmp_path: Path
) -> None:
    words = words_of(command)
    argv = [str(VENV_BIN / words[0].removeprefix(".venv/bin/")), *words[1:]]
    env = {
        "PATH": "/usr/bin:/bin",  # no venv on the PATH: the command must name it itself
        "HOME": str(tmp_path),
        "LANG": "en_US.UTF-8",
        "BYOM_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{command!r}: {done.stderr[-800:]}"
    assert "Traceback" not in done.stderr


def test_r5_1_the_notes_example_runs_its_free_commands_from_the_readme(
    tmp_path: Path,
) -> None:
    assert any("notes.py add" in c for _, c in SAFE) and any("notes.py list" in c for _, c in SAFE)


def byom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "byom", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "80"},
    )


def test_r5_1_bare_byom_prints_help_and_exits_0() -> None:
    done = byom()
    assert done.returncode == 0
    assert "usage: byom" in done.stdout and "integration" in done.stdout


def test_r5_1_help_lists_every_command_in_one_column() -> None:
    from byom.cli import _COMMANDS

    text = byom("--help").stdout
    columns = set()
    for name, _, help_text in _COMMANDS:
        line = next(line for line in text.splitlines() if line.strip().startswith(name + " "))
        # the name and the start of its help on one line, the help in the shared column
        assert help_text.split()[0] in line, line
        columns.add(line.index(help_text.split()[0], len(name) + 4))
    assert len(columns) == 1, columns


DEMO = (sys.executable, "-m", "byom", "demo", "--no-browser", "--port", "0")


def test_r5_1_demo_prints_its_address_once() -> None:
    done = subprocess.run(
        [*DEMO, "--exit-after", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # as in a terminal: both streams together
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "CI": "1"},
    )
    assert done.returncode == 0, done.stdout[-800:]
    # A first build may say what it prepares (Pyodide, the Python snapshot) before serving.
    addresses = [
        line.strip()
        for line in done.stdout.splitlines()
        if re.fullmatch(r"http://127\.0\.0\.1:\d+/", line.strip())
    ]
    assert len(addresses) == 1, done.stdout[:400]
    assert done.stdout.count(addresses[0].rstrip("/")) == 1, done.stdout
