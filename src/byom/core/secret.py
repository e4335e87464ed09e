"""A string that refuses to be shown.

A key spends the user's money. It must not leak through ``repr`` in a traceback, an f-string in a
log line, ``pickle`` into a cache, or ``copy`` into some object graph that is later dumped. Only an
explicit ``reveal()`` yields the value: adapters call it to build the auth header the transport
sends, and vaults to persist a key the user chose to remember — nothing else.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

from byom.core.errors import InvalidKey

_MASK = "<secret: redacted>"
#: Longest key byom accepts (real provider keys are well under 256 characters).
MAX_KEY_LENGTH = 4096
#: Characters a copy-paste brings that nobody means as part of a key: byte-order mark, zero-width
#: spaces and joiners, bidirectional marks and isolates, the soft hyphen (pitfall 19).
_INVISIBLE = frozenset(
    "\ufeff\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u00ad\u180e"
)


def _header_safe(value: str) -> bool:
    """Whether ``value`` can travel as (part of) an HTTP header value as it is: visible ASCII
    (``!`` to ``~``) and inner spaces only — no control character, no line break, nothing an
    HTTP client would have to encode (and then raise with the whole header in the error)."""
    return value.isascii() and value.isprintable() and value == value.strip()


def clean_key(value: str | Secret) -> Secret:
    """The user's key as a :class:`Secret`, cleaned of what a copy-paste adds, or
    :class:`~byom.core.errors.InvalidKey`.

    Removes surrounding whitespace (any Unicode space, line or paragraph separator) and the
    invisible characters of ``_INVISIBLE`` wherever they are. What is left must be 1 to
    ``MAX_KEY_LENGTH`` visible ASCII characters with no inner space: every provider's keys
    are, and anything else would make the HTTP client raise with the key in its exception.
    The refusal never contains the key, and no frame of its traceback holds it as a local.
    """
    raw = value.reveal() if isinstance(value, Secret) else value
    del value
    if not isinstance(raw, str):
        del raw
        raise InvalidKey("A key must be text.")
    ok = _clean_ok(raw)
    if ok is None:
        del raw
        raise InvalidKey()
    del raw
    return Secret(ok)


def _clean_ok(raw: str) -> str | None:
    """The cleaned key, or ``None`` (never raises: its frame holds the raw value)."""
    text = "".join(ch for ch in raw if ch not in _INVISIBLE).strip()
    if not text or len(text) > MAX_KEY_LENGTH or " " in text or not _header_safe(text):
        return None
    return text


def _problem(value: str) -> str:
    if not value:
        return "A key cannot be empty."
    if any(ch in value for ch in "\r\n\x00"):
        return "A key may not contain line breaks or NUL."
    return ""


class Secret:
    """Holds a secret string; every textual or serialised view is redacted."""

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            del value
            raise TypeError("Secret takes a str")
        value = value.strip()
        problem = _problem(value)
        if problem:
            del value  # not a local of the frame the error's traceback keeps
            raise InvalidKey(problem)
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
