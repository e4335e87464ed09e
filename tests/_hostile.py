"""A hostile provider for tests: transports that answer every request with canned bytes.

Plugged in through ``App(transport_factory=..., async_transport_factory=...)`` — the same seam
the browser uses for ``fetch`` — so the whole call path runs, only the bytes are the attacker's.
Each transport records the requests it was given (method and URL; never headers or bodies).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from byom.providers.base import HttpRequest


@dataclass
class Canned:
    """What the hostile provider answers: a status, headers and body (or stream chunks)."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: tuple[bytes, ...] = ()
    sent: list[str] = field(default_factory=list)

    def record(self, request: HttpRequest) -> None:
        self.sent.append(f"{request.method} {request.url}")


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes
    chunks: tuple[bytes, ...]

    def iter_bytes(self) -> Iterator[bytes]:
        yield from self.chunks or (self.body,)

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks or (self.body,):
            yield chunk

    async def aread(self) -> bytes:
        return b"".join(self.chunks or (self.body,))


class _AsyncResponse(_Response):
    async def read(self) -> bytes:  # type: ignore[override]
        return await self.aread()


class HostileTransport:
    def __init__(self, canned: Canned) -> None:
        self.canned = canned

    def _response(self, cls: type[_Response] = _Response) -> _Response:
        c = self.canned
        return cls(c.status, dict(c.headers), c.body, c.chunks)

    def send(self, request: HttpRequest) -> _Response:
        request.wire_headers()  # what a real transport does at the moment of sending
        self.canned.record(request)
        return self._response()

    @contextmanager
    def stream(self, request: HttpRequest) -> Iterator[_Response]:
        request.wire_headers()
        self.canned.record(request)
        yield self._response()

    def close(self) -> None:
        pass


class AsyncHostileTransport(HostileTransport):
    async def send(self, request: HttpRequest) -> _Response:  # type: ignore[override]
        request.wire_headers()
        self.canned.record(request)
        return self._response(_AsyncResponse)

    @asynccontextmanager
    async def stream(self, request: HttpRequest) -> AsyncIterator[_Response]:  # type: ignore[override]
        request.wire_headers()
        self.canned.record(request)
        yield self._response(_AsyncResponse)

    async def aclose(self) -> None:
        pass


def factories(canned: Canned) -> dict[str, Any]:
    """``App`` keyword arguments that route every request to the hostile provider."""
    return {
        "transport_factory": lambda origin: HostileTransport(canned),
        "async_transport_factory": lambda origin: AsyncHostileTransport(canned),
    }


def sse(*events: Mapping[str, Any] | str, event_names: tuple[str, ...] = ()) -> bytes:
    """An SSE body: each item a JSON ``data:`` event (``event:`` names for Anthropic)."""
    out = []
    for index, item in enumerate(events):
        name = event_names[index] if index < len(event_names) else ""
        data = item if isinstance(item, str) else json.dumps(item)
        out.append((f"event: {name}\n" if name else "") + f"data: {data}\n\n")
    return "".join(out).encode()


def completion(usage: Any, **overrides: Any) -> bytes:
    """A ``chat.completion`` body (OpenRouter / OpenAI shape) with the given ``usage``."""
    body: dict[str, Any] = {
        "id": "gen-1700000000-abcdefghijklmnop",
        "object": "chat.completion",
        "model": "openai/gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
    }
    if usage is not ...:
        body["usage"] = usage
    body.update(overrides)
    return json.dumps(body).encode()
