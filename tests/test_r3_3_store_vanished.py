"""R3.3: a store that can no longer vouch for the spend it records admits nothing.

Breaks 7 and 10 of the adversarial review: after ``byom.sqlite3*`` was removed and another byom
process made a new one, a running app kept admitting requests (its connection wrote to the
unlinked file, or a new connection read the new, empty one) — $0.09 admitted against a $0.05
strict allowance; and a read-only database raised a raw ``sqlite3.OperationalError`` out of the
public API. Now the store raises ``StoreUnavailable`` (sticky for a vanished or replaced file),
nothing reaches the network, and ``SQLiteStore.reopen()`` is the user's way on.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.core.call import CallPath
from byom.core.errors import StoreUnavailable
from byom.core.ledger import Ledger
from byom.core.store import MemoryStore
from byom.sim import Simulator
from byom.store.sqlite import FILENAME, SQLiteStore
from conftest import CANARY_KEY, CANARY_PROMPT, chat_count, user

FILES = (FILENAME, FILENAME + "-wal", FILENAME + "-shm")


def _remove_store_files(data_dir: Path) -> None:
    for name in FILES:
        (data_dir / name).unlink(missing_ok=True)


def _in_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` on a new thread (a new SQLite connection); return or raise its result."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = function()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _assert_store_unavailable(function: Callable[[], Any]) -> StoreUnavailable:
    with pytest.raises(StoreUnavailable) as info:
        function()
    error = info.value
    assert error.code == "store_unavailable"
    assert str(error) == StoreUnavailable.default_message  # no SQL, no values, no path
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None
    return error


def _assert_nothing_admitted(app: byom.App, sim: Simulator) -> None:
    """Every way into the ledger fails closed, from this thread and from a new one."""
    sent = chat_count(sim)
    for attempt in (
        lambda: app.chat("summarize", user(CANARY_PROMPT), max_tokens=50),
        lambda: list(app.stream("summarize", user("hello"), max_tokens=50)),
        lambda: _in_thread(lambda: app.chat("summarize", user("hello"), max_tokens=50)),
        app.spent,
        lambda: app.spent("total"),
        app.history,
        lambda: app.set_allowance(Decimal("0.05"), period="total", strict=True),
    ):
        error = _assert_store_unavailable(attempt)
        assert CANARY_PROMPT not in repr(error.args)
    assert chat_count(sim) == sent  # nothing reached the provider
    assert not app.in_flight()


def test_r3_3_store_removed_and_recreated_by_another_app(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("0.05"), strict=True)
    app.chat("summarize", user("hello"), max_tokens=100)
    data_dir = app.data_dir
    _remove_store_files(data_dir)
    newcomer = make_app()  # another app object on the same folder makes a new, empty file
    newcomer.chat("summarize", user("hello"), max_tokens=100)
    assert (data_dir / FILENAME).exists()
    _assert_nothing_admitted(app, sim)
    assert newcomer.spent("total") > 0  # the new file itself works for whoever opened it


SECOND_PROCESS = r"""
import sys
import byom
data_dir, base, key = sys.argv[1], sys.argv[2], sys.argv[3]
with byom.App("Paper digest", features=[byom.Feature("summarize", "worker")],
              data_dir=data_dir) as app:
    app.connect("openrouter", key=key, base_url=base)
    app.choose_model("summarize", "openai/gpt-4o-mini")
    app.chat("summarize", [{"role": "user", "content": "hello"}], max_tokens=100)
