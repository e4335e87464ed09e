"""R2.5 for agent features: the canary suite over tool arguments, tool results and structured
output, on every simulator fault × every provider kind × both run paths.

The model's tool arguments, the app's tool results and the structured output all carry canary
text (the tool schema's ``enum`` makes the simulator put it into the arguments; the tools return
it; the output schema's ``enum`` puts it into the structured answer). After each run — whatever
fault ended it — nothing byom leaves behind may hold any of it: the run's result and error
(``str``, ``repr``, ``args``, chain, every traceback frame's locals), the events surfaces
receive, the DEBUG logs, the data directory (SQLite with WAL/SHM) and the temp directory.
Content goes to the provider and back to the app's code; nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import byom
from _leaks import PROMPT_MARK, assert_exception_chain_cut, assert_exception_clean
from byom.core.run import RunDone, RunResult
from byom.sim import Simulator
from conftest import CANARY_KEY
from test_r1_2_providers_sim import KINDS, Kind, connect
from test_r2_5_fault_matrix import SIM_FAULTS, _fault_id, debug_logs, scan_everything

__all__ = ["debug_logs"]  # the fixture, shared with the fault matrix

ARG = PROMPT_MARK + "-toolarg-51c"
RESULT = PROMPT_MARK + "-toolresult-9d2"
OUTPUT = PROMPT_MARK + "-output-e47"
QUESTION = [{"role": "user", "content": PROMPT_MARK + "-question what is in the vault?"}]
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"enum": [OUTPUT]}, "sources": {"type": "array", "items": {}}},
    "required": ["answer"],
}


def open_vault(code: str) -> str:  # the schema below replaces the derived one
    return RESULT + " the vault holds " + code


def failing_vault(code: str) -> str:
    raise RuntimeError(RESULT + " could not open " + code + " with " + CANARY_KEY)


def _tool(name: str, function: Callable[..., str]) -> byom.Tool:
    params = {"type": "object", "properties": {"code": {"enum": [ARG]}}, "required": ["code"]}
    return byom.Tool(name, "Open the vault.", params, function)


TOOLS = [_tool("open_vault", open_vault), _tool("failing_vault", failing_vault)]


def run(app: byom.App, path: str) -> tuple[RunResult | None, BaseException | None]:
    options: dict[str, Any] = {
        "tools": TOOLS,
        "max_cost": "0.5",
        "max_steps": 4,
        "max_tokens": 200,
        "schema": SCHEMA,
    }
    try:
        if path == "run":
            return app.run("summarize", QUESTION, **options), None
        items = list(app.run_stream("summarize", QUESTION, **options))
        assert isinstance(items[-1], RunDone)
        return items[-1].result, None
    except BaseException as exc:
        return None, exc


def _no_content(text: str, where: str) -> None:
    assert CANARY_KEY not in text, f"key leaked into {where}"
    assert PROMPT_MARK not in text, f"content leaked into {where}"


@pytest.mark.parametrize("path", ["run", "run_stream"])
@pytest.mark.parametrize("fault", SIM_FAULTS, ids=_fault_id)
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r2_5_agent_content_never_leaks_on_any_fault(
    make_app: Callable[..., byom.App],
    sim: Simulator,
    debug_logs: pytest.LogCaptureFixture,
    private_tmp: Path,
    tmp_path: Path,
    kind: Kind,
    fault: dict[str, object],
    path: str,
) -> None:
    slow = fault.get("kind") == "slow_first_byte"
    sim.config(generation_delay=0, tool_steps=2, parallel_tool_calls=2)
    app = make_app(connect=False, timeout=1.0 if slow else None)
    connect(app, kind, sim)
    events: list[Any] = []
    app.subscribe(events.append)
    # The first step succeeds (tool arguments and results now exist), the fault hits the second.
    first = True

    def inject(event: Any) -> None:
        nonlocal first
        if first and isinstance(event, byom.StepLanded):
            first = False
            sim.push_faults([fault])

    app.subscribe(inject)
    result, exc = run(app, path)
    assert exc is None, f"a run raised {type(exc).__name__} out of the middle of the loop"
    assert result is not None
    if result.error is not None:
        assert_exception_clean(result.error)
        assert_exception_chain_cut(result.error)
    # The result holds content for the app's own code (messages, text, data) — but its repr,
    # and everything surfaces receive, holds none.
    _no_content(repr(result) + repr(result.tool_calls) + repr(result.replies), "a repr")
    for event in events:
        _no_content(repr(event), f"a {type(event).__name__} event")
    tool_results = [m["content"] for m in result.messages if m.get("role") == "tool"]
    assert tool_results
    if kind.provider != "ollama":  # with no key connected there is no key to take out
        assert all(CANARY_KEY not in t for t in tool_results), "the key went to the provider"
    scan_everything(app, None, debug_logs, tmp_path, private_tmp)
