"""Issue 15, item 8 — R5.6 for app developers: ``byom sim`` exposes its faults and scripting on
the command line (401, 402, 403, 429, 5xx, a cut stream, a slow reply, config), can change a
running simulator (``--push``), ``byom.sim.Simulator`` is a context manager, and
``byom.sim.pytest_plugin`` gives an app's own tests a ``byom_sim`` fixture."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import byom
from byom.sim import SimError, Simulator
from byom.sim.cli import parse_fault

KEY = "sk-or-v1-sim-cli-test-0123456789"


def test_r5_6_fault_words_map_to_the_simulators_faults() -> None:
    assert parse_fault("401") == [{"kind": "status", "status": 401}]
    assert parse_fault("429:7") == [{"kind": "status", "status": 429, "retry_after": 7}]
    assert parse_fault("503*2") == [{"kind": "status", "status": 503}] * 2
    assert parse_fault("cut") == [{"kind": "cut_before_usage"}]
    assert parse_fault("midstream:500") == [{"kind": "midstream_error", "code": 500}]
    assert parse_fault("slow:2.5") == [{"kind": "slow_first_byte", "seconds": 2.5}]
    assert parse_fault("malformed") == [{"kind": "malformed_json"}]
    assert parse_fault("finish-error") == [{"kind": "finish_error"}]
    for bad in ("418", "oops", "cut:3", "401:2", "429*0", "slow:soon"):
        with pytest.raises(ValueError):
            parse_fault(bad)


@pytest.fixture
def cli_sim() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``byom sim`` with a queue of faults and a config, as a developer would start it."""
    argv = [sys.executable, "-m", "byom", "sim", "--port", "0", "--generation-delay", "0"]
    argv += ["--fault", "401", "--fault", "402", "--fault", "403", "--fault", "429:3"]
    argv += ["--fault", "502", "--fault", "cut", "--stream-delay", "0.01", "--reply-words", "12"]
    argv += [
        "--unavailable-model",
        "openai/gpt-4o",
        "--extra-model",
        "acme/tiny:0.0000001:0.0000002",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    try:
        yield proc, url
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_r5_6_byom_sim_cli_faults_reach_the_app_as_plain_errors(
    cli_sim: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    _, url = cli_sim
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(trust_env=False, timeout=10) as client:
        config = client.get(url + "/_sim/config").json()
        assert config["stream_delay"] == 0.01 and config["unavailable_models"] == ["openai/gpt-4o"]
        assert [m["id"] for m in config["extra_models"]] == ["acme/tiny"]
        assert len(client.get(url + "/_sim/faults").json()["faults"]) == 6
    app = byom.App("Faults", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    messages = [{"role": "user", "content": "hello"}]

    def connect() -> None:
        app.connect("openrouter", key=KEY, base_url=url + "/api/v1")

    connect()
    with pytest.raises(byom.errors.KeyRejected):
        app.chat("summarize", messages, max_tokens=30)
    assert not app.connected  # a 401 clears the key
    connect()
    for expected in (byom.errors.OutOfCredits, byom.errors.ModerationFlagged):
        with pytest.raises(expected):
            app.chat("summarize", messages, max_tokens=30)
    with pytest.raises(byom.errors.RateLimited) as limited:
        app.chat("summarize", messages, max_tokens=30)
    assert limited.value.retry_after == 3
    with pytest.raises(byom.errors.ProviderUnavailable):
        app.chat("summarize", messages, max_tokens=30)
    with pytest.raises(byom.errors.Interrupted):
        for _ in app.stream("summarize", messages, max_tokens=30):
            pass
    assert app.chat("summarize", messages, max_tokens=30).cost  # the queue is used up
    for error in (byom.errors.RateLimited(retry_after=3), byom.errors.OutOfCredits()):
        assert byom.errors.user_message(error, "en")  # what the app shows, as is


def test_r5_6_byom_sim_push_changes_a_running_simulator(
    cli_sim: tuple[subprocess.Popen[str], str],
) -> None:
    _, url = cli_sim
    argv = [sys.executable, "-m", "byom", "sim", "--push", url, "--fault", "slow:0.5*2"]
    argv += ["--fault", "500", "--stream-delay", "0.2", "--revoke-key", KEY]
    pushed = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert pushed.returncode == 0, pushed.stderr
    queue = json.loads(pushed.stdout)["faults"]
    assert queue[-3:] == [
        {"kind": "slow_first_byte", "seconds": 0.5},
        {"kind": "slow_first_byte", "seconds": 0.5},
        {"kind": "status", "status": 500},
    ]
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert client.get(url + "/_sim/config").json()["stream_delay"] == 0.2
        refused = client.post(
            url + "/api/v1/chat/completions",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"model": "openai/gpt-4o-mini", "messages": [], "max_tokens": 5},
        )
        assert refused.status_code == 401  # the revoked key
    reset = subprocess.run(
        [sys.executable, "-m", "byom", "sim", "--push", url, "--reset", "--release"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert reset.returncode == 0, reset.stderr
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert client.get(url + "/_sim/faults").json()["faults"] == []
        assert client.get(url + "/_sim/config").json()["stream_delay"] == 0.01  # as started
    bad = subprocess.run(
        [sys.executable, "-m", "byom", "sim", "--push", url, "--fault", "teapot"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "unknown fault" in bad.stderr


def test_r5_6_simulator_is_a_context_manager_with_a_base_url_per_kind() -> None:
    with Simulator(reply_words=3) as sim:
        assert sim.base_url_for("openrouter") == sim.base_url + "/api/v1"
        assert sim.base_url_for("openai") == sim.base_url_for("compatible") == sim.base_url + "/v1"
        assert sim.base_url_for("anthropic") == sim.base_url_for("ollama") == sim.base_url
        assert sim.base_url_for("gemini") == sim.base_url
        with pytest.raises(SimError):
            sim.base_url_for("builtin")  # runs on the device: no simulator stands in for it
        with httpx.Client(trust_env=False, timeout=10) as client:
            assert client.get(sim.base_url + "/_sim/config").json()["reply_words"] == 3
        port = sim.port
    with pytest.raises(RuntimeError):
        _ = sim.port  # stopped on leaving the block
    assert port > 0


def test_r5_6_the_pytest_plugin_gives_an_app_a_simulator(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            import pytest
            import byom

            def test_rate_limit(byom_sim, tmp_path):
                app = byom.App("Mine", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
                base = byom_sim.base_url_for("openrouter")
                app.connect("openrouter", key="sk-or-x", base_url=base)
                byom_sim.push_faults([{"status": 429, "retry_after": 2}])
                hi = [{"role": "user", "content": "hi"}]
                with pytest.raises(byom.errors.RateLimited):
                    app.chat("summarize", hi, max_tokens=20)
                assert app.chat("summarize", hi, max_tokens=20).cost

            def test_reset_between_tests(byom_sim):
                assert byom_sim.faults() == [] and not any(byom_sim.counts().values())
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "byom.sim.pytest_plugin", "-p",
         "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_r5_6_the_readme_fixture_example_runs(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    example = next(b for b in blocks if "def test_" in b and "byom_sim" in b)
    (tmp_path / "test_readme_example.py").write_text(example, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "byom.sim.pytest_plugin", "-p",
         "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
