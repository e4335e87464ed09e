"""Issue 15, item 13: the provider kind is a type. ``connect("openruoter")`` is caught by a type
checker (and still refused at run time), so a typo never reaches a user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import byom
from byom.core.errors import InvalidRequest
from byom.providers.registry import PROVIDERS, ProviderKind

SNIPPET = """
import byom
app = byom.App("Typed", [byom.Feature("summarize", "worker")])
app.connect("openrouter", key="sk-or-v1-x")
app.connect("openruoter", key="sk-or-v1-x")
"""


def test_r1_2_provider_kinds_are_one_literal() -> None:
    assert PROVIDERS == get_args(ProviderKind)
    assert set(PROVIDERS) == {
        "openrouter",
        "openai",
        "anthropic",
        "gemini",
        "ollama",
        "compatible",
        "builtin",
    }


def test_r1_2_a_misspelt_provider_is_a_type_error(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    source = tmp_path / "typo.py"
    source.write_text(SNIPPET)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "typo.py:5:" in errors[0] and "openruoter" in errors[0]


def test_r1_2_a_misspelt_provider_is_refused_at_run_time(tmp_path: Path) -> None:
    app = byom.App("Typed", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    with pytest.raises(InvalidRequest):
        app.connect("openruoter", key="sk-or-v1-x")  # type: ignore[arg-type]
