"""Issue 16: admission reads running sums, not the whole ledger; settings carry a version.

The running sums must give exactly what summing the ledger gives, for every ``since`` —
whole hours and days, instants in between, rows stamped in the future by a clock that went
back — after inserts, settlements and direct SQL, and after the migration from schema 1.
"""

from __future__ import annotations

import dataclasses
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from byom.core.store import CallRecord, LedgerRow, MemoryStore
from byom.store.sqlite import DAY, FILENAME, HOUR, SCHEMA_VERSION, SQLiteStore

NOW = 1_760_000_000.0  # 2025-10-09


def _row(
    i: int, created_at: float, counted: int, *, app: str = "a", session: str = "s1"
) -> LedgerRow:
    return LedgerRow(
        id=f"r{i}",
        app_id=app,
        session_id=session,
        owner="pid:1",
        created_at=created_at,
        state="committed",
        estimate_pico=counted,
        counted_pico=counted,
    )


def _naive(rows: dict[str, LedgerRow], app: str, since: float | None, session: str | None) -> int:
    return sum(
        r.counted_pico
        for r in rows.values()
        if r.app_id == app
        and (since is None or r.created_at >= since)
        and (session is None or r.session_id == session)
    )


def _fill(store: SQLiteStore | MemoryStore, seed: int) -> dict[str, LedgerRow]:
    rng = random.Random(seed)
    rows: dict[str, LedgerRow] = {}
    for i in range(400):
        kind = rng.random()
        if kind < 0.2:  # exactly on an hour or day boundary, or a hair either side
            base = (int(NOW) // DAY + rng.randint(-40, 3)) * rng.choice((DAY, HOUR))
            created = base + rng.choice((0.0, -1e-6, 1e-6, -0.5, 0.5))
        else:  # spread over two months back and a few days "in the future"
            created = NOW + rng.uniform(-60 * DAY, 3 * DAY)
        row = _row(
            i,
            created,
            rng.randint(0, 10**9),
            app=rng.choice(("a", "a", "b")),
            session=rng.choice(("s1", "s2")),
        )
        rows[row.id] = row
        store.add_ledger_row(row)
    for row_id in rng.sample(sorted(rows), 150):  # settle some: the amount changes
        counted = rng.randint(0, 10**9)
        store.update_ledger_row(row_id, state="committed", counted_pico=counted)
        old = rows[row_id]
        rows[row_id] = LedgerRow(**{**_fields(old), "counted_pico": counted})
    return rows


def _fields(row: LedgerRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in LedgerRow.__slots__}


def _sinces(seed: int) -> list[float | None]:
    rng = random.Random(seed)
    found: list[float | None] = [None, 0.0, NOW + 10 * DAY]
    for _ in range(150):
        base = (int(NOW) // DAY + rng.randint(-70, 5)) * rng.choice((DAY, HOUR, 900, 1))
        found.append(base + rng.choice((0.0, -1e-6, 1e-6, 0.25, -0.25)))
    found.extend(NOW + rng.uniform(-70 * DAY, 5 * DAY) for _ in range(100))
    return found


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_r3_3_running_sums_equal_the_ledger_sum(kind: str, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path) if kind == "sqlite" else MemoryStore()
    rows = _fill(store, 16)
    for since in _sinces(17):
        for app in ("a", "b", "nobody"):
            assert store.counted_since(app, since, None) == _naive(rows, app, since, None), since
    for session in ("s1", "s2", "s3"):
        assert store.counted_since("a", None, session) == _naive(rows, "a", None, session)
    if isinstance(store, SQLiteStore):
        store.close()


def test_r3_3_direct_sql_keeps_the_sums(tmp_path: Path) -> None:
    """Triggers keep the sums whoever writes the ledger (a repair script, an older byom)."""
    store = SQLiteStore(tmp_path)
    rows = _fill(store, 3)
    conn = sqlite3.connect(tmp_path / FILENAME)
    with conn:
        conn.execute("UPDATE ledger SET created_at = created_at - 86400 WHERE id = 'r1'")
        conn.execute("UPDATE ledger SET app_id = 'b', session_id = 's9' WHERE id = 'r2'")
        conn.execute("DELETE FROM ledger WHERE id = 'r3'")
    conn.close()
    rows["r1"] = LedgerRow(**{**_fields(rows["r1"]), "created_at": rows["r1"].created_at - DAY})
    rows["r2"] = LedgerRow(**{**_fields(rows["r2"]), "app_id": "b", "session_id": "s9"})
    del rows["r3"]
    for since in _sinces(5):
        for app in ("a", "b"):
            assert store.counted_since(app, since, None) == _naive(rows, app, since, None)
    assert store.counted_since("b", None, "s9") == _naive(rows, "b", None, "s9")
    store.close()


def _downgrade_to_schema_1(path: Path) -> None:
    """Make the file look like one schema 1 wrote: no sums, no settings version."""
    conn = sqlite3.connect(path)
    with conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE ledger_sums")
        conn.execute("DROP TABLE meta")
        conn.execute("PRAGMA user_version = 1")
    conn.close()


def test_r3_3_migration_from_schema_1_rebuilds_the_sums(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    store.close()
    _downgrade_to_schema_1(tmp_path / FILENAME)
    conn = sqlite3.connect(tmp_path / FILENAME)  # rows written by schema-1 code
    rows = {}
    with conn:
        for i in range(300):
            row = _row(i, NOW - i * 3000.5, 1000 + i, session=f"s{i % 3}")
            rows[row.id] = row
            conn.execute(
                "INSERT INTO ledger (id, app_id, session_id, owner, created_at, state, "
                "estimate_pico, counted_pico) VALUES (?,?,?,?,?,?,?,?)",
                (
                    row.id,
                    row.app_id,
                    row.session_id,
                    row.owner,
                    row.created_at,
                    row.state,
                    row.estimate_pico,
                    row.counted_pico,
                ),
            )
        conn.execute("INSERT INTO settings VALUES ('a', 'allowance:total', '{}')")
    conn.close()

    store = SQLiteStore(tmp_path)  # the migration runs here
    check = sqlite3.connect(tmp_path / FILENAME)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()
    for since in _sinces(9):
        assert store.counted_since("a", since, None) == _naive(rows, "a", since, None)
    for session in ("s0", "s1", "s2"):
        assert store.counted_since("a", None, session) == _naive(rows, "a", None, session)
    store.add_ledger_row(_row(1000, NOW, 7))  # and the triggers are in place from now on
    rows["r1000"] = _row(1000, NOW, 7)
    assert store.counted_since("a", None, None) == _naive(rows, "a", None, None)
    assert store.get_setting("a", "allowance:total") == "{}"
    store.close()


def test_r3_5_settings_version_changes_with_every_setting_in_any_connection(tmp_path: Path) -> None:
    one, other = SQLiteStore(tmp_path), SQLiteStore(tmp_path)
    seen = {one.settings_version()}
    other.set_setting("a", "k", "1")
    seen.add(one.settings_version())
    other.set_setting("a", "k", "2")
    seen.add(one.settings_version())
    other.set_setting("a", "k", None)
    seen.add(one.settings_version())
    assert len(seen) == 4
    before = one.settings_version()
    one.add_ledger_row(_row(1, NOW, 5))  # ledger writes are not setting changes
    assert one.settings_version() == before
    one.reopen()  # another file may be at the path: the version never repeats an old one's
    assert one.settings_version() != before
    one.close()
    other.close()


def test_r3_5_memory_store_settings_version() -> None:
    store = MemoryStore()
    first = store.settings_version()
    store.set_setting("a", "k", "1")
    assert store.settings_version() != first


# -- the call path: two short transactions, settings from memory, changes seen at once -----------

OTHER_PROCESS = r"""
import sys
from decimal import Decimal
import byom
data_dir, action, value = sys.argv[1:4]
app = byom.App("Paper digest", [byom.Feature("summarize", "worker"),
               byom.Feature("critique", "frontier")], data_dir=data_dir)
if action in ("allowance", "strict"):
    app.set_allowance(Decimal(value), period="total", strict=action == "strict")
else:
    app.choose_model("summarize", value)
app.close()
"""


def _other_process(data_dir: Path, action: str, value: str) -> None:
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(data_dir), action, value],
        check=True,
        timeout=120,
    )


def test_r3_5_a_change_in_another_process_is_seen_by_the_next_admission(make_app, sim) -> None:
    from decimal import Decimal

    from byom.core.errors import BudgetExceeded
    from conftest import chat_count, user

    app = make_app()
    app.set_allowance(Decimal(100), period="total")
    first = app.chat("summarize", user("hello"), max_tokens=50)
    assert first.model == "openai/gpt-4o-mini"
    served = {"google/gemini-2.5-flash", "meta-llama/llama-3.3-70b-instruct"}  # by the sim
    other = next(m.id for m in app.models("worker") if m.id in served)
    _other_process(app.data_dir, "model", other)
    assert app.chat("summarize", user("hello"), max_tokens=50).model == other

    _other_process(app.data_dir, "allowance", format(app.spent("total"), "f"))
    sent = chat_count(sim)
    with pytest.raises(BudgetExceeded):
        app.chat("summarize", user("hello"), max_tokens=50)
    assert chat_count(sim) == sent  # refused before the network
    _other_process(app.data_dir, "allowance", "100")
    app.chat("summarize", user("hello"), max_tokens=50)
    assert chat_count(sim) == sent + 1


def test_r3_7_a_strict_allowance_lifted_elsewhere_does_not_refuse_from_memory(
    make_app, sim
) -> None:
    """In strict mode an input byom cannot bound is refused; once another process set a
    non-strict allowance, the same input is estimated and sent (the cache is not trusted)."""
    from decimal import Decimal

    from byom.core.errors import UnboundedInput
    from conftest import chat_count

    app = make_app()
    app.set_allowance(Decimal(100), period="total", strict=True)
    audio = {"type": "input_audio", "input_audio": {"data": "QUJD", "format": "wav"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hear this."}, audio]}]
    with pytest.raises(UnboundedInput):
        app.chat("summarize", messages, max_tokens=50)
    _other_process(app.data_dir, "allowance", "100")  # the same ceiling, not strict
    sent = chat_count(sim)
    app.chat("summarize", messages, max_tokens=50)
    assert chat_count(sim) == sent + 1
    _other_process(app.data_dir, "strict", "100")
    with pytest.raises(UnboundedInput):
        app.chat("summarize", messages, max_tokens=50)
    assert chat_count(sim) == sent + 1


def test_r3_3_a_guarded_call_takes_two_transactions(make_app) -> None:
    """Check-and-reserve, then settle-and-record: nothing else reaches the store."""
    from decimal import Decimal

    from conftest import user

    app = make_app()
    app.set_allowance(Decimal(100), period="total")
    app.set_allowance(Decimal(50), period="day")
    app.chat("summarize", user("warm"), max_tokens=50)  # the caches fill
    store = app.store
    assert isinstance(store, SQLiteStore)
    seen: list[str] = []
    conn = store._conn()
    conn.set_trace_callback(seen.append)
    try:
        for _ in range(3):
            app.chat("summarize", user("hello"), max_tokens=50)
    finally:
        conn.set_trace_callback(None)
    assert sum(s.startswith("BEGIN") for s in seen) == 2 * 3
    assert sum(s.startswith("COMMIT") for s in seen) == 2 * 3
    assert not any("FROM settings" in s for s in seen)  # allowances and model from memory


# -- history: totals from running sums, export streamed ----------------------------------------


def _records(seed: int, count: int = 600) -> list[CallRecord]:
    rng = random.Random(seed)
    found = []
    for i in range(count):
        started = NOW + rng.uniform(-50 * DAY, 2 * DAY)
        if rng.random() < 0.1:  # on a slot boundary, or a hair either side
            started = (int(NOW) // 900 + rng.randint(-5000, 100)) * 900 + rng.choice(
                (0, -1e-6, 1e-6)
            )
        cost = rng.choice(
            (
                None,
                Decimal(0),
                Decimal(rng.randint(1, 10**7)) / 10**12,
                Decimal("0.00012345678901234567"),  # finer than a picodollar
                Decimal(rng.randint(1, 10**6)) / 10**6,
            )
        )
        found.append(
            CallRecord(
                id=f"h{i}",
                app_id=rng.choice(("a", "a", "b")),
                feature=rng.choice(("summarize", "critique")),
                provider="openrouter",
                model=rng.choice(("m1", "m2", "m3")),
                outcome="ok",
                started_at=started,
                ended_at=started + 1,
                cost=cost,
            )
        )
    return found


def _by_rows(records: list[CallRecord], app: str, by: str, since: float | None) -> dict:
    """What ``App.totals`` computed before the sums (one row at a time)."""
    totals: dict[str, Decimal] = {}
    for r in records:
        if r.app_id != app or r.cost is None or (since is not None and r.started_at < since):
            continue
        if by == "day":
            key = datetime.fromtimestamp(r.started_at).astimezone().date().isoformat()
        else:
            key = r.feature if by == "feature" else r.model
        totals[key] = totals.get(key, Decimal(0)) + r.cost
    return dict(sorted(totals.items()))


@pytest.fixture(params=["UTC", "Europe/Amsterdam", "Asia/Kathmandu", "America/St_Johns"])
def process_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_r4_4_history_totals_equal_summing_the_rows(tmp_path: Path, process_zone: str) -> None:
    store = SQLiteStore(tmp_path)
    records = _records(21)
    for record in records:
        store.add_record(record)
    changed = []  # replace some (a reconciled call gets its figures later)
    for record in records[::7]:
        new = dataclasses.replace(record, cost=Decimal("0.0000042"), model="m9")
        store.update_record(new)
        changed.append(new)
    records = [next((c for c in changed if c.id == r.id), r) for r in records]
    store.delete_records("a", before=NOW - 45 * DAY)
    records = [r for r in records if not (r.app_id == "a" and r.started_at < NOW - 45 * DAY)]
    sinces: list[float | None] = [None, 0.0, NOW - 10 * DAY + 0.5, NOW - 3 * DAY, NOW + 5 * DAY]
    sinces += [(int(NOW) // 900 - 3000) * 900.0, NOW - 123456.789]
    for since in sinces:
        for by in ("day", "feature", "model"):
            for app in ("a", "b"):
                assert store.history_totals(app, by, since) == _by_rows(records, app, by, since)
    store.close()


def test_r4_4_migration_fills_the_history_sums(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    store.close()
    _downgrade_to_schema_1(tmp_path / FILENAME)
    conn = sqlite3.connect(tmp_path / FILENAME)
    with conn:
        conn.execute("DROP TABLE history_sums")
        conn.execute("DROP INDEX IF EXISTS history_finer")
        conn.execute("ALTER TABLE history DROP COLUMN cost_pico")
    conn.close()
    records = _records(4, 200)
    old = sqlite3.connect(tmp_path / FILENAME)  # rows as schema-1 code wrote them
    with old:
        for r in records:
            old.execute(
                "INSERT INTO history (id, app_id, feature, provider, model, outcome, started_at, "
                "ended_at, cost) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    r.id,
                    r.app_id,
                    r.feature,
                    r.provider,
                    r.model,
                    r.outcome,
                    r.started_at,
                    r.ended_at,
                    None if r.cost is None else format(r.cost, "f"),
                ),
            )
    old.close()
    store = SQLiteStore(tmp_path)
    for by in ("day", "feature", "model"):
        assert store.history_totals("a", by, None) == _by_rows(records, "a", by, None)
    assert list(store.iter_records("a", batch=7)) == store.records("a")
    store.close()


def test_r4_4_export_streams_the_same_text(make_app) -> None:
    import csv
    import io
    import json

    from byom.history_export import HISTORY_FIELDS, history_row
    from conftest import user

    app = make_app()
    for word in ("one", "two", "three"):
        app.chat("summarize", user(word), max_tokens=30)
    for record in _records(8, 50):
        app.store.add_record(dataclasses.replace(record, app_id=app.app_id))
    rows = [history_row(r) for r in app.history()]
    assert len(rows) == 53
    assert app.export_history("json") == json.dumps(rows, indent=2)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(HISTORY_FIELDS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    assert app.export_history("csv") == out.getvalue()
    assert list(app.store.iter_records(app.app_id, batch=4)) == app.history()
    file = io.StringIO()
    assert app.write_history(file, "json") == 53
    assert file.getvalue() == json.dumps(rows, indent=2)
    app.delete_history()
    assert app.export_history("json") == "[]" == json.dumps([], indent=2)
