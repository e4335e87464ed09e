"""Runs (R8.4): the agent loop over Python tools, with a cost ceiling checked before each step.

These tests drive the whole App call path against :mod:`_scripted`, a provider that answers with
scripted tool-call turns, so each rule of the loop is tested on its own: tool results go back,
parallel calls, a tool that raises, unknown tools, malformed arguments, the stop reasons, the
ceiling (reserved before the step, not checked after it), history rows with the run id.
The same app against the simulator on every provider kind is in ``test_r8_agent_providers``.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from _scripted import answer, scripted, tool_turn
from byom.core.errors import ByomError
from byom.core.events import RunFinished, RunStarted, StepLanded
from byom.core.run import RunDone
from byom.core.usage import ToolCall
from conftest import CANARY_KEY, SUMMARIZE, user


def search_notes(query: str, limit: int = 5) -> list[str]:
    """Search the user's notes.

    Args:
        query: words to look for
        limit: most results
    """
    return [f"note about {query}"][:limit]


def broken(query: str) -> str:
    """Always fails."""
    raise RuntimeError(f"cannot reach the index with {CANARY_KEY}")


def make(tmp_path: Path, steps: list[dict[str, Any]]) -> tuple[Any, byom.App]:
    script, kw = scripted(steps)
    app = byom.App("Runner", [SUMMARIZE], data_dir=tmp_path / "data", **kw)
    app.connect("openrouter", key=CANARY_KEY)
    return script, app


def test_r8_4_run_sends_tool_results_back_and_answers(tmp_path: Path) -> None:
    script, app = make(
        tmp_path,
        [tool_turn(("search_notes", {"query": "tides"})), answer("The tide note says so.")],
    )
    events: list[Any] = []
    app.subscribe(events.append)
    result = app.run(
        "summarize", user("what about tides?"), tools=[search_notes], max_cost=Decimal("0.05")
    )
    assert result.stopped == "done"
    assert result.steps == 2
    assert result.text == "The tide note says so."
    assert result.cost == Decimal("0.002")
    assert [c.name for c in result.tool_calls] == ["search_notes"]
    # The second request carried the assistant turn and the tool's result.
    second = script.bodies[1]["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "search_notes"
    assert second[-1] == {
        "role": "tool",
        "tool_call_id": "call_0",
        "content": '["note about tides"]',
    }
    # The schema came from the signature and the docstring.
    tool = script.bodies[0]["tools"][0]["function"]
    assert tool["description"] == "Search the user's notes."
    assert tool["parameters"]["required"] == ["query"]
    assert tool["parameters"]["properties"]["limit"] == {
        "type": "integer",
        "description": "most results",
        "default": 5,
    }
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert kinds.count("StepLanded") == 2
    landed = [e for e in events if isinstance(e, StepLanded)]
    assert landed[0].tools == ("search_notes",) and landed[1].tools == ()
    assert landed[1].run_cost == Decimal("0.002")
    assert all(getattr(e, "run_id", result.run_id) == result.run_id for e in events)
    records = app.history()
    assert {r.run_id for r in records} == {result.run_id}
    assert app.totals(by="run") == {result.run_id: Decimal("0.002")}


def test_r8_4_parallel_calls_and_a_tool_that_raises(tmp_path: Path) -> None:
    script, app = make(
        tmp_path,
        [
            tool_turn(("search_notes", {"query": "a"}), ("broken", {"query": "b"})),
            answer("ok"),
        ],
    )
    result = app.run("summarize", user("q"), tools=[search_notes, broken], max_cost=Decimal("0.05"))
    assert result.stopped == "done"
    results = [m for m in script.bodies[1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in results] == ["call_0", "call_1"]
    assert results[1]["content"].startswith("Error: the tool broken failed: RuntimeError")
    assert CANARY_KEY not in results[1]["content"]  # the key never goes anywhere


def test_r8_4_abort_on_tool_error(tmp_path: Path) -> None:
    _, app = make(tmp_path, [tool_turn(("broken", {"query": "b"})), answer("never")])
    result = app.run("summarize", user("q"), tools=[broken], max_cost="0.05", on_tool_error="abort")
    assert result.stopped == "error" and result.steps == 1
    assert result.error is not None and result.error.code == "tool_failed"
    assert CANARY_KEY not in str(result.error)


def test_r8_4_arguments_that_do_not_fit_go_back_as_an_error(tmp_path: Path) -> None:
    script, app = make(tmp_path, [tool_turn(("search_notes", {"limit": "many"})), answer("sorry")])
    result = app.run("summarize", user("q"), tools=[search_notes], max_cost="0.05")
    assert result.stopped == "done"
    tool_result = script.bodies[1]["messages"][-1]
    assert tool_result["content"].startswith("Error: the arguments do not fit")


def test_r8_4_malformed_arguments_stop_the_run_with_bad_output(tmp_path: Path) -> None:
    _, app = make(tmp_path, [tool_turn(("search_notes", '{"query": "ti'))])
    result = app.run("summarize", user("q"), tools=[search_notes], max_cost="0.05")
    assert result.stopped == "error" and result.error is not None
    assert result.error.code == "bad_output"
    [record] = app.history()
    assert record.outcome == "failed" and record.error_code == "bad_output"
    assert record.cost == Decimal("0.001")  # answered: it still costs what it cost


def test_r8_4_unknown_tool_is_bad_output(tmp_path: Path) -> None:
    _, app = make(tmp_path, [tool_turn(("delete_everything", {}))])
    result = app.run("summarize", user("q"), tools=[search_notes], max_cost="0.05")
    assert result.stopped == "error" and result.error is not None
    assert result.error.code == "bad_output"


def test_r8_4_max_steps(tmp_path: Path) -> None:
    loop = [tool_turn(("search_notes", {"query": "x"})) for _ in range(10)]
    _, app = make(tmp_path, loop)
    result = app.run("summarize", user("q"), tools=[search_notes], max_steps=3, max_cost="1")
    assert result.stopped == "max_steps" and result.steps == 3


def test_r8_4_ceiling_is_checked_before_each_step(tmp_path: Path) -> None:
    """Each step reserves its worst case; the run stops before a step it could not afford,
    not after it spent it. The charged total stays within max_cost."""
    loop = [tool_turn(("search_notes", {"query": "x"}), cost="0.0001") for _ in range(50)]
    script, app = make(tmp_path, loop)
    ceiling = Decimal("0.002")
    result = app.run(
        "summarize", user("q"), tools=[search_notes], max_steps=50, max_cost=ceiling, max_tokens=50
    )
    assert result.stopped == "max_cost"
    assert 0 < result.steps < 50
    assert result.counted <= ceiling
    assert len(script.bodies) == result.steps  # the refused step was never sent
    refused = [r for r in app.history() if r.outcome == "refused"]
    assert [r.error_code for r in refused] == ["run_ceiling"]
    assert refused[0].run_id == result.run_id


def test_r8_4_allowance_stops_the_run(tmp_path: Path) -> None:
    loop = [tool_turn(("search_notes", {"query": "x"}), cost="0.0001") for _ in range(50)]
    _, app = make(tmp_path, loop)
    app.set_allowance("0.001", "session")
    result = app.run(
        "summarize", user("q"), tools=[search_notes], max_steps=50, max_cost="1", max_tokens=50
    )
    assert result.stopped == "allowance"
    assert result.error is not None and result.error.code == "budget_exceeded"
    assert app.spent("session") <= Decimal("0.001")


def test_r8_4_setup_mistakes_raise_before_any_step(tmp_path: Path) -> None:
    script, app = make(tmp_path, [answer("x")])
    with pytest.raises(ByomError):
        app.run("no-such-feature", user("q"), max_cost="1")
    with pytest.raises(ByomError):
        app.run("summarize", user("q"), max_cost=0.5)  # money is never a float
    with pytest.raises(ByomError):
        app.run("summarize", user("q"), max_cost="1", max_steps=0)
    with pytest.raises(ByomError):
        app.run("summarize", user("q"), max_cost="1", tools=[lambda *a: a])
    assert script.bodies == []


def test_r8_4_arun_awaits_async_tools(tmp_path: Path) -> None:
    script, app = make(
        tmp_path,
        [
            tool_turn(("search_notes", {"query": "a"}), ("search_notes", {"query": "b"})),
            answer("ok"),
        ],
    )

    async def search(query: str) -> str:
        """Async search."""
        await asyncio.sleep(0)
        return query.upper()

    tool = byom.Tool(
        "search_notes", "s", {"type": "object", "properties": {"query": {"type": "string"}}}, search
    )
    result = asyncio.run(app.arun("summarize", user("q"), tools=[tool], max_cost="1"))
    assert result.stopped == "done"
    contents = [m["content"] for m in script.bodies[1]["messages"] if m["role"] == "tool"]
    assert contents == ["A", "B"]


def test_r8_4_result_repr_and_tool_call_repr_hold_no_content(tmp_path: Path) -> None:
    _, app = make(tmp_path, [tool_turn(("search_notes", {"query": "SECRETWORD"})), answer("x")])
    result = app.run("summarize", user("q"), tools=[search_notes], max_cost="1")
    text = repr(result) + repr(result.tool_calls) + repr(result.replies)
    assert "SECRETWORD" not in text
    call = result.tool_calls[0]
    assert isinstance(call, ToolCall) and call.arguments == {"query": "SECRETWORD"}
    assert call.arguments_json == '{"query": "SECRETWORD"}'


def test_r8_4_event_types_are_exported() -> None:
    assert RunStarted and RunFinished and StepLanded and RunDone


def test_r8_4_a_setup_mistake_is_an_error_not_a_cancelled_run(tmp_path: Path) -> None:
    _, app = make(tmp_path, [answer("x")])
    finished: list[RunFinished] = []
    app.subscribe(lambda e: finished.append(e) if isinstance(e, RunFinished) else None)
    with pytest.raises(ByomError):
        app.run("summarize", user("q"), tools=[search_notes], max_cost="1", tool_choice="often")
    assert [e.stopped for e in finished] == ["error"]
    app.forget_key()
    with pytest.raises(ByomError) as caught:
        app.run("summarize", user("q"), max_cost="1")
    assert caught.value.code == "not_connected"
    assert len(finished) == 1  # never started


def test_r8_4_history_panel_groups_by_run(tmp_path: Path) -> None:
    from byom.terminal.panel import totals_rows

    _, app = make(tmp_path, [tool_turn(("search_notes", {"query": "a"})), answer("x"), answer("y")])
    result = app.run("summarize", user("q"), tools=[search_notes], max_cost="1")
    app.chat("summarize", user("outside a run"))
    assert totals_rows(app, "run") == [(result.run_id[:12], Decimal("0.002"), 2)]


def test_r8_4_schema_only_tools_are_refused_and_provider_tools_pass(tmp_path: Path) -> None:
    script, app = make(tmp_path, [answer("x")])
    spec = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(ByomError):
        app.run("summarize", user("q"), tools=[spec], max_cost="1")  # nothing to call
    native = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
    result = app.run("summarize", user("q"), tools=[search_notes, native], max_cost="1")
    assert result.stopped == "done"
    assert [t.get("name") or t["function"]["name"] for t in script.bodies[0]["tools"]] == [
        "search_notes",
        "web_search",
    ]
