"""R3.3 / pitfall 5 / pitfall 12: allowance input fails closed; amounts display readably."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from byom.core.errors import InvalidAmount
from byom.core.money import format_usd, from_pico, parse_amount, to_pico


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("5", None, "5"),
        ("5,00", None, "5.00"),
        ("5,00", True, "5.00"),
        ("0,05", True, "0.05"),
        ("2.50", None, "2.50"),
        ("$2.50", None, "2.50"),
        ("€ 1.234,56", True, "1234.56"),
        ("1,234.56", False, "1234.56"),
        ("1,234", False, "1234"),
        ("1.234", True, "1234"),
        (" 7 ", None, "7"),
        ("USD 3", None, "3"),
    ],
)
def test_pitfall_5_amounts_parse(text: str, decimal_comma: bool | None, expected: str) -> None:
    assert parse_amount(text, decimal_comma=decimal_comma) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "-5",
        "-0,5",
        "NaN",
        "inf",
        "Infinity",
        "1e3",
        "5,00,00",
        "1,2,3",
        "1,234",
        "$",
        "5 5",
        "0x10",
        "1.234,56.7",
        "99999999999",
    ],
)
def test_pitfall_5_bad_amounts_fail_closed(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(text)


@given(st.text(max_size=30))
def test_pitfall_5_parse_never_crashes_and_never_negative(text: str) -> None:
    try:
        value = parse_amount(text)
    except InvalidAmount:
        return
    assert value >= 0 and value.is_finite()


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0.00004", "$0.00004"),
        ("0.0000375", "$0.000038"),
        ("0.42", "$0.42"),
        ("12.5", "$12.50"),
        ("0", "$0.00"),
        ("1234.5", "$1,234.50"),
        ("0.000000123", "$0.00000012"),
    ],
)
def test_pitfall_12_tiny_costs_stay_readable(amount: str, shown: str) -> None:
    assert format_usd(Decimal(amount)) == shown


def test_r4_2_unknown_cost_is_not_shown_as_zero() -> None:
    assert format_usd(None) == "unknown"


@given(st.decimals(min_value=0, max_value=1000, places=12, allow_nan=False))
def test_pico_round_trip_never_under_counts(amount: Decimal) -> None:
    assert from_pico(to_pico(amount)) >= amount
