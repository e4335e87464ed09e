"""R8.4 / R3.1: a run splits each message for its estimate once, and the estimate is unchanged.

A run sends its whole conversation again at every step. The estimate of each step counts every
message (its text and the compact JSON of its structure, R8.5); splitting them all again made a
step's own work grow with the conversation (issue 14's per-step overhead). A run now owns deep
copies of its messages, so the split of a message is kept for the run's later steps
(:class:`~byom.core.estimate.PartsCache`). What must not change: the figure (the same as
splitting afresh, for both estimators, strict or not), and what is sent and counted when the app
changes its own message objects while the run goes on.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from _scripted import answer, scripted, tool_turn
from byom.core import estimate
from byom.core.errors import ByomError
from byom.core.estimate import (
    CharEstimator,
    MessageParts,
    PartsCache,
    StrictEstimator,
    request_input_tokens,
)
from conftest import CANARY_KEY, SUMMARIZE, user

PARAMS = {
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "search_notes",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            },
        }
    ]
}


def _message(rng: random.Random, i: int) -> dict[str, Any]:
    kind = rng.choice(("text", "parts", "tool_calls", "tool", "image", "ollama_images"))
    text = "".join(rng.choice('ab é漢😀\n"{}') for _ in range(rng.randint(0, 60)))
    if kind == "text":
        return {"role": rng.choice(("system", "user", "assistant")), "content": text}
    if kind == "parts":
        return {
            "role": "user",
            "content": [
                {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}},
                {"type": "tool_result", "tool_use_id": f"t{i}", "content": text},
            ],
        }
    if kind == "tool_calls":
        call = {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": text}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    if kind == "tool":
        return {"role": "tool", "tool_call_id": f"c{i}", "content": text}
    if kind == "image":
        url = {"url": "data:image/png;base64,AAAA"}
        return {"role": "user", "content": [{"type": "image_url", "image_url": url}]}
    return {"role": "user", "content": text, "images": ["AAAA"]}


@pytest.mark.parametrize("seed", range(40))
def test_r3_1_known_parts_give_the_same_estimate(seed: int) -> None:
    rng = random.Random(seed)
    messages = [_message(rng, i) for i in range(rng.randint(1, 12))]
    cache = PartsCache()
    for end in range(1, len(messages) + 1):  # the conversation grows as a run's does
        sent = messages[:end]
        parts = cache.of(sent)
        for estimator in (CharEstimator(), StrictEstimator()):
            for strict in (False, True):
                for params in (None, PARAMS):
                    for image_tokens in (None, 0, 1500):
                        args: dict[str, Any] = {"strict": strict, "image_tokens": image_tokens}
                        try:
                            fresh = request_input_tokens(estimator, sent, params, **args)
                        except ByomError as exc:  # strict: an image it cannot bound
                            with pytest.raises(type(exc)):
                                request_input_tokens(estimator, sent, params, parts=parts, **args)
                            continue
                        known = request_input_tokens(estimator, sent, params, parts=parts, **args)
                        assert known == fresh, (seed, end, estimator, strict, params)


def test_r3_1_parts_cache_knows_a_message_by_the_object_itself() -> None:
    cache = PartsCache()
    first = {"role": "user", "content": "one"}
    (parts,) = cache.of([first])
    assert cache.of([first]) == (parts,)
    other = {"role": "user", "content": "a longer message"}  # equal ids never alias: kept alive
    assert cache.of([other])[0].texts == ("a longer message",)


def _count_splits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = MessageParts.of.__func__  # type: ignore[attr-defined]

    def counting(cls: type[MessageParts], message: Any) -> MessageParts:
        calls.append(1)
        return original(cls, message)  # type: ignore[no-any-return]

    monkeypatch.setattr(estimate.MessageParts, "of", classmethod(counting))
    return calls


def search_notes(query: str) -> str:
    """Search the user's notes."""
    return f"note about {query}"


def test_r8_4_a_run_splits_each_message_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = [tool_turn(("search_notes", {"query": f"q{i}"})) for i in range(5)]
    script, kw = scripted([*steps, answer("done")])
    app = byom.App("Runner", [SUMMARIZE], data_dir=tmp_path / "data", **kw)
    app.connect("openrouter", key=CANARY_KEY)
    splits = _count_splits(monkeypatch)
    result = app.run(
        "summarize", user("find it"), tools=[search_notes], max_steps=8, max_cost=Decimal(1)
    )
    app.close()
    assert result.stopped == "done" and result.steps == 6
    # 1 question + 5 × (assistant turn + tool result) = 11 messages, each split once. Splitting
    # them afresh at every step would take 1 + 3 + 5 + ... + 11 = 36.
    assert len(result.messages) == 11
    assert len(splits) == 11
    assert len(script.bodies) == 6


def test_r8_4_an_app_changing_its_messages_mid_run_changes_nothing_sent(tmp_path: Path) -> None:
    """The run works on its own deep copies: a tool that changes the app's message objects (here
    it appends a long part to the question's content list) changes neither what later steps send
    nor what they are estimated at — both are the conversation as the run was given it."""
    question: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "find it"}]}
    ]

    def meddling(query: str) -> str:
        """Search, and change the app's own message."""
        question[0]["content"].append({"type": "text", "text": "X" * 40_000})
        return "found"

    script, kw = scripted([tool_turn(("meddling", {"query": "q"})), answer("done")])
    app = byom.App("Runner", [SUMMARIZE], data_dir=tmp_path / "data", **kw)
    app.connect("openrouter", key=CANARY_KEY)
    result = app.run("summarize", question, tools=[meddling], max_cost=Decimal(1))
    rows = {r.id: r for r in app.ledger.store.ledger_rows(app.app_id, frozenset({"committed"}))}
    app.close()
    assert result.stopped == "done" and result.steps == 2
    second = script.bodies[1]["messages"][0]["content"]
    assert second == [{"type": "text", "text": "find it"}]  # sent as given, not as changed
    assert result.messages[0] == {"role": "user", "content": [{"type": "text", "text": "find it"}]}
    # Both steps were estimated from what they sent: far below 40,000 characters' worth.
    estimates = [rows[reply.call_id].estimate_pico for reply in result.replies]
    assert max(estimates) < estimates[0] * 2
