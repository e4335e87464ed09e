"""The storage contract the core decides through, and an in-memory implementation.

The core never touches a file or the network; it asks a :class:`Store`. Shells provide one: a
SQLite file (CPython), browser storage (Pyodide), or :class:`MemoryStore` (tests, and apps that
keep nothing). Two record kinds are kept apart on purpose:

* **ledger rows** — one per admitted request: what counts against the allowance. Deleting history
  never touches them (pitfall 4).
* **call records** — the user's history: figures only, never prompt text or the key (R4.3).

``atomic()`` must give mutual exclusion across every thread *and process* that shares the store,
so that check-and-reserve is one step (R3.5).

A row leaves ``unreconciled`` only through :meth:`Store.transition_ledger_row`, which names the app
and the states the row must be in: clearing or reconciling an id that is unknown, belongs to
another app, or is not unreconciled changes nothing (R3.4).

A store that can no longer vouch for the spend it records (its file vanished, was replaced or
cannot be written) raises :class:`~byom.core.errors.StoreUnavailable` from every method, so
nothing is admitted (fail closed).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, Literal, Protocol

from byom.core.errors import InvalidRequest
from byom.core.usage import CostSource, Usage

ReservationState = Literal["reserved", "committed", "released", "unreconciled", "cleared"]
#: States whose amount counts against the allowance.
COUNTING_STATES: frozenset[str] = frozenset({"reserved", "committed", "unreconciled"})
#: The only state a row can be cleared or reconciled from.
UNRECONCILED: frozenset[str] = frozenset({"unreconciled"})


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One admitted request's entry in the ledger.

    ``counted_pico`` is what counts against the allowance, in picodollars: the estimate while
    reserved or unreconciled, the real cost once committed, zero once released. ``run_id`` names
    the run (``App.run``) the request was a step of, else ``None``; a run's ceiling is the sum of
    its rows' ``counted_pico`` (:meth:`Store.counted_for_run`).
    """

    id: str
    app_id: str
    session_id: str
    owner: str
    created_at: float
    state: ReservationState
    estimate_pico: int
    counted_pico: int
    feature: str = ""
    model: str = ""
    provider: str = ""
    generation_id: str | None = None
    run_id: str | None = None


Outcome = Literal["ok", "truncated", "refused", "failed", "unreconciled"]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One row of history: figures only (R4.3). ``run_id`` names the run it was a step of."""

    id: str
    app_id: str
    feature: str
    provider: str
    model: str
    outcome: Outcome
    started_at: float
    ended_at: float | None = None
    usage: Usage = field(default_factory=Usage)
    cost: Decimal | None = None
    cost_source: CostSource | None = None
    error_code: str | None = None
    generation_id: str | None = None
    finish_reason: str | None = None
    run_id: str | None = None


class Store(Protocol):
    """What the core needs from storage. Implementations must be safe across threads."""

    def atomic(self) -> AbstractContextManager[None]:
        """Exclusive section across threads and processes sharing this store (re-entrant)."""
        ...

    def counted_since(self, app_id: str, since: float | None, session_id: str | None) -> int:
        """Sum of ``counted_pico`` for the app's ledger rows created at/after ``since``
        (all rows when ``None``), restricted to ``session_id`` when given."""
        ...

    def counted_for_run(self, app_id: str, run_id: str) -> int:
        """Sum of ``counted_pico`` for the app's ledger rows of run ``run_id``, in every state
        (a released or cleared row counts by its own ``counted_pico``, zero). Read inside the
        check-and-reserve transaction before each step of a run, so it must stay one cheap,
        indexed read however long the ledger grows."""
        ...

    def add_ledger_row(self, row: LedgerRow) -> None: ...

    def update_ledger_row(
        self,
        row_id: str,
        *,
        state: ReservationState,
        counted_pico: int,
        generation_id: str | None = None,
    ) -> None: ...

    def transition_ledger_row(
        self,
        app_id: str,
        row_id: str,
        *,
        expect: frozenset[str],
        state: ReservationState,
        counted_pico: int,
        generation_id: str | None = None,
    ) -> bool:
        """Move row ``row_id`` of ``app_id`` to ``state`` only if it is now in one of ``expect``,
        as one atomic step. Returns whether it did; ``False`` (an unknown id, another app's row,
        a row in another state) means nothing changed."""
        ...

    def ledger_rows(self, app_id: str, states: frozenset[str]) -> list[LedgerRow]: ...

    def add_record(self, record: CallRecord) -> None: ...

    def update_record(self, record: CallRecord) -> None: ...

    def get_record(self, app_id: str, record_id: str) -> CallRecord | None: ...

    def records(
        self,
        app_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        feature: str | None = None,
        model: str | None = None,
        limit: int | None = None,
    ) -> list[CallRecord]:
        """History rows, newest first."""
        ...

    def delete_records(self, app_id: str, *, before: float | None = None) -> int: ...

    def get_setting(self, app_id: str, key: str) -> str | None: ...

    def set_setting(self, app_id: str, key: str, value: str | None) -> None: ...


class VersionedStore(Store, Protocol):
    """A :class:`Store` that can say cheaply whether any setting changed (all of byom's do).

    :meth:`settings_version` returns a number that changes whenever a setting of any app
    changes, in any thread, process or tab that shares the store; read inside :meth:`atomic`
    it is current. The core caches what it derives from settings (allowances, the chosen
    model) under that number, and re-reads it inside the check-and-reserve transaction, so a
    change made anywhere is seen by the next admission. A store without it is read afresh on
    every call.
    """

    def settings_version(self) -> int: ...


def settings_version(store: Store) -> int | None:
    """``store.settings_version()``, or ``None`` for a store that keeps no version."""
    method = getattr(store, "settings_version", None)
    return int(method()) if callable(method) else None


#: Bucket sizes of the running ledger sums (UTC hours and days of ``created_at``).
HOUR: Final = 3600
DAY: Final = 86_400


def time_slot(created_at: float, size: int) -> int:
    """The bucket of a ledger time: whole seconds // ``size``; -1 for a time before 1970 (no
    real clock gives one). Exact for every float, like SQLite's ``CAST(x AS INTEGER) / size``."""
    return int(created_at) // size if created_at >= 0 else -1


