"""httpx transports (CPython shell), sync and async, locked to one provider origin.

The lock is enforced twice: by :class:`HttpxTransport` before it builds a request, and inside
httpx by an origin-checking transport layer, so that nothing — not a redirect, not a mistaken
URL — opens a socket to another origin. ``trust_env=False``: no proxy variables, no ``.netrc``
credentials are picked up from the environment.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx

from byom.core.errors import (
    BadResponse,
    ByomError,
    EgressBlocked,
    Interrupted,
    InvalidRequest,
    ProviderUnavailable,
    RequestTimeout,
)
from byom.providers._wire import MAX_BODY
from byom.providers.base import HttpRequest, origin_of
from byom.transport import SendFailed

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)


def _check(origin: str, url: str) -> None:
    try:
        target = origin_of(url)
    except ByomError:
        raise EgressBlocked() from None
    if target != origin:
        raise EgressBlocked()


class _LockedSync(httpx.BaseTransport):
    def __init__(self, origin: str, inner: httpx.BaseTransport) -> None:
        self._origin, self._inner = origin, inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _check(self._origin, str(request.url))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _LockedAsync(httpx.AsyncBaseTransport):
    def __init__(self, origin: str, inner: httpx.AsyncBaseTransport) -> None:
        self._origin, self._inner = origin, inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _check(self._origin, str(request.url))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _mapped(exc: BaseException, *, streaming: bool) -> SendFailed:
    """Map a failure while sending; whether the provider may have been reached decides the money.

    Only byom's own words travel on: the original exception (its ``str``, ``args``, the request it
    holds, the frames of its traceback) may carry the auth header, so it is dropped here — callers
    raise the result outside their ``except`` block, so it is not even the ``__context__``.
    Anything that is not an httpx error happened in a state byom cannot judge, so it counts as
    possibly sent (the estimate keeps counting until reconciled: the conservative side).
    """
    if isinstance(exc, EgressBlocked):  # refused by the origin lock, before any socket
        return SendFailed(exc, sent=False)
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return SendFailed(RequestTimeout("Could not reach the provider in time."), sent=False)
    if isinstance(exc, httpx.ConnectError):
        return SendFailed(ProviderUnavailable("Could not connect to the provider."), sent=False)
    if isinstance(exc, httpx.TimeoutException):
        return SendFailed(RequestTimeout(), sent=True)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return SendFailed(
            Interrupted()
            if streaming
            else ProviderUnavailable("The connection to the provider was lost."),
            sent=True,
        )
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        return SendFailed(InvalidRequest("byom could not send this request."), sent=False)
    return SendFailed(BadResponse(), sent=True)


def _unsendable(exc: BaseException) -> SendFailed:
    """A request that could not even be built (a header or URL the client refuses): nothing
    left the machine, so its reservation is released."""
    if isinstance(exc, ByomError):
        return SendFailed(exc, sent=False)
    return SendFailed(InvalidRequest("byom could not build this request."), sent=False)


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def _headers(response: httpx.Response) -> dict[str, str]:
    """The response headers as a plain dict: lower-case names, repeated ones joined with ", "
    (what ``dict(response.headers)`` gives, in one pass instead of a scan per name)."""
    return dict(response.headers.items())


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body's chunks; a failure while reading is mapped (see :func:`_mapped`)."""
    failure: SendFailed | None = None
    try:
        yield from response.iter_bytes()
    except Exception as exc:
        failure = _mapped(exc, streaming=True)
    if failure is not None:
        raise failure


class StreamResponse:
    """A streamed response: ``status``, ``headers``, ``iter_bytes()``, ``read()``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers = _headers(response)

    def iter_bytes(self) -> Iterator[bytes]:
        return _chunks(self._response)

    def read(self) -> bytes:
        return _read_capped(self.iter_bytes())


class AsyncStreamResponse:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers = _headers(response)

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        failure: SendFailed | None = None
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except Exception as exc:
            failure = _mapped(exc, streaming=True)
        if failure is not None:
            raise failure

    async def read(self) -> bytes:
        out = bytearray()
        async for chunk in self.aiter_bytes():
            out += chunk
            if len(out) > MAX_BODY:
                raise SendFailed(BadResponse("The provider's reply was too large."), sent=True)
        return bytes(out)


def _read_capped(chunks: Iterator[bytes]) -> bytes:
    out = bytearray()
    for chunk in chunks:
        out += chunk
        if len(out) > MAX_BODY:
            raise SendFailed(BadResponse("The provider's reply was too large."), sent=True)
    return bytes(out)


def _build(
    client: httpx.Client | httpx.AsyncClient, origin: str, request: HttpRequest
) -> httpx.Request:
    """The httpx request, or :class:`SendFailed` (not sent) — raised outside the ``except`` so
    that the client's exception, which holds the headers, is not kept as its context."""
    _check(origin, request.url)
    failure: SendFailed | None = None
    try:
        return client.build_request(
            request.method, request.url, headers=request.wire_headers(), content=request.body
        )
    except Exception as exc:
        failure = _unsendable(exc)
    raise failure


def _tls(origin: str) -> ssl.SSLContext | bool:
    """TLS settings for a transport locked to ``origin``. An ``http://`` origin (a local server,
    the simulator) never uses TLS — the origin lock refuses every other address — so its
    transport skips loading the system's certificate bundle (about 100 ms on the first request).
    The context it gets still requires a valid certificate and trusts none: no TLS connection
    can succeed through it."""
    if origin.startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


class HttpxTransport:
    """Blocking transport for one origin. Thread-safe (httpx's pool is)."""

    def __init__(
        self,
        origin: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.origin = origin
        self._client = httpx.Client(
            transport=_LockedSync(origin, inner or httpx.HTTPTransport(verify=_tls(origin))),
            timeout=timeout,
            trust_env=False,
            follow_redirects=False,
        )

    def _open(self, request: HttpRequest) -> httpx.Response:
        built = _build(self._client, self.origin, request)
        failure: SendFailed | None = None
        try:
            return self._client.send(built, stream=True)
        except Exception as exc:
            failure = _mapped(exc, streaming=request.stream)
        raise failure

    def send(self, request: HttpRequest) -> Response:
        response = self._open(request)
        try:
            body = _read_capped(_chunks(response))
        finally:
            response.close()
        return Response(response.status_code, _headers(response), body)

    @contextmanager
    def stream(self, request: HttpRequest) -> Iterator[StreamResponse]:
        response = self._open(request)
        try:
            yield StreamResponse(response)
        finally:
            response.close()

    def close(self) -> None:
        self._client.close()


class AsyncHttpxTransport:
    """asyncio transport for one origin."""

    def __init__(
        self,
        origin: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.origin = origin
        self._client = httpx.AsyncClient(
            transport=_LockedAsync(origin, inner or httpx.AsyncHTTPTransport(verify=_tls(origin))),
            timeout=timeout,
            trust_env=False,
            follow_redirects=False,
        )

    async def _open(self, request: HttpRequest) -> httpx.Response:
        built = _build(self._client, self.origin, request)
        failure: SendFailed | None = None
        try:
            return await self._client.send(built, stream=True)
        except Exception as exc:
            failure = _mapped(exc, streaming=request.stream)
        raise failure

    async def send(self, request: HttpRequest) -> Response:
        response = await self._open(request)
        try:
            body = await AsyncStreamResponse(response).read()
        finally:
            await response.aclose()
        return Response(response.status_code, _headers(response), body)

    @asynccontextmanager
    async def stream(self, request: HttpRequest) -> AsyncIterator[AsyncStreamResponse]:
        response = await self._open(request)
        try:
            yield AsyncStreamResponse(response)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
