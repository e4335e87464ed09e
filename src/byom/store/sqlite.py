"""SQLite implementation of the core's :class:`~byom.core.store.Store` (R3.5, R4.3, R4.4).

One file, ``byom.sqlite3``, in the user data directory, shared by every app id (each row says
whose it is). WAL journal; ``BEGIN IMMEDIATE`` makes ``atomic()`` exclusive across threads *and*
processes, so check-and-reserve cannot interleave. Each thread has its own connection.

History rows hold figures only: no prompt text, no reply text, no key (R4.3). The file and its
folder are created readable by the user only.

The store vouches for the spend it records, so it fails closed (R3.3). It remembers which file it
opened (device and inode); at the start of every outermost transaction it checks that the path
still names that file. If the file vanished or was replaced (say it was deleted and another byom
process made a new, empty one), the store becomes unavailable and every method raises
:class:`~byom.core.errors.StoreUnavailable` — nothing is admitted — until the user decides:
restart the app, or call :meth:`SQLiteStore.reopen` to start counting from the file now at the
path. Any ``sqlite3.Error`` (a read-only file or folder, a disk I/O error, a database locked
beyond the timeout, a corrupt file) is raised as :class:`~byom.core.errors.StoreUnavailable` too,
without SQL or values in the message.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

from byom.core.errors import StoreUnavailable
from byom.core.money import from_pico
from byom.core.store import (
    DAY,
    HOUR,
    CallRecord,
    LedgerRow,
    Outcome,
    ReservationState,
    since_slots,
)
from byom.core.usage import CostSource, Usage

FILENAME = "byom.sqlite3"
#: WAL pages between automatic checkpoints, and the size the WAL is cut back to (bytes).
WAL_CHECKPOINT_PAGES = 4000
WAL_SIZE_LIMIT = 24 * 2**20
#: 1: ledger, history, settings. 2: running ledger sums and a settings version (kept by
#: triggers), so that admission costs the same with a million rows as with none (issue 16).
#: 3: ``run_id`` on ledger and history rows (issue 14), each with a partial index, so a run's
#: ceiling and its totals are indexed reads. 4: ``web_search_requests`` and
#: ``unpriced_tool_requests`` on history rows (the server-side tool uses a call was billed for).
SCHEMA_VERSION = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at REAL NOT NULL,
    state TEXT NOT NULL,
    estimate_pico INTEGER NOT NULL,
    counted_pico INTEGER NOT NULL,
    feature TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    generation_id TEXT,
    run_id TEXT
);
CREATE INDEX IF NOT EXISTS ledger_by_time ON ledger (app_id, created_at, counted_pico);
CREATE INDEX IF NOT EXISTS ledger_by_state ON ledger (app_id, state);
CREATE TABLE IF NOT EXISTS history (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    feature TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    outcome TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cost TEXT,
    cost_source TEXT,
    error_code TEXT,
    generation_id TEXT,
    finish_reason TEXT,
    cost_pico INTEGER,
    run_id TEXT,
    web_search_requests INTEGER NOT NULL DEFAULT 0,
    unpriced_tool_requests INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS history_by_time ON history (app_id, started_at);
CREATE TABLE IF NOT EXISTS settings (
    app_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('settings_version', 0);
CREATE TABLE IF NOT EXISTS history_sums (
    app_id TEXT NOT NULL,
    slot INTEGER NOT NULL,
    feature TEXT NOT NULL,
    model TEXT NOT NULL,
    cost_pico INTEGER NOT NULL,
    costed INTEGER NOT NULL,
    PRIMARY KEY (app_id, slot, feature, model)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_sums (
    app_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    slot INTEGER NOT NULL,
    counted_pico INTEGER NOT NULL,
    PRIMARY KEY (app_id, scope, slot)
) WITHOUT ROWID;
"""

