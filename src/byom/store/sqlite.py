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
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from byom.core.errors import StoreUnavailable
from byom.core.store import CallRecord, LedgerRow, Outcome, ReservationState
from byom.core.usage import CostSource, Usage

FILENAME = "byom.sqlite3"
SCHEMA_VERSION = 1

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
    generation_id TEXT
);
CREATE INDEX IF NOT EXISTS ledger_by_time ON ledger (app_id, created_at, counted_pico);
CREATE INDEX IF NOT EXISTS ledger_by_session ON ledger (app_id, session_id, counted_pico);
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
    finish_reason TEXT
);
CREATE INDEX IF NOT EXISTS history_by_time ON history (app_id, started_at);
CREATE TABLE IF NOT EXISTS settings (
    app_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);
"""

_HISTORY_COLUMNS = (
    "id, app_id, feature, provider, model, outcome, started_at, ended_at, prompt_tokens, "
    "completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost, cost_source, "
    "error_code, generation_id, finish_reason"
)
_LEDGER_COLUMNS = (
    "id, app_id, session_id, owner, created_at, state, estimate_pico, counted_pico, feature, "
    "model, provider, generation_id"
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
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.recover_orphans()
        except sqlite3.Error:
            self.close()
            raise _unavailable() from None
        except StoreUnavailable:
            self.close()
            raise

    def reopen(self) -> None:
        """The user's decision after :class:`~byom.core.errors.StoreUnavailable`: open the file
        now at the path afresh (an empty one is created if none is there) and count spend from
        what it holds. Spend recorded only in a vanished file is no longer counted — which is
        why byom never does this by itself. Call it with no request in flight."""
        self.close()
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
        sql = "SELECT COALESCE(SUM(counted_pico), 0) FROM ledger WHERE app_id = ?"
        params: list[Any] = [app_id]
        if session_id is not None:
            sql += " AND session_id = ?"
            params.append(session_id)
        if since is not None:
            sql += " AND created_at >= ?"
            params.append(since)
        row = self._one(sql, tuple(params))
        return 0 if row is None else int(row[0])

    def add_ledger_row(self, row: LedgerRow) -> None:
        self._execute(
            f"INSERT INTO ledger ({_LEDGER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
        self._execute(
            f"INSERT OR REPLACE INTO history ({_HISTORY_COLUMNS}) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
        usage=Usage(pt, ct, cached, cw, rt),
        cost=None if cost is None else Decimal(cost),
        cost_source=cast(CostSource | None, source),
        error_code=code,
        generation_id=gen,
        finish_reason=finish,
    )
