"""The budget guard (R3.3–R3.6): allowances, atomic check-and-reserve, commit, reconcile.

A request is admitted only if, for every allowance that applies,
``committed spend + in-flight and unreconciled reservations + this estimate <= allowance``.
The check and the reservation happen inside one ``Store.atomic()`` section, so two threads,
tasks or processes cannot both squeeze under the ceiling (pitfall 6). Spend in a period is a
ledger fact: deleting history leaves it unchanged (pitfall 4).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Final, Literal, cast, get_args

from byom.core.errors import BudgetExceeded, InvalidAmount, InvalidRequest, RunCeilingReached
from byom.core.estimate import PartsCache
from byom.core.money import from_pico, parse_amount, plain, to_pico
from byom.core.store import (
    COUNTING_STATES,
    UNRECONCILED,
    LedgerRow,
    Store,
    not_unreconciled,
    settings_version,
)

Period = Literal["session", "day", "month", "total"]
PERIODS: Final[tuple[str, ...]] = get_args(Period)
PERSISTENT_PERIODS: Final[tuple[str, ...]] = ("day", "month", "total")
_SETTING = "allowance:"


@dataclass(frozen=True, slots=True)
class Allowance:
    """A ceiling on spend over a period. ``strict`` selects the upper-bound estimator (R3.7).

    ``amount`` goes through :func:`~byom.core.money.parse_amount`: normalised (``-0`` → ``0``,
    ``1E+3`` → ``1000``) or refused with :class:`InvalidAmount` (finer than a picodollar, negative,
    not finite, too large), so whatever is accepted is stored and read back equal.
    """

    amount: Decimal
    period: Period = "session"
    strict: bool = False

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise InvalidRequest(f"The period must be one of {', '.join(PERIODS)}.")
        object.__setattr__(self, "amount", parse_amount(self.amount))

    def to_json(self) -> str:
        """JSON with the amount in plain notation (``"0.0000001"``, never ``"1E-7"``)."""
        return json.dumps(
            {"amount": plain(self.amount), "period": self.period, "strict": self.strict}
        )

    @classmethod
    def from_json(cls, text: str) -> Allowance:
        """Parse a stored allowance. Anything unreadable raises (callers fail closed).

        The amount is a plain decimal string; the exponent form that older versions stored
        (``"1E+3"``, ``"1E-7"``, ``"-0"``: ``str()`` of a ``Decimal``) is read as the same value.
        """
        data = json.loads(text)
        raw = data["amount"]
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise InvalidAmount()
        if isinstance(raw, str):
            if not _STORED_AMOUNT.fullmatch(raw):
                raise InvalidAmount()
            raw = Decimal(raw)
        return cls(amount=parse_amount(raw), period=data["period"], strict=bool(data["strict"]))


_STORED_AMOUNT: Final = re.compile(r"-?\d+(?:\.\d+)?(?:E[+-]?\d+)?", re.ASCII | re.IGNORECASE)


def period_start(period: Period, now: float, tz: tzinfo | None = None) -> float | None:
    """Epoch seconds where the calendar ``period`` containing ``now`` began; ``None`` = all time.

    Periods are calendar days and months in local time with real time-zone rules (R3.8,
    pitfall 20): ``tz`` is a ``tzinfo`` such as ``zoneinfo.ZoneInfo`` or, when ``None``, the
    device's zone (the platform's ``localtime``/``mktime``, which also works under Pyodide).
    A day (month) starts at the *earliest instant whose local calendar date is that day (the
    first of that month or later)* — not at 00:00 with today's UTC offset, which after clocks
    go back leaves the day's first hour out of it. Midnight that does not exist (a DST jump at
    00:00, e.g. America/Santiago) is the instant of the jump; midnight that occurs twice (clocks
    go back over it, e.g. America/Goose_Bay until 2010) is its first occurrence. The candidate
    is verified — its local date is the wanted one and one second earlier is an earlier date —
    and searched for if the wall-clock conversion gives no such instant.

    Why spend in one local period never exceeds its allowance, even when the clock goes back:
    every ledger row whose local date lies in period *P* was created at or after
    ``period_start(P)`` (it is the earliest instant of *P*), and admission counts every row with
    ``created_at >= start``, with no upper bound. So when a request is admitted at an instant of
    *P*, all of *P*'s earlier rows are counted, including rows stamped "in the future" by a
    clock that has since gone backwards, or in a later period (those over-count: fail closed).
    """
    if period == "total" or period == "session":
        return None
    today = _local_date(now, tz)
    first = today if period == "day" else today.replace(day=1)
    return _first_instant(first, now, tz)


_DAY: Final = 86_400
_SCAN_STEP: Final = 900  # seconds; a local date entered and left again sooner may be missed


def _local_date(ts: float, tz: tzinfo | None) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def _starts_at(ts: float, first: date, tz: tzinfo | None) -> bool:
    return _local_date(ts, tz) >= first and _local_date(ts - 1, tz) < first


def _first_instant(first: date, now: float, tz: tzinfo | None) -> float:
    """The earliest instant (at most ``now``) whose local date is ``first`` or later."""
    candidates: list[float] = []
    for fold in (0, 1):  # midnight that occurs twice has two instants; a missing one, two guesses
        wall = datetime(first.year, first.month, first.day, fold=fold, tzinfo=tz)
        try:
            candidates.append(wall.timestamp())
        except (OverflowError, OSError, ValueError):
            continue
    for candidate in sorted(candidates):
        if candidate <= now and _starts_at(candidate, first, tz):
            return candidate
    return _search(first, now, tz)


def _search(first: date, now: float, tz: tzinfo | None) -> float:
    """Scan, then bisect, keeping ``_local_date(lo) < first <= _local_date(hi)``."""
    lo = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() - 2 * _DAY
    lo = min(lo, now - 1)
    for _ in range(30):  # real offsets are within a day of UTC; allow a month of slack
        if _local_date(lo, tz) < first:
            break
        lo -= _DAY
    else:
        return lo  # nothing earlier found: an earlier start only over-counts (fail closed)
    lo = float(math.floor(lo))
    while lo + _SCAN_STEP < now and _local_date(lo + _SCAN_STEP, tz) < first:
        lo += _SCAN_STEP
    hi = min(lo + _SCAN_STEP, now)
    while hi - lo > 1:
        mid = max(lo + 1, float(math.floor((lo + hi) / 2)))  # whole seconds, lo < mid < hi
        if _local_date(mid, tz) >= first:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True, slots=True)
class RunLimit:
    """A run's id and its cost ceiling in picodollars (``App.run(max_cost=...)``).

    ``parts``: the run's :class:`~byom.core.estimate.PartsCache`, when the run owns its
    conversation (deep copies nobody else can change), so each step splits only its new
    messages for the estimate; ``None``: every step splits them all.
    """

    run_id: str
    ceiling_pico: int
    parts: PartsCache | None = field(default=None, compare=False, repr=False)

    def spent(self, store: Store, app_id: str) -> Decimal:
        """What the run's steps count so far (committed, in flight and unreconciled)."""
        return from_pico(store.counted_for_run(app_id, self.run_id))


