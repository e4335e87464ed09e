"""OpenAI-style chat completions, shared by OpenRouter, OpenAI and OpenAI-compatible servers.

The wire shape is the same everywhere: ``POST …/chat/completions`` with ``model``, ``messages``,
``max_tokens`` (or ``max_completion_tokens``) and ``stream``; a ``chat.completion`` object back,
or an SSE stream of ``chat.completion.chunk`` objects ending in ``data: [DONE]``; ``usage`` with
``prompt_tokens`` / ``completion_tokens`` and their ``…_details``. What differs per provider —
auth, extra request fields, where usage comes from in a stream, the error vocabulary — stays in
the adapters. Standard library only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from byom.core.errors import BadResponse, ByomError, InvalidRequest
from byom.core.usage import ChatResult, Delta, Usage
from byom.providers._wire import (
    SSEDecoder,
    as_decimal,
    get,
    header,
    loads,
    optional_count,
    token_count,
)
from byom.providers.base import DecoderState


class ErrorMapper(Protocol):
    """What a decoder needs from its adapter: the error for an in-band ``error`` object."""

    def error_from_object(self, error: Any) -> ByomError: ...


def usage_from_openai_shape(data: Any) -> Usage | None:
    """Parse an OpenAI-style ``usage`` object; ``None`` when absent, not an object, or
    unreadable — ``{}``, only ``total_tokens``, counts that are null, strings or fractions
    (pitfall 23: unreadable usage is missing usage, never zero cost).

    ``prompt_tokens`` includes cached tokens; ``completion_tokens`` includes reasoning tokens
    (both providers bill reasoning as output), so neither detail is added on top.
    """
    if not isinstance(data, Mapping):
        return None
    prompt = token_count(data.get("prompt_tokens"))
    completion = token_count(data.get("completion_tokens"))
    cached = optional_count(get(data, "prompt_tokens_details", "cached_tokens"))
    written = optional_count(get(data, "prompt_tokens_details", "cache_write_tokens"))
    reasoning = optional_count(get(data, "completion_tokens_details", "reasoning_tokens"))
    if prompt is None or completion is None or cached is None or written is None:
        return None
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=min(cached, prompt),
        cache_write_tokens=min(written, prompt),
        reasoning_tokens=min(reasoning or 0, completion),
    )


def check_passthrough(params: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Copy the app's extra request fields, refusing any byom does not pass (so an app cannot
    switch off byom's bounds, e.g. by overriding ``max_tokens`` or ``stream``)."""
    unknown = set(params) - allowed
    if unknown:
        raise InvalidRequest(
            "byom does not pass these request fields: " + ", ".join(sorted(unknown)[:5])
        )
    return dict(params)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _reasoning(obj: Any) -> str:
    """Reasoning text: OpenRouter's ``reasoning``, or ``reasoning_content`` (vLLM, llama.cpp,
    DeepSeek-style servers)."""
    return _text(get(obj, "reasoning")) or _text(get(obj, "reasoning_content"))


def parse_chat_completion(
    adapter: ErrorMapper, headers: Mapping[str, str], body: bytes
) -> ChatResult:
    """Parse a 200 ``chat.completion`` body. An in-band ``error`` object raises its error."""
    data = loads(body)
    if not isinstance(data, Mapping):
        raise BadResponse()
    if data.get("error") is not None:
        raise adapter.error_from_object(data["error"])
    choice = get(data, "choices", 0)
    message = get(choice, "message")
    if not isinstance(message, Mapping):
        raise BadResponse()
    generation_id = data.get("id") if isinstance(data.get("id"), str) else None
    usage = usage_from_openai_shape(data.get("usage"))
    finish = get(choice, "finish_reason")
    model = data.get("model")
    return ChatResult(
        text=_text(message.get("content")),
        reasoning=_reasoning(message),
        usage=usage,
        cost=as_decimal(get(data, "usage", "cost")) if usage is not None else None,
        generation_id=(generation_id or header(headers, "x-generation-id") or None),
        finish_reason=finish[:40] if isinstance(finish, str) else None,
        model=model[:200] if isinstance(model, str) else None,
    )


def error_object(body: bytes) -> Any:
    """The ``error`` member of an error body, or ``None`` (unreadable bodies are fine)."""
    try:
        data = loads(body[:65536]) if body else None
    except BadResponse:
        return None
    return get(data, "error")


def error_hint(error: Any) -> str:
    """An error object's message, for classification only — never shown to the user."""
    message = get(error, "message")
    if isinstance(message, str):
        return message
    return error if isinstance(error, str) else ""


class OpenAIStyleDecoder(DecoderState):
    """Decoder for OpenAI-style ``chat.completion.chunk`` SSE streams.

    Usage is taken from whichever chunk carries a ``usage`` object (the last one before
    ``[DONE]``; OpenAI sends ``usage: null`` before it). An ``error`` object inside a 200 stream
    raises the adapter's mapped error.
    """

    def __init__(self, adapter: ErrorMapper) -> None:
        super().__init__()
        self._adapter = adapter
        self._sse = SSEDecoder()
        self._usage: Usage | None = None
        self._cost: Decimal | None = None

    @property
    def partial(self) -> ChatResult:
        return self._result(self._usage, self._cost)

    def feed(self, data: bytes) -> list[Delta]:
        out: list[Delta] = []
        for _event, payload in self._sse.feed(data):
            delta = self._payload(payload)
            if delta is not None:
                out.append(delta)
        return out

    def _payload(self, payload: str) -> Delta | None:
        if self._done:
            return None
        if payload.strip() == "[DONE]":
            self._done = True
            return None
        chunk = loads(payload)
        if not isinstance(chunk, Mapping):
            raise BadResponse()
        if isinstance(chunk.get("id"), str) and self._generation_id is None:
            self._generation_id = chunk["id"][:200]
        if isinstance(chunk.get("model"), str):
            self._model = chunk["model"][:200]
        usage = usage_from_openai_shape(chunk.get("usage"))
        if usage is not None:
            self._usage = usage
            self._cost = as_decimal(get(chunk, "usage", "cost"))
        error = chunk.get("error")
        choice = get(chunk, "choices", 0)
        if isinstance(choice, Mapping) and isinstance(choice.get("finish_reason"), str):
            self._finish = choice["finish_reason"][:40]
        if error is not None:
            self._finish = self._finish or "error"
            raise self._adapter.error_from_object(error)
        if not isinstance(choice, Mapping):
            return None
        delta = choice.get("delta")
        text = _text(get(delta, "content"))
        reasoning = _reasoning(delta)
        if not text and not reasoning:
            return None
        self._text.append(text)
        self._reasoning.append(reasoning)
        return Delta(text=text, reasoning=reasoning)

    def close(self) -> ChatResult:
        for _event, payload in self._sse.close():
            self._payload(payload)
        return self.partial


__all__ = [
    "ErrorMapper",
    "OpenAIStyleDecoder",
    "check_passthrough",
    "error_hint",
    "error_object",
    "parse_chat_completion",
    "usage_from_openai_shape",
]