print("recreated", flush=True)
"""


def test_r3_3_store_removed_and_recreated_by_another_process(make_app, sim: Simulator) -> None:
    """The review's case: rm byom.sqlite3* while an app runs; another byom process recreates
    it; the running app must not admit against the new, empty file (nor the unlinked one)."""
    app = make_app()
    app.set_allowance(Decimal("0.05"), strict=True)
    app.chat("summarize", user("hello"), max_tokens=100)
    _remove_store_files(app.data_dir)
    child = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, str(app.data_dir), sim.openrouter_base, CANARY_KEY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0 and "recreated" in child.stdout, child.stderr
    _assert_nothing_admitted(app, sim)


def test_r3_3_store_removed_and_not_recreated(make_app, sim: Simulator) -> None:
    app = make_app()
    app.chat("summarize", user("hello"), max_tokens=100)
    _remove_store_files(app.data_dir)
    _assert_nothing_admitted(app, sim)
    assert not (app.data_dir / FILENAME).exists()  # a vanished file is not silently re-made


def test_r3_3_store_file_replaced(make_app, sim: Simulator, tmp_path: Path) -> None:
    app = make_app()
    app.set_allowance(Decimal("0.05"), period="total", strict=True)
    app.chat("summarize", user("hello"), max_tokens=100)
    elsewhere = SQLiteStore(tmp_path / "elsewhere")  # an empty record: no spend, no allowance
    elsewhere.close()
    os.replace(tmp_path / "elsewhere" / FILENAME, app.data_dir / FILENAME)
    _assert_nothing_admitted(app, sim)


def test_r3_3_unavailable_is_sticky_until_reopen(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("0.05"), strict=True)
    app.chat("summarize", user("hello"), max_tokens=100)
    _remove_store_files(app.data_dir)
    newcomer = make_app()
    _assert_nothing_admitted(app, sim)
    newcomer.close()
    _assert_nothing_admitted(app, sim)  # still: nothing changed the user's mind
    assert isinstance(app.store, SQLiteStore) and not app.store.available
    app.store.reopen()  # the user's decision: count from the file now at the path
    assert app.store.available
    assert app.spent() == 0  # the vanished file's spend is not in the new one
    reply = app.chat("summarize", user("hello"), max_tokens=100)
    assert app.spent() == reply.cost
    assert _in_thread(app.spent) == reply.cost


def test_r3_3_a_store_that_never_admits_fails_closed(sim: Simulator, tmp_path: Path) -> None:
    """The core does not fall back to admitting when the store cannot check and reserve."""

    class NeverAdmits(MemoryStore):
        refusing = False

        def atomic(self) -> AbstractContextManager[None]:
            if self.refusing:
                raise StoreUnavailable()
            return super().atomic()

    store = NeverAdmits()
    app = byom.App(
        "Paper digest",
        [byom.Feature("summarize", "worker")],
        data_dir=tmp_path / "data",
        store=store,
    )
    try:
        app.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base)
        app.choose_model("summarize", "openai/gpt-4o-mini")
        store.refusing = True
        _assert_store_unavailable(lambda: app.chat("summarize", user("hello"), max_tokens=50))
        assert chat_count(sim) == 0 and not app.in_flight()
    finally:
        app.close()

    # and at the core's own level, over a SQLite store whose file vanished
    sqlite_store = SQLiteStore(tmp_path / "core")
    try:
        ledger = Ledger(sqlite_store, "core-app", clock=lambda: 1000.0)
        assert CallPath(ledger, clock=lambda: 1000.0).store is sqlite_store
        _remove_store_files(tmp_path / "core")
        _assert_store_unavailable(
            lambda: ledger.reserve(
                Decimal("0.01"), reservation_id="r1", feature="f", model="m", provider="p"
            )
        )
        _assert_store_unavailable(ledger.allowances)
        _assert_store_unavailable(lambda: ledger.spent("total"))
    finally:
        sqlite_store.close()


# -- sqlite3.Error never leaves the public API ---------------------------------------------------


def test_r3_3_corrupt_file_raises_store_unavailable(make_app, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / FILENAME).write_bytes(b"this is not a database " * 400)
    _assert_store_unavailable(lambda: make_app(data_dir=data_dir))


def test_r3_3_database_locked_beyond_the_timeout(
    make_app, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SQLiteStore, "busy_timeout", 0.3, raising=False)
    app = make_app()
    app.set_allowance(Decimal("1"), strict=True)
    holder = sqlite3.connect(app.data_dir / FILENAME, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock, and keeps it
        sent = chat_count(sim)
        _assert_store_unavailable(lambda: app.chat("summarize", user("hello"), max_tokens=50))
        _assert_store_unavailable(
            lambda: app.set_allowance(Decimal("0.05"), period="total", strict=True)
        )
        assert chat_count(sim) == sent and not app.in_flight()
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    app.chat("summarize", user("hello"), max_tokens=50)  # a lock is not a lost file: not sticky


class _FlakyConnection(sqlite3.Connection):
    """A connection whose statements fail with a disk I/O error once ``broken`` is set."""

    broken = threading.Event()

    def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if self.broken.is_set():
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(*args, **kwargs)


@pytest.fixture
def flaky_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs["factory"] = _FlakyConnection
        return real(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    _FlakyConnection.broken.clear()
    yield _FlakyConnection.broken
    _FlakyConnection.broken.clear()


def test_r3_3_disk_io_error_raises_store_unavailable(
    make_app, sim: Simulator, flaky_disk: threading.Event
) -> None:
    app = make_app()
    app.set_allowance(Decimal("1"), strict=True)
    app.chat("summarize", user("hello"), max_tokens=50)
    flaky_disk.set()
    sent = chat_count(sim)
    for attempt in (
        lambda: app.chat("summarize", user("hello"), max_tokens=50),
        app.spent,
        app.history,
        lambda: app.set_allowance(Decimal("0.05"), period="total"),
        app.unreconciled,
        app.delete_history,
    ):
        _assert_store_unavailable(attempt)
    assert chat_count(sim) == sent and not app.in_flight()
    flaky_disk.clear()
    assert len(app.history()) == 1  # a failing disk is not a lost file: not sticky


# -- read-only file or folder --------------------------------------------------------------------


@contextmanager
def _immutable(*paths: Path) -> Iterator[None]:
    """``chattr +i``: read-only even for root (who ignores file modes), at the kernel level."""
    done: list[Path] = []
    try:
        for path in paths:
            result = subprocess.run(
                ["chattr", "+i", str(path)], capture_output=True, check=False, timeout=10
            )
            if result.returncode != 0:
                pytest.skip("chattr +i is not available here")
            done.append(path)
        yield
    finally:
        for path in done:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


needs_chattr = pytest.mark.skipif(
    shutil.which("chattr") is None or os.geteuid() != 0, reason="needs chattr and root"
)


@needs_chattr
def test_r3_3_read_only_file(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("1"), strict=True)
    app.chat("summarize", user("hello"), max_tokens=50)
    data_dir = app.data_dir
    with _immutable(data_dir / FILENAME):
        # a new connection (a new thread, or a new app) can only read: writes fail closed
        sent = chat_count(sim)
        _assert_store_unavailable(
            lambda: _in_thread(lambda: app.chat("summarize", user("hello"), max_tokens=50))
        )
        assert chat_count(sim) == sent and not app.in_flight()
        _assert_store_unavailable(lambda: make_app(data_dir=data_dir))


@needs_chattr
def test_r3_3_read_only_folder(make_app, sim: Simulator) -> None:
    app = make_app()
    app.set_allowance(Decimal("1"), period="total", strict=True)
    data_dir = app.data_dir
    app.close()  # the last connection removes -wal and -shm; a new one must create them
    assert not (data_dir / (FILENAME + "-wal")).exists()
    with _immutable(data_dir):
        _assert_store_unavailable(lambda: make_app(data_dir=data_dir))
    assert chat_count(sim) == 0


READ_ONLY_AS_USER = r"""
import json, os, sys
import byom
from byom.errors import StoreUnavailable
root = sys.argv[1]
out = {}
for case in ("file", "folder"):
    data_dir = os.path.join(root, case)
    byom.App("Paper digest", features=[byom.Feature("summarize", "worker")],
             data_dir=data_dir).close()
    if case == "file":
        os.chmod(os.path.join(data_dir, "byom.sqlite3"), 0o400)
    else:
        os.chmod(data_dir, 0o500)
    try:
        byom.App("Paper digest", features=[byom.Feature("summarize", "worker")],
                 data_dir=data_dir).close()
        out[case] = "opened"
    except StoreUnavailable as exc:
        out[case] = exc.code
    except BaseException as exc:
        out[case] = "raw " + type(exc).__name__
