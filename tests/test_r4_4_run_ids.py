"""R4.4 / issue 14: the steps of a run (``app.run``) carry its id in the ledger and the history.

Every step is its own ledger row and history record, plus a ``run_id``. The run ceiling reads
``Store.counted_for_run`` inside check-and-reserve, so every store must give exactly what summing
the run's ledger rows gives, in every state; history totals by run leave calls outside a run out;
exports carry the run id; a SQLite file written by schema 1, 2 or 3 keeps its rows and sums.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.core.ledger import period_start
from byom.core.store import COUNTING_STATES, CallRecord, LedgerRow, MemoryStore
from byom.core.usage import Usage
from byom.history_export import HISTORY_FIELDS, history_row
from byom.identity import app_id_for
from byom.store import sqlite as sqlite_store
from byom.store.sqlite import DAY, FILENAME, SCHEMA_VERSION, SQLiteStore
from byom.web.browser.store import (
    BrowserStore,
    record_from_json,
    record_to_json,
    row_from_json,
    row_to_json,
)

NOW = 1_760_000_000.0
STATES = ("reserved", "committed", "released", "unreconciled", "cleared")


class FakeHost:
    """IndexedDB rows and the one Web Lock, shared by the stores ("tabs") built over it."""

    def __init__(self, rows: dict[str, str], lock: asyncio.Lock) -> None:
        self.rows, self._lock = rows, lock

    async def load(self, app_id: str) -> str:
        prefix = app_id + "|"
        return json.dumps(
            {k[len(prefix) :]: v for k, v in self.rows.items() if k.startswith(prefix)}
        )

    async def write(self, app_id: str, puts: str, deletes: str) -> None:
        for key, value in json.loads(puts).items():
            self.rows[f"{app_id}|{key}"] = value
        for key in json.loads(deletes):
            self.rows.pop(f"{app_id}|{key}", None)

    async def lock(self, name: str) -> Any:
        await self._lock.acquire()
        return self._lock.release


def _browser(app_id: str = "a") -> BrowserStore:
    store = BrowserStore(FakeHost({}, asyncio.Lock()), app_id)
    asyncio.run(store.load())
    return store


@pytest.fixture(params=["memory", "sqlite", "browser"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        store = SQLiteStore(tmp_path)
        yield store
        store.close()
    else:
        yield _browser()


def _ledger(
    i: int, run: str | None, counted: int, *, app: str = "a", state: str = "committed"
) -> LedgerRow:
    return LedgerRow(
        id=f"L{i}",
        app_id=app,
        session_id="s1",
        owner="pid:1",
        created_at=NOW + i,
        state=state,  # type: ignore[arg-type]
        estimate_pico=counted,
        counted_pico=counted,
        feature="summarize",
        model="m1",
        provider="openrouter",
        run_id=run,
    )


def _record(
    i: int, run: str | None, cost: Decimal | None, *, app: str = "a", started: float | None = None
) -> CallRecord:
    return CallRecord(
        id=f"h{i}",
        app_id=app,
        feature="summarize",
        provider="openrouter",
        model="m1",
        outcome="ok",
        started_at=NOW + i if started is None else started,
        ended_at=NOW + i + 0.5,
        usage=Usage(10, 5),
        cost=cost,
        cost_source=None if cost is None else "provider",
        generation_id=f"gen-{i}",
        finish_reason="stop",
        run_id=run,
    )


def _naive_run(rows: dict[str, LedgerRow], app: str, run: str) -> int:
    return sum(r.counted_pico for r in rows.values() if r.app_id == app and r.run_id == run)


def _naive_totals(records: list[CallRecord], app: str, since: float | None) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for r in records:
        if r.app_id != app or r.run_id is None or r.cost is None:
            continue
        if since is not None and r.started_at < since:
            continue
        totals[r.run_id] = totals.get(r.run_id, Decimal(0)) + r.cost
    return dict(sorted(totals.items()))


# -- the data classes -----------------------------------------------------------------------------


def test_r4_4_run_id_is_last_and_optional() -> None:
    row = LedgerRow("x", "a", "s", "o", 1.0, "reserved", 1, 1)
    record = CallRecord("x", "a", "f", "p", "m", "ok", 1.0)
    assert row.run_id is None and record.run_id is None
    assert [f.name for f in dataclasses.fields(LedgerRow)][-1] == "run_id"
    assert [f.name for f in dataclasses.fields(CallRecord)][-1] == "run_id"


# -- round trips ----------------------------------------------------------------------------------


def test_r4_4_run_ids_round_trip_in_ledger_and_history(any_store: Any) -> None:
    store = any_store
    rows = [_ledger(1, "run-1", 10), _ledger(2, None, 20), _ledger(3, "run-2", 30)]
    for row in rows:
        store.add_ledger_row(row)
    store.update_ledger_row("L1", state="committed", counted_pico=7, generation_id="g1")
    assert store.transition_ledger_row(
        "a", "L3", expect=frozenset({"committed"}), state="released", counted_pico=0
    )
    found = {r.id: r for r in store.ledger_rows("a", frozenset(STATES))}
    assert {k: r.run_id for k, r in found.items()} == {"L1": "run-1", "L2": None, "L3": "run-2"}
    assert found["L1"] == dataclasses.replace(rows[0], counted_pico=7, generation_id="g1")

    records = [_record(1, "run-1", Decimal("0.01")), _record(2, None, None)]
    for record in records:
        store.add_record(record)
    store.update_record(dataclasses.replace(records[0], run_id="run-9"))
    expected = [records[1], dataclasses.replace(records[0], run_id="run-9")]  # newest first
    assert store.records("a") == expected
    assert store.get_record("a", "h1") == expected[1]
    assert store.get_record("a", "h2") == records[1]
    if isinstance(store, SQLiteStore):
        assert list(store.iter_records("a", batch=1)) == expected


def test_r4_4_run_ids_survive_reopening(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    store.add_ledger_row(_ledger(1, "run-1", 10))
    store.add_record(_record(1, "run-1", Decimal("0.5")))
    store.close()
    again = SQLiteStore(tmp_path)
    assert [r.run_id for r in again.ledger_rows("a", COUNTING_STATES)] == ["run-1"]
    assert [r.run_id for r in again.records("a")] == ["run-1"]
    assert again.counted_for_run("a", "run-1") == 10
    again.close()


def test_r4_4_browser_json_carries_run_ids_and_reads_rows_written_without() -> None:
    row, record = _ledger(1, "run-1", 10), _record(1, "run-1", Decimal("0.25"))
    assert json.loads(row_to_json(row))["run_id"] == "run-1"
    assert row_from_json(row_to_json(row)) == row
    assert record_from_json(record_to_json(record)) == record
    # A row outside a run is written as before (an older tab can read it) and reads back.
    plain_row, plain_record = _ledger(2, None, 5), _record(2, None, None)
    assert "run_id" not in json.loads(row_to_json(plain_row))
    assert "run_id" not in json.loads(record_to_json(plain_record))
    assert row_from_json(row_to_json(plain_row)) == plain_row
    assert record_from_json(record_to_json(plain_record)) == plain_record


# -- counted_for_run ------------------------------------------------------------------------------


def _fill_runs(store: Any, seed: int) -> dict[str, LedgerRow]:
    rng = random.Random(seed)
    rows: dict[str, LedgerRow] = {}
    for i in range(200):
        row = _ledger(
            i,
            rng.choice((None, "run-1", "run-2", "run-3")),
            rng.randint(0, 10**9),
            app=rng.choice(("a", "a", "b")),
            state=rng.choice(("reserved", "committed", "unreconciled")),
        )
        store.add_ledger_row(row)
        rows[row.id] = row
    for row_id in rng.sample(sorted(rows), 60):  # settle, release, clear some
        row = rows[row_id]
        state = rng.choice(("committed", "released", "cleared"))
        counted = 0 if state != "committed" else rng.randint(0, 10**9)
        if state == "cleared":
            if not store.transition_ledger_row(
                row.app_id, row_id, expect=frozenset({row.state}), state=state, counted_pico=0
            ):
                continue
        else:
            store.update_ledger_row(row_id, state=state, counted_pico=counted)
        rows[row_id] = dataclasses.replace(row, state=state, counted_pico=counted)
    return rows


def test_r4_4_counted_for_run_equals_summing_the_runs_rows(any_store: Any) -> None:
    store = any_store
    rows = _fill_runs(store, 14)
    for app in ("a", "b", "c"):
        for run in ("run-1", "run-2", "run-3", "run-none"):
            with store.atomic():
                assert store.counted_for_run(app, run) == _naive_run(rows, app, run), (app, run)
    assert _naive_run(rows, "a", "run-1") > 0  # the data can tell a wrong sum apart


def test_r4_4_released_and_cleared_steps_count_zero(any_store: Any) -> None:
    store = any_store
    for i in range(len(STATES)):
        store.add_ledger_row(_ledger(i, "run-1", 1000 * (i + 1), state="reserved"))
    assert store.counted_for_run("a", "run-1") == 15_000
    store.update_ledger_row("L0", state="released", counted_pico=0)
    store.update_ledger_row("L1", state="unreconciled", counted_pico=2000)
    assert store.transition_ledger_row(
        "a", "L1", expect=frozenset({"unreconciled"}), state="cleared", counted_pico=0
    )
    store.update_ledger_row("L2", state="committed", counted_pico=1)
    store.update_ledger_row("L3", state="unreconciled", counted_pico=4000)
    assert store.counted_for_run("a", "run-1") == 0 + 0 + 1 + 4000 + 5000
    assert store.counted_for_run("b", "run-1") == 0  # another app's run of the same id
    # Spend outside the run still counts towards the allowance as before.
    store.add_ledger_row(_ledger(9, None, 77))
    assert store.counted_since("a", None, None) == 9078
    assert store.counted_for_run("a", "run-1") == 9001


def test_r4_4_memory_run_index_is_rebuilt_with_the_ledger() -> None:
    store = MemoryStore()
    rows = _fill_runs(store, 3)
    store._reindex()  # what BrowserStore.load does after replacing the rows wholesale
    for run in ("run-1", "run-2"):
        assert store.counted_for_run("a", run) == _naive_run(rows, "a", run)


def test_r4_4_run_ceiling_is_an_indexed_read(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    _fill_runs(store, 5)
    conn = sqlite3.connect(tmp_path / FILENAME)
    plan = " ".join(
        str(row[-1])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT COALESCE(SUM(counted_pico), 0) FROM ledger "
            "WHERE app_id = ? AND run_id = ?",
            ("a", "run-1"),
        )
    )
    assert "COVERING INDEX ledger_by_run" in plan, plan
    plan = " ".join(
        str(row[-1])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT run_id, SUM(cost_pico), COUNT(cost_pico) FROM history "
            "WHERE app_id = ? AND run_id IS NOT NULL AND cost IS NOT NULL GROUP BY run_id",
            ("a",),
        )
    )
    assert "history_by_run" in plan, plan
    conn.close()
    store.close()


def test_r3_5_browser_tabs_see_each_others_run_steps() -> None:
    """Two tabs over one IndexedDB: a step reserved in one counts in the other's run sum."""

    async def scenario() -> list[int]:
        rows: dict[str, str] = {}
        lock = asyncio.Lock()
        first = BrowserStore(FakeHost(rows, lock), "a")
        second = BrowserStore(FakeHost(rows, lock), "a")
        await first.load()
        await second.load()
        seen = []
        async with first.exclusive():
            first.add_ledger_row(_ledger(1, "run-1", 500, state="reserved"))
        async with second.exclusive():
            seen.append(second.counted_for_run("a", "run-1"))
            second.add_ledger_row(_ledger(2, "run-1", 300, state="reserved"))
        first.update_ledger_row("L1", state="committed", counted_pico=100)
        await first.flush_exclusive()
        async with second.exclusive():
            seen.append(second.counted_for_run("a", "run-1"))
        async with first.exclusive():
            seen.append(first.counted_for_run("a", "run-1"))
        return seen

    assert asyncio.run(scenario()) == [500, 400, 400]