class SettingsChanged(Exception):
    """Internal: the settings a call was prepared from changed before its check-and-reserve
    (another process, thread or tab changed an allowance or the model). Prepare it again."""


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
        tz: tzinfo | None = None,
    ) -> None:
        """``tz`` sets the zone of day and month periods (default: the device's, see
        :func:`period_start`)."""
        self.store = store
        self.app_id = app_id
        self.session_id = session_id or uuid.uuid4().hex
        self.owner = owner
        self._clock = clock
        self.tz = tz
        self._session_allowance: Allowance | None = None
        #: When this session began, and the ids of the calls it admitted: what "session" means
        #: for history totals (:meth:`in_session`), as ``session_id`` does for spend.
        self.session_started = clock()
        self._session_calls: set[str] = set()
        self._cache: tuple[int, list[Allowance]] | None = None  # (settings version, stored)

    # -- allowances ---------------------------------------------------------------------------

    def set_allowance(self, allowance: Allowance | None, period: Period = "session") -> None:
        """Set (or with ``None`` remove) the allowance for a period. Session ones live in memory."""
        if allowance is not None:
            period = allowance.period
        if period == "session":
            self._session_allowance = allowance
            return
        if period not in PERIODS:
            raise InvalidRequest(f"The period must be one of {', '.join(PERIODS)}.")
        value = allowance.to_json() if allowance is not None else None
        self.store.set_setting(self.app_id, _SETTING + period, value)

    def allowances(self) -> list[Allowance]:
        """Every allowance in force, read from the store now. A stored one that cannot be read
        becomes a zero ceiling (fail closed)."""
        return self._with_session(self._stored_allowances())

    def _with_session(self, stored: list[Allowance]) -> list[Allowance]:
        session = self._session_allowance
        return stored if session is None else [session, *stored]

    def _stored_allowances(self) -> list[Allowance]:
        found: list[Allowance] = []
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

    def prepared(self) -> tuple[list[Allowance], int | None]:
        """The allowances a call is prepared with, and the settings version they belong to.

        From memory when a version was seen before (no store access): the allowances as of
        the last check-and-reserve. That may be stale; :meth:`reserve` re-reads the version
        inside its transaction and raises :class:`SettingsChanged` if it moved, so the call is
        prepared again. ``None`` as the version: the store keeps none (read afresh each time).
        """
        cache = self._cache
        if cache is None:
            version = settings_version(self.store)  # first, so a change after it is seen later
            stored = self._stored_allowances()
            if version is None:
                return self._with_session(stored), None
            self._cache = cache = (version, stored)
        return self._with_session(cache[1]), cache[0]

    def current(self, version: int | None) -> bool:
        """Whether ``version`` (from :meth:`prepared`) is still the store's settings version
        (one read; always true for a store that keeps none)."""
        if version is None:
            return True
        if settings_version(self.store) == version:
            return True
        self._cache = None
        return False

    def _current(self) -> tuple[list[Allowance], int | None]:
        """Inside ``atomic()``: the allowances in force now and the settings version."""
        version = settings_version(self.store)
        if version is None:
            return self.allowances(), None
        cache = self._cache
        if cache is None or cache[0] != version:
            self._cache = cache = (version, self._stored_allowances())
        return self._with_session(cache[1]), version

    @property
    def strict(self) -> bool:
        return any(a.strict for a in self.allowances())

    # -- spend --------------------------------------------------------------------------------

    def in_session(self, call_id: str) -> bool:
        """Whether the call ``call_id`` was admitted by this session (this ledger object)."""
        return call_id in self._session_calls

    def spent(self, period: Period = "session") -> Decimal:
        """Committed spend plus in-flight and unreconciled reservations in the period."""
        return from_pico(self._spent_pico(period, self._clock()))

    def _spent_pico(self, period: Period, now: float) -> int:
        session = self.session_id if period == "session" else None
        start = period_start(period, now, self.tz)
        return self.store.counted_since(self.app_id, start, session)

    def reserve(
        self,
        estimate: Decimal,
        *,
        reservation_id: str,
        feature: str,
        model: str,
        provider: str,
        allowances: Iterable[Allowance] | None = None,
        based_on: int | None = None,
        run: RunLimit | None = None,
    ) -> LedgerRow:
        """Atomically check every allowance in force and record the reservation, or raise
        :class:`BudgetExceeded` (nothing recorded, nothing sent).

        For a step of a run, ``run`` adds the run's ceiling to the same check, in the same
        transaction: what the run's earlier steps count (committed, in flight, unreconciled)
        plus this estimate must stay within ``run.ceiling``, else
        :class:`~byom.core.errors.RunCeilingReached` (nothing recorded, nothing sent).

        The check always uses the allowances in force inside the transaction. ``allowances``
        (what the estimate was made for) and ``based_on`` (the settings version the caller
        derived its inputs from, see :meth:`prepared`) are checked against them: if either is
        out of date, :class:`SettingsChanged` is raised and nothing is recorded."""
        estimate_pico = to_pico(estimate)
        with self.store.atomic():
            now = self._clock()
            current, version = self._current()
            if (allowances is not None and list(allowances) != current) or (
                based_on is not None and version != based_on
            ):
                raise SettingsChanged()
            if run is not None:
                run_spent = self.store.counted_for_run(self.app_id, run.run_id)
                if run_spent + estimate_pico > run.ceiling_pico:
                    raise RunCeilingReached(
                        ceiling=from_pico(run.ceiling_pico),
                        spent=from_pico(run_spent),
                        estimate=from_pico(estimate_pico),
                    )
            for allowance in current:
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
                run_id=run.run_id if run is not None else None,
            )
            self.store.add_ledger_row(row)
            self._session_calls.add(row.id)
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
        """The user chose to stop counting an unreconciled request (explicit, never automatic).

        Only an unreconciled row of this app can be cleared: an unknown id, another app's row,
        or a row that is reserved, committed, released or already cleared raises
        :class:`~byom.core.errors.InvalidRequest` and changes nothing (R3.4)."""
        with self.store.atomic():
            if not self.store.transition_ledger_row(
                self.app_id, row_id, expect=UNRECONCILED, state="cleared", counted_pico=0
            ):
                raise not_unreconciled(row_id)

    def open_rows(self) -> list[LedgerRow]:
        return self.store.ledger_rows(self.app_id, COUNTING_STATES - {"committed"})
