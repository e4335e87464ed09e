"""R8.1, R8.2, R8.4 acceptance: the same agent app — tools, parallel calls, a tool that raises,
structured output — runs unchanged on all five provider kinds through the simulator, streamed
and not, sync and asyncio; and the ceiling holds on each.

Only the user's side differs per kind (:func:`test_r1_2_providers_sim.connect`); :func:`research`
is the app's code and never names a provider.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

import byom
from byom.core.run import RunDone, RunResult
from byom.sim import Simulator
from test_r1_2_providers_sim import KINDS, Kind, connect

QUESTION = [
    {"role": "system", "content": "You answer from the user's notes."},
    {"role": "user", "content": "What did I write about the lighthouse?"},
]
ANSWER = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["answer", "sources"],
}
CALLS: list[tuple[str, dict[str, Any]]] = []


def search_notes(query: str, limit: int = 3) -> list[str]:
    """Search the user's notes for words."""
    CALLS.append(("search_notes", {"query": query, "limit": limit}))
    return [f"note-{i}: the lighthouse" for i in range(limit)]


def open_note(name: str) -> str:
    """Open one note by name. The index is down today."""
    CALLS.append(("open_note", {"name": name}))
    raise ConnectionError("the note index is unreachable")


TOOLS = [search_notes, open_note]


def research(app: byom.App, *, stream: bool, asynchronous: bool, **kw: Any) -> RunResult:
    """The app's agent feature: the same code for every provider kind."""
    options: dict[str, Any] = {
        "tools": TOOLS,
        "max_steps": 6,
        "max_cost": Decimal("0.50"),
        "max_tokens": 300,
        "schema": ANSWER,
        **kw,
    }
    if not stream and not asynchronous:
        return app.run("summarize", QUESTION, **options)
    if not stream:
        return asyncio.run(app.arun("summarize", QUESTION, **options))
    if not asynchronous:
        items = list(app.run_stream("summarize", QUESTION, **options))
    else:

        async def consume() -> list[Any]:
            return [item async for item in app.arun_stream("summarize", QUESTION, **options)]

        items = asyncio.run(consume())
    assert isinstance(items[-1], RunDone)
    steps = [i for i in items if isinstance(i, byom.StepLanded)]
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    calls = [i for i in items if isinstance(i, byom.ToolCall)]
    assert calls == list(items[-1].result.tool_calls)
    return items[-1].result


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r8_same_agent_app_on_every_provider(
    make_app: Any, sim: Simulator, kind: Kind, stream: bool, asynchronous: bool
) -> None:
    sim.config(tool_steps=2, parallel_tool_calls=2, generation_delay=0)
    app = make_app(connect=False)
    connect(app, kind, sim)
    CALLS.clear()
    mark = sim.mark()
    result = research(app, stream=stream, asynchronous=asynchronous)
    assert result.stopped == "done", (result.stopped, result.error)
    assert isinstance(result.data, dict) and set(result.data) >= {"answer", "sources"}
    # Both tools ran, in parallel pairs; the one that raised sent its error back.
    names = {name for name, _ in CALLS}
    assert names == {"search_notes", "open_note"}
    tool_results = [m for m in result.messages if m.get("role") == "tool"]
    assert any(m["content"].startswith("Error: the tool open_note failed") for m in tool_results)
    assert 2 <= result.steps <= 4
    # History: one row per step with the run id; what byom counted is what the sim charged.
    rows = [r for r in app.history() if r.run_id == result.run_id]
    assert len(rows) == result.steps
    charged = sim.charged(since=mark, prices=_custom_prices(app, kind))
    assert result.cost == charged
    assert result.counted == charged
    assert app.totals(by="run") == {result.run_id: charged}


def _custom_prices(app: byom.App, kind: Kind) -> Any:
    if kind.provider != "compatible":
        return None
    model = app.catalog.get(kind.model)
    assert model is not None and model.price is not None
    return {kind.model: (model.price.prompt, model.price.completion)}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r8_4_tool_loop_forever_stops_at_the_ceiling(
    make_app: Any, sim: Simulator, kind: Kind, stream: bool
) -> None:
    sim.config(tool_steps=1000, generation_delay=0, tool_argument_bytes=2000)
    app = make_app(connect=False)
    connect(app, kind, sim, dear=True)
    app.set_allowance(Decimal("5"), period="total", strict=True)
    mark = sim.mark()
    ceiling = Decimal("0.50")
    result = research(
        app,
        stream=stream,
        asynchronous=False,
        max_steps=1000,
        max_cost=ceiling,
        max_tokens=1500,  # room for the 2 kB arguments: a cut call would be bad_output
        schema=None,
    )
    assert result.stopped == "max_cost"
    assert result.steps >= 1
    assert sim.charged(since=mark, prices=_dear_prices(kind)) <= ceiling
    assert result.counted <= ceiling


