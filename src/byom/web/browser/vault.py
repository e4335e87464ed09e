"""The browser key vault (R2.1–R2.3): memory by default, local storage only on opt-in.

The key lives in a Python :class:`~byom.core.secret.Secret` for the life of the page. Only when
the user ticks "remember on this device" is it written to ``localStorage`` — said plainly in the
wizard: any script running on this page can read it from there. ``forget`` removes every copy.
"""

from __future__ import annotations

from typing import Any, Protocol

from byom.core.secret import Secret, clean_key
from byom.core.vault import Where


class KeyValueStorage(Protocol):
    """``window.localStorage`` (or a fake): string keys and values."""

    def getItem(self, key: str) -> Any: ...
    def setItem(self, key: str, value: str) -> None: ...
    def removeItem(self, key: str) -> None: ...


class BrowserVault:
    """Implements :class:`byom.core.vault.Vault` over memory and (on opt-in) ``localStorage``."""

    def __init__(self, storage: KeyValueStorage | None, app_id: str) -> None:
        self._storage = storage
        self._prefix = f"byom:{app_id}:key:"
        self._keys: dict[str, Secret] = {}

    def _slot(self, origin: str) -> str:
        return self._prefix + origin

    def _stored(self, origin: str) -> str | None:
        if self._storage is None:
            return None
        value = self._storage.getItem(self._slot(origin))
        return value if isinstance(value, str) and value else None

    def put(
        self, origin: str, key: Secret, *, remember: bool = False, allow_file: bool = False
    ) -> Where:
        self._keys[origin] = key
        if remember and self._storage is not None:
            self._storage.setItem(self._slot(origin), key.reveal())
            return "browser"
        if self._storage is not None:
            self._storage.removeItem(self._slot(origin))
        return "memory"

    def remember(self, origin: str, remember: bool) -> None:
        """Apply the persistence choice to the key already held for ``origin``."""
        key = self._keys.get(origin)
        if key is not None:
            self.put(origin, key, remember=remember)

    def get(self, origin: str) -> Secret | None:
        key = self._keys.get(origin)
        if key is None:
            stored = self._stored(origin)
            if stored is not None:
                try:
                    key = clean_key(stored)  # one that cannot be sent is no key (pitfall 19)
                except ValueError:
                    return None
                self._keys[origin] = key
        return key

    def where(self, origin: str) -> list[Where]:
        places: list[Where] = []
        if origin in self._keys:
            places.append("memory")
        if self._stored(origin) is not None:
            places.append("browser")
        return places

    def forget(self, origin: str | None = None) -> None:
        origins = list(self._keys) if origin is None else [origin]
        for each in origins:
            self._keys.pop(each, None)
            if self._storage is not None:
                self._storage.removeItem(self._slot(each))
        if origin is None and self._storage is not None:
            # Copies for origins this page never loaded this session.
            length = int(getattr(self._storage, "length", 0) or 0)
            doomed = []
            for index in range(length):
                name = self._storage.key(index)  # type: ignore[attr-defined]
                if isinstance(name, str) and name.startswith(self._prefix):
                    doomed.append(name)
            for name in doomed:
                self._storage.removeItem(name)
