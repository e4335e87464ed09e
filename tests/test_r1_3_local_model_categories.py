"""Issue 15, item 2 — R1.3: the models of a local Ollama or an OpenAI-compatible server have no
category in any list. Each counts as a ``worker`` until the user says otherwise — in the library
(``model_for``, ``choose_model``, ``set_category``) and on the command line (``byom models``
shows it, ``byom category MODEL frontier`` changes it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import byom
from byom.core.errors import InvalidRequest
from byom.sim import Simulator
from r5_pty import base_env, byom_argv

FEATURES = [byom.Feature("summarize", "worker"), byom.Feature("critique", "frontier")]


def _connect(app: byom.App, kind: str, sim: Simulator) -> None:
    if kind == "ollama":
        app.connect("ollama", base_url=sim.base_url)
    else:
        app.connect("compatible", base_url=sim.openai_base)


@pytest.mark.parametrize("kind", ["ollama", "compatible"])
def test_r1_3_local_models_default_to_worker_and_the_user_can_change_it(
    kind: str, sim: Simulator, tmp_path: Path
) -> None:
    app = byom.App("Local notes", FEATURES, data_dir=tmp_path)
    _connect(app, kind, sim)
    with pytest.raises(InvalidRequest, match="refresh the model list"):
        app.model_for("summarize")  # nothing listed yet: says what to do
    app.refresh_models()
    listed = app.models()
    assert listed and all(m.category == "worker" for m in listed)
    assert app.model_for("summarize").id == listed[0].id  # runs with no choice made
    assert app.choose_model("summarize", "llama3.2:3b").category == "worker"
    with pytest.raises(InvalidRequest, match="set_category"):
        app.model_for("critique")  # no frontier model yet: says how to mark one
    assert app.set_category("qwen2.5:7b", "frontier").category == "frontier"
    assert app.model_for("critique").id == "qwen2.5:7b"
    assert app.choose_model("critique", "qwen2.5:7b").id == "qwen2.5:7b"
    assert [m.id for m in app.models("frontier")] == ["qwen2.5:7b"]
    with pytest.raises(InvalidRequest):
        app.choose_model("summarize", "qwen2.5:7b")  # now a frontier model
    with pytest.raises(InvalidRequest):
        app.set_category("not-listed:1b", "frontier")
    if kind == "ollama":
        reply = app.chat("summarize", [{"role": "user", "content": "hello"}], max_tokens=20)
        assert reply.model == "llama3.2:3b" and reply.cost == 0
    # The choice is kept on the device: a new App object sees it.
    again = byom.App("Local notes", FEATURES, data_dir=tmp_path)
    assert again.catalog.get("qwen2.5:7b").category == "frontier"  # type: ignore[union-attr]
    assert again.catalog.get("llama3.2:3b").category == "worker"  # type: ignore[union-attr]


def test_r1_3_cli_shows_and_sets_a_local_models_category(sim: Simulator, tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    with byom.App("Local notes", FEATURES, data_dir=data) as app:
        app.connect("ollama", base_url=sim.base_url)
        app.refresh_models()
    env = base_env(home, data) | {"BYOM_APP": "local-notes"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            byom_argv(*args), env=env, capture_output=True, text=True, timeout=60, check=False
        )

    shown = cli("models", "--json")
    assert shown.returncode == 0, shown.stderr
    assert {m["id"]: m["category"] for m in json.loads(shown.stdout)} == {
        "llama3.2:3b": "worker",
        "qwen2.5:7b": "worker",
    }
    table = cli("models")
    assert "llama3.2:3b" in table.stdout and "worker" in table.stdout
    assert "Ollama" in table.stdout and "bundled" not in table.stdout  # the list's real source
    changed = cli("category", "qwen2.5:7b", "frontier")
    assert changed.returncode == 0, changed.stderr
    assert "qwen2.5:7b" in changed.stdout and "frontier" in changed.stdout
    chosen = cli("model", "critique", "qwen2.5:7b", "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout) == {"feature": "critique", "model": "qwen2.5:7b"}
    refused = cli("model", "summarize", "qwen2.5:7b")
    assert refused.returncode == 1 and "byom category qwen2.5:7b worker" in refused.stderr
    unknown = cli("category", "nope:1b", "frontier")
    assert unknown.returncode == 1
    assert "nope:1b" in unknown.stderr and "Traceback" not in unknown.stderr
