"""Transports for the built-in model: they answer the built-in adapter's OpenAI-shaped requests
from the local runtime, so no socket is opened (R2.4: they accept only the reserved origin).

A request is prepared in the caller's thread (or, for asyncio, in a worker thread): the model is
loaded, the chat template rendered and the context checked — a failure here is a refusal before
anything ran (``SendFailed(sent=False)``: the reservation is released). The generation itself
runs in a worker thread and hands its text over through a queue, so ``astream`` stays
responsive. Closing a stream, or cancelling the task awaiting it, sets the generation's cancel
event: the runtime stops before its next token.

What the caller reads is what an OpenAI-compatible server would send: a ``chat.completion`` JSON
body, or ``chat.completion.chunk`` server-sent events, then a final chunk with the
``finish_reason`` and one with ``usage`` (the runtime's token counts), then ``data: [DONE]``.
A failure during generation arrives as an in-band ``error`` object.
"""

from __future__ import annotations

import asyncio
import json
import queue
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from byom.builtin.models import LocalModel, installed
from byom.builtin.runtime import Engine, Generation, Prepared, engine_for
from byom.core.errors import BadRequest, ByomError, EgressBlocked, InvalidRequest
from byom.providers.base import HttpRequest, origin_of
from byom.providers.builtin import ORIGIN
from byom.transport import SendFailed

_JSON = {"content-type": "application/json"}
_SSE = {"content-type": "text/event-stream"}
#: Marks the end of a generation's queue.
_END = object()


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class _Job:
    """One generation: its prepared prompt, the model id to report, and its cancel switch."""

    engine: Engine
    prepared: Prepared
    model_id: str
    stream: bool
    cancel: threading.Event = field(default_factory=threading.Event)
    figures: Generation = field(default_factory=Generation)
    id: str = field(default_factory=lambda: "builtin-" + secrets.token_hex(12))


def _chunk(job: _Job, **fields: Any) -> bytes:
    payload = {"id": job.id, "object": "chat.completion.chunk", "model": job.model_id, **fields}
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n\n"


def _usage(figures: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": figures.prompt_tokens,
        "completion_tokens": figures.completion_tokens,
        "total_tokens": figures.prompt_tokens + figures.completion_tokens,
    }


_ERROR = {"error": {"message": "The built-in model failed while answering.", "code": 500}}


def _work(job: _Job, put: Callable[[object], None]) -> None:
    """The worker thread: run the generation, hand over SSE chunks (or the collected text),
    then :data:`_END`. Never raises: a failure becomes an in-band error object."""
    parts: list[str] = []

    def emit(text: str) -> None:
        if job.stream:
            put(_chunk(job, choices=[{"index": 0, "delta": {"content": text}}]))
        else:
            parts.append(text)

    try:
        figures = job.engine.run(job.prepared, emit, job.cancel, job.figures)
        if figures.finish_reason == "cancelled":
            return  # nobody is reading any more
        if job.stream:
            final = [{"index": 0, "delta": {}, "finish_reason": figures.finish_reason}]
            put(_chunk(job, choices=final))
            put(_chunk(job, choices=[], usage=_usage(figures)))
            put(b"data: [DONE]\n\n")
        else:
            body = {
                "id": job.id,
                "object": "chat.completion",
                "model": job.model_id,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(parts)},
                        "finish_reason": figures.finish_reason,
                    }
                ],
                "usage": _usage(figures),
            }
            put(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    except Exception:
        error = json.dumps(_ERROR).encode()
        put(b"data: " + error + b"\n\n" if job.stream else error)
    finally:
        put(_END)


class _Models:
    """The models one connection may run: the app's file and the built-in model."""

    def __init__(self, model_path: str | None) -> None:
        self._model_path = model_path
        self._models: dict[str, LocalModel] | None = None

    def engine(self, model_id: str) -> Engine:
        if self._models is None:
            self._models = {m.id: m for m in installed(self._model_path)}
        model = self._models.get(model_id)
        if model is None:
            from byom.core.errors import ModelUnavailable

            raise ModelUnavailable()
        return engine_for(model)


def _parse(request: HttpRequest) -> tuple[str, list[dict[str, Any]], int, bool, dict[str, Any]]:
    """The OpenAI-shaped body the built-in adapter wrote."""
    try:
        body = json.loads(request.body or b"")
    except ValueError:
        raise BadRequest() from None
    if not isinstance(body, dict):
        raise BadRequest()
    model, messages = body.pop("model", None), body.pop("messages", None)
    max_tokens, stream = body.pop("max_tokens", None), bool(body.pop("stream", False))
    body.pop("stream_options", None)
    if not isinstance(model, str) or not isinstance(messages, list):
        raise BadRequest()
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise BadRequest()
    return model, messages, max_tokens, stream, body


class _Base:
    def __init__(self, origin: str = ORIGIN, *, model_path: str | None = None) -> None:
        if origin != ORIGIN:
            raise EgressBlocked()
        self.origin = origin
        self._models = _Models(model_path)
        #: The most recent job (tests and benchmarks read its figures and cancel switch).
        self.last_job: _Job | None = None

    def _prepare(self, request: HttpRequest) -> _Job:
        """Check the request and prepare it; :class:`SendFailed` (not sent) when refused."""
        failure: SendFailed | None = None
        try:
            if origin_of(request.url) != self.origin:
                raise EgressBlocked()
            if request.method != "POST" or not request.url.endswith("/chat/completions"):
                raise InvalidRequest("The built-in model answers chat requests only.")
            model_id, messages, max_tokens, stream, params = _parse(request)
            engine = self._models.engine(model_id)
            prepared = engine.prepare(messages, max_tokens, params)
            job = _Job(engine, prepared, model_id, stream)
            self.last_job = job
            return job
        except ByomError as error:
            failure = SendFailed(error, sent=False)
        except Exception:
            failure = SendFailed(BadRequest(), sent=False)
        raise failure


class StreamResponse:
    """A streamed answer: ``status``, ``headers``, ``iter_bytes()``, ``read()``."""

    def __init__(self, job: _Job, chunks: queue.Queue[object]) -> None:
        self.status, self.headers = 200, dict(_SSE)
        self._job, self._chunks = job, chunks

    def iter_bytes(self) -> Iterator[bytes]:
        while True:
            item = self._chunks.get()
            if item is _END:
                return
            assert isinstance(item, bytes)
            yield item

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())


