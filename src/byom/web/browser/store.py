"""Browser storage for the core's :class:`~byom.core.store.Store`: memory, mirrored to IndexedDB.

The core's store protocol is synchronous; browser storage that is consistent across tabs
(IndexedDB) is asynchronous. So the store keeps the rows in memory (a
:class:`~byom.core.store.MemoryStore`) and mirrors every change, row by row, to IndexedDB.

Check-and-reserve across tabs (R3.5, pitfall 6): the shell runs ``CallPath.begin`` inside
:meth:`BrowserStore.exclusive`, which takes the Web Lock ``byom:<app id>`` (shared by every tab of
the origin), writes this tab's pending changes, **re-reads every row from IndexedDB** (so spend
and reservations made by other tabs count), runs the synchronous section, and writes the new
reservation before releasing the lock. Inside one tab Python runs on one thread, so a synchronous
section cannot interleave with another; ``atomic()`` is therefore a plain re-entrant lock.

Settlements (commit, release, unreconciled) change only their own row; they are written under the
same lock by :meth:`BrowserStore.flush_exclusive`. A reader in another tab that sees a row a moment
late sees its reservation, which is never less than what it will settle to without usage, so the
guard errs towards refusing. Rows are keyed, so two tabs never overwrite each other's rows.

Nothing here stores the key, prompts or replies: only ledger rows, history figures and settings.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Protocol

from byom.core.store import CallRecord, LedgerRow, MemoryStore, ReservationState
from byom.core.usage import Usage


class StorageHost(Protocol):
    """What the page provides (``boot.js``): IndexedDB rows as JSON and Web Locks."""

    async def load(self, app_id: str) -> str:
        """All rows of the app as a JSON object ``{key: value-json}``."""
        ...

    async def write(self, app_id: str, puts_json: str, deletes_json: str) -> None: ...

    async def lock(self, name: str) -> Callable[[], None]:
        """Acquire an exclusive Web Lock; resolves to a function that releases it."""
        ...


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _with_run(data: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    """``data`` with ``run_id`` added only when there is one: a row outside a run is written as
    before, so a tab still running an older byom (which knows no run ids) can read it."""
    if run_id is not None:
        data["run_id"] = run_id
    return data


def row_to_json(row: LedgerRow) -> str:
    return json.dumps(
        _with_run(
            {
                "id": row.id,
                "app_id": row.app_id,
                "session_id": row.session_id,
                "owner": row.owner,
                "created_at": row.created_at,
                "state": row.state,
                "estimate_pico": row.estimate_pico,
                "counted_pico": row.counted_pico,
                "feature": row.feature,
                "model": row.model,
                "provider": row.provider,
                "generation_id": row.generation_id,
            },
            row.run_id,
        ),
        sort_keys=True,
    )


def row_from_json(text: str) -> LedgerRow:
    data = json.loads(text)
    return LedgerRow(**data)


def _usage_list(usage: Usage) -> list[int]:
    """A record's usage as a list in :class:`Usage` field order. The server-side tool counts
    are written only when a call used one, so a row without them is written as before and a
    tab still running an older byom (which reads five counts) can read it."""
    counts = [
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.cached_tokens,
        usage.cache_write_tokens,
        usage.reasoning_tokens,
    ]
    if usage.web_search_requests or usage.unpriced_tool_requests:
        counts += [usage.web_search_requests, usage.unpriced_tool_requests]
    return counts


def record_to_json(record: CallRecord) -> str:
    usage = record.usage
    return json.dumps(
        _with_run(
            {
                "id": record.id,
                "app_id": record.app_id,
                "feature": record.feature,
                "provider": record.provider,
                "model": record.model,
                "outcome": record.outcome,
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "usage": _usage_list(usage),
                "cost": _dec(record.cost),
                "cost_source": record.cost_source,
                "error_code": record.error_code,
                "generation_id": record.generation_id,
                "finish_reason": record.finish_reason,
            },
            record.run_id,
        ),
        sort_keys=True,
    )


def record_from_json(text: str) -> CallRecord:
    data = json.loads(text)
    data["usage"] = Usage(*data["usage"])
    data["cost"] = None if data["cost"] is None else Decimal(data["cost"])
    return CallRecord(**data)


class BrowserStore(MemoryStore):
    """A :class:`MemoryStore` mirrored row by row to IndexedDB through a :class:`StorageHost`.

    One instance serves one app id (the page's). ``load()`` must be awaited before use.
    """

    def __init__(self, host: StorageHost, app_id: str) -> None:
        super().__init__()
        self._host = host
        self.app_id = app_id
        self._dirty: set[str] = set()
        self._deleted: set[str] = set()
        self._exclusive_depth = 0

    # -- change tracking ----------------------------------------------------------------------

    def _touch(self, key: str) -> None:
        self._dirty.add(key)
        self._deleted.discard(key)

    def _gone(self, key: str) -> None:
        self._deleted.add(key)
        self._dirty.discard(key)

    def add_ledger_row(self, row: LedgerRow) -> None:
        super().add_ledger_row(row)
        self._touch("L:" + row.id)

    def update_ledger_row(
        self,
        row_id: str,
        *,
        state: ReservationState,
        counted_pico: int,
        generation_id: str | None = None,
    ) -> None:
        super().update_ledger_row(
            row_id, state=state, counted_pico=counted_pico, generation_id=generation_id
        )
        self._touch("L:" + row_id)

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
        """Clear or reconcile only a row of this app in an expected state (R3.4). Run it inside
        :meth:`exclusive`, so the state checked is the one every tab sees."""
        changed = super().transition_ledger_row(
            app_id,
            row_id,
            expect=expect,
            state=state,
            counted_pico=counted_pico,
            generation_id=generation_id,
        )
        if changed:
            self._touch("L:" + row_id)
        return changed

    def add_record(self, record: CallRecord) -> None:
        super().add_record(record)
        self._touch("R:" + record.id)

    def delete_records(self, app_id: str, *, before: float | None = None) -> int:
        with self._lock:
            doomed = [
                k
                for k, r in self._records.items()
                if r.app_id == app_id and (before is None or r.started_at < before)
            ]
        count = super().delete_records(app_id, before=before)
        for key in doomed:
            self._gone("R:" + key)
        return count

    def set_setting(self, app_id: str, key: str, value: str | None) -> None:
        super().set_setting(app_id, key, value)
        if value is None:
            self._gone("S:" + key)
        else:
            self._touch("S:" + key)

    # -- IndexedDB mirror ---------------------------------------------------------------------

    def _serialise(self, key: str) -> str | None:
        kind, _, ident = key.partition(":")
        with self._lock:
            if kind == "L":
                row = self._ledger.get(ident)
                return None if row is None else row_to_json(row)
            if kind == "R":
                record = self._records.get(ident)
                return None if record is None else record_to_json(record)
            return self._settings.get((self.app_id, ident))

    async def flush(self) -> None:
        """Write this tab's pending changes to IndexedDB."""
        if not self._dirty and not self._deleted:
            return
        dirty, deleted = sorted(self._dirty), sorted(self._deleted)
        self._dirty, self._deleted = set(), set()
        puts: dict[str, str] = {}
        for key in dirty:
            value = self._serialise(key)
            if value is None:
                deleted.append(key)
            else:
                puts[key] = value
        try:
            await self._host.write(self.app_id, json.dumps(puts), json.dumps(deleted))
        except BaseException:
            self._dirty.update(dirty)
            self._deleted.update(k for k in deleted if k not in self._dirty)
            raise

    async def load(self) -> None:
        """Replace memory with what IndexedDB holds (keeping unwritten local changes)."""
        data: dict[str, str] = json.loads(await self._host.load(self.app_id))
        ledger: dict[str, LedgerRow] = {}
        records: dict[str, CallRecord] = {}
        settings: dict[tuple[str, str], str] = {}
        for key, value in data.items():
            kind, _, ident = key.partition(":")
            try:
                if kind == "L":
                    ledger[ident] = row_from_json(value)
                elif kind == "R":
                    records[ident] = record_from_json(value)
                elif kind == "S":
                    settings[(self.app_id, ident)] = value
            except (ValueError, TypeError, KeyError):
                if kind == "L":  # an unreadable ledger row must not vanish from the sum
                    raise
                continue
        with self._lock:
            for key in self._dirty:
                kind, _, ident = key.partition(":")
                if kind == "L" and ident in self._ledger:
                    ledger[ident] = self._ledger[ident]
                elif kind == "R" and ident in self._records:
                    records[ident] = self._records[ident]
                elif kind == "S" and (self.app_id, ident) in self._settings:
                    settings[(self.app_id, ident)] = self._settings[(self.app_id, ident)]
            for key in self._deleted:
                kind, _, ident = key.partition(":")
                (records if kind == "R" else {}).pop(ident, None)
                if kind == "S":
                    settings.pop((self.app_id, ident), None)
            if settings != self._settings:  # another tab changed a setting: caches are stale
                self._settings_version += 1
            self._ledger, self._records, self._settings = ledger, records, settings
            self._reindex()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the app's cross-tab Web Lock with a fresh view of storage; write on exit."""
        if self._exclusive_depth:
            yield
            return
        release = await self._host.lock("byom:" + self.app_id)
        self._exclusive_depth += 1
        try:
            await self.flush()
            await self.load()
            yield
        finally:
            try:
                await self.flush()
            finally:
                self._exclusive_depth -= 1
                release()

    async def flush_exclusive(self) -> None:
        """Write pending changes under the cross-tab lock (used after a call settles)."""
        if not self._dirty and not self._deleted:
            return
        release = await self._host.lock("byom:" + self.app_id)
        try:
            await self.flush()
        finally:
            release()


def to_plain(value: Any) -> Any:
    """JSON-ready form of a Decimal (exact text) for the page."""
    return _dec(value) if isinstance(value, Decimal) else value
