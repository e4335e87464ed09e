"""Issue 15, item 5 — R3.3 / R4.4: ``totals()`` and ``spent()`` read periods by one rule. Both
default to ``"session"`` (the calls made through this ``App`` object); ``"total"`` is everything
on the device. A new ``App`` object starts a new session: its session totals are empty, as its
session spend is 0, while ``period="total"`` still shows the earlier runs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal

import byom
from conftest import user


def test_r4_4_totals_and_spent_share_one_default_period() -> None:
    totals = inspect.signature(byom.App.totals).parameters["period"].default
    spent = inspect.signature(byom.App.spent).parameters["period"].default
    allowance = inspect.signature(byom.App.set_allowance).parameters["period"].default
    assert totals == spent == allowance == "session"


def test_r4_4_session_totals_count_only_this_app_objects_calls(
    make_app: Callable[..., byom.App],
) -> None:
    first = make_app()
    first.chat("summarize", user("one"), max_tokens=30)
    first.chat("summarize", user("two"), max_tokens=30)
    earlier = sum(first.totals(by="feature").values())
    assert earlier > 0 and earlier == first.spent("session")

    second = make_app()  # the same app, a new session (a second run of the program)
    assert second.spent() == Decimal(0)
    assert second.totals(period="session") == {}
    assert second.totals() == {}
    assert sum(second.totals(by="feature", period="total").values()) == earlier
    reply = second.chat("summarize", user("three"), max_tokens=30)
    assert reply.cost is not None
    assert second.totals(by="feature") == {"summarize": reply.cost}
    assert sum(second.totals(by="feature").values()) == second.spent()
    assert sum(second.totals(by="model", period="total").values()) == earlier + reply.cost
    # The first object's session did not grow with the second's call.
    assert sum(first.totals(by="feature").values()) == earlier
