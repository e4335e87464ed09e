"""R3.4 / R4.5: a call interrupted after its reservation but before anything was sent (Ctrl-C
while a listener shows "pending…") is settled at once: its reservation is released, history
says it was cancelled, and it is no longer in flight — it does not keep counting until the next
start."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

import byom
from byom.sim import Simulator
from conftest import chat_count, user


def test_r3_4_an_interrupt_in_the_pending_listener_releases_the_reservation(
    make_app: Callable[..., byom.App], sim: Simulator
) -> None:
    app = make_app()
    seen = chat_count(sim)

    def interrupt(event: object) -> None:
        if isinstance(event, byom.Pending):
            raise KeyboardInterrupt  # what a Ctrl-C delivered inside the listener does

    unsubscribe = app.subscribe(interrupt)
    with pytest.raises(KeyboardInterrupt):
        for _ in app.stream("summarize", user("hello"), max_tokens=20):
            pass
    unsubscribe()
    assert not app.in_flight()
    assert app.spent() == Decimal(0)  # released: nothing was sent
    records = app.history()
    assert [(r.outcome, r.error_code) for r in records] == [("failed", "cancelled")]
    assert chat_count(sim) == seen
    assert app.chat("summarize", user("hello"), max_tokens=20).cost  # the app carries on