# Running sums of ``ledger.counted_pico`` per app: ``t`` all time, ``s:<session>`` per session,
# ``d`` per UTC day and ``h`` per UTC hour of ``created_at`` (slot = whole seconds // size; a
# negative time, which no real clock gives, goes to slot -1). Triggers keep them in the same
# transaction as every ledger insert, update and delete, whoever writes the row.
_SUMS = (
    ("'t'", "0"),
    ("'s:' || {row}.session_id", "0"),
    (
        "'d'",
        f"CASE WHEN {{row}}.created_at >= 0 THEN CAST({{row}}.created_at AS INTEGER) / {DAY} "
        "ELSE -1 END",
    ),
    (
        "'h'",
        f"CASE WHEN {{row}}.created_at >= 0 THEN CAST({{row}}.created_at AS INTEGER) / {HOUR} "
        "ELSE -1 END",
    ),
)


#: History sums: known cost per app, 15-minute UTC slot of ``started_at``, feature and model,
#: for :meth:`SQLiteStore.history_totals`. ``cost_pico`` is the cost in whole picodollars, or
#: NULL when there is none or it is finer (such rows are summed one by one, exactly).
HISTORY_SLOT = 900
_HISTORY_SLOT_OF = (
    f"CASE WHEN {{row}}.started_at >= 0 THEN CAST({{row}}.started_at AS INTEGER) / {HISTORY_SLOT} "
    "ELSE -1 END"
)


def _add_history_sums(row: str, sign: str) -> str:
    return (
        "INSERT INTO history_sums (app_id, slot, feature, model, cost_pico, costed) VALUES "
        f"({row}.app_id, {_HISTORY_SLOT_OF.format(row=row)}, {row}.feature, {row}.model, "
        f"{sign}COALESCE({row}.cost_pico, 0), {sign}({row}.cost_pico IS NOT NULL)) "
        "ON CONFLICT (app_id, slot, feature, model) DO UPDATE SET "
        "cost_pico = cost_pico + excluded.cost_pico, costed = costed + excluded.costed;\n"
    )


def _add_sums(row: str, amount: str) -> str:
    """Trigger statements adding ``amount`` to the four sums that ``row`` (NEW/OLD) belongs to."""
    return "".join(
        "INSERT INTO ledger_sums (app_id, scope, slot, counted_pico) VALUES "
        f"({row}.app_id, {scope.format(row=row)}, {slot.format(row=row)}, {amount}) "
        "ON CONFLICT (app_id, scope, slot) DO UPDATE "
        "SET counted_pico = counted_pico + excluded.counted_pico;\n"
        for scope, slot in _SUMS
    )


_SAME_BUCKETS = (
    "OLD.app_id IS NEW.app_id AND OLD.session_id IS NEW.session_id "
    "AND OLD.created_at IS NEW.created_at"
)

