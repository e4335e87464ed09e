"""Ollama's native API (R1.2): a local model server. Sans-I/O.

Wire facts (``shared/spec/providers.md``): ``POST http://localhost:11434/api/chat``, **no key** —
this adapter never puts a key in a request, whatever it is given. Output is bounded by
``options.num_predict`` (= byom's ``max_tokens``). ``stream`` defaults to true on the server, so
it is always sent. A stream is newline-delimited JSON; the final object (``done: true``) carries
``prompt_eval_count`` / ``eval_count`` (``prompt_eval_count`` may be absent when the prompt was
cached: 0) and durations in nanoseconds. An ``{"error": "…"}`` object ends a failed stream.
Local models cost nothing: listed models are priced at zero (cost source ``"free"``) and their
tokens are still recorded. ``GET /api/tags`` lists the pulled models; they have no category until
the user assigns one.

Tools (R8.1): Ollama takes ``tools`` in OpenAI's function shape, as they are. It has no way to
force or forbid a call, so ``tool_choice`` is translated as far as it can be: ``"none"`` sends
no tools at all (the model cannot call what it was not given); ``"auto"``, ``"required"`` and a
named function are dropped — the model decides, and an app that needs a call must check
``Reply.tool_calls``. ``parallel_tool_calls`` is dropped too (Ollama has no such switch). An
assistant turn's ``tool_calls`` go back as ``[{"function": {"name", "arguments": object}}]``
(arguments parsed from their JSON text), a ``tool`` message as ``{"role": "tool", "content",
"tool_name"}`` — the name looked up from the earlier call with its ``tool_call_id``. Replies
carry ``message.tool_calls[].function.{name, arguments}`` (an object; sometimes an ``id`` and an
``index``); a stream sends whole calls in a chunk, often the one before the final ``done`` chunk,
and they are collected in order. A final ``done_reason: "stop"`` on a reply with calls is
normalised to ``"tool_calls"``. Structured output: ``response_format`` → ``format`` (a JSON
schema, or ``"json"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from byom.core.catalog import Catalog, Model, Price
from byom.core.errors import BadResponse, ByomError, InvalidRequest
from byom.core.secret import Secret
from byom.core.usage import ChatResult, Delta, GenerationInfo, KeyInfo, RawToolCall, Usage
from byom.providers._openai_style import error_hint, error_object
from byom.providers._wire import (
    MAX_BODY,
    dumps,
    get,
    loads,
    optional_count,
    token_count,
    tool_arguments,
    tool_calls_of,
    wire_str,
)
from byom.providers.base import DecoderState, HttpRequest, origin_of, post_json
from byom.providers.errors import error_for_status

DEFAULT_BASE_URL: Final = "http://localhost:11434"
#: What a local model costs.
FREE: Final = Price(prompt=Decimal(0), completion=Decimal(0))

#: Request fields that go to the top level of an Ollama request.
TOP_LEVEL: Final = frozenset({"format", "keep_alive", "tools", "think"})
#: Request fields that go into ``options`` (OpenAI-style names map to Ollama's where they differ).
OPTIONS: Final = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "typical_p",
        "seed",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "repeat_penalty",
        "repeat_last_n",
        "num_ctx",
        "mirostat",
        "mirostat_tau",
        "mirostat_eta",
    }
)
_RENAMED: Final[Mapping[str, str]] = {"repetition_penalty": "repeat_penalty"}
#: Normalised tool fields Ollama cannot express; ``tool_choice: "none"`` drops the tools.
_TOOL_CONTROLS: Final = frozenset({"tool_choice", "parallel_tool_calls"})


def _format(response_format: Any) -> Any:
    """OpenAI's ``response_format`` as Ollama's ``format``."""
    kind = get(response_format, "type")
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        schema = get(response_format, "json_schema", "schema")
        if isinstance(schema, Mapping):
            return dict(schema)
    if kind == "text":
        return None
    raise InvalidRequest("Unsupported response_format for Ollama.")


def _ollama_calls(message: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """An assistant turn's normalised ``tool_calls`` in Ollama's shape (``None`` when it has
    none). Arguments that are not a JSON object raise :class:`InvalidRequest`."""
    calls = tool_calls_of(message)
    if not calls:
        return None
    out: list[dict[str, Any]] = []
    for call in calls:
        function = call.get("function")
        name = get(function, "name")
        if not isinstance(function, Mapping) or not isinstance(name, str) or not name:
            raise InvalidRequest("A tool call needs a function name.")
        arguments = tool_arguments(function.get("arguments"))
        out.append({"function": {"name": name, "arguments": arguments}})
    return out


def _call_names(messages: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Tool-call id → function name, from the assistant turns (for ``tool_name``)."""
    names: dict[str, str] = {}
    for message in messages:
        if message.get("role") != "assistant" or not isinstance(message.get("tool_calls"), list):
            continue
        for call in message["tool_calls"]:
            call_id, name = get(call, "id"), get(call, "function", "name")
            if isinstance(call_id, str) and isinstance(name, str):
                names.setdefault(call_id, name)
    return names


