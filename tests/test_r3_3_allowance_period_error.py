"""Issue 15, item 6: a wrong period is its own error, not "invalid amount" — the amount was fine.
A stored allowance with an unknown period still fails closed (a zero ceiling)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import byom
from byom.core.errors import InvalidAmount, InvalidRequest
from byom.core.ledger import Allowance


def test_r3_3_unknown_period_is_invalid_request_not_invalid_amount(tmp_path: Path) -> None:
    app = byom.App("Periods", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    with pytest.raises(InvalidRequest) as caught:
        app.set_allowance("1", period="week")  # type: ignore[arg-type]
    assert not isinstance(caught.value, InvalidAmount)
    assert "session, day, month, total" in caught.value.message
    with pytest.raises(InvalidRequest):
        Allowance(Decimal(1), "week")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        app.set_allowance("one dollar", period="day")


def test_r3_3_a_stored_unknown_period_still_fails_closed(tmp_path: Path) -> None:
    app = byom.App("Periods", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    app.store.set_setting(app.app_id, "allowance:day", '{"amount": "5", "period": "week"}')
    [allowance] = app.allowances()
    assert allowance.amount == 0 and allowance.strict


def test_r5_6_an_invalid_request_shows_what_to_change() -> None:
    from byom.locales import Messages
    from byom.terminal.errors import describe_error

    for lang in ("en", "nl"):
        tr = Messages(lang)
        text = describe_error(InvalidRequest("Choose a worker model for summarize first."), tr)
        assert text.startswith(tr("error.invalid_request"))
        assert text.endswith("Choose a worker model for summarize first.")
        assert describe_error(InvalidRequest(), tr) == tr("error.invalid_request")
