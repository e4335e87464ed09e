"""The core and the adapters import only the standard library, do no I/O at import, and pass
``mypy --strict`` — so they run unchanged under CPython and Pyodide."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import byom

SRC = Path(byom.__file__).parent
PURE = ("core", "providers")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_core_and_adapters_import_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"byom", "__future__"}
    offenders = []
    for package in PURE:
        for path in (SRC / package).rglob("*.py"):
            for name in _imports(path):
                top = name.split(".")[0]
                if top not in allowed:
                    offenders.append(f"{path.relative_to(SRC)} imports {name}")
                if top == "byom" and not name.startswith(("byom.core", "byom.providers")):
                    offenders.append(f"{path.relative_to(SRC)} reaches into shell {name}")
    assert offenders == []


def test_the_purity_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import httpx\nfrom rich import print\n")
    assert [n for n in _imports(bad) if n.split(".")[0] not in sys.stdlib_module_names]


def test_core_imports_without_third_party_modules() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'httpx','httpcore','platformdirs','keyring','rich',"
        "'sqlite3','socket','ssl'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import byom.core.call, byom.core.ledger, byom.core.catalog, byom.core.money\n"
        "import byom.providers.openrouter, byom.providers.registry\n"
        "import byom\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_mypy_strict_on_the_core() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "-p", "byom.core", "-p", "byom.providers"],
        capture_output=True,
        text=True,
        check=False,
        cwd=SRC.parent.parent,
    )
    assert out.returncode == 0, out.stdout + out.stderr
