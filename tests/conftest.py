"""Shared fixtures: one simulator per session (reset before each test) and app factories.

Every test talks to ``byom.sim`` on loopback, or to adapters directly. No test needs the internet.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.sim import Simulator

#: Canaries: strings that must never show up anywhere byom writes (R2.5).
CANARY_KEY = "sk-or-v1-CANARYKEY-7f3a9c1e5b2d4a6f8e0c"
CANARY_PROMPT = "CANARY-PROMPT-b81d2e Please summarise the secret plan"

SUMMARIZE = byom.Feature("summarize", "worker", "Five-bullet summary")
CRITIQUE = byom.Feature("critique", "frontier", "A hard-nosed critique")


@pytest.fixture(scope="session")
def sim_server() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(sim_server: Simulator) -> Simulator:
    sim_server.reset()
    sim_server.config(generation_delay=0.2)
    return sim_server


@pytest.fixture
def make_app(sim: Simulator, tmp_path: Path) -> Iterator[Callable[..., byom.App]]:
    """Build apps connected to the simulator's OpenRouter, sharing one data dir per test."""
    apps: list[byom.App] = []

    def factory(
        *,
        connect: bool = True,
        key: str = CANARY_KEY,
        data_dir: Path | None = None,
        **kwargs: Any,
    ) -> byom.App:
        app = byom.App(
            "Paper digest",
            features=[SUMMARIZE, CRITIQUE],
            data_dir=data_dir or tmp_path / "data",
            **kwargs,
        )
        apps.append(app)
        if connect:
            app.connect("openrouter", key=key, base_url=sim.openrouter_base)
            app.choose_model("summarize", "openai/gpt-4o-mini")
        return app

    yield factory
    for app in apps:
        app.close()


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def chat_count(sim: Simulator) -> int:
    return sim.counts().get("/api/v1/chat/completions", 0)


def assert_no_canary(text: str, where: str) -> None:
    """Fail if the canary key or any part-marked canary prompt shows up in ``text`` (R2.5)."""
    assert CANARY_KEY not in text, f"key leaked into {where}"
    assert "CANARY-PROMPT" not in text, f"prompt leaked into {where}"


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp directory of this test's own, so temp files byom may write can be scanned."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


# --- published fixtures beside the clone, and waiting on events -------------------------------

#: The published registry/badge/schema fixtures: ``../shared/fixtures`` beside the clone. They
#: are not part of the repository: a plain clone skips the tests that compare against them.
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
#: Set to 1 (``.ci/run`` does) to make a missing published fixture a failure instead of a skip.
REQUIRE_SHARED = "BYOM_REQUIRE_SHARED"


def has_shared(*parts: str) -> bool:
    """Whether ``../shared/fixtures/<parts>`` exists (for what a module builds at import)."""
    return SHARED_FIXTURES.joinpath(*parts).exists()


def shared_fixture(*parts: str) -> Path:
    """``../shared/fixtures/<parts>``; skips the calling test when it is missing, with the reason,
    or fails it when ``BYOM_REQUIRE_SHARED=1``. Call it inside a test or fixture."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if path.exists():
        return path
    reason = (
        f"published fixture not found: {path} (the shared fixtures live in ../shared beside "
        "the clone; not part of the repository)"
    )
    if os.environ.get(REQUIRE_SHARED, "") not in ("", "0"):
        pytest.fail(f"{reason}; {REQUIRE_SHARED}=1 requires it", pytrace=False)
    pytest.skip(reason)


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``condition`` until it returns something truthy, and return that.

    The deadline is only there to turn a hang into a failure: it is far longer than any
    machine, however busy, needs. Never use it to assert that something is fast.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.01)


#: Set to 1 (``make test`` does, having installed it) to make a missing built-in model runtime or
#: model a failure instead of a skip.
REQUIRE_BUILTIN = "BYOM_REQUIRE_BUILTIN"


def require_builtin() -> Path:
    """The built-in model's file, when it and the native runtime are installed (``make
    builtin``); else skips the calling test with the reason, or fails it when
    ``BYOM_REQUIRE_BUILTIN=1``."""
    from byom.builtin.models import builtin_model_path, runtime_installed

    path = builtin_model_path()
    if path is not None and runtime_installed():
        return path
    reason = "the built-in model or its runtime is not installed (make builtin)"
    if os.environ.get(REQUIRE_BUILTIN, "") not in ("", "0"):
        pytest.fail(f"{reason}; {REQUIRE_BUILTIN}=1 requires it", pytrace=False)
    pytest.skip(reason)