class BuiltinTransport(_Base):
    """Blocking transport for the built-in model."""

    def _start(self, job: _Job) -> queue.Queue[object]:
        chunks: queue.Queue[object] = queue.Queue()
        threading.Thread(target=_work, args=(job, chunks.put), daemon=True).start()
        return chunks

    def send(self, request: HttpRequest) -> Response:
        job = self._prepare(request)
        chunks = self._start(job)
        try:
            body = b"".join(StreamResponse(job, chunks).iter_bytes())
        finally:
            job.cancel.set()  # e.g. KeyboardInterrupt: stop the runtime too
        return Response(200, dict(_JSON), body)

    @contextmanager
    def stream(self, request: HttpRequest) -> Iterator[StreamResponse]:
        job = self._prepare(request)
        chunks = self._start(job)
        try:
            yield StreamResponse(job, chunks)
        finally:
            job.cancel.set()

    def close(self) -> None:
        pass  # engines are shared by the process; nothing to release per transport


class AsyncStreamResponse:
    def __init__(self, job: _Job, chunks: asyncio.Queue[object]) -> None:
        self.status, self.headers = 200, dict(_SSE)
        self._job, self._chunks = job, chunks

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._chunks.get()
            if item is _END:
                return
            assert isinstance(item, bytes)
            yield item

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.aiter_bytes()])


class AsyncBuiltinTransport(_Base):
    """asyncio transport for the built-in model: preparation and generation run in threads."""

    async def _begin(self, request: HttpRequest) -> tuple[_Job, asyncio.Queue[object]]:
        job = await asyncio.to_thread(self._prepare, request)
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[object] = asyncio.Queue()

        def put(item: object) -> None:
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, item)
            except RuntimeError:  # the loop has closed: nobody is reading
                job.cancel.set()

        threading.Thread(target=_work, args=(job, put), daemon=True).start()
        return job, chunks

    async def send(self, request: HttpRequest) -> Response:
        job, chunks = await self._begin(request)
        try:
            body = await AsyncStreamResponse(job, chunks).read()
        finally:
            job.cancel.set()  # the task was cancelled, or the answer is complete
        return Response(200, dict(_JSON), body)

    @asynccontextmanager
    async def stream(self, request: HttpRequest) -> AsyncIterator[AsyncStreamResponse]:
        job, chunks = await self._begin(request)
        try:
            yield AsyncStreamResponse(job, chunks)
        finally:
            job.cancel.set()

    async def aclose(self) -> None:
        pass


__all__ = ["AsyncBuiltinTransport", "BuiltinTransport", "Response"]
