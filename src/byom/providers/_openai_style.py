"""OpenAI-style chat completions, shared by OpenRouter, OpenAI and OpenAI-compatible servers.

The wire shape is the same everywhere: ``POST …/chat/completions`` with ``model``, ``messages``,
``max_tokens`` (or ``max_completion_tokens``) and ``stream``; a ``chat.completion`` object back,
or an SSE stream of ``chat.completion.chunk`` objects ending in ``data: [DONE]``; ``usage`` with
``prompt_tokens`` / ``completion_tokens`` and their ``…_details``. What differs per provider —
auth, extra request fields, where usage comes from in a stream, the error vocabulary — stays in
the adapters. Standard library only, no I/O.

Tool calling and structured output are OpenAI's own shape, so requests pass ``tools``,
``tool_choice``, ``parallel_tool_calls``, ``response_format``, assistant ``tool_calls`` and
``tool`` messages through unchanged. Replies carry ``message.tool_calls[]`` (``id``,
``function.name``, ``function.arguments`` as JSON text) or the legacy ``function_call``; a stream
sends them as fragments keyed by ``index`` — the first for an index carries ``id`` and
``function.name``, later ones append to ``function.arguments`` — assembled here by
:class:`ToolCallAssembler`. Arguments are kept as the raw text: the core parses and checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

from byom.core.errors import BadResponse, ByomError, InvalidRequest
from byom.core.usage import ChatResult, Delta, RawToolCall, Usage
from byom.providers._wire import (
    MAX_BODY,
    SSEDecoder,
    as_decimal,
    get,
    header,
    loads,
    optional_count,
    token_count,
    wire_str,
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


#: Finish reasons that mean "the model stopped to call tools" (``function_call`` is the legacy one).
_TOOL_FINISH = frozenset({"tool_calls", "function_call"})


def normalise_finish(
    finish: str | None, has_calls: bool, *, complete: bool, refused: bool = False
) -> str | None:
    """``"tool_calls"`` whenever the model stopped to call tools: OpenAI's ``tool_calls`` /
    ``function_call``, or a plain ``stop`` (or, in a complete non-streamed reply, no reason at
    all) on a reply that carries calls — some compatible servers and routed models say so.
    ``"refusal"`` (byom's one name, the same for every provider) when the reply carries a
    refusal message (``message.refusal`` / ``delta.refusal``) and stopped cleanly: OpenAI says
    ``stop`` there, which would read as an empty, complete answer.
    Other reasons pass unchanged, so a ``length`` cut stays visible as truncation."""
    if finish in _TOOL_FINISH:
        return "tool_calls"
    if has_calls and (finish == "stop" or (finish is None and complete)):
        return "tool_calls"
    if refused and (finish == "stop" or (finish is None and complete)):
        return "refusal"
    return finish


def _arguments(value: Any) -> str | Mapping[str, Any] | None:
    """Arguments exactly as sent: JSON text (OpenAI), or an object (some compatible servers)."""
    return value if isinstance(value, str | Mapping) else None


def tool_calls_from_message(message: Mapping[str, Any]) -> tuple[RawToolCall, ...]:
    """The calls of a non-streamed ``message``: ``tool_calls[]``, else the legacy
    ``function_call``. An entry that is not an object becomes a call with nothing readable, so
    the core refuses the reply as ``bad_output`` instead of silently dropping a call."""
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        return tuple(
            RawToolCall(
                id=wire_str(get(entry, "id")) or None,
                name=wire_str(get(entry, "function", "name")),
                arguments=_arguments(get(entry, "function", "arguments")),
                extra_content=_extra(get(entry, "extra_content")),
            )
            for entry in calls
        )
    if calls is not None:
        return (RawToolCall(None, None, None),)
    legacy = message.get("function_call")
    if isinstance(legacy, Mapping):
        return (
            RawToolCall(None, wire_str(legacy.get("name")), _arguments(legacy.get("arguments"))),
        )
    return ()


def _extra(value: Any) -> Mapping[str, Any] | None:
    """A call's ``extra_content`` (Google's OpenAI-compatible endpoint puts Gemini's thought
    signature there), kept to send back with the call; anything but an object is ignored."""
    return value if isinstance(value, Mapping) else None


class _Slot:
    """One call being assembled from stream fragments."""

    __slots__ = ("extra", "id", "name", "object", "parts")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.parts: list[str] = []
        self.object: Mapping[str, Any] | None = None
        self.extra: Mapping[str, Any] | None = None

    def call(self) -> RawToolCall:
        arguments: str | Mapping[str, Any] | None = self.object
        if self.parts:
            arguments = "".join(self.parts)
        return RawToolCall(self.id, self.name, arguments, self.extra)

    def __repr__(self) -> str:  # never the arguments
        return f"_Slot(id={self.id!r}, name={self.name!r})"


class ToolCallAssembler:
    """Assembles OpenAI-style streamed tool-call fragments into calls, in the order their
    indices first appeared.

    A fragment joins the call of its ``index``, unless it carries an ``id`` different from the
    one that call already has (some routed models number several parallel calls ``0``): then
    it starts a new call. A fragment without an ``index`` starts a call when it brings a new
    ``id``, else continues the last one. The name is the first one sent; argument text is
    concatenated. The legacy ``delta.function_call`` is one call of its own.
    """

    def __init__(self) -> None:
        self._slots: list[_Slot] = []
        self._by_index: dict[int, _Slot] = {}
        self._legacy: _Slot | None = None
        self._size = 0

    def __bool__(self) -> bool:
        return bool(self._slots)

    def add(self, fragment: Any) -> None:
        """One entry of ``delta.tool_calls``."""
        if not isinstance(fragment, Mapping):
            self._slots.append(_Slot())  # unreadable: the core refuses the reply
            return
        index = fragment.get("index")
        fragment_id = wire_str(fragment.get("id")) or None
        slot: _Slot | None
        if isinstance(index, int) and not isinstance(index, bool):
            slot = self._by_index.get(index)
            if slot is None or (fragment_id and slot.id and fragment_id != slot.id):
                slot = self._new()
                self._by_index[index] = slot
        else:
            slot = self._slots[-1] if self._slots else None
            if slot is None or (fragment_id and fragment_id != slot.id):
                slot = self._new()
        self._merge(slot, fragment_id, fragment.get("function"))
        extra = _extra(fragment.get("extra_content"))
        if extra is not None:
            slot.extra = extra

    def add_legacy(self, function_call: Any) -> None:
        """A ``delta.function_call`` fragment (the pre-tools API)."""
        if self._legacy is None:
            self._legacy = self._new()
        self._merge(self._legacy, None, function_call)

    def _new(self) -> _Slot:
        slot = _Slot()
        self._slots.append(slot)
        return slot

    def _merge(self, slot: _Slot, fragment_id: str | None, function: Any) -> None:
        if fragment_id and slot.id is None:
            slot.id = fragment_id
        name = wire_str(get(function, "name"))
        if name and slot.name is None:
            slot.name = name
        arguments = get(function, "arguments")
        if isinstance(arguments, str) and arguments:
            self._size += len(arguments)
            if self._size > MAX_BODY:
                raise BadResponse("The provider's stream was too large.")
            slot.parts.append(arguments)
        elif isinstance(arguments, Mapping):
            slot.object = arguments

    def calls(self) -> tuple[RawToolCall, ...]:
        return tuple(slot.call() for slot in self._slots)


def parse_chat_completion(
    adapter: ErrorMapper, headers: Mapping[str, str], body: bytes
) -> ChatResult:
    """Parse a 200 ``chat.completion`` body. An in-band ``error`` object raises its error."""
    data = loads(body)
    if not isinstance(data, Mapping):
        raise BadResponse()
    if data.get("error") is not None:
        raise adapter.error_from_object(data["error"])
    flat = top_level_error(data)
    if flat is not None:
        raise adapter.error_from_object(flat)
    choice = get(data, "choices", 0)
    message = get(choice, "message")
    if not isinstance(message, Mapping):
        raise BadResponse()
    generation_id = data.get("id") if isinstance(data.get("id"), str) else None
    usage = usage_from_openai_shape(data.get("usage"))
    if usage is None:  # Groq's non-standard place, when a server sends it only there
        usage = usage_from_openai_shape(get(data, "x_groq", "usage"))
    finish = get(choice, "finish_reason")
    model = data.get("model")
    calls = tool_calls_from_message(message)
    refusal = _text(message.get("refusal"))
    finish = normalise_finish(
        finish if isinstance(finish, str) else None,
        bool(calls),
        complete=True,
        refused=bool(refusal),
    )
    return ChatResult(
        text=_text(message.get("content")),
        reasoning=_reasoning(message),
        usage=usage,
        cost=as_decimal(get(data, "usage", "cost")) if usage is not None else None,
        generation_id=(generation_id or header(headers, "x-generation-id") or None),
        finish_reason=finish[:40] if isinstance(finish, str) else None,
        model=model[:200] if isinstance(model, str) else None,
        tool_calls=calls,
        refusal=refusal,
    )


def top_level_error(data: Any) -> Mapping[str, Any] | None:
    """An error sent as the whole object, with no ``error`` member: older vLLM (and servers
    built like it) answer ``{"object": "error", "message": …, "type": …, "code": 400}``."""
    if isinstance(data, Mapping) and data.get("object") == "error" and data.get("error") is None:
        return data
    return None


def error_object(body: bytes) -> Any:
    """The error object of an error body — its ``error`` member, or the whole body when it is
    a top-level error object (:func:`top_level_error`) — or ``None`` (unreadable is fine)."""
    try:
        data = loads(body[:65536]) if body else None
    except BadResponse:
        return None
    return top_level_error(data) or get(data, "error")


def error_hint(error: Any) -> str:
    """An error object's message, for classification only — never shown to the user."""
    message = get(error, "message")
    if isinstance(message, str):
        return message
    return error if isinstance(error, str) else ""