out["root"] = os.geteuid() == 0
print(json.dumps(out))
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_r3_3_read_only_for_a_normal_user() -> None:
    """What a user (not root) meets with a read-only byom.sqlite3 or data folder."""
    root = Path(tempfile.mkdtemp(prefix="byom-ro-"))
    try:
        argv = [sys.executable, "-c", READ_ONLY_AS_USER, str(root)]
        env = {**os.environ, "HOME": str(root), "BYOM_DATA_DIR": str(root)}
        if os.geteuid() == 0:  # drop to an ordinary user, whom file modes do bind
            if shutil.which("setpriv") is None:
                pytest.skip("needs setpriv to run as an ordinary user")
            os.chown(root, 65534, 65534)
            # The checkout may sit where that user cannot read (a 0700 ``mktemp -d``): give it
            # a readable copy of byom and the interpreter itself, not the venv's path to it.
            code = root / "code"
            shutil.copytree(Path(byom.__file__).parent, code / "byom")
            for folder in (code, *code.rglob("*")):
                folder.chmod(0o755 if folder.is_dir() else 0o644)
            argv = [os.path.realpath(sys.executable), *argv[1:]]
            env["PYTHONPATH"] = str(code)
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        child = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert child.returncode == 0, child.stderr
        assert json.loads(child.stdout) == {
            "file": "store_unavailable",
            "folder": "store_unavailable",
            "root": False,
        }
    finally:
        for folder in root.glob("*"):
            folder.chmod(0o700)
        shutil.rmtree(root, ignore_errors=True)
