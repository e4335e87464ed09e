"""The budget guard (R3.3–R3.6): allowances, atomic check-and-reserve, commit, reconcile.

A request is admitted only if, for every allowance that applies,
``committed spend + in-flight and unreconciled reservations + this estimate <= allowance``.
The check and the reservation happen inside one ``Store.atomic()`` section, so two threads,
tasks or processes cannot both squeeze under the ceiling (pitfall 6). Spend in a period is a
ledger fact: deleting history leaves it unchanged (pitfall 4).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final, Literal, cast, get_args

from byom.core.errors import BudgetExceeded, InvalidAmount
from byom.core.money import from_pico, parse_amount, to_pico
from byom.core.store import COUNTING_STATES, LedgerRow, Store

Period = Literal["session", "day", "month", "total"]
PERIODS: Final[tuple[str, ...]] = get_args(Period)
PERSISTENT_PERIODS: Final[tuple[str, ...]] = ("day", "month", "total")
_SETTING = "allowance:"


@dataclass(frozen=True, slots=True)
class Allowance:
    """A ceiling on spend over a period. ``strict`` selects the upper-bound estimator (R3.7)."""

    amount: Decimal
    period: Period = "session"
    strict: bool = False

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise InvalidAmount(f"period must be one of {', '.join(PERIODS)}")
        object.__setattr__(self, "amount", parse_amount(self.amount))

    def to_json(self) -> str:
        return json.dumps(
            {"amount": str(self.amount), "period": self.period, "strict": self.strict}
        )

    @classmethod
    def from_json(cls, text: str) -> Allowance:
        """Parse a stored allowance. Anything unreadable raises (callers fail closed)."""
        data = json.loads(text)
        return cls(
            amount=parse_amount(str(data["amount"])),
            period=data["period"],
            strict=bool(data["strict"]),
        )


def period_start(period: Period, now: float) -> float | None:
    """Epoch seconds where ``period`` began, in the device's local time; ``None`` = all time."""
    if period == "total" or period == "session":
        return None
    local = datetime.fromtimestamp(now).astimezone()
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        start = start.replace(day=1)
    return start.timestamp()


class Ledger:
    """Reserve → commit / release / leave unreconciled, for one app and one session."""

    def __init__(
        self,
        store: Store,
        app_id: str,
        *,
        session_id: str | None = None,
        owner: str = "",
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.app_id = app_id
        self.session_id = session_id or uuid.uuid4().hex
        self.owner = owner
        self._clock = clock
        self._session_allowance: Allowance | None = None

    # -- allowances ---------------------------------------------------------------------------

    def set_allowance(self, allowance: Allowance | None, period: Period = "session") -> None:
        """Set (or with ``None`` remove) the allowance for a period. Session ones live in memory."""
        if allowance is not None:
            period = allowance.period
        if period == "session":
            self._session_allowance = allowance
            return
        if period not in PERIODS:
            raise InvalidAmount(f"period must be one of {', '.join(PERIODS)}")
        value = allowance.to_json() if allowance is not None else None
        self.store.set_setting(self.app_id, _SETTING + period, value)

    def allowances(self) -> list[Allowance]:
        """Every allowance in force. A stored one that cannot be read becomes a zero ceiling."""
        found: list[Allowance] = []
        if self._session_allowance is not None:
            found.append(self._session_allowance)
        for period in PERSISTENT_PERIODS:
            text = self.store.get_setting(self.app_id, _SETTING + period)
            if text is None:
                continue
            try:
                found.append(Allowance.from_json(text))
            except (ValueError, KeyError, TypeError, InvalidAmount):
                found.append(
                    Allowance(Decimal(0), cast(Period, period), strict=True)
                )  # fail closed
        return found

    @property
    def strict(self) -> bool:
        return any(a.strict for a in self.allowances())

    # -- spend --------------------------------------------------------------------------------

    def spent(self, period: Period = "session") -> Decimal:
        """Committed spend plus in-flight and unreconciled reservations in the period."""
        return from_pico(self._spent_pico(period, self._clock()))

    def _spent_pico(self, period: Period, now: float) -> int:
        session = self.session_id if period == "session" else None
        return self.store.counted_since(self.app_id, period_start(period, now), session)

    def reserve(
        self,
        estimate: Decimal,
        *,
        reservation_id: str,
        feature: str,
        model: str,
        provider: str,
        allowances: Iterable[Allowance] | None = None,
    ) -> LedgerRow:
        """Atomically check every allowance and record the reservation, or raise
        :class:`BudgetExceeded` (nothing recorded, nothing sent)."""
        estimate_pico = to_pico(estimate)
        with self.store.atomic():
            now = self._clock()
            for allowance in self.allowances() if allowances is None else allowances:
                spent = self._spent_pico(allowance.period, now)
                if spent + estimate_pico > to_pico(allowance.amount):
                    raise BudgetExceeded(
                        period=allowance.period,
                        allowance=allowance.amount,
                        spent=from_pico(spent),
                        estimate=from_pico(estimate_pico),
                    )
            row = LedgerRow(
                id=reservation_id,
                app_id=self.app_id,
                session_id=self.session_id,
                owner=self.owner,
                created_at=now,
                state="reserved",
                estimate_pico=estimate_pico,
                counted_pico=estimate_pico,
                feature=feature,
                model=model,
                provider=provider,
            )
            self.store.add_ledger_row(row)
            return row

    def commit(self, row_id: str, cost: Decimal, generation_id: str | None = None) -> None:
        """Replace the reservation by the real cost."""
        self.store.update_ledger_row(
            row_id, state="committed", counted_pico=to_pico(cost), generation_id=generation_id
        )

    def release(self, row_id: str) -> None:
        """The request was refused by the provider without generating: nothing was spent."""
        self.store.update_ledger_row(row_id, state="released", counted_pico=0)

    def leave_unreconciled(self, row: LedgerRow, generation_id: str | None) -> None:
        """Sent, but no usage came back: the estimate keeps counting until reconciled."""
        self.store.update_ledger_row(
            row.id,
            state="unreconciled",
            counted_pico=row.estimate_pico,
            generation_id=generation_id,
        )

    def unreconciled(self) -> list[LedgerRow]:
        return self.store.ledger_rows(self.app_id, frozenset({"unreconciled"}))

    def clear_unreconciled(self, row_id: str) -> None:
        """The user chose to stop counting an unreconciled request (explicit, never automatic)."""
        self.store.update_ledger_row(row_id, state="cleared", counted_pico=0)

    def open_rows(self) -> list[LedgerRow]:
        return self.store.ledger_rows(self.app_id, COUNTING_STATES - {"committed"})
