"""A string that refuses to be shown.

A key spends the user's money. It must not leak through ``repr`` in a traceback, an f-string in a
log line, ``pickle`` into a cache, or ``copy`` into some object graph that is later dumped. Only an
explicit ``reveal()`` yields the value: adapters call it to build the auth header the transport
sends, and vaults to persist a key the user chose to remember — nothing else.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

_MASK = "<secret: redacted>"


class Secret:
    """Holds a secret string; every textual or serialised view is redacted."""

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret takes a str")
        value = value.strip()
        if not value:
            raise ValueError("empty secret")
        if any(ch in value for ch in "\r\n\x00"):
            raise ValueError("a secret may not contain line breaks or NUL")
        self.__value = value

    def reveal(self) -> str:
        """Return the plain value. Call only where it is handed to the provider."""
        return self.__value

    def hint(self) -> str:
        """A short non-secret label (the last four characters) to tell keys apart."""
        return "…" + self.__value[-4:] if len(self.__value) >= 12 else "…"

    def __repr__(self) -> str:
        return _MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self.__value.encode(), other.__value.encode())

    def __hash__(self) -> int:
        return hash((Secret, len(self.__value)))

    def __bool__(self) -> bool:
        return True

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: Any) -> Secret:
        return self

    def __getstate__(self) -> NoReturn:
        raise TypeError("a Secret cannot be serialised")
