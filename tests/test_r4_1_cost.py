"""R4.1, R3.4, pitfalls 3 and 9: real cost, pending until usage, cut streams, reconciliation."""

from __future__ import annotations

from decimal import Decimal

import pytest

import byom
from byom.core.errors import BadResponse, Cancelled, Interrupted, ProviderUnavailable
from byom.core.events import Failed, Landed, Pending
from byom.sim import Simulator
from conftest import user


def _sim_cost(sim: Simulator, generation_id: str | None) -> Decimal:
    for g in sim.generations():
        if g["id"] == generation_id:
            return Decimal(str(g["cost"]))
    raise AssertionError("generation not recorded by the simulator")


def test_r4_1_reply_cost_equals_the_simulators_charge_exactly(make_app, sim: Simulator) -> None:
    app = make_app()
    reply = app.chat("summarize", user("What is BYOM?"), max_tokens=300)
    assert isinstance(reply.cost, Decimal)
    assert reply.cost == _sim_cost(sim, reply.generation_id)
    assert reply.cost_source == "provider"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.finish_reason == "stop" and not reply.truncated
    record = app.history()[0]
    assert record.cost == reply.cost and record.generation_id == reply.generation_id
    assert "What is BYOM" not in repr(reply)


def test_r4_1_stream_cost_is_pending_until_the_usage_event(make_app, sim: Simulator) -> None:
    app = make_app()
    events: list[object] = []
    app.subscribe(events.append)
    seen_in_flight = []
    text = []
    done = None
    for item in app.stream("summarize", user("Stream please"), max_tokens=300):
        if isinstance(item, byom.Done):
            done = item
        else:
            text.append(item.text)
            seen_in_flight.append(app.in_flight())
            assert not any(isinstance(e, Landed) for e in events)  # still pending
            assert app.history() == []
    assert done is not None and all(seen_in_flight) and len(seen_in_flight) > 1
    assert not app.in_flight()
    assert "".join(text) == done.reply.text
    assert done.reply.cost == _sim_cost(sim, done.reply.generation_id)
    assert [type(e) for e in events] == [Pending, Landed]
    landed = events[1]
    assert isinstance(landed, Landed) and landed.cost == done.reply.cost


async def _astream(app: byom.App) -> byom.Reply:
    reply = None
    async for item in app.astream("summarize", user("async stream"), max_tokens=300):
        if isinstance(item, byom.Done):
            reply = item.reply
    assert reply is not None
    return reply


def test_r4_1_async_stream_and_chat_match_the_charge(make_app, sim: Simulator) -> None:
    import asyncio

    app = make_app()
    reply = asyncio.run(_astream(app))
    assert reply.cost == _sim_cost(sim, reply.generation_id)
    reply2 = asyncio.run(app.achat("summarize", user("async chat"), max_tokens=50))
    assert reply2.cost == _sim_cost(sim, reply2.generation_id)


def test_r3_4_stream_cut_before_usage_stays_unreconciled_until_reconciled(
    make_app, sim: Simulator
) -> None:
    app = make_app()
    events: list[object] = []
    app.subscribe(events.append)
    sim.push_faults([{"kind": "cut_before_usage"}])
    received = []
    with pytest.raises(Interrupted):
        for item in app.stream("summarize", user("cut me"), max_tokens=300):
            received.append(item)
    assert received  # some text arrived before the cut
    rows = app.unreconciled()
    assert len(rows) == 1 and rows[0].generation_id
    estimate = Decimal(rows[0].estimate_pico) * Decimal("1e-12")
    assert app.spent() == estimate.normalize()  # pitfall 3: counts, never zero
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.unreconciled
    assert not app.in_flight()

    reconciled = app.reconcile(attempts=10, delay=0.1)  # /generation answers 404 at first
    assert len(reconciled) == 1
    charged = _sim_cost(sim, rows[0].generation_id)
    assert reconciled[0].cost == charged
    assert app.spent() == charged
    assert app.unreconciled() == []
    assert app.history()[0].cost == charged


def test_pitfall_9_midstream_error_is_not_a_clean_success(make_app, sim: Simulator) -> None:
    app = make_app()
    sim.push_faults([{"kind": "midstream_error", "code": 502}])
    with pytest.raises(ProviderUnavailable):
        list(app.stream("summarize", user("fail midway"), max_tokens=300))
    assert app.history()[0].outcome in ("failed", "unreconciled")
    assert app.spent() > 0  # may have been charged: keeps counting


def test_pitfall_9_finish_reason_error_raises_after_counting(make_app, sim: Simulator) -> None:
    app = make_app()
    sim.push_faults([{"kind": "finish_error"}])
    with pytest.raises(ProviderUnavailable):
        app.chat("summarize", user("x"), max_tokens=100)
    record = app.history()[0]
    assert record.outcome == "failed" and record.cost is not None and record.cost > 0


def test_pitfall_9_length_finish_is_flagged_truncated(make_app, sim: Simulator) -> None:
    app = make_app()
    reply = app.chat("summarize", user("long please"), max_tokens=5)
    assert reply.finish_reason == "length" and reply.truncated
    assert app.history()[0].outcome == "truncated"


def test_pitfall_9_reasoning_only_reply_is_not_malformed(make_app) -> None:
    app = make_app()
    reply = app.chat("summarize", user("[[reasoning-only]] think"), max_tokens=300)
    assert reply.text == "" and reply.reasoning
    assert reply.usage.reasoning_tokens > 0 and reply.cost is not None
    streamed = list(app.stream("summarize", user("[[reasoning-only]] again"), max_tokens=300))
    assert isinstance(streamed[-1], byom.Done) and streamed[-1].reply.reasoning


def test_pitfall_3_malformed_200_counts_its_estimate(make_app, sim: Simulator) -> None:
    app = make_app()
    sim.push_faults([{"kind": "malformed_json"}])
    with pytest.raises(BadResponse):
        app.chat("summarize", user("x"), max_tokens=100)
    assert app.spent() > 0
    assert len(app.unreconciled()) == 1


def test_pitfall_10_closing_a_stream_cancels_and_keeps_counting(make_app, sim: Simulator) -> None:
    app = make_app()
    events: list[object] = []
    app.subscribe(events.append)
    stream = app.stream("summarize", user("cancel me"), max_tokens=300)
    next(stream)
    assert app.in_flight()
    stream.close()
    assert not app.in_flight()
    assert isinstance(events[-1], Failed) and isinstance(events[-1].error, Cancelled)
    assert app.spent() > 0 and len(app.unreconciled()) == 1


def test_pitfall_10_requests_time_out(make_app, sim: Simulator) -> None:
    from byom.core.errors import RequestTimeout

    app = make_app(timeout=0.3)
    # Held far longer than the timeout; the client's hang-up ends the wait.
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}])
    with pytest.raises(RequestTimeout):
        app.chat("summarize", user("slow"), max_tokens=50)
    assert not app.in_flight()
    assert len(app.unreconciled()) == 1  # it was sent: it may be charged


def test_r4_3_two_calls_are_two_history_rows(make_app) -> None:
    app = make_app()
    app.chat("summarize", user("a"), max_tokens=20)
    app.chat("summarize", user("a"), max_tokens=20)
    rows = app.history()
    assert len(rows) == 2 and rows[0].id != rows[1].id
    assert app.totals(by="feature") == {"summarize": rows[0].cost + rows[1].cost}
