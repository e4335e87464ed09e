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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from byom.core.catalog import Catalog, Model, Price
from byom.core.errors import BadResponse, ByomError, InvalidRequest
from byom.core.secret import Secret
from byom.core.usage import ChatResult, Delta, GenerationInfo, KeyInfo, Usage
from byom.providers._openai_style import error_hint, error_object
from byom.providers._wire import MAX_BODY, get, loads, optional_count, token_count
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


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    """One chat message in Ollama's shape: text content, images as base64 strings."""
    role = message.get("role")
    out: dict[str, Any] = {"role": "system" if role == "developer" else role}
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
    for name in ("images", "tool_name", "tool_calls", "thinking"):
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


def _finish(data: Mapping[str, Any]) -> str | None:
    reason = data.get("done_reason")
    return reason[:40] if isinstance(reason, str) else None


class OllamaDecoder(DecoderState):
    """Incremental parser of Ollama's newline-delimited JSON stream."""

    def __init__(self, adapter: OllamaAdapter) -> None:
        super().__init__()
        self._adapter = adapter
        self._buffer = b""
        self._usage: Usage | None = None

    @property
    def partial(self) -> ChatResult:
        return self._result(self._usage)

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
        text = get(data, "message", "content")
        thinking = get(data, "message", "thinking")
        text = text if isinstance(text, str) else ""
        thinking = thinking if isinstance(thinking, str) else ""
        if data.get("done") is True:
            self._usage = _usage(data)
            self._finish = _finish(data)
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
            else:
                raise InvalidRequest(f"byom does not pass this request field: {name[:40]}")
        options["num_predict"] = max_tokens
        body.update(
            model=model,
            messages=[_message(m) for m in messages],
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
        return ChatResult(
            text=text if isinstance(text, str) else "",
            reasoning=thinking if isinstance(thinking, str) else "",
            usage=_usage(data) if data.get("done") is True else None,
            finish_reason=_finish(data),
            model=model[:200] if isinstance(model, str) else None,
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
