"""R1.2 (issue 17) — the ``builtin`` provider kind running the real model in CPython: the
built-in SmolLM2-135M-Instruct through llama.cpp, behind the same call path as every provider.

Real generations: non-empty text, token counts from the runtime, ``finish_reason: "length"``
exactly at ``max_tokens``, streaming, cancellation (asserted through the runtime's own figures
and the call's events, never a clock), a history row at $0 with cost source ``free``, and no
network socket at all. ``make test`` installs the runtime and the model (``make builtin``); a
plain checkout without them skips these, ``BYOM_REQUIRE_BUILTIN=1`` makes that a failure.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.builtin.models import builtin_model
from byom.builtin.runtime import Engine, Generation, engine_for
from byom.core.errors import ContextTooLong
from byom.core.events import Failed, Landed, Pending
from byom.core.usage import Delta, Done
from byom.providers.builtin import BUILTIN_MODEL_ID
from conftest import require_builtin

pytestmark = [pytest.mark.builtin, pytest.mark.slow]

SUMMARIZE = byom.Feature("summarize", "worker", "One-sentence summary")
NOTE = (
    "The town library will close for two weeks in March while the roof is repaired. "
    "Books can be returned at the town hall during that time."
)
SUMMARY = [
    {"role": "system", "content": "You summarise texts in one sentence."},
    {"role": "user", "content": "Summarise: " + NOTE},
]
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to bake bread."}]

# -- no network: every socket a test opens is recorded (audit hooks cannot be removed, so this
# one records only while a test asks it to) -----------------------------------------------------
_WATCH = threading.Event()
_NETWORK: list[str] = []
_INET = (socket.AF_INET, socket.AF_INET6)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    watch = _WATCH  # None while the interpreter shuts down and clears this module
    if watch is None or not watch.is_set():
        return
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.bind"):
        _NETWORK.append(event)
    elif event == "socket.__new__" and len(args) > 1 and args[1] in _INET:
        _NETWORK.append(event)


sys.addaudithook(_audit)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[byom.App]:
    require_builtin()
    application = byom.App("Builtin reader", [SUMMARIZE], data_dir=tmp_path)
    application.connect("builtin")
    yield application
    application.close()


def _engine() -> Engine:
    return engine_for(builtin_model())


def _last() -> Generation:
    figures = _engine().last
    assert figures is not None
    return figures


def test_r1_2_builtin_chat_is_a_real_generation_recorded_at_zero_cost(app: byom.App) -> None:
    events: list[Any] = []
    app.subscribe(events.append)
    # The guard runs as for every provider: a strict allowance of $0 admits the call only
    # because its estimate is $0 (a priced model would be refused unsent).
    app.set_allowance("0", strict=True)
    reply = app.chat("summarize", SUMMARY, max_tokens=48, temperature=0)
    figures = _last()
    assert reply.text.strip()
    assert reply.provider == "builtin" and reply.model == BUILTIN_MODEL_ID
    assert reply.cost == Decimal(0) and reply.cost_source == "free"
    # Token counts are the runtime's own: the tokenized chat template and the sampled tokens.
    assert reply.usage.prompt_tokens == figures.prompt_tokens > len(NOTE.split())
    assert 0 < reply.usage.completion_tokens == figures.completion_tokens <= 48
    assert (
        reply.finish_reason in ("stop", "length") and figures.finish_reason == reply.finish_reason
    )
    (row,) = app.history()
    assert row.provider == "builtin" and row.outcome == "ok"
    assert row.cost == Decimal(0) and row.cost_source == "free"
    assert row.usage.prompt_tokens == figures.prompt_tokens
    assert app.spent("session") == Decimal(0)
    kinds = [type(e) for e in events]
    assert Pending in kinds and Landed in kinds
    landed = next(e for e in events if isinstance(e, Landed))
    assert landed.cost == Decimal(0) and landed.cost_source == "free"


def test_r1_2_builtin_stream_stops_exactly_at_max_tokens(app: byom.App) -> None:
    items = list(app.stream("summarize", STORY, max_tokens=9, temperature=0))
    deltas = [i for i in items if isinstance(i, Delta)]
    done = items[-1]
    assert isinstance(done, Done)
    reply = done.reply
    assert len(deltas) > 1 and "".join(d.text for d in deltas) == reply.text
    assert reply.text.strip()
    assert reply.finish_reason == "length" and reply.truncated
    assert reply.usage.completion_tokens == 9 == _last().completion_tokens
    assert reply.cost == Decimal(0) and reply.cost_source == "free"


def test_r1_2_builtin_astream_streams_and_a_cancel_stops_the_runtime(app: byom.App) -> None:
    events: list[Any] = []
    app.subscribe(events.append)
    limit = 2000

    async def first_words_then_cancel() -> str:
        stream = app.astream("summarize", STORY, max_tokens=limit, temperature=0)
        async for item in stream:
            if isinstance(item, Delta) and item.text.strip():
                await stream.aclose()  # the reader goes away: the call is cancelled
                return item.text
        raise AssertionError("no text arrived")

    assert asyncio.run(first_words_then_cancel()).strip()
    figures = _last()
    assert figures.done.wait(120), "the runtime did not stop"
    # Stopped by the cancel, between tokens — far before the bound, not run to the end.
    assert figures.finish_reason == "cancelled"
    assert 1 <= figures.completion_tokens < limit
    failed = [e for e in events if isinstance(e, Failed)]
    assert failed and failed[-1].error.code == "cancelled"
    # Nothing can have been billed: a failed $0 call, not one left for the user to reconcile.
    assert failed[-1].unreconciled is False and failed[-1].cost == Decimal(0)
    assert app.unreconciled() == []
    # The runtime is free again: the next call runs at once.
    reply = app.chat("summarize", SUMMARY, max_tokens=8, temperature=0)
    assert reply.text.strip() and reply.usage.completion_tokens <= 8


def test_r1_2_builtin_achat_cancelled_task_stops_the_runtime(app: byom.App) -> None:
    async def cancel_after_first_token() -> None:
        task = asyncio.create_task(app.achat("summarize", STORY, max_tokens=2000, temperature=0))
        while True:  # wait for the runtime to be producing tokens (an event, not a clock)
            figures = _engine().last
            if figures is not None and figures.completion_tokens > 0 and not figures.done.is_set():
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(cancel_after_first_token(), 300))
    figures = _last()
    assert figures.done.wait(120)
    assert figures.finish_reason == "cancelled" and figures.completion_tokens < 2000
    (row,) = app.history()
    assert row.outcome == "failed" and row.error_code == "cancelled"
    assert row.cost == Decimal(0) and row.cost_source == "free" and app.unreconciled() == []


def test_r1_2_builtin_opens_no_network_socket(app: byom.App) -> None:
    _NETWORK.clear()
    _WATCH.set()
    try:
        app.chat("summarize", SUMMARY, max_tokens=6, temperature=0)
        list(app.stream("summarize", SUMMARY, max_tokens=6, temperature=0))

        async def both() -> None:
            await app.achat("summarize", SUMMARY, max_tokens=6, temperature=0)
            async for _ in app.astream("summarize", SUMMARY, max_tokens=6, temperature=0):
                pass

        asyncio.run(both())
    finally:
        _WATCH.clear()
    assert _NETWORK == []
    # The check can fail: an ordinary connection attempt is seen by the same hook.
    _WATCH.set()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.01)
            try:
                probe.connect(("127.0.0.1", 9))
            except OSError:
                pass
    finally:
        _WATCH.clear()
    assert "socket.connect" in _NETWORK
    _NETWORK.clear()


def test_r1_2_builtin_runs_the_apps_own_gguf_and_remembers_it(tmp_path: Path) -> None:
    link = tmp_path / "My-Model.Q8.gguf"
    link.symlink_to(require_builtin())
    first = byom.App("Own model", [SUMMARIZE], data_dir=tmp_path / "data")
    first.connect("builtin", model_path=link)
    assert first.model_for("summarize").id == "my-model.q8"
    reply = first.chat("summarize", SUMMARY, max_tokens=6, temperature=0)
    assert reply.model == "my-model.q8" and reply.text.strip() and reply.cost == 0
    first.close()
    again = byom.App("Own model", [SUMMARIZE], data_dir=tmp_path / "data")
    assert again.provider == "builtin" and again.model_for("summarize").id == "my-model.q8"
    again.close()


def test_r1_2_builtin_refuses_a_prompt_past_its_context(app: byom.App) -> None:
    long = [{"role": "user", "content": "word " * 6000}]
    with pytest.raises(ContextTooLong):
        app.chat("summarize", long, max_tokens=16)