_TRIGGERS = (
    *(
        f"CREATE TRIGGER IF NOT EXISTS settings_version_{event.lower()} AFTER {event} ON settings "
        "BEGIN UPDATE meta SET value = value + 1 WHERE key = 'settings_version'; END"
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
    "CREATE TRIGGER IF NOT EXISTS ledger_sums_insert AFTER INSERT ON ledger BEGIN\n"
    + _add_sums("NEW", "NEW.counted_pico")
    + "END",
    # The usual update (settling a reservation) changes only the amount: add the difference.
    "CREATE TRIGGER IF NOT EXISTS ledger_sums_amount AFTER UPDATE OF counted_pico ON ledger "
    f"WHEN {_SAME_BUCKETS} AND OLD.counted_pico IS NOT NEW.counted_pico BEGIN\n"
    + _add_sums("NEW", "NEW.counted_pico - OLD.counted_pico")
    + "END",
    "CREATE TRIGGER IF NOT EXISTS ledger_sums_moved "
    "AFTER UPDATE OF app_id, session_id, created_at, counted_pico ON ledger "
    f"WHEN NOT ({_SAME_BUCKETS}) BEGIN\n"
    + _add_sums("OLD", "-OLD.counted_pico")
    + _add_sums("NEW", "NEW.counted_pico")
    + "END",
    "CREATE TRIGGER IF NOT EXISTS ledger_sums_delete AFTER DELETE ON ledger BEGIN\n"
    + _add_sums("OLD", "-OLD.counted_pico")
    + "END",
    "CREATE TRIGGER IF NOT EXISTS history_sums_insert AFTER INSERT ON history BEGIN\n"
    + _add_history_sums("NEW", "")
    + "END",
    "CREATE TRIGGER IF NOT EXISTS history_sums_update "
    "AFTER UPDATE OF app_id, started_at, feature, model, cost_pico ON history BEGIN\n"
    + _add_history_sums("OLD", "-")
    + _add_history_sums("NEW", "")
    + "END",
    "CREATE TRIGGER IF NOT EXISTS history_sums_delete AFTER DELETE ON history BEGIN\n"
    + _add_history_sums("OLD", "-")
    + "END",
)


def cost_pico(cost: Decimal | None) -> int | None:
    """A history cost in whole picodollars, or ``None`` when there is none or it is finer."""
    if cost is None or not cost.is_finite():
        return None
    units = cost.scaleb(12)
    return int(units) if units == units.to_integral_value() else None


def _cost_pico_of_text(text: str | None) -> int | None:
    try:
        return None if text is None else cost_pico(Decimal(text))
    except ArithmeticError:
        return None


def _rebuild_sums(conn: sqlite3.Connection) -> None:
    """Recompute ``ledger_sums`` and ``history_sums`` from the rows (the migration to schema 2,
    and a repair)."""
    conn.execute("DELETE FROM history_sums")
    conn.execute(
        "INSERT INTO history_sums (app_id, slot, feature, model, cost_pico, costed) "
        f"SELECT app_id, {_HISTORY_SLOT_OF.format(row='history')}, feature, model, "
        "COALESCE(SUM(cost_pico), 0), COUNT(cost_pico) FROM history GROUP BY 1, 2, 3, 4"
    )
    conn.execute("DELETE FROM ledger_sums")
    for scope, slot in _SUMS:
        conn.execute(
            "INSERT INTO ledger_sums (app_id, scope, slot, counted_pico) "
            f"SELECT app_id, {scope.format(row='ledger')}, {slot.format(row='ledger')}, "
            "SUM(counted_pico) FROM ledger GROUP BY 1, 2, 3"
        )


_HISTORY_COLUMNS = (
    "id, app_id, feature, provider, model, outcome, started_at, ended_at, prompt_tokens, "
    "completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost, cost_source, "
    "error_code, generation_id, finish_reason, run_id, web_search_requests, "
    "unpriced_tool_requests"
)
_INSERT_RECORD = (
    f"INSERT INTO history ({_HISTORY_COLUMNS}, cost_pico) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(
        f"{c.strip()} = excluded.{c.strip()}"
        for c in (_HISTORY_COLUMNS + ", cost_pico").split(",")[1:]
    )
)
_LEDGER_COLUMNS = (
    "id, app_id, session_id, owner, created_at, state, estimate_pico, counted_pico, feature, "
    "model, provider, generation_id, run_id"
)
#: Columns added after schema 1/2/3 files were written: made by the migration.
_ADDED_COLUMNS = (
    ("ledger", "run_id", "TEXT"),
    ("history", "run_id", "TEXT"),
    ("history", "web_search_requests", "INTEGER NOT NULL DEFAULT 0"),
    ("history", "unpriced_tool_requests", "INTEGER NOT NULL DEFAULT 0"),
)
#: A run's rows, for the run ceiling (``counted_pico`` included: the sum reads the index only)
#: and for totals by run. Partial: rows outside a run cost these indexes nothing.
_RUN_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ledger_by_run ON ledger (app_id, run_id, counted_pico) "
    "WHERE run_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS history_by_run ON history (app_id, run_id) "
    "WHERE run_id IS NOT NULL",
)