class OpenAIStyleDecoder(DecoderState):
    """Decoder for OpenAI-style ``chat.completion.chunk`` SSE streams.

    Usage is taken from whichever chunk carries a ``usage`` object (the last one before
    ``[DONE]``; OpenAI sends ``usage: null`` before it), or — Groq — an ``x_groq.usage`` object
    in the last chunk. An ``error`` object inside a 200 stream (or a chunk that is itself a
    top-level error object, older vLLM) raises the adapter's mapped error. ``delta.refusal``
    fragments are collected apart from the text: a reply that carries one finishes as
    ``"refusal"``. Tool-call fragments are assembled by
    :class:`ToolCallAssembler`; they yield no :class:`Delta` (arguments are not reply text).
    """

    def __init__(self, adapter: ErrorMapper) -> None:
        super().__init__()
        self._adapter = adapter
        self._sse = SSEDecoder()
        self._usage: Usage | None = None
        self._cost: Decimal | None = None
        self._calls = ToolCallAssembler()
        self._refusal: list[str] = []

    @property
    def partial(self) -> ChatResult:
        result = self._result(self._usage, self._cost, self._calls.calls())
        if not self._refusal:
            return result
        return replace(result, refusal="".join(self._refusal))

    def _finish_reason(self, has_calls: bool) -> str | None:
        return normalise_finish(
            self._finish, has_calls, complete=self._done, refused=bool(self._refusal)
        )

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
        else:
            groq = usage_from_openai_shape(get(chunk, "x_groq", "usage"))
            if groq is not None:
                self._usage = groq
        error = chunk.get("error")
        if error is None:
            error = top_level_error(chunk)
        choice = get(chunk, "choices", 0)
        if isinstance(choice, Mapping) and isinstance(choice.get("finish_reason"), str):
            self._finish = choice["finish_reason"][:40]
        if error is not None:
            self._finish = self._finish or "error"
            raise self._adapter.error_from_object(error)
        if not isinstance(choice, Mapping):
            return None
        delta = choice.get("delta")
        fragments = get(delta, "tool_calls")
        if isinstance(fragments, list):
            for fragment in fragments:
                self._calls.add(fragment)
        legacy = get(delta, "function_call")
        if isinstance(legacy, Mapping):
            self._calls.add_legacy(legacy)
        refusal = _text(get(delta, "refusal"))
        if refusal:
            self._refusal.append(refusal)
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
    "ToolCallAssembler",
    "check_passthrough",
    "error_hint",
    "error_object",
    "normalise_finish",
    "parse_chat_completion",
    "tool_calls_from_message",
    "top_level_error",
    "usage_from_openai_shape",
]
