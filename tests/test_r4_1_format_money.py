"""Issue 15, item 11 (and issue 13, item 7 for Python and the terminal) — R4.1, pitfall 12: one
public money formatter, ``byom.format_money``, used by every surface and message: tiny amounts
keep significant digits, never an exponent, Dutch writes a decimal comma, an unknown cost is
"unknown"."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import byom
from byom.core.errors import BudgetExceeded, RunCeilingReached
from byom.core.ledger import Allowance
from byom.locales import Messages
from byom.terminal._format import allowance_text, price_per_million, usd
from byom.terminal.chart import bar_lines

SRC = Path(byom.__file__).parent


def test_r4_1_format_money_is_public_and_readable() -> None:
    fmt = byom.format_money
    assert fmt(Decimal("0.0000636")) == "$0.000064"
    assert fmt(Decimal("0.00046800")) == "$0.00047"  # an Anthropic-style computed cost
    assert fmt(Decimal("1E-7")) == "$0.0000001"  # never "$1E-7"
    assert fmt(Decimal("0.42")) == "$0.42"
    assert fmt(Decimal("1234.5")) == "$1,234.50"
    assert fmt(Decimal(0)) == "$0.00"
    assert fmt(None) == "unknown"  # Reply.cost is None when the provider never said
    assert fmt(Decimal("0.0000636"), "nl") == "$ 0,000064"
    assert fmt(Decimal("1234.5"), "nl_NL.UTF-8") == "$ 1.234,50"
    assert fmt(None, "nl") == "onbekend"
    assert fmt(Decimal("0.075"), exact=True) == "$0.075"


@given(
    st.decimals(
        min_value=Decimal("-1000000000"),
        max_value=Decimal("1000000000"),
        allow_nan=False,
        allow_infinity=False,
        places=None,
    )
)
def test_r4_1_format_money_never_writes_an_exponent(amount: Decimal) -> None:
    english, dutch = byom.format_money(amount), byom.format_money(amount, "nl")
    assert re.fullmatch(r"-?\$[0-9][0-9,]*\.[0-9]+", english), english
    assert re.fullmatch(r"\$ -?[0-9][0-9.]*,[0-9]+", dutch), dutch
    if amount != 0 and abs(amount) < Decimal("0.01"):
        assert english.strip("-$0.,") != "", f"{amount} shown as zero: {english}"


def test_r4_1_refusals_and_terminal_surfaces_use_it() -> None:
    refusal = BudgetExceeded(
        period="session", allowance=Decimal("1E-7"), spent=Decimal(0), estimate=Decimal("3E-5")
    )
    assert "$0.0000001" in str(refusal) and "E-" not in str(refusal)
    ceiling = RunCeilingReached(ceiling=Decimal("1E-6"), spent=Decimal(0), estimate=Decimal(1))
    assert "$0.000001" in str(ceiling) and "E-" not in str(ceiling)
    dutch = Messages("nl")
    assert usd(Decimal("0.0000636"), dutch) == "$ 0,000064"
    assert price_per_million(Decimal("0.00000015"), dutch) == "$ 0,15"
    assert "$ 5,00" in allowance_text(Allowance(Decimal(5), "day"), dutch)
    chart = bar_lines([("2026-12-07", Decimal("0.0000636"))], tr=dutch)
    assert "$ 0,000064" in chart[0]


def test_r4_1_no_surface_formats_dollars_by_hand() -> None:
    """Every "$" a user reads comes from format_money: no f-string or concatenation elsewhere
    puts a dollar sign before a figure."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "money.py" and path.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for i, part in enumerate(node.values[:-1]):
                    nxt = node.values[i + 1]
                    if (
                        isinstance(part, ast.Constant)
                        and str(part.value).endswith("$")
                        and isinstance(nxt, ast.FormattedValue)
                    ):
                        offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []
