"""Where the key lives (R2.1–R2.3, R2.6).

* **Memory** by default: the key dies with the process.
* **OS keyring** only when the user opts in and a real keyring backend exists (``keyring`` is an
  optional extra; its "fail" backend counts as none).
* **A file readable only by the user** (mode 0600 in a 0700 folder) only when the user opts in
  *and* consents to a plain file because no keyring exists. Never silently.

Each key is bound to the provider origin it was given for and is never handed out for another.
``forget`` removes every copy: memory, keyring and file — including any temporary copy a crashed
write left next to the file (see :class:`KeyVault`).

The OS keyring is not even looked for unless persistence is involved: detecting its backend is
slow (it loads every installed backend), and most starts of an app never need it. A key
remembered in the keyring leaves a marker, ``<data dir>/keys/<app id>.keyring`` (the provider
origins, never the key), so a return visit asks the keyring only for an origin the marker
names; ``put(remember=True)``, :meth:`KeyVault.where` and :meth:`KeyVault.forget` — what the
user asked for — always ask it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import stat
import sys
import threading
from pathlib import Path
from typing import Any

from byom.core.errors import InvalidKey, KeyStorageUnavailable
from byom.core.secret import Secret, clean_key
from byom.core.vault import Where

log = logging.getLogger("byom")

#: Serialises file writes, leftover sweeps and reads of one key file within this process, so a
#: sweep never removes the temporary file of a write still in flight in another thread.
_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _file_lock(path: Path) -> threading.Lock:
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(os.path.abspath(path), threading.Lock())


def _process_alive(pid: int) -> bool:
    """Whether a process with this id exists. Errs on "alive" when it cannot tell."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() != 87  # ERROR_INVALID_PARAMETER: no such process
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def _keyring_module() -> Any:
    """The ``keyring`` module when a usable backend exists, else ``None``."""
    try:
        import keyring
        from keyring.backends import fail
    except Exception:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring):
        return None
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:
        return None
    return keyring


def keyring_available() -> bool:
    return _keyring_module() is not None


