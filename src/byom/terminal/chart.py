"""Spend per day as a bar chart in the terminal — plain characters, readable without colour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from byom.locales import Messages
from byom.terminal._format import usd

_PARTS = " ▏▎▍▌▋▊▉"
_FULL = "█"


def last_days(totals: Mapping[str, Decimal], days: int, today: date) -> list[tuple[str, Decimal]]:
    """The last ``days`` local days ending today, each with its total (zero when none)."""
    start = today - timedelta(days=days - 1)
    return [
        (day.isoformat(), totals.get(day.isoformat(), Decimal(0)))
        for day in (start + timedelta(days=i) for i in range(days))
    ]


def bar(value: Decimal, top: Decimal, width: int) -> str:
    """A bar ``width`` cells long at ``top``; anything above zero shows at least a sliver."""
    if value <= 0 or top <= 0 or width <= 0:
        return ""
    eighths = int((value / top) * width * 8)
    eighths = max(1, min(eighths, width * 8))
    full, part = divmod(eighths, 8)
    return _FULL * full + (_PARTS[part] if part else "")


def bar_lines(
    rows: Sequence[tuple[str, Decimal]], width: int = 80, tr: Messages | None = None
) -> list[str]:
    """``label  ████▌  $0.0042`` lines, the bars scaled to the largest value."""
    if not rows:
        return []
    label_width = max(len(label) for label, _ in rows)
    amounts = [usd(value, tr) if value else "·" for _, value in rows]
    amount_width = max(len(a) for a in amounts)
    bar_width = max(8, width - label_width - amount_width - 4)
    top = max(value for _, value in rows)
    lines = []
    for (label, value), amount in zip(rows, amounts, strict=True):
        lines.append(
            f"{label.ljust(label_width)}  {bar(value, top, bar_width).ljust(bar_width)}  "
            f"{amount.rjust(amount_width)}"
        )
    return lines


__all__ = ["bar", "bar_lines", "last_days"]
