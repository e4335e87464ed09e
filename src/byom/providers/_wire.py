"""Wire helpers shared by adapters: JSON with exact decimals, SSE framing, header lookups."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from byom.core.errors import BadResponse, InvalidRequest

#: Largest response body or single stream line byom accepts (a guard against runaway input).
MAX_BODY = 16 * 1024 * 1024


def dumps(obj: Any) -> bytes:
    """JSON-encode ``obj`` with ``Decimal`` values written as exact JSON numbers."""
    decimals: dict[str, str] = {}
    markers: list[str] = []  # made with the first decimal: most bodies have none

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError("non-finite decimal")
            if not markers:
                markers.append("__byom_dec_" + secrets.token_hex(8) + "_")
            token = f"{markers[0]}{len(decimals)}"
            decimals[token] = format(value, "f")
            return token
        raise TypeError(f"cannot encode {type(value).__name__}")

    text = json.dumps(obj, default=default, ensure_ascii=False, separators=(",", ":"))
    if decimals:
        pattern = '"(' + re.escape(markers[0]) + r'\d+)"'
        text = re.sub(pattern, lambda m: decimals[m.group(1)], text)
    return text.encode("utf-8")


def loads(body: bytes | str) -> Any:
    """Parse JSON with exact decimals. Raises :class:`BadResponse` (no content echoed)."""
    if len(body) > MAX_BODY:
        raise BadResponse("The provider's reply was too large.")
    try:
        # What json.loads(body, parse_float=Decimal) does, with one decoder made once.
        if isinstance(body, bytes | bytearray):
            body = body.decode(json.detect_encoding(body), "surrogatepass")
        return _DECODER.decode(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadResponse() from None


_DECODER = json.JSONDecoder(parse_float=Decimal)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup."""
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:
            return value
    return None


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    value = header(headers, "retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare path; keeps imports light

        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    if seconds != seconds or seconds < 0:  # NaN or past
        return 0.0
    return min(seconds, 24 * 3600.0)


class SSEDecoder:
    """Incremental Server-Sent Events framing: bytes in, ``(event, data)`` pairs out.

    Comment lines (starting with ``:``, e.g. keep-alives) are skipped; multi-line ``data`` is
    joined with newlines; both LF and CRLF line ends are accepted.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, data: bytes) -> Iterator[tuple[str, str]]:
        self._buffer += data
        if len(self._buffer) > MAX_BODY:
            raise BadResponse("The provider's stream was too large.")
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                return
            raw = self._buffer[:newline]
            self._buffer = self._buffer[newline + 1 :]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BadResponse() from None
            event = self._line(line)
            if event is not None:
                yield event

    def _line(self, line: str) -> tuple[str, str] | None:
        if not line:
            if not self._data and not self._event:
                return None
            event = (self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def close(self) -> Iterator[tuple[str, str]]:
        """Flush a final event that was not followed by a blank line."""
        if self._buffer:
            rest, self._buffer = self._buffer, b""
            yield from self.feed(rest + b"\n")
        if self._data:
            yield (self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []


def as_int(value: Any) -> int:
    """A non-negative token count from a JSON value (anything else counts as 0)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return max(0, int(value))
    return 0


#: The largest token count byom believes for one request; a larger figure is unreadable.
MAX_TOKEN_COUNT = 100_000_000


def token_count(value: Any) -> int | None:
    """A token count as reported, or ``None`` when it cannot be read: absent, ``null``, a
    string, a boolean, negative, fractional, not finite, or beyond ``MAX_TOKEN_COUNT``.

    Unreadable is not zero (pitfall 23): a usage object whose counts cannot be read is treated
    like missing usage, so the request's estimate keeps counting until it is reconciled.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_TOKEN_COUNT:
        return value
    return None


def optional_count(value: Any) -> int | None:
    """A detail count that may be left out: absent or ``null`` is 0; present but unreadable is
    ``None`` (the whole usage is then unreadable)."""
    return 0 if value is None else token_count(value)


def as_decimal(value: Any) -> Decimal | None:
    """A non-negative money amount from a JSON value, or ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            return None
    if isinstance(value, Decimal) and value.is_finite() and value >= 0:
        return value
    return None


def get(obj: Any, *path: str | int) -> Any:
    """Safe nested lookup in parsed JSON; ``None`` where the shape does not match."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or len(obj) <= step:
                return None
            obj = obj[step]
        elif type(obj) is dict:  # what json.loads gives: no ABC check needed
            obj = obj.get(step)
        else:
            if not isinstance(obj, Mapping):
                return None
            obj = obj.get(step)
    return obj


def tool_arguments(value: Any) -> dict[str, Any]:
    """A tool call's arguments, as a normalised assistant message carries them (JSON text, or
    an object already), parsed into the object a provider wants (Anthropic ``tool_use.input``,
    Ollama ``arguments``). Empty text means no arguments (``{}``).

    Raises :class:`InvalidRequest` for anything else — text that is not a JSON object, another
    type — without echoing the arguments (they are content)."""
    if isinstance(value, Mapping):
        return dict(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            parsed = loads(value)
        except BadResponse:
            parsed = None
        if isinstance(parsed, Mapping):
            return dict(parsed)
    raise InvalidRequest("A tool call's arguments must be a JSON object.")


def tool_calls_of(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``tool_calls`` of a normalised assistant message (``[]`` when it has none).

    Raises :class:`InvalidRequest` when the field is not a list of objects."""
    calls = message.get("tool_calls")
    if calls is None:
        return []
    if not isinstance(calls, list | tuple) or not all(isinstance(c, Mapping) for c in calls):
        raise InvalidRequest("An assistant message's tool_calls must be a list of objects.")
    return list(calls)


def wire_str(value: Any, max_length: int = 1024) -> str | None:
    """A provider-sent id or name as it came, when it is a string of sane length (else
    ``None``: the core then treats the call as unreadable or gives it an id)."""
    return value if isinstance(value, str) and len(value) <= max_length else None