def _message(message: Mapping[str, Any], names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One chat message in Ollama's shape: text content, images as base64 strings, tool calls
    with object arguments, tool results with the name of their tool."""
    role = message.get("role")
    out: dict[str, Any] = {"role": "system" if role == "developer" else role}
    if role == "assistant":
        calls = _ollama_calls(message)
        if calls is not None:
            out["tool_calls"] = calls
    elif role == "tool" and "tool_name" not in message:
        call_id = message.get("tool_call_id")
        name = (names or {}).get(call_id) if isinstance(call_id, str) else None
        if name is not None:
            out["tool_name"] = name
    content = message.get("content")
    if content is None or isinstance(content, str):
        out["content"] = content or ""
    else:
        texts: list[str] = []
        images: list[str] = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, Mapping) and part.get("type") == "image_url":
                url = get(part, "image_url", "url")
                url = url if isinstance(url, str) else part.get("image_url")
                if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
                    raise InvalidRequest("Ollama takes images as base64 data URLs.")
                images.append(url.partition(",")[2])
            else:
                raise InvalidRequest("Ollama takes text and image parts only.")
        out["content"] = "".join(texts)
        if images:
            out["images"] = images
    for name in ("images", "tool_name", "thinking"):
        if name in message and name not in out:
            out[name] = message[name]
    return out


def _usage(data: Mapping[str, Any]) -> Usage | None:
    """Tokens of the final object. ``eval_count`` must be readable; ``prompt_eval_count`` is
    left out when the prompt was served from Ollama's cache, so absent counts as 0 — but a
    present, unreadable figure makes the usage unreadable (pitfall 23)."""
    completion = token_count(data.get("eval_count"))
    prompt = optional_count(data.get("prompt_eval_count"))
    if completion is None or prompt is None:
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion)


def _finish(reason: Any, has_calls: bool) -> str | None:
    """``done_reason``; a ``stop`` on a reply that carries tool calls is ``"tool_calls"``."""
    if not isinstance(reason, str):
        return None
    if has_calls and reason == "stop":
        return "tool_calls"
    return reason[:40]


def _tool_calls(message: Any) -> list[RawToolCall]:
    """``message.tool_calls`` as read: ``function.name``, ``function.arguments`` (an object;
    anything else is passed as JSON text, which the core refuses unless it is an object) and
    the ``id`` newer servers send. An entry that is not an object is kept as an unreadable call
    (the core refuses the reply) rather than dropped."""
    calls = get(message, "tool_calls")
    if calls is None:
        return []
    if not isinstance(calls, list):
        return [RawToolCall(None, None, None)]
    out: list[RawToolCall] = []
    for call in calls:
        arguments = get(call, "function", "arguments")
        if arguments is not None and not isinstance(arguments, str | Mapping):
            arguments = dumps(arguments).decode("utf-8")
        out.append(
            RawToolCall(
                id=wire_str(get(call, "id")) or None,
                name=wire_str(get(call, "function", "name")),
                arguments=arguments,
            )
        )
    return out


class OllamaDecoder(DecoderState):
    """Incremental parser of Ollama's newline-delimited JSON stream."""

    def __init__(self, adapter: OllamaAdapter) -> None:
        super().__init__()
        self._adapter = adapter
        self._buffer = b""
        self._usage: Usage | None = None
        self._calls: list[RawToolCall] = []

    @property
    def partial(self) -> ChatResult:
        return self._result(self._usage, None, tuple(self._calls))

    def _finish_reason(self, has_calls: bool) -> str | None:
        return _finish(self._finish, has_calls)

    def feed(self, data: bytes) -> list[Delta]:
        self._buffer += data
        if len(self._buffer) > MAX_BODY:
            raise BadResponse("The provider's stream was too large.")
        out: list[Delta] = []
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                return out
            line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
            delta = self._line(line)
            if delta is not None:
                out.append(delta)

    def _line(self, line: bytes) -> Delta | None:
        if self._done or not line.strip():
            return None
        data = loads(line)
        if not isinstance(data, Mapping):
            raise BadResponse()
        if data.get("error") is not None:
            self._finish = self._finish or "error"
            raise self._adapter.error_from_object(data["error"])
        if isinstance(data.get("model"), str):
            self._model = data["model"][:200]
        self._calls.extend(_tool_calls(data.get("message")))
        text = get(data, "message", "content")
        thinking = get(data, "message", "thinking")
        text = text if isinstance(text, str) else ""
        thinking = thinking if isinstance(thinking, str) else ""
        if data.get("done") is True:
            self._usage = _usage(data)
            reason = data.get("done_reason")
            self._finish = reason[:40] if isinstance(reason, str) else None
            self._done = True
        if not text and not thinking:
            return None
        self._text.append(text)
        self._reasoning.append(thinking)
        return Delta(text=text, reasoning=thinking)

    def close(self) -> ChatResult:
        rest, self._buffer = self._buffer, b""
        self._line(rest)
        return self.partial


class OllamaAdapter:
    """Ollama's native chat API. Never carries a key."""

    name = "ollama"
    reports_cost = False
    needs_key = False

    def __init__(self, base_url: str | None = None) -> None:
        """``base_url`` is the server root (``http://localhost:11434``; a trailing ``/api`` is
        accepted). For Ollama's OpenAI-compatible ``/v1`` use the ``compatible`` provider."""
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if base.endswith("/api"):
            base = base[:-4]
        self.base_url = base
        self._origin = origin_of(self.base_url)

    @property
    def origin(self) -> str:
        return self._origin

    # -- chat ---------------------------------------------------------------------------------

    def chat_request(
        self,
        key: Secret | None,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        stream: bool,
        params: Mapping[str, Any],
        max_price: Price | None = None,
    ) -> HttpRequest:
        """``key`` is ignored on purpose: nothing secret ever goes to a local server."""
        options: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for name, value in params.items():
            name = _RENAMED.get(name, name)
            if name in OPTIONS:
                options[name] = value
            elif name in TOP_LEVEL:
                body[name] = value
            elif name == "response_format":
                fmt = _format(value)
                if fmt is not None:
                    body["format"] = fmt
            elif name in _TOOL_CONTROLS:
                continue  # Ollama cannot force a call or switch parallel calls (docstring)
            else:
                raise InvalidRequest(f"byom does not pass this request field: {name[:40]}")
        if params.get("tool_choice") == "none":
            body.pop("tools", None)  # Ollama cannot forbid a call: it gets no tools to call
        options["num_predict"] = max_tokens
        names = _call_names(messages)
        body.update(
            model=model,
            messages=[_message(m, names) for m in messages],
            stream=stream,
            options=options,
        )
        return post_json(
            self.base_url + "/api/chat", body, stream=stream, stream_type="application/x-ndjson"
        )

    def parse_response(self, status: int, headers: Mapping[str, str], body: bytes) -> ChatResult:
        if status != 200:
            raise self.error_for(status, headers, body)
        data = loads(body)
        if not isinstance(data, Mapping):
            raise BadResponse()
        if data.get("error") is not None:
            raise self.error_from_object(data["error"])
        message = data.get("message")
        if not isinstance(message, Mapping):
            raise BadResponse()
        text, thinking = message.get("content"), message.get("thinking")
        model = data.get("model")
        calls = tuple(_tool_calls(message))
        return ChatResult(
            text=text if isinstance(text, str) else "",
            reasoning=thinking if isinstance(thinking, str) else "",
            usage=_usage(data) if data.get("done") is True else None,
            finish_reason=_finish(data.get("done_reason"), bool(calls)),
            model=model[:200] if isinstance(model, str) else None,
            tool_calls=calls,
        )

    def stream_decoder(self) -> OllamaDecoder:
        return OllamaDecoder(self)

    # -- errors -------------------------------------------------------------------------------

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        return error_for_status(status, headers, hint=error_hint(error_object(body)))

    def error_from_object(self, error: Any) -> ByomError:
        """An ``error`` met in a 200 body or stream: the server failed while generating."""
        return error_for_status(502, {}, hint=error_hint(error), in_band=True)

    # -- no keys, no generation lookups; models via GET /api/tags ------------------------------

    def generation_request(self, key: Secret | None, generation_id: str) -> HttpRequest | None:
        return None

    def parse_generation(self, status: int, body: bytes) -> GenerationInfo | None:
        return None

    def key_info_request(self, key: Secret | None) -> HttpRequest | None:
        return None

    def parse_key_info(self, status: int, headers: Mapping[str, str], body: bytes) -> KeyInfo:
        return KeyInfo()

    def models_request(self, key: Secret | None = None) -> HttpRequest:
        return HttpRequest("GET", self.base_url + "/api/tags")

    def parse_models(self, body: bytes) -> Catalog:
        """Pulled models, free, without a category (the user assigns one)."""
        entries = get(loads(body), "models")
        if not isinstance(entries, list):
            raise BadResponse("The model list could not be read.")
        models: list[Model] = []
        for entry in entries:
            model_id = get(entry, "model") or get(entry, "name")
            if not isinstance(model_id, str) or not model_id:
                continue
            name = get(entry, "name")
            models.append(
                Model(
                    id=model_id[:200],
                    name=(name if isinstance(name, str) and name else model_id)[:200],
                    category=None,
                    price=FREE,
                    provider=self.name,
                )
            )
        return Catalog(tuple(models), source=self.name)


__all__ = ["DEFAULT_BASE_URL", "FREE", "OllamaAdapter"]
