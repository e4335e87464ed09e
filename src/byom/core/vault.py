"""The key-vault contract: where a key is held, per provider origin (R2.1–R2.3).

Shells implement it: the CPython :class:`byom.store.vault.KeyVault` (memory, OS keyring, or a
consented 0600 file) and the browser's (memory, or local storage on opt-in).
"""

from __future__ import annotations

from typing import Literal, Protocol

from byom.core.secret import Secret

Where = Literal["memory", "keyring", "file", "browser"]


class Vault(Protocol):
    def put(
        self, origin: str, key: Secret, *, remember: bool = False, allow_file: bool = False
    ) -> Where:
        """Hold ``key`` for ``origin`` in memory; persist it only when ``remember``."""
        ...

    def get(self, origin: str) -> Secret | None:
        """The key for exactly this origin, or ``None``."""
        ...

    def where(self, origin: str) -> list[Where]:
        """Every place a copy is held."""
        ...

    def forget(self, origin: str | None = None) -> None:
        """Remove every copy for ``origin`` (all origins when ``None``)."""
        ...


class MemoryVault:
    """Keeps keys in memory only; ``remember`` is refused (nothing to persist to)."""

    def __init__(self) -> None:
        self._keys: dict[str, Secret] = {}

    def put(
        self, origin: str, key: Secret, *, remember: bool = False, allow_file: bool = False
    ) -> Where:
        self._keys[origin] = key
        if remember:
            from byom.core.errors import KeyStorageUnavailable

            raise KeyStorageUnavailable()
        return "memory"

    def get(self, origin: str) -> Secret | None:
        return self._keys.get(origin)

    def where(self, origin: str) -> list[Where]:
        return ["memory"] if origin in self._keys else []

    def forget(self, origin: str | None = None) -> None:
        if origin is None:
            self._keys.clear()
        else:
            self._keys.pop(origin, None)