def owner_token() -> str:
    """Identifies this process in ledger rows, so a dead owner's reservations can be found."""
    return f"pid:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    if not owner.startswith("pid:"):
        return True
    try:
        pid = int(owner[4:])
    except ValueError:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _unavailable() -> StoreUnavailable:
    """The one error the store raises for a storage failure: byom's own words, nothing of the
    SQL, the values or the path (the caller translates ``from None``)."""
    return StoreUnavailable()


class SQLiteStore:
    """A :class:`~byom.core.store.Store` in one SQLite file; safe across threads and processes.

    Fails closed: raises :class:`~byom.core.errors.StoreUnavailable` once the file it opened
    vanished or was replaced, and for any SQLite failure. :meth:`reopen` is the user's way on.
    """

    #: Seconds to wait for another connection's write lock before giving up (StoreUnavailable).
    busy_timeout: float = 60.0

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILENAME
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._identity: tuple[int, int] | None = None
        self._lost = False
        self._epoch = 0
        self._open()

    def _open(self) -> None:
        """Create the file if needed, remember which file it is, and make sure of the schema."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            info = os.stat(self.path)
        except OSError:
            raise _unavailable() from None
        self._identity = (info.st_dev, info.st_ino)
        self._lost = False
        try:
            with self._atomic():
                conn = self._conn()
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version != SCHEMA_VERSION:
                    self._migrate(conn, version)
                # Always a write: a file or folder that cannot be written fails here, at open.
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.recover_orphans()
        except sqlite3.Error:
            self.close()
            raise _unavailable() from None
        except StoreUnavailable:
            self.close()
            raise

    @staticmethod
    def _migrate(conn: sqlite3.Connection, version: int) -> None:
        """Bring a new file, or one written by another schema version, to ``SCHEMA_VERSION``
        (inside the opening transaction). The running sums are rebuilt from the ledger, so a
        file that an older byom wrote to (without them) counts exactly what its ledger holds."""
        del version  # every step is idempotent: the tables and triggers are made if missing
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(history)")}
        if "cost_pico" not in columns:  # schema 1: costs were text only
            conn.execute("ALTER TABLE history ADD COLUMN cost_pico INTEGER")
            conn.create_function("byom_cost_pico", 1, _cost_pico_of_text, deterministic=True)
            conn.execute(
                "UPDATE history SET cost_pico = byom_cost_pico(cost) WHERE cost IS NOT NULL"
            )
        for table, column, kind in _ADDED_COLUMNS:  # schema 1–3: some of them missing
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        for index in _RUN_INDEXES:
            conn.execute(index)
        conn.execute(
            "CREATE INDEX IF NOT EXISTS history_finer ON history (app_id, started_at) "
            "WHERE cost IS NOT NULL AND cost_pico IS NULL"
        )
        # Session spend comes from ledger_sums now; this index only slowed every write.
        conn.execute("DROP INDEX IF EXISTS ledger_by_session")
        for trigger in _TRIGGERS:
            conn.execute(trigger)
        _rebuild_sums(conn)

    def reopen(self) -> None:
        """The user's decision after :class:`~byom.core.errors.StoreUnavailable`: open the file
        now at the path afresh (an empty one is created if none is there) and count spend from
        what it holds. Spend recorded only in a vanished file is no longer counted — which is
        why byom never does this by itself. Call it with no request in flight."""
        self.close()
        self._epoch += 1
        self._open()

    @property
    def available(self) -> bool:
        """False once the file this store opened vanished or was replaced (until :meth:`reopen`)."""
        return not self._lost

    # -- connections and transactions ---------------------------------------------------------

    def _check(self) -> None:
        """Fail closed unless the path still names the file this store opened (one ``stat``)."""
        if self._lost:
            raise _unavailable()
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self._lost = True
            raise _unavailable() from None
        except OSError:
            raise _unavailable() from None
        if (info.st_dev, info.st_ino) != self._identity:
            self._lost = True
            raise _unavailable()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self._check()  # never let a new connection create or adopt another file
            try:
                # mode=rw: open the existing file only; a vanished one is not silently re-made.
                conn = sqlite3.connect(
                    self.path.absolute().as_uri() + "?mode=rw",
                    uri=True,
                    timeout=self.busy_timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
            except sqlite3.Error:
                raise _unavailable() from None
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
                # Checkpoint every ~16 MiB of WAL rather than SQLite's 4 MiB: a checkpoint (and
                # its fsync) lands on some call's commit, and fewer, larger ones halve the mean
                # cost of a commit (issue 16); the file is cut back to the limit afterwards.
                conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
                conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
                raise _unavailable() from None
            self._local.conn = conn
            self._local.depth = 0
            with self._guard:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        conn = self._conn()
        depth: int = self._local.depth
        if depth == 0:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:
                raise _unavailable() from None
            try:
                self._check()
            except StoreUnavailable:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
        self._local.depth = depth + 1
        try:
            yield
        except BaseException:
            self._local.depth = depth
            if depth == 0:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        self._local.depth = depth
        if depth == 0:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise _unavailable() from None

    def atomic(self) -> AbstractContextManager[None]:
        """Exclusive across threads and processes; re-entrant within a thread. The outermost
        section first checks that the store's file is still the one it opened."""
        return self._atomic()

    def close(self) -> None:
        with self._guard:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _cursor(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        conn = self._conn()
        if not getattr(self._local, "depth", 0):
            self._check()  # a statement outside atomic() is a transaction of its own
        return conn.execute(sql, params)

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        try:
            return self._cursor(sql, params).rowcount
        except sqlite3.Error:
            raise _unavailable() from None

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        try:
            row: tuple[Any, ...] | None = self._cursor(sql, params).fetchone()
        except sqlite3.Error:
            raise _unavailable() from None
        return row

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self._cursor(sql, params).fetchall())
        except sqlite3.Error:
            raise _unavailable() from None

    # -- ledger ---------------------------------------------------------------------------------

    def counted_since(self, app_id: str, since: float | None, session_id: str | None) -> int:
        """Read from the running sums, so the cost does not grow with the ledger (issue 16).

        ``since`` splits into the rows of the UTC hour it falls in (an index range scan over at
        most an hour of rows), then whole UTC hours up to the next UTC day, then whole days from
        there on, *with no upper bound*: rows stamped after now (a clock that went back) count.
        """
        if session_id is not None and since is None:
            row = self._one(
                "SELECT counted_pico FROM ledger_sums WHERE app_id = ? AND scope = ? AND slot = 0",
                (app_id, "s:" + session_id),
            )
        elif since is None:
            row = self._one(
                "SELECT counted_pico FROM ledger_sums WHERE app_id = ? AND scope = 't' "
                "AND slot = 0",
                (app_id,),
            )
        elif session_id is None and math.isfinite(since) and since >= 0:
            hour, day = since_slots(since)  # first whole hour and day at or after ``since``
            row = self._one(
                "SELECT (SELECT COALESCE(SUM(counted_pico), 0) FROM ledger_sums "
                "WHERE app_id = ?1 AND scope = 'd' AND slot >= ?2) "
                "+ (SELECT COALESCE(SUM(counted_pico), 0) FROM ledger_sums "
                "WHERE app_id = ?1 AND scope = 'h' AND slot >= ?3 AND slot < ?4) "
                "+ (SELECT COALESCE(SUM(counted_pico), 0) FROM ledger "
                "WHERE app_id = ?1 AND created_at >= ?5 AND created_at < ?6)",
                (app_id, day, hour, day * (DAY // HOUR), since, hour * HOUR),
            )
        else:  # a session since a time, or a time no real clock gives: sum the rows
            sql = "SELECT COALESCE(SUM(counted_pico), 0) FROM ledger WHERE app_id = ?"
            params: list[Any] = [app_id]
            if session_id is not None:
                sql += " AND session_id = ?"
                params.append(session_id)
            sql += " AND created_at >= ?"
            params.append(since)
            row = self._one(sql, tuple(params))
        return 0 if row is None else int(row[0])

    def counted_for_run(self, app_id: str, run_id: str) -> int:
        """One range read of the ``ledger_by_run`` index (it holds ``counted_pico``), so the
        run ceiling costs the same however long the ledger is."""
        row = self._one(
            "SELECT COALESCE(SUM(counted_pico), 0) FROM ledger WHERE app_id = ? AND run_id = ?",
            (app_id, run_id),
        )
        return 0 if row is None else int(row[0])

    def settings_version(self) -> int:
        """A number that changes whenever any setting of any app changes, in any process (a
        trigger counts them). Read inside :meth:`atomic` it is current; it also changes when
        :meth:`reopen` opens another file, so caches keyed on it never outlive their file."""
        row = self._one("SELECT value FROM meta WHERE key = 'settings_version'")
        return (0 if row is None else int(row[0])) + (self._epoch << 48)

    def add_ledger_row(self, row: LedgerRow) -> None:
        self._execute(
            f"INSERT INTO ledger ({_LEDGER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.id,
                row.app_id,
                row.session_id,
                row.owner,
                row.created_at,
                row.state,
                row.estimate_pico,
                row.counted_pico,
                row.feature,
                row.model,
                row.provider,
                row.generation_id,
                row.run_id,
            ),
        )

    def update_ledger_row(
        self,
        row_id: str,
        *,
        state: ReservationState,
        counted_pico: int,
        generation_id: str | None = None,
    ) -> None:
        self._execute(
            "UPDATE ledger SET state = ?, counted_pico = ?, "
            "generation_id = COALESCE(?, generation_id) WHERE id = ?",
            (state, counted_pico, generation_id, row_id),
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
        if not expect:
            return False
        marks = ",".join("?" * len(expect))
        changed = self._execute(
            "UPDATE ledger SET state = ?, counted_pico = ?, "
            "generation_id = COALESCE(?, generation_id) "
            f"WHERE id = ? AND app_id = ? AND state IN ({marks})",
            (state, counted_pico, generation_id, row_id, app_id, *sorted(expect)),
        )
        return changed == 1

    def ledger_rows(self, app_id: str, states: frozenset[str]) -> list[LedgerRow]:
        marks = ",".join("?" * len(states))
        rows = self._all(
            f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE app_id = ? AND state IN ({marks}) "
            "ORDER BY created_at",
            (app_id, *sorted(states)),
        )
        return [LedgerRow(*r) for r in rows]

    def recover_orphans(self) -> int:
        """Mark reservations whose process died (e.g. SIGKILL) as unreconciled. Returns count."""
        rows = self._all("SELECT id, owner FROM ledger WHERE state = 'reserved'")
        dead = [row_id for row_id, owner in rows if not _owner_alive(owner)]
        if dead:
            with self._atomic():
                for row_id in dead:
                    self._execute(
                        "UPDATE ledger SET state = 'unreconciled' "
                        "WHERE id = ? AND state = 'reserved'",
                        (row_id,),
                    )
        return len(dead)

    # -- history --------------------------------------------------------------------------------

    def add_record(self, record: CallRecord) -> None:
        # An upsert, not INSERT OR REPLACE: a replaced row must pass through the update trigger
        # so that the history sums subtract it.
        self._execute(
            _INSERT_RECORD,
            (
                record.id,
                record.app_id,
                record.feature,
                record.provider,
                record.model,
                record.outcome,
                record.started_at,
                record.ended_at,
                record.usage.prompt_tokens,
                record.usage.completion_tokens,
                record.usage.cached_tokens,
                record.usage.cache_write_tokens,
                record.usage.reasoning_tokens,
                None if record.cost is None else format(record.cost, "f"),
                record.cost_source,
                record.error_code,
                record.generation_id,
                record.finish_reason,
                record.run_id,
                record.usage.web_search_requests,
                record.usage.unpriced_tool_requests,
                cost_pico(record.cost),
            ),
        )

    def update_record(self, record: CallRecord) -> None:
        self.add_record(record)

    def get_record(self, app_id: str, record_id: str) -> CallRecord | None:
        row = self._one(
            f"SELECT {_HISTORY_COLUMNS} FROM history WHERE app_id = ? AND id = ?",
            (app_id, record_id),
        )
        return None if row is None else _record(row)

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
        sql = f"SELECT {_HISTORY_COLUMNS} FROM history WHERE app_id = ?"
        params: list[Any] = [app_id]
        for clause, value in (
            ("started_at >= ?", since),
            ("started_at < ?", until),
            ("feature = ?", feature),
            ("model = ?", model),
        ):
            if value is not None:
                sql += " AND " + clause
                params.append(value)
        sql += " ORDER BY started_at DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_record(r) for r in self._all(sql, tuple(params))]

    def iter_records(
        self, app_id: str, *, since: float | None = None, batch: int = 1000
    ) -> Iterator[CallRecord]:
        """History rows newest first, read ``batch`` at a time (each batch a short read of its
        own), so exporting a long history never holds it all in memory."""
        sql = f"SELECT {_HISTORY_COLUMNS}, rowid FROM history WHERE app_id = ?"
        first: tuple[Any, ...] = (app_id,)
        if since is not None:
            sql += " AND started_at >= ?"
            first = (app_id, since)
        after: tuple[Any, ...] = ()
        while True:
            query = sql + (" AND (started_at, rowid) < (?, ?)" if after else "")
            rows = self._all(
                query + " ORDER BY started_at DESC, rowid DESC LIMIT ?", (*first, *after, batch)
            )
            for row in rows:
                yield _record(row[:-1])
            if len(rows) < batch:
                return
            after = (rows[-1][6], rows[-1][-1])

    def history_totals(
        self, app_id: str, by: Literal["day", "feature", "model", "run"], since: float | None
    ) -> dict[str, Decimal] | None:
        """Known cost per local day, feature, model or run of the history rows started at/after
        ``since`` — what summing the rows gives — from the running history sums, so the cost
        grows with the days and models in the history, not with its rows. By run, from the
        ``history_by_run`` index: only rows that were steps of a run, so the cost grows with
        them, not with the whole history.

        ``None`` when the sums cannot answer exactly (a ``since`` no real clock gives, or a
        zone whose date changes inside a 15-minute slot): the caller sums the rows then."""
        if by == "run":
            return self._run_totals(app_id, since)
        if since is not None and not (math.isfinite(since) and since >= 0):
            return None
        low = 0 if since is None else -(-math.ceil(since) // HISTORY_SLOT)
        totals: dict[str, Decimal] = {}

        def add(key: str, amount: Decimal) -> None:
            totals[key] = totals.get(key, Decimal(0)) + amount

        def add_rows(where: str, params: tuple[Any, ...]) -> None:
            for started, feature, model, cost in self._all(
                "SELECT started_at, feature, model, cost FROM history "
                f"WHERE app_id = ? AND cost IS NOT NULL AND {where}",
                (app_id, *params),
            ):
                key = feature if by == "feature" else model if by == "model" else None
                add(key if key is not None else _local_day(started), Decimal(cost))

        if by == "day":
            days = self._all(
                "SELECT date(slot * ?2, 'unixepoch', 'localtime') AS d, "
                "MIN(date(slot * ?2 + ?2 - 1, 'unixepoch', 'localtime') "
                "= date(slot * ?2, 'unixepoch', 'localtime')), SUM(cost_pico), SUM(costed) "
                "FROM (SELECT slot, SUM(cost_pico) AS cost_pico, SUM(costed) AS costed "
                "FROM history_sums WHERE app_id = ?1 AND slot >= ?3 GROUP BY slot) GROUP BY d",
                (app_id, HISTORY_SLOT, low),
            )
            if not all(whole for _, whole, _, _ in days):
                return None
            for day, _, total, costed in days:
                if costed:
                    add(str(day), from_pico(int(total)))
        else:
            column = "feature" if by == "feature" else "model"
            for key, total, costed in self._all(
                f"SELECT {column}, SUM(cost_pico), SUM(costed) FROM history_sums "
                f"WHERE app_id = ? AND slot >= ? GROUP BY {column}",
                (app_id, low),
            ):
                if costed:
                    add(str(key), from_pico(int(total)))
        if since is not None and since < low * HISTORY_SLOT:  # the slot ``since`` falls in
            add_rows(
                "cost_pico IS NOT NULL AND started_at >= ? AND started_at < ?",
                (since, low * HISTORY_SLOT),
            )
        # Costs finer than a picodollar are not in the sums, nor are rows before 1970 (slot -1).
        add_rows("cost_pico IS NULL AND started_at >= ?", (since or 0,))
        if since is None:
            add_rows("cost_pico IS NOT NULL AND started_at < 0", ())
        return dict(sorted(totals.items()))

    def _run_totals(self, app_id: str, since: float | None) -> dict[str, Decimal]:
        """Known cost per run id; calls outside a run are left out. Whole-picodollar costs are
        summed by SQLite, finer ones (no ``cost_pico``) one by one as decimals, exactly."""
        where = "app_id = ? AND run_id IS NOT NULL AND cost IS NOT NULL"
        params: tuple[Any, ...] = (app_id,)
        if since is not None:
            where += " AND started_at >= ?"
            params = (app_id, since)
        totals: dict[str, Decimal] = {}
        for run_id, total, costed in self._all(
            f"SELECT run_id, SUM(cost_pico), COUNT(cost_pico) FROM history WHERE {where} "
            "GROUP BY run_id",
            params,
        ):
            totals[str(run_id)] = from_pico(int(total)) if costed else Decimal(0)
        for run_id, cost in self._all(
            f"SELECT run_id, cost FROM history WHERE {where} AND cost_pico IS NULL", params
        ):
            totals[str(run_id)] += Decimal(cost)
        return dict(sorted(totals.items()))

    def delete_records(self, app_id: str, *, before: float | None = None) -> int:
        if before is None:
            return self._execute("DELETE FROM history WHERE app_id = ?", (app_id,))
        return self._execute(
            "DELETE FROM history WHERE app_id = ? AND started_at < ?", (app_id, before)
        )

    # -- settings -------------------------------------------------------------------------------

    def get_setting(self, app_id: str, key: str) -> str | None:
        row = self._one("SELECT value FROM settings WHERE app_id = ? AND key = ?", (app_id, key))
        return None if row is None else str(row[0])

    def set_setting(self, app_id: str, key: str, value: str | None) -> None:
        if value is None:
            self._execute("DELETE FROM settings WHERE app_id = ? AND key = ?", (app_id, key))
        else:
            self._execute(
                "INSERT INTO settings (app_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value",
                (app_id, key, value),
            )

    def app_ids(self) -> list[str]:
        """Every app id with data in this file (for the ``byom`` CLI)."""
        rows = self._all(
            "SELECT app_id FROM settings UNION SELECT app_id FROM history "
            "UNION SELECT app_id FROM ledger ORDER BY 1"
        )
        return [str(r[0]) for r in rows]


def _local_day(ts: float) -> str:
    """The local date of a time, as ``App.totals`` keys it."""
    return datetime.fromtimestamp(ts).astimezone().date().isoformat()


def _record(row: tuple[Any, ...]) -> CallRecord:
    (
        rid,
        app_id,
        feature,
        provider,
        model,
        outcome,
        started,
        ended,
        pt,
        ct,
        cached,
        cw,
        rt,
        cost,
        source,
        code,
        gen,
        finish,
        run_id,
        searches,
        unpriced,
    ) = row
    return CallRecord(
        id=rid,
        app_id=app_id,
        feature=feature,
        provider=provider,
        model=model,
        outcome=cast(Outcome, outcome),
        started_at=started,
        ended_at=ended,
        usage=Usage(pt, ct, cached, cw, rt, searches, unpriced),
        cost=None if cost is None else Decimal(cost),
        cost_source=cast(CostSource | None, source),
        error_code=code,
        generation_id=gen,
        finish_reason=finish,
        run_id=run_id,
    )
