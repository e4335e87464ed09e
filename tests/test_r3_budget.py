"""R3.3–R3.7, pitfalls 3, 4, 6: the budget guard against the simulator."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from byom.core.errors import BudgetExceeded, InvalidAmount
from byom.core.ledger import Allowance
from byom.sim import Simulator
from conftest import chat_count, user, wait_until


def test_r3_3_refused_request_never_reaches_the_network(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("0.0001"))
    with pytest.raises(BudgetExceeded) as info:
        app.chat("summarize", user("hello"), max_tokens=300)
    assert chat_count(sim) == 0
    err = info.value
    assert err.code == "budget_exceeded"
    assert err.allowance == Decimal("0.0001") and err.spent == 0
    assert err.estimate > err.allowance
    assert app.history()[0].outcome == "refused"
    assert app.spent() == 0


def test_r3_3_no_allowance_means_no_ceiling(make_app, sim: Simulator) -> None:
    app = make_app()
    for _ in range(3):
        app.chat("summarize", user("hello"), max_tokens=50)
    assert chat_count(sim) == 3


def test_r3_4_reservation_replaced_by_real_cost(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("1"))
    reply = app.chat("summarize", user("hello"), max_tokens=300)
    assert app.spent() == reply.cost
    assert app.spent("total") == reply.cost


def test_pitfall_4_deleting_history_does_not_lower_spend(make_app) -> None:
    app = make_app()
    app.set_allowance(Decimal("1"), period="day")
    app.chat("summarize", user("hello"), max_tokens=100)
    before = app.spent("day")
    assert before > 0
    assert app.delete_history() == 1
    assert app.history() == []
    assert app.spent("day") == before
    assert app.spent("month") == before and app.spent("total") == before


def test_r3_3_persistent_allowances_survive_a_restart(make_app) -> None:
    app = make_app()
    app.set_allowance(Decimal("0.5"), period="month", strict=True)
    app.chat("summarize", user("hello"), max_tokens=100)
    spent = app.spent("month")
    again = make_app()
    assert Allowance(Decimal("0.5"), "month", True) in again.allowances()
    assert again.spent("month") == spent
    assert again.spent("session") == 0  # a new session


def test_pitfall_5_bad_allowance_input_keeps_the_old_ceiling(make_app) -> None:
    app = make_app(connect=False)
    app.set_allowance("2,50", period="total")
    for bad in ("", "abc", "-1", "NaN"):
        with pytest.raises(InvalidAmount):
            app.set_allowance(bad, period="total")
    assert app.allowances() == [Allowance(Decimal("2.50"), "total")]


def test_pitfall_5_corrupt_stored_allowance_fails_closed(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("5"), period="total")
    app.store.set_setting(app.app_id, "allowance:total", "{not json")
    with pytest.raises(BudgetExceeded):
        app.chat("summarize", user("hello"), max_tokens=10)
    assert chat_count(sim) == 0


def test_r3_5_two_threads_over_budget_only_one_reaches_the_provider(
    make_app, sim: Simulator
) -> None:
    app = make_app()
    # One request's estimate fits; two do not.
    app.set_allowance(Decimal("0.0003"))
    # The admitted request is held until the other one has been refused (then released), so it
    # is in flight when the second is checked, however the threads are scheduled.
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}] * 2)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(app.chat("summarize", user("hello"), max_tokens=300))
        except BudgetExceeded as exc:
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: results, "one of the two to be refused (a held request never ends)")
        wait_until(lambda: chat_count(sim) == 1, "the admitted request to reach the simulator")
    finally:
        sim.release()  # ends the hold of the requests that have arrived
    for t in threads:
        t.join(60)
    assert sum(isinstance(r, BudgetExceeded) for r in results) == 1
    assert chat_count(sim) == 1


async def _two_tasks(app, sim: Simulator) -> list[object]:
    """Both at once; the simulator holds the admitted one until the other has finished."""
    import asyncio

    async def arrived() -> None:
        while chat_count(sim) < 1:
            await asyncio.sleep(0.01)

    async def one() -> object:
        try:
            return await app.achat("summarize", user("hello"), max_tokens=300)
        except BudgetExceeded as exc:
            return exc

    tasks = [asyncio.create_task(one()), asyncio.create_task(one())]
    await asyncio.wait(tasks, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    await asyncio.wait_for(arrived(), timeout=60)
    sim.release()  # ends the hold of the requests that have arrived
    return list(await asyncio.gather(*tasks))


def test_r3_5_two_asyncio_tasks_over_budget_only_one_reaches_the_provider(
    make_app, sim: Simulator
) -> None:
    import asyncio

    app = make_app()
    app.set_allowance(Decimal("0.0003"))
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}] * 2)
    results = asyncio.run(_two_tasks(app, sim))
    assert sum(isinstance(r, BudgetExceeded) for r in results) == 1
    assert chat_count(sim) == 1


def test_r3_6_spam_loop_stops_at_the_limit(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("0.05"), period="total")
    sent = refused = 0
    for _ in range(10_000):
        try:
            app.chat("summarize", user("spam " * 20), max_tokens=300)
            sent += 1
        except BudgetExceeded:
            refused += 1
    assert sent > 0 and refused > 9_000
    assert chat_count(sim) == sent
    # Non-strict is best-effort; it still never admits once the estimate would overshoot.
    assert app.spent("total") <= Decimal("0.05")


def test_r3_7_strict_mode_real_cost_never_exceeds_the_allowance(make_app, sim: Simulator) -> None:
    app = make_app()
    sim.config(routed_price_multiplier="3")  # real routing may be pricier than the list price
    app.set_allowance(Decimal("0.01"), period="total", strict=True)
    sent = 0
    for i in range(2_000):
        try:
            app.chat("summarize", user(f"日本語 text {i} " * 30), max_tokens=200)
            sent += 1
        except BudgetExceeded:
            pass
    assert sent > 0
    charged = sum(Decimal(g["cost"]) for g in sim.generations())
    assert charged <= Decimal("0.01")
    recorded = sum(r.cost for r in app.history() if r.cost is not None)
    assert recorded == charged
    assert app.spent("total") <= Decimal("0.01")


def test_r3_7_without_strict_mode_routing_can_overshoot_estimates(make_app, sim: Simulator) -> None:
    """The reason strict mode sends max_price: the list price is only the cheapest route."""
    app = make_app()
    sim.config(routed_price_multiplier="3")
    reply = app.chat("summarize", user("hello"), max_tokens=300)
    model = app.model_for("summarize")
    assert model.price is not None
    list_cost = model.price.cost(
        prompt_tokens=reply.usage.prompt_tokens, completion_tokens=reply.usage.completion_tokens
    )
    assert reply.cost == list_cost * 3
