"""The ``fetch`` transport (R2.4): sends only to the connected provider's origin.

A transport is made for one origin and refuses any other *before* ``fetch`` is called; the
page's ``connect-src`` is a second lock behind it. Requests go with ``credentials: "omit"``,
``referrerPolicy: "no-referrer"``, ``cache: "no-store"`` and ``redirect: "error"`` (a redirect
could lead elsewhere), and carry a timeout. A streamed body is read with
``response.body.getReader()``, chunk by chunk.

What a failure means for the money (mirrors the httpx transport): an origin refusal sent nothing;
a ``fetch`` that fails without a response may or may not have reached the provider — for a
request that can be charged it is treated as sent (its estimate keeps counting until cleared or
reconciled); a body cut after the headers is :class:`~byom.core.errors.Interrupted`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from byom.core.errors import (
    ByomError,
    Cancelled,
    EgressBlocked,
    Interrupted,
    ProviderUnavailable,
    RequestTimeout,
)
from byom.providers._wire import MAX_BODY
from byom.providers.base import HttpRequest, origin_of
from byom.transport import SendFailed

DEFAULT_TIMEOUT = 120.0


def check_origin(origin: str, url: str) -> None:
    """Raise :class:`SendFailed` (nothing sent) unless ``url`` is on ``origin``."""
    try:
        target = origin_of(url)
    except ByomError:
        raise SendFailed(EgressBlocked(), sent=False) from None
    if target != origin:
        raise SendFailed(EgressBlocked(), sent=False)


class FetchResponse:
    """Status, lower-cased headers and (once read) the body of a fetch response."""

    def __init__(self, js_response: Any, on_abort: Any) -> None:
        self._response = js_response
        self.status = int(js_response.status)
        self.headers: dict[str, str] = {}
        entries = js_response.headers.entries()
        while True:
            item = entries.next()
            if item.done:
                break
            name, value = item.value
            self.headers[str(name).lower()] = str(value)
        self._on_abort = on_abort
        self._reader: Any = None
        self.body = b""

    async def read(self) -> bytes:
        try:
            buffer = await self._response.arrayBuffer()
        except Exception as exc:
            raise self._on_abort(exc, Interrupted()) from None
        data = _bytes(buffer)
        if len(data) > MAX_BODY:
            raise SendFailed(ProviderUnavailable("The provider sent too much data."), sent=True)
        return data

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        body = self._response.body
        if body is None:
            return
        self._reader = body.getReader()
        while True:
            try:
                result = await self._reader.read()
            except Exception as exc:
                raise self._on_abort(exc, Interrupted()) from None
            if result.done:
                return
            yield _bytes(result.value)


def _bytes(value: Any) -> bytes:
    to_bytes = getattr(value, "to_bytes", None)
    if to_bytes is not None:
        return bytes(to_bytes())
    to_py = getattr(value, "to_py", None)
    return bytes(to_py() if to_py is not None else value)


class FetchTransport:
    """Origin-locked ``fetch``. Create one per provider origin."""

    def __init__(self, origin: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.origin = origin
        self.timeout = timeout
        self._controllers: dict[int, Any] = {}

    def _init(self, request: HttpRequest, controller: Any) -> Any:
        import js
        from pyodide.ffi import to_js

        init: dict[str, Any] = {
            "method": request.method,
            "headers": to_js(request.wire_headers(), dict_converter=js.Object.fromEntries),
            "credentials": "omit",
            "referrerPolicy": "no-referrer",
            "cache": "no-store",
            "redirect": "error",
            "mode": "cors",
            "signal": js.AbortSignal.any(
                to_js([controller.signal, js.AbortSignal.timeout(int(self.timeout * 1000))])
            ),
        }
        if request.body is not None:
            init["body"] = js.Uint8Array.new(to_js(request.body))
        return to_js(init, dict_converter=js.Object.fromEntries)

    @staticmethod
    def _failure(exc: BaseException, otherwise: ByomError, *, sent: bool = True) -> SendFailed:
        name = str(getattr(exc, "name", "") or "")
        text = str(getattr(exc, "message", "") or exc)
        if name == "TimeoutError" or "TimeoutError" in text:
            return SendFailed(RequestTimeout(), sent=sent)
        if name == "AbortError" or "AbortError" in text:
            return SendFailed(Cancelled(), sent=sent)
        return SendFailed(otherwise, sent=sent)

    async def _fetch(self, url: str, init: Any) -> Any:
        import js

        return await js.fetch(url, init)

    @asynccontextmanager
    async def stream(self, request: HttpRequest) -> AsyncIterator[FetchResponse]:
        """Send; yield the response once its headers arrived. Leaving the block aborts it."""
        import js

        check_origin(self.origin, request.url)
        controller = js.AbortController.new()
        self._controllers[id(controller)] = controller
        try:
            try:
                response = await self._fetch(request.url, self._init(request, controller))
            except SendFailed:
                raise
            except Exception as exc:
                raise self._failure(
                    exc, ProviderUnavailable("Could not reach the provider.")
                ) from None
            yield FetchResponse(response, self._failure)
        finally:
            self._controllers.pop(id(controller), None)
            controller.abort()

    async def send(self, request: HttpRequest) -> FetchResponse:
        """Send and read the whole body; ``response.body`` holds the bytes."""
        async with self.stream(request) as response:
            response.body = await response.read()
            return response

    def abort_all(self) -> None:
        for controller in list(self._controllers.values()):
            controller.abort()

    def close(self) -> None:
        self.abort_all()


class PageBuiltinTransport(FetchTransport):
    """The built-in model's transport in the page: requests to the reserved origin
    ``http://builtin.invalid`` go to the page's own runtime (``window.byomBuiltin.fetch`` in
    ``byom/builtin.js``), which answers with a ``Response`` made in the page — never the network.
    Same origin lock, same abort signal (cancelling stops the runtime), same reading code."""

    def __init__(self, origin: str, *, timeout: float = 600.0) -> None:
        from byom.providers.builtin import ORIGIN

        if origin != ORIGIN:
            raise EgressBlocked()
        super().__init__(origin, timeout=timeout)

    async def _fetch(self, url: str, init: Any) -> Any:
        import js

        runtime = getattr(js.window, "byomBuiltin", None)
        if runtime is None:
            from byom.core.errors import BuiltinUnavailable

            raise SendFailed(BuiltinUnavailable("runtime"), sent=False)
        try:
            return await runtime.fetch(url, init)
        except Exception as exc:
            name = str(getattr(exc, "name", "") or "")
            if name in ("AbortError", "TimeoutError"):
                raise
            from byom.core.errors import BuiltinUnavailable

            raise SendFailed(BuiltinUnavailable("runtime"), sent=False) from None
