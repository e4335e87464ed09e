"""Where the key lives (R2.1–R2.3, R2.6).

* **Memory** by default: the key dies with the process.
* **OS keyring** only when the user opts in and a real keyring backend exists (``keyring`` is an
  optional extra; its "fail" backend counts as none).
* **A file readable only by the user** (mode 0600 in a 0700 folder) only when the user opts in
  *and* consents to a plain file because no keyring exists. Never silently.

Each key is bound to the provider origin it was given for and is never handed out for another.
``forget`` removes every copy: memory, keyring and file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from byom.core.errors import KeyStorageUnavailable
from byom.core.secret import Secret
from byom.core.vault import Where

log = logging.getLogger("byom")


def _keyring_module():  # type: ignore[no-untyped-def]
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
    """The key store for one app id. Keys are addressed by provider origin."""

    def __init__(self, directory: str | os.PathLike[str], app_id: str) -> None:
        self.app_id = app_id
        self._dir = Path(directory) / "keys"
        self._file = self._dir / f"{app_id}.json"
        self._memory: dict[str, Secret] = {}

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
            self._drop_file_entry(origin)
            return "keyring"
        if not allow_file:
            raise KeyStorageUnavailable()
        entries = self._read_file()
        entries[origin] = key.reveal()
        self._write_file(entries)
        return "file"

    def get(self, origin: str) -> Secret | None:
        """The key for exactly this origin: memory, then keyring, then the file."""
        key = self._memory.get(origin)
        if key is not None:
            return key
        keyring = _keyring_module()
        if keyring is not None:
            with contextlib.suppress(Exception):
                value = keyring.get_password(self._service, origin)
                if value:
                    key = Secret(value)
        if key is None:
            value = self._read_file().get(origin)
            if isinstance(value, str) and value:
                key = Secret(value)
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
        """Remove the key for ``origin`` (all origins when ``None``) from every store."""
        origins = (
            [origin] if origin is not None else list(set(self._memory) | set(self._read_file()))
        )
        keyring = _keyring_module()
        for o in origins:
            self._memory.pop(o, None)
            if keyring is not None:
                with contextlib.suppress(Exception):
                    keyring.delete_password(self._service, o)
            self._drop_file_entry(o)

    # -- the consented plain file ---------------------------------------------------------------

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(data, dict)
            else {}
        )

    def _drop_file_entry(self, origin: str) -> None:
        entries = self._read_file()
        if origin in entries:
            del entries[origin]
            self._write_file(entries)

    def _write_file(self, entries: dict[str, str]) -> None:
        if not entries:
            with contextlib.suppress(FileNotFoundError):
                self._file.unlink()
            return
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self._dir, 0o700)
        tmp = self._file.with_name(self._file.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._file)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
