"""R3.3: an accepted allowance is stored and read back equal.

``parse_amount`` accepts Decimals whose ``str()`` has an exponent (``1E+3``, ``1E-7``) or a sign
(``-0``); the stored JSON used ``str()``, which the reader refused, so a stored allowance came back
as a $0 strict ceiling. Amounts are now normalised (``-0`` → ``0``, exponent → plain) and stored
in plain notation; what a whole number of picodollars cannot hold exactly is refused up front.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from byom.core.errors import InvalidAmount
from byom.core.ledger import PERSISTENT_PERIODS, Allowance, Ledger, Period
from byom.core.money import PICO, from_pico, parse_amount, to_pico
from byom.core.store import MemoryStore

ACCEPTED = [
    ("1E+3", "1000"),
    ("-0", "0"),
    ("-0.00", "0"),
    ("0E+5", "0"),
    ("0E-30", "0"),
    ("0.0000001", "0.0000001"),
    ("1E-7", "0.0000001"),
    ("1E-12", "0.000000000001"),
    ("0.000000000001", "0.000000000001"),
    ("1.5000000000000000000", "1.500000000000"),
    ("5.00", "5.00"),
    ("1E+9", "1000000000"),
    ("999999999.999999999999", "999999999.999999999999"),
    ("12.5", "12.5"),
]
REFUSED = [
    "1E-13",
    "0.0000000000001",
    "1.0000000000001",
    "1.0000000000000000000000000000001",  # 31 digits: more than the default context holds
    "1E+10",
    "1000000000.000000000001",
    "-1E-20",
    "-1",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
]


def ledger() -> Ledger:
    return Ledger(MemoryStore(), "app", clock=lambda: 1_730_000_000.0)


@pytest.mark.parametrize(("given_", "plain"), ACCEPTED)
def test_r3_3_decimal_amounts_are_normalised(given_: str, plain: str) -> None:
    value = parse_amount(Decimal(given_))
    assert value == Decimal(given_)
    assert format(value, "f") == plain
    assert not value.is_signed()
    assert "E" not in str(value) or value.adjusted() < -6  # positive exponents become plain
    assert from_pico(to_pico(value)) == value  # exact in the ledger's unit


@pytest.mark.parametrize("given_", REFUSED)
def test_r3_3_amounts_finer_than_a_picodollar_or_out_of_range_are_refused(given_: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(Decimal(given_))
    with pytest.raises(InvalidAmount):
        Allowance(Decimal(given_), "day")


@pytest.mark.parametrize(("given_", "plain"), ACCEPTED)
@pytest.mark.parametrize("period", ["session", *PERSISTENT_PERIODS])
def test_r3_3_allowance_round_trips_through_json(given_: str, plain: str, period: Period) -> None:
    allowance = Allowance(Decimal(given_), period, strict=True)
    stored = json.loads(allowance.to_json())
    assert stored["amount"] == plain
    back = Allowance.from_json(allowance.to_json())
    assert back == allowance and back.amount == Decimal(given_)


@pytest.mark.parametrize(("given_", "plain"), ACCEPTED)
@pytest.mark.parametrize("period", PERSISTENT_PERIODS)
def test_r3_3_allowance_round_trips_through_the_store(
    given_: str, plain: str, period: Period
) -> None:
    first = ledger()
    first.set_allowance(Allowance(Decimal(given_), period))
    assert first.store.get_setting("app", "allowance:" + period) is not None
    (found,) = first.allowances()
    assert found == Allowance(Decimal(given_), period)  # not the fail-closed $0 strict ceiling
    assert found.amount == Decimal(given_) and not found.strict


@pytest.mark.parametrize(
    ("stored", "amount"),
    [("1E+3", "1000"), ("1E-7", "0.0000001"), ("-0", "0"), ("2.50", "2.50"), (3, "3")],
)
def test_r3_3_allowances_stored_by_older_versions_read_back(stored: object, amount: str) -> None:
    book = ledger()
    text = json.dumps({"amount": stored, "period": "day", "strict": False})
    book.store.set_setting("app", "allowance:day", text)
    assert book.allowances() == [Allowance(Decimal(amount), "day")]


@pytest.mark.parametrize(
    "stored", ["1e3x", "NaN", "Infinity", "-1", "1E-13", " 5", "", "1,5", "0x10", 1.5, True, None]
)
def test_r3_3_unreadable_stored_allowance_fails_closed(stored: object) -> None:
    book = ledger()
    text = json.dumps({"amount": stored, "period": "month", "strict": False})
    book.store.set_setting("app", "allowance:month", text)
    assert book.allowances() == [Allowance(Decimal(0), "month", strict=True)]


def _exact(value: Decimal) -> bool:
    """Independent oracle: a finite amount in [0, 10⁹] that is a whole number of picodollars."""
    if not value.is_finite():
        return False
    exact = Fraction(value)
    return 0 <= exact <= 10**9 and (exact * 10**12).denominator == 1


amounts = st.one_of(
    st.decimals(),  # any Decimal, NaN and infinities included
    st.builds(
        lambda coefficient, exponent: Decimal(coefficient).scaleb(exponent),
        st.integers(-(10**13), 10**22),
        st.integers(-26, 12),
    ),
    st.builds(lambda units: Decimal(units) * PICO, st.integers(0, 10**21)),
    st.sampled_from([Decimal("-0"), Decimal("0E+7"), Decimal("-0E-40"), Decimal("1E+3")]),
)


@settings(max_examples=400, deadline=None)
@given(amount=amounts, period=st.sampled_from(["session", "day", "month", "total"]))
def test_r3_3_property_every_accepted_amount_reads_back_equal(
    amount: Decimal, period: Period
) -> None:
    try:
        value = parse_amount(amount)
    except InvalidAmount:
        assert not _exact(amount)
        return
    assert _exact(amount) and value == amount and not value.is_signed()
    assert from_pico(to_pico(value)) == value
    allowance = Allowance(amount, period)
    text = allowance.to_json()
    stored = json.loads(text)["amount"]
    assert "E" not in stored.upper() and not stored.startswith("-")
    assert Allowance.from_json(text) == allowance
    if period != "session":
        book = ledger()
        book.set_allowance(allowance)
        assert book.allowances() == [allowance]


@settings(max_examples=200, deadline=None)
@given(text=st.from_regex(r"\A[0-9]{1,10}(\.[0-9]{1,14})?\Z"))
def test_r3_3_property_typed_amounts_read_back_equal(text: str) -> None:
    try:
        value = parse_amount(text)
    except InvalidAmount:
        return
    allowance = Allowance(value, "total")
    assert Allowance.from_json(allowance.to_json()).amount == value