# -- schema migration -----------------------------------------------------------------------------

_SCHEMA_1 = """
CREATE TABLE ledger (
    id TEXT PRIMARY KEY, app_id TEXT NOT NULL, session_id TEXT NOT NULL, owner TEXT NOT NULL,
    created_at REAL NOT NULL, state TEXT NOT NULL, estimate_pico INTEGER NOT NULL,
    counted_pico INTEGER NOT NULL, feature TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '', provider TEXT NOT NULL DEFAULT '', generation_id TEXT
);
CREATE INDEX ledger_by_time ON ledger (app_id, created_at, counted_pico);
CREATE INDEX ledger_by_state ON ledger (app_id, state);
CREATE INDEX ledger_by_session ON ledger (app_id, session_id, created_at);
CREATE TABLE history (
    id TEXT PRIMARY KEY, app_id TEXT NOT NULL, feature TEXT NOT NULL, provider TEXT NOT NULL,
    model TEXT NOT NULL, outcome TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0, cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0, cost TEXT, cost_source TEXT, error_code TEXT,
    generation_id TEXT, finish_reason TEXT
);
CREATE INDEX history_by_time ON history (app_id, started_at);
CREATE TABLE settings (
    app_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (app_id, key)
);
"""

_SCHEMA_2_ADDS = """
ALTER TABLE history ADD COLUMN cost_pico INTEGER;
DROP INDEX ledger_by_session;
CREATE INDEX history_finer ON history (app_id, started_at)
    WHERE cost IS NOT NULL AND cost_pico IS NULL;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('settings_version', 0);
CREATE TABLE history_sums (
    app_id TEXT NOT NULL, slot INTEGER NOT NULL, feature TEXT NOT NULL, model TEXT NOT NULL,
    cost_pico INTEGER NOT NULL, costed INTEGER NOT NULL,
    PRIMARY KEY (app_id, slot, feature, model)
) WITHOUT ROWID;
CREATE TABLE ledger_sums (
    app_id TEXT NOT NULL, scope TEXT NOT NULL, slot INTEGER NOT NULL,
    counted_pico INTEGER NOT NULL, PRIMARY KEY (app_id, scope, slot)
) WITHOUT ROWID;
"""