def since_slots(since: float) -> tuple[int, int]:
    """For ``since >= 0``: the first whole UTC hour and day that start at or after it.

    Spend since ``since`` is then: the rows in ``[since, hour * HOUR)``, plus the hour sums
    from ``hour`` up to (not including) hour ``day * 24``, plus the day sums from ``day`` on,
    with no upper bound (rows stamped in the future by a clock that went back count)."""
    first = math.ceil(since)
    return -(-first // HOUR), -(-first // DAY)


def id_hint(row_id: object) -> str:
    """A short, safe prefix of an id for a message: at most 8 letters, digits, ``-`` or ``_``
    (empty when the id holds anything else), so a message never echoes what a caller passed."""
    text = row_id[:8] if isinstance(row_id, str) else ""
    return text if text and all(c.isascii() and (c.isalnum() or c in "-_") for c in text) else ""


def not_unreconciled(row_id: object) -> InvalidRequest:
    """The error for clearing or reconciling anything but an unreconciled request of this app."""
    hint = id_hint(row_id)
    named = f" ({hint}…)" if hint else ""
    return InvalidRequest(
        f"That request{named} is not one of this app's unreconciled requests, so nothing was "
        "changed."
    )


class MemoryStore:
    """A :class:`Store` that lives and dies with the process. Thread-safe, not multi-process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ledger: dict[str, LedgerRow] = {}
        self._records: dict[str, CallRecord] = {}
        self._settings: dict[tuple[str, str], str] = {}
        self._settings_version = 0
        self._reindex()

    # -- running sums (the same buckets as the SQLite store's, see since_slots) ----------------

    def _reindex(self) -> None:
        """Rebuild the running sums from ``self._ledger`` (after it was replaced wholesale)."""
        with self._lock:
            self._totals: dict[tuple[str, str], int] = {}
            self._days: dict[str, dict[int, int]] = {}
            self._hours: dict[str, dict[int, int]] = {}
            self._hour_rows: dict[tuple[str, int], set[str]] = {}
            self._runs: dict[tuple[str, str], int] = {}
            for row in self._ledger.values():
                self._count(row, 1)

    def _count(self, row: LedgerRow, sign: int) -> None:
        amount = sign * row.counted_pico
        for key in ((row.app_id, ""), (row.app_id, "s:" + row.session_id)):
            self._totals[key] = self._totals.get(key, 0) + amount
        if row.run_id is not None:
            run = (row.app_id, row.run_id)
            self._runs[run] = self._runs.get(run, 0) + amount
        day, hour = time_slot(row.created_at, DAY), time_slot(row.created_at, HOUR)
        days = self._days.setdefault(row.app_id, {})
        days[day] = days.get(day, 0) + amount
        hours = self._hours.setdefault(row.app_id, {})
        hours[hour] = hours.get(hour, 0) + amount
        ids = self._hour_rows.setdefault((row.app_id, hour), set())
        if sign > 0:
            ids.add(row.id)
        else:
            ids.discard(row.id)

    def _put(self, row: LedgerRow) -> None:
        old = self._ledger.get(row.id)
        if old is not None:
            self._count(old, -1)
        self._ledger[row.id] = row
        self._count(row, 1)

    def settings_version(self) -> int:
        """Changes whenever a setting changes (see :class:`VersionedStore`)."""
        with self._lock:
            return self._settings_version

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with self._lock:
            yield

    def atomic(self) -> AbstractContextManager[None]:
        return self._atomic()

    def counted_since(self, app_id: str, since: float | None, session_id: str | None) -> int:
        with self._lock:
            if since is None:
                scope = "" if session_id is None else "s:" + session_id
                return self._totals.get((app_id, scope), 0)
            if session_id is None and math.isfinite(since) and since >= 0:
                hour, day = since_slots(since)
                days = self._days.get(app_id, {})
                hours = self._hours.get(app_id, {})
                total = sum(v for slot, v in days.items() if slot >= day)
                total += sum(hours.get(slot, 0) for slot in range(hour, day * (DAY // HOUR)))
                for row_id in self._hour_rows.get((app_id, hour - 1), ()):
                    row = self._ledger[row_id]
                    if row.created_at >= since:
                        total += row.counted_pico
                return total
            return sum(
                r.counted_pico
                for r in self._ledger.values()
                if r.app_id == app_id
                and r.created_at >= since
                and (session_id is None or r.session_id == session_id)
            )

    def counted_for_run(self, app_id: str, run_id: str) -> int:
        with self._lock:
            return self._runs.get((app_id, run_id), 0)

    def add_ledger_row(self, row: LedgerRow) -> None:
        with self._lock:
            self._put(row)

    def update_ledger_row(
        self,
        row_id: str,
        *,
        state: ReservationState,
        counted_pico: int,
        generation_id: str | None = None,
    ) -> None:
        with self._lock:
            row = self._ledger[row_id]
            self._put(
                replace(
                    row,
                    state=state,
                    counted_pico=counted_pico,
                    generation_id=generation_id or row.generation_id,
                )
            )

    def transition_ledger_row(
        self,
        app_id: str,
        row_id: str,
        *,
        expect: frozenset[str],
        state: ReservationState,
        counted_pico: int,
        generation_id: str | None = None,
    ) -> bool:
        with self._lock:
            row = self._ledger.get(row_id)
            if row is None or row.app_id != app_id or row.state not in expect:
                return False
            self._put(
                replace(
                    row,
                    state=state,
                    counted_pico=counted_pico,
                    generation_id=generation_id or row.generation_id,
                )
            )
            return True

    def ledger_rows(self, app_id: str, states: frozenset[str]) -> list[LedgerRow]:
        with self._lock:
            return [r for r in self._ledger.values() if r.app_id == app_id and r.state in states]

    def add_record(self, record: CallRecord) -> None:
        with self._lock:
            self._records[record.id] = record

    def update_record(self, record: CallRecord) -> None:
        self.add_record(record)

    def get_record(self, app_id: str, record_id: str) -> CallRecord | None:
        with self._lock:
            record = self._records.get(record_id)
        return record if record is not None and record.app_id == app_id else None

    def records(
        self,
        app_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        feature: str | None = None,
        model: str | None = None,
        limit: int | None = None,
    ) -> list[CallRecord]:
        with self._lock:
            rows = [
                r
                for r in self._records.values()
                if r.app_id == app_id
                and (since is None or r.started_at >= since)
                and (until is None or r.started_at < until)
                and (feature is None or r.feature == feature)
                and (model is None or r.model == model)
            ]
        rows.sort(key=lambda r: r.started_at, reverse=True)
        return rows[:limit] if limit is not None else rows

    def delete_records(self, app_id: str, *, before: float | None = None) -> int:
        with self._lock:
            doomed = [
                k
                for k, r in self._records.items()
                if r.app_id == app_id and (before is None or r.started_at < before)
            ]
            for k in doomed:
                del self._records[k]
            return len(doomed)

    def get_setting(self, app_id: str, key: str) -> str | None:
        with self._lock:
            return self._settings.get((app_id, key))

    def set_setting(self, app_id: str, key: str, value: str | None) -> None:
        with self._lock:
            self._settings_version += 1
            if value is None:
                self._settings.pop((app_id, key), None)
            else:
                self._settings[(app_id, key)] = value
