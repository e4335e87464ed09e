"""R4.3 / R4.4 / R4.5: attributable history, totals, export, delete; events and in-flight."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from decimal import Decimal

import pytest

from byom.core.errors import BudgetExceeded, Cancelled
from byom.core.events import Failed, Pending, Refused
from byom.sim import Simulator
from conftest import user


def test_r4_3_history_rows_are_attributable(make_app) -> None:
    app = make_app()
    app.choose_model("critique", "anthropic/claude-sonnet-4.5")
    a = app.chat("summarize", user("one"), max_tokens=300)
    b = app.chat("critique", user("two"), max_tokens=300)
    rows = {r.id: r for r in app.history()}
    for reply, feature, model in (
        (a, "summarize", "openai/gpt-4o-mini"),
        (b, "critique", "anthropic/claude-sonnet-4.5"),
    ):
        row = rows[reply.call_id]
        assert (row.feature, row.model, row.provider) == (feature, model, "openrouter")
        assert row.usage == reply.usage and row.cost == reply.cost
        assert row.generation_id == reply.generation_id and row.outcome == "ok"
        assert row.started_at <= (row.ended_at or 0) <= time.time()


def test_r4_4_totals_by_day_feature_and_model(make_app) -> None:
    app = make_app()
    app.choose_model("critique", "anthropic/claude-sonnet-4.5")
    a = app.chat("summarize", user("one"), max_tokens=50)
    b = app.chat("critique", user("two"), max_tokens=50)
    total = a.cost + b.cost
    assert sum(app.totals(by="day").values()) == total
    assert app.totals(by="feature") == {"critique": b.cost, "summarize": a.cost}
    assert app.totals(by="model") == {
        "anthropic/claude-sonnet-4.5": b.cost,
        "openai/gpt-4o-mini": a.cost,
    }


def test_r4_4_exports_parse_and_match_the_store(make_app) -> None:
    app = make_app()
    for i in range(3):
        app.chat("summarize", user(f"q{i}"), max_tokens=40)
    records = app.history()
    exported = json.loads(app.export_history("json"))
    assert [r["id"] for r in exported] == [r.id for r in records]
    assert [Decimal(r["cost"]) for r in exported] == [r.cost for r in records]
    rows = list(csv.DictReader(io.StringIO(app.export_history("csv"))))
    assert [row["id"] for row in rows] == [r.id for r in records]
    assert [int(row["completion_tokens"]) for row in rows] == [
        r.usage.completion_tokens for r in records
    ]


def test_r4_4_delete_before_a_time(make_app) -> None:
    app = make_app()
    app.chat("summarize", user("old"), max_tokens=20)
    cut = time.time()
    time.sleep(0.01)
    app.chat("summarize", user("new"), max_tokens=20)
    assert app.delete_history(before=cut) == 1
    assert len(app.history()) == 1


def test_r4_5_events_and_in_flight_for_a_refused_call(make_app, sim: Simulator) -> None:
    app = make_app()
    events: list[object] = []
    app.subscribe(events.append)
    app.set_allowance(Decimal(0))
    with pytest.raises(BudgetExceeded):
        app.chat("summarize", user("x"), max_tokens=10)
    assert [type(e) for e in events] == [Refused]
    assert not app.in_flight()


def test_r4_5_in_flight_is_true_only_during_the_request(make_app, sim: Simulator) -> None:
    app = make_app()
    seen: list[bool] = []
    app.subscribe(lambda e: seen.append(app.in_flight()))
    app.chat("summarize", user("x"), max_tokens=10)
    assert seen == [True, False]  # Pending while in flight; Landed after it settled
    assert not app.in_flight()


def test_pitfall_10_cancelling_an_async_task_cancels_the_request(make_app, sim: Simulator) -> None:
    app = make_app()
    events: list[object] = []
    app.subscribe(events.append)
    # Held until the cancelled client hangs up, so it cannot land before the cancel.
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}])

    async def run() -> None:
        task = asyncio.create_task(app.achat("summarize", user("slow"), max_tokens=50))
        while not app.in_flight():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert not app.in_flight()
    assert [type(e) for e in events] == [Pending, Failed]
    assert isinstance(events[-1].error, Cancelled)  # type: ignore[attr-defined]
    assert len(app.unreconciled()) == 1  # it was sent: its estimate keeps counting


def test_a_listener_that_raises_does_not_break_the_money_path(make_app) -> None:
    app = make_app()

    def broken(event: object) -> None:
        raise RuntimeError("surface bug")

    app.subscribe(broken)
    reply = app.chat("summarize", user("x"), max_tokens=10)
    assert app.history()[0].cost == reply.cost