def _dear_prices(kind: Kind) -> Any:
    from test_r1_2_providers_sim import DEAR_OPENROUTER_MODEL, DEAR_PRICE

    model = DEAR_OPENROUTER_MODEL if kind.provider == "openrouter" else kind.model
    return {model: (DEAR_PRICE.prompt, DEAR_PRICE.completion)}


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r8_1_cut_stream_mid_arguments_is_unreconciled_never_half_a_call(
    make_app: Any, sim: Simulator, kind: Kind
) -> None:
    sim.config(tool_steps=5, stream_cut_in_tool_arguments=True, generation_delay=0)
    app = make_app(connect=False)
    connect(app, kind, sim)
    CALLS.clear()
    items = list(app.run_stream("summarize", QUESTION, tools=TOOLS, max_cost="0.5", max_tokens=200))
    result = items[-1].result
    assert not any(isinstance(i, byom.ToolCall) for i in items)
    assert CALLS == []  # no tool ran on half its arguments
    assert result.stopped == "error" and result.steps == 0
    [row] = [r for r in app.history() if r.run_id == result.run_id]
    assert row.outcome == "unreconciled"
    if kind.provider != "ollama":  # a local model is free: nothing counts
        assert result.counted > 0


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r8_1_malformed_arguments_are_bad_output(make_app: Any, sim: Simulator, kind: Kind) -> None:
    sim.config(tool_steps=5, malformed_tool_arguments=True, generation_delay=0)
    app = make_app(connect=False)
    connect(app, kind, sim)
    with pytest.raises(byom.errors.BadOutput):
        app.chat("summarize", QUESTION, tools=TOOLS, max_tokens=200)
    [row] = app.history()
    assert row.outcome == "failed" and row.error_code == "bad_output"
    assert row.usage.completion_tokens > 0  # it was answered, and it cost what it cost


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r8_2_structured_output_alone(
    make_app: Any, sim: Simulator, kind: Kind, stream: bool
) -> None:
    sim.config(generation_delay=0)
    app = make_app(connect=False)
    connect(app, kind, sim)
    if stream:
        *_, done = app.stream("summarize", QUESTION, schema=ANSWER, max_tokens=300)
        reply = done.reply
    else:
        reply = app.chat("summarize", QUESTION, schema=ANSWER, max_tokens=300)
    assert isinstance(reply.data, dict) and isinstance(reply.data["sources"], list)
    assert reply.tool_calls == ()
    sim.config(malformed_output=True)
    with pytest.raises(byom.errors.BadOutput):
        app.chat("summarize", QUESTION, schema=ANSWER, max_tokens=300)


def test_r8_4_closing_a_run_stream_mid_step_cancels_it_unreconciled(
    make_app: Any, sim: Simulator
) -> None:
    sim.config(tool_steps=0, generation_delay=0, reply_words=30, stream_chunk_words=2)
    app = make_app()
    finished: list[Any] = []
    app.subscribe(lambda e: finished.append(e) if isinstance(e, byom.RunFinished) else None)
    items = app.run_stream("summarize", QUESTION, tools=TOOLS, max_cost="0.5", max_tokens=300)
    first = next(items)
    assert isinstance(first, byom.Delta)
    assert app.in_flight()
    items.close()  # the user stopped it mid-step
    assert not app.in_flight()
    assert [e.stopped for e in finished] == ["cancelled"]
    [row] = app.history()
    assert row.outcome == "unreconciled" and row.error_code == "cancelled"
    assert row.run_id == finished[0].run_id
    assert app.spent("session") > 0  # its estimate keeps counting until reconciled


def test_r8_4_cancelling_an_arun_task_cancels_the_step(make_app: Any, sim: Simulator) -> None:
    sim.config(generation_delay=0)
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}])
    app = make_app()
    finished: list[Any] = []
    app.subscribe(lambda e: finished.append(e) if isinstance(e, byom.RunFinished) else None)

    async def main() -> None:
        task = asyncio.create_task(
            app.arun("summarize", QUESTION, tools=TOOLS, max_cost="0.5", max_tokens=100)
        )
        while not app.in_flight():  # an event, not a sleep: the step is out
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    sim.release()
    assert [e.stopped for e in finished] == ["cancelled"]
    [row] = app.history()
    assert row.outcome == "unreconciled" and row.run_id == finished[0].run_id