class KeyVault:
    """The key store for one app id. Keys are addressed by provider origin.

    The consented file is ``<data dir>/keys/<app id>.json``. It is written atomically: a
    temporary ``<app id>.json.<pid>.<random>.tmp`` is created exclusively (``O_CREAT|O_EXCL``,
    plus ``O_NOFOLLOW`` where the platform has it) with mode 0600, fsynced, then renamed over the
    file. A process killed between the fsync and the rename leaves that temporary copy behind,
    holding the key. So:

    * constructing a ``KeyVault`` (every start-up) removes this app's leftovers whose writing
      process is dead — the pid is in the name, so a write in progress in another live process
      is left alone;
    * :meth:`forget` (and so ``App.forget_key``/``rotate_key`` and a 401) removes *every*
      leftover of this app's key file, whoever wrote it;
    * a leftover never makes a new write fail: each write uses a fresh random name.

    A symlink planted at the key-file path is **ignored**: it is never read through (no key is
    loaded from it and :meth:`where` does not report it as a stored copy), and a write replaces
    the link itself rather than writing to its target. :meth:`forget` removes such a link.
    """

    def __init__(self, directory: str | os.PathLike[str], app_id: str) -> None:
        self.app_id = app_id
        self._dir = Path(directory) / "keys"
        self._file = self._dir / f"{app_id}.json"
        self._marker = self._dir / f"{app_id}.keyring"
        self._memory: dict[str, Secret] = {}
        self._lock = _file_lock(self._file)
        # <app id>.json.<pid>.tmp (older byom) or <app id>.json.<pid>.<random hex>.tmp
        self._leftover = re.compile(
            re.escape(self._file.name) + r"\.([0-9]{1,10})(?:\.[0-9a-f]+)?\.tmp"
        )
        self._sweep(only_dead=True)

    @property
    def _service(self) -> str:
        return f"byom:{self.app_id}"

    def put(
        self, origin: str, key: Secret, *, remember: bool = False, allow_file: bool = False
    ) -> Where:
        """Hold ``key`` for ``origin``; persist only when asked. Returns where it was persisted.

        Raises :class:`KeyStorageUnavailable` when ``remember`` is asked, no keyring exists and
        the user has not consented to a file (the key is still held in memory).
        """
        self._memory[origin] = key
        if not remember:
            return "memory"
        keyring = _keyring_module()
        if keyring is not None:
            keyring.set_password(self._service, origin, key.reveal())
            self._mark(origin, True)
            self._drop_file_entry(origin)
            return "keyring"
        if not allow_file:
            raise KeyStorageUnavailable()
        with self._lock:
            entries = self._read_file()
            entries[origin] = key.reveal()
            self._write_file(entries)
        return "file"

    def get(self, origin: str) -> Secret | None:
        """The key for exactly this origin: memory, then keyring, then the file."""
        key = self._memory.get(origin)
        if key is not None:
            return key
        keyring = _keyring_module() if origin in self._marked() else None
        if keyring is not None:
            with contextlib.suppress(Exception):
                value = keyring.get_password(self._service, origin)
                if value:
                    key = clean_key(value)  # one that cannot be sent is no key (pitfall 19)
        if key is None:
            value = self._read_file().get(origin)
            if isinstance(value, str) and value:
                with contextlib.suppress(InvalidKey):
                    key = clean_key(value)
        if key is not None:
            self._memory[origin] = key
        return key

    def where(self, origin: str) -> list[Where]:
        """Every place a copy of the key for ``origin`` is held."""
        places: list[Where] = []
        if origin in self._memory:
            places.append("memory")
        keyring = _keyring_module()
        if keyring is not None:
            with contextlib.suppress(Exception):
                if keyring.get_password(self._service, origin):
                    places.append("keyring")
        if origin in self._read_file():
            places.append("file")
        return places

    def forget(self, origin: str | None = None) -> None:
        """Remove the key for ``origin`` (all origins when ``None``) from every store, and every
        temporary copy of this app's key file a crashed write left behind."""
        origins = (
            [origin] if origin is not None else list(set(self._memory) | set(self._read_file()))
        )
        keyring = _keyring_module()
        origins = list(dict.fromkeys([*origins, *(self._marked() if origin is None else [])]))
        for o in origins:
            self._memory.pop(o, None)
            if keyring is not None:
                with contextlib.suppress(Exception):
                    keyring.delete_password(self._service, o)
            self._drop_file_entry(o)
            self._mark(o, False)
        if self._file.is_symlink():
            with contextlib.suppress(OSError):
                self._file.unlink()  # not ours (see the class docstring); never followed
        self._sweep(only_dead=False)

    # -- the keyring marker -----------------------------------------------------------------------

    def _marked(self) -> list[str]:
        """The origins whose key was remembered in the keyring (``[]`` when none or unreadable)."""
        try:
            if self._marker.is_symlink():
                return []
            data = json.loads(self._marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [o for o in data if isinstance(o, str)] if isinstance(data, list) else []

    def _mark(self, origin: str, remembered: bool) -> None:
        """Add ``origin`` to the marker, or remove it (the marker goes when it is empty)."""
        with self._lock:
            marked = [o for o in self._marked() if o != origin]
            if remembered:
                marked.append(origin)
            try:
                if not marked:
                    self._marker.unlink(missing_ok=True)
                    return
                self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                tmp = self._marker.with_name(f"{self._marker.name}.{os.getpid()}.marker")
                tmp.write_text(json.dumps(marked), encoding="utf-8")
                os.replace(tmp, self._marker)
            except OSError:
                log.warning("could not update the keyring marker of app %s", self.app_id)

    # -- the consented plain file ---------------------------------------------------------------

    def _sweep(self, *, only_dead: bool) -> None:
        """Remove temporary copies of this app's key file: those of dead writers, or all."""
        try:
            names = os.listdir(self._dir)
        except OSError:
            return
        with self._lock:  # no write of this process is in flight while we hold it
            for name in names:
                match = self._leftover.fullmatch(name)
                if match is None:
                    continue
                pid = int(match.group(1))
                if only_dead and pid != os.getpid() and _process_alive(pid):
                    continue
                try:
                    os.unlink(self._dir / name)
                except FileNotFoundError:
                    continue
                except OSError:
                    log.warning(
                        "could not remove a leftover temporary key file of app %s", self.app_id
                    )
                    continue
                log.info("removed a leftover temporary key file of app %s", self.app_id)

    def _read_file(self) -> dict[str, str]:
        """The file's entries; ``{}`` when it is missing, unreadable, not JSON, or not a regular
        file reached without following a symlink."""
        try:
            if not _NOFOLLOW and self._file.is_symlink():
                return {}
            # O_NONBLOCK: a FIFO planted at the path must not hang us (regular files ignore it).
            fd = os.open(self._file, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _BINARY)
        except OSError:  # missing, or ELOOP: a symlink at the key path
            return {}
        try:
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    return {}
                data = json.loads(handle.read().decode("utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(data, dict)
            else {}
        )

    def _drop_file_entry(self, origin: str) -> None:
        with self._lock:
            entries = self._read_file()
            if origin in entries:
                del entries[origin]
                self._write_file(entries)

    def _open_temp(self) -> tuple[int, Path]:
        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | _NOFOLLOW | _BINARY
        for _ in range(8):
            tmp = self._file.with_name(
                f"{self._file.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
            )
            try:
                return os.open(tmp, flags, 0o600), tmp
            except FileExistsError:
                continue
        raise FileExistsError(f"could not create a temporary key file for app {self.app_id}")

    def _write_file(self, entries: dict[str, str]) -> None:
        """Write ``entries`` atomically (caller holds ``self._lock``)."""
        if not entries:
            with contextlib.suppress(FileNotFoundError):
                self._file.unlink()
            return
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self._dir, 0o700)
        fd, tmp = self._open_temp()
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # whatever the umask
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._file)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