_SCHEMA_3_ADDS = """
ALTER TABLE ledger ADD COLUMN run_id TEXT;
ALTER TABLE history ADD COLUMN run_id TEXT;
CREATE INDEX ledger_by_run ON ledger (app_id, run_id, counted_pico) WHERE run_id IS NOT NULL;
CREATE INDEX history_by_run ON history (app_id, run_id) WHERE run_id IS NOT NULL;
"""


def _old_file(path: Path, version: int) -> tuple[list[LedgerRow], list[CallRecord]]:
    """A file as schema-``version`` code made and filled it (its DDL, its columns, and from
    schema 2 on the running sums kept by its triggers)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        _SCHEMA_1
        + (_SCHEMA_2_ADDS if version >= 2 else "")
        + (_SCHEMA_3_ADDS if version >= 3 else "")
    )
    if version >= 2:
        for trigger in sqlite_store._TRIGGERS:  # unchanged since schema 2
            conn.execute(trigger)
    rng = random.Random(version)
    rows = [
        dataclasses.replace(
            _ledger(i, None, rng.randint(0, 10**9), app=rng.choice("ab")),
            created_at=NOW - rng.uniform(0, 40 * DAY),
            session_id=f"s{i % 3}",
        )
        for i in range(150)
    ]
    records = [
        _record(
            i,
            None,
            rng.choice((None, Decimal(rng.randint(1, 10**7)) / 10**12, Decimal("1.5e-15"))),
            app=rng.choice("ab"),
            started=NOW - rng.uniform(0, 40 * DAY),
        )
        for i in range(150)
    ]
    with conn:
        for r in rows:
            values = dataclasses.astuple(r)
            if version < 3:
                values = values[:-1]
            conn.execute(f"INSERT INTO ledger VALUES ({','.join('?' * len(values))})", values)
        for h in records:
            values = (
                h.id,
                h.app_id,
                h.feature,
                h.provider,
                h.model,
                h.outcome,
                h.started_at,
                h.ended_at,
                h.usage.prompt_tokens,
                h.usage.completion_tokens,
                h.usage.cached_tokens,
                h.usage.cache_write_tokens,
                h.usage.reasoning_tokens,
                None if h.cost is None else format(h.cost, "f"),
                h.cost_source,
                h.error_code,
                h.generation_id,
                h.finish_reason,
            )
            if version >= 2:
                values += (sqlite_store.cost_pico(h.cost),)
            if version >= 3:
                values += (h.run_id,)
            conn.execute(f"INSERT INTO history VALUES ({','.join('?' * len(values))})", values)
        conn.execute("INSERT INTO settings VALUES ('a', 'allowance:total', '{}')")
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    return rows, records


@pytest.mark.parametrize("version", [3, 2, 1])
def test_r4_4_migration_keeps_rows_and_sums_and_adds_run_ids(tmp_path: Path, version: int) -> None:
    rows, records = _old_file(tmp_path / FILENAME, version)
    store = SQLiteStore(tmp_path)  # the migration runs here
    conn = sqlite3.connect(tmp_path / FILENAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    for table in ("ledger", "history"):
        assert "run_id" in {c[1] for c in conn.execute(f"PRAGMA table_info({table})")}
    history_columns = {c[1] for c in conn.execute("PRAGMA table_info(history)")}
    assert {"web_search_requests", "unpriced_tool_requests"} <= history_columns  # schema 4
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"ledger_by_run", "history_by_run"} <= indexes
    conn.close()

    for app in ("a", "b"):
        for since in (None, 0.0, NOW - 10 * DAY + 0.5, NOW - 3 * DAY, NOW + DAY):
            assert store.counted_since(app, since, None) == sum(
                r.counted_pico
                for r in rows
                if r.app_id == app and (since is None or r.created_at >= since)
            ), (app, since)
        assert store.counted_since(app, None, "s1") == sum(
            r.counted_pico for r in rows if r.app_id == app and r.session_id == "s1"
        )
        assert store.ledger_rows(app, COUNTING_STATES) == sorted(
            (r for r in rows if r.app_id == app), key=lambda r: r.created_at
        )
        newest_first = sorted(
            (h for h in records if h.app_id == app), key=lambda h: h.started_at, reverse=True
        )
        assert store.records(app) == newest_first
        assert list(store.iter_records(app, batch=7)) == newest_first
        known = sum(h.cost for h in newest_first if h.cost is not None)
        assert store.history_totals(app, "feature", None) == {"summarize": known}
        assert store.history_totals(app, "model", None) == {"m1": known}
        assert store.history_totals(app, "run", None) == {}  # no old call was part of a run
    assert store.get_setting("a", "allowance:total") == "{}"

    # The migrated file takes steps of runs like a new one.
    store.add_ledger_row(_ledger(900, "run-1", 42))
    store.add_record(_record(900, "run-1", Decimal("0.000042")))
    assert store.counted_for_run("a", "run-1") == 42
    assert store.history_totals("a", "run", None) == {"run-1": Decimal("0.000042")}
    # ... and keeps the server-side tool uses of a call (schema 4); old rows read as none.
    searched = dataclasses.replace(
        _record(901, None, Decimal("0.02")),
        usage=Usage(10, 5, web_search_requests=2, unpriced_tool_requests=1),
    )
    store.add_record(searched)
    assert store.get_record("a", "h901") == searched
    assert all(
        r.usage.web_search_requests == r.usage.unpriced_tool_requests == 0
        for r in store.records("b")
    )
    store.close()
    reopened = SQLiteStore(tmp_path)  # a second open migrates nothing again
    assert reopened.counted_for_run("a", "run-1") == 42
    assert reopened.counted_since("a", None, None) == 42 + sum(
        r.counted_pico for r in rows if r.app_id == "a"
    )
    reopened.close()


# -- totals by run --------------------------------------------------------------------------------


def _run_records(seed: int) -> list[CallRecord]:
    rng = random.Random(seed)
    return [
        _record(
            i,
            rng.choice((None, None, "run-1", "run-2", "run-3", "run-4")),
            rng.choice(
                (
                    None,
                    Decimal(0),
                    Decimal(rng.randint(1, 10**7)) / 10**12,
                    Decimal("0.00012345678901234567"),  # finer than a picodollar
                    Decimal(rng.randint(1, 10**6)) / 10**6,
                )
            ),
            app=rng.choice(("a", "a", "b")),
            started=NOW + rng.uniform(-20 * DAY, DAY),
        )
        for i in range(400)
    ]


def test_r4_4_sqlite_totals_by_run_equal_summing_the_rows(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    records = _run_records(4)
    for record in records:
        store.add_record(record)
    for record in records[::9]:  # a step reconciled later, one moved into another run
        new = dataclasses.replace(record, cost=Decimal("0.0000042"), run_id="run-2")
        store.update_record(new)
        records[records.index(record)] = new
    store.delete_records("a", before=NOW - 15 * DAY)
    records = [r for r in records if not (r.app_id == "a" and r.started_at < NOW - 15 * DAY)]
    for since in (None, 0.0, NOW - 5 * DAY + 0.25, NOW, NOW + 2 * DAY, float("-inf")):
        for app in ("a", "b", "c"):
            assert store.history_totals(app, "run", since) == _naive_totals(records, app, since)
    assert set(_naive_totals(records, "a", None)) == {"run-1", "run-2", "run-3", "run-4"}
    store.close()


@pytest.fixture(params=["memory", "sqlite", "browser"])
def make_offline_app(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], byom.App]]:
    """An app over each kind of store, never connected (its history is filled directly)."""
    apps: list[byom.App] = []

    def factory() -> byom.App:
        if request.param == "memory":
            store: Any = MemoryStore()
        elif request.param == "sqlite":
            store = SQLiteStore(tmp_path / "data")
        else:
            store = _browser(app_id_for("Paper digest"))
        app = byom.App("Paper digest", store=store, data_dir=tmp_path / "data")
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


def test_r4_4_app_totals_by_run_leave_calls_outside_a_run_out(make_offline_app: Any) -> None:
    app = make_offline_app()
    records = [
        dataclasses.replace(r, app_id=app.app_id, started_at=r.started_at - NOW + app._clock())
        for r in _run_records(9)
        if r.app_id == "a"
    ]
    for record in records:
        app.store.add_record(record)
    expected = _naive_totals(records, app.app_id, None)
    assert app.totals(by="run", period="total") == expected
    assert set(expected) == {"run-1", "run-2", "run-3", "run-4"}
    outside = sum(r.cost for r in records if r.run_id is None and r.cost is not None)
    assert outside > 0  # there are calls outside any run, and they are not in the totals
    by_feature = app.totals(by="feature", period="total")
    assert sum(by_feature.values()) == sum(expected.values()) + outside
    # A period counts the run steps inside it only.
    since = period_start("day", app._clock())
    assert app.totals(by="run", period="day") == _naive_totals(records, app.app_id, since)
    assert _naive_totals(records, app.app_id, since) != expected


# -- exports --------------------------------------------------------------------------------------


def test_r4_4_exports_carry_the_run_id(make_offline_app: Any) -> None:
    app = make_offline_app()
    now = app._clock()
    for record in (_record(1, "run-7", Decimal("0.25")), _record(2, None, Decimal("0.5"))):
        app.store.add_record(
            dataclasses.replace(record, app_id=app.app_id, started_at=now - 3 + int(record.id[1]))
        )
    assert HISTORY_FIELDS[-1] == "run_id"
    assert [history_row(r)["run_id"] for r in app.history()] == [None, "run-7"]
    exported = json.loads(app.export_history("json"))
    assert [(r["id"], r["run_id"]) for r in exported] == [("h2", None), ("h1", "run-7")]
    rows = list(csv.DictReader(io.StringIO(app.export_history("csv"))))
    assert tuple(rows[0]) == HISTORY_FIELDS
    assert [(r["id"], r["run_id"]) for r in rows] == [("h2", ""), ("h1", "run-7")]
    file = io.StringIO()
    assert app.write_history(file, "json") == 2
    assert json.loads(file.getvalue()) == exported
