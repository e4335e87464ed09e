"""Google Gemini API, native (``generateContent``). Sans-I/O.

Wire facts (the Gemini API reference, ``v1beta``):

* ``POST {base}/v1beta/models/{model}:generateContent``; streaming is
  ``:streamGenerateContent?alt=sse`` — Server-Sent Events, each ``data:`` a whole
  ``GenerateContentResponse``, with no end marker: the last one carries
  ``candidates[0].finishReason``. A stream that ends before a finish reason was cut.
* The key travels in the ``x-goog-api-key`` header, never in the URL (``?key=`` would put it
  in logs, proxies and browser history).
* Roles are ``user`` and ``model``; the system prompt is ``systemInstruction``; ``system`` /
  ``developer`` messages are lifted there. Turns of the same role in a row are merged.
* Images: a ``data:`` URL becomes ``inlineData {mimeType, data}``; other URLs are refused (the
  API fetches only its own file URIs).
* Tools: byom's OpenAI-shaped ``tools[].function`` → one ``functionDeclarations`` entry each
  (``parametersJsonSchema``: the JSON Schema as given); a native tool ``{"type": "googleSearch",
  …}`` becomes ``{"googleSearch": {…}}`` (``codeExecution``, ``urlContext``); strict mode refuses
  such tools (their fees are not bounded). ``tool_choice`` ``auto`` / ``none`` / ``required`` / a
  named function → ``toolConfig.functionCallingConfig.mode`` ``AUTO`` / ``NONE`` / ``ANY`` /
  ``ANY`` with ``allowedFunctionNames``. ``parallel_tool_calls`` is accepted and has no
  equivalent. An assistant turn's ``tool_calls`` → ``functionCall {name, args}`` parts; a ``tool``
  message → a ``functionResponse {name, response: {"result": content}}`` part in a ``user`` turn
  (the name is looked up from the call with that id).
* Replies carry ``functionCall`` parts without an id (or with one, when the API gives it):
  byom names them ``gemini_<responseId>_<i>``. Gemini 3 models sign a call with a
  ``thoughtSignature`` that must come back with it. Each call read carries its signature as
  ``ToolCall.extra_content = {"google": {"thought_signature": …}}`` (the shape of Google's
  OpenAI-compatible endpoint), which ``assistant_message`` sends back, so a conversation saved
  and resumed in another session keeps its signatures; an assistant call without one gets the
  signature this adapter remembers for its id (the last 512 read).
* Structured output: ``response_format`` ``json_schema`` → ``generationConfig.responseMimeType
  "application/json"`` and ``responseJsonSchema``; ``json_object`` → the MIME type alone. The
  answer is the text.
* ``usageMetadata``: ``promptTokenCount`` includes ``cachedContentTokenCount`` (billed at the
  cache rate); ``toolUsePromptTokenCount`` (results of Google's own tools) is billed as input;
  ``candidatesTokenCount`` does not include ``thoughtsTokenCount`` — thinking is billed as
  output, so ``completion_tokens`` = candidates + thoughts and ``reasoning_tokens`` = thoughts.
  ``maxOutputTokens`` bounds both, so ``max_tokens`` stays a real bound on output cost.
  Grounding with Google Search is billed per search: ``groundingMetadata.webSearchQueries``
  count as web searches, priced from the price list (unknown there: the cost is unknown).
* ``finishReason``: ``STOP`` → ``"stop"`` (``"tool_calls"`` when the reply calls tools),
  ``MAX_TOKENS`` → ``"length"``; the safety and recitation stops (``SAFETY``, ``RECITATION``,
  ``BLOCKLIST``, ``PROHIBITED_CONTENT``, ``SPII``, ``IMAGE_SAFETY`` …) → ``"refusal"``, byom's
  one name for a refusal (``Reply.refused``); every other value (``MALFORMED_FUNCTION_CALL``,
  ``OTHER``, an unknown one) → ``"error"``, which byom raises as a plain provider error after
  counting what was used. A prompt blocked outright (``promptFeedback.blockReason``, no
  candidate) raises :class:`~byom.core.errors.ModerationFlagged`.
* Errors are ``{"error": {"code", "message", "status", "details": [...]}}``. **Key rejected**
  is decided from the status and the structured reason, never from words: HTTP 401, or HTTP
  400 with a ``google.rpc.ErrorInfo`` detail whose ``reason`` is ``API_KEY_INVALID`` (what
  Gemini answers a wrong key). 403 ``PERMISSION_DENIED`` (a key without access to the API or
  model) keeps the key. 429 ``RESOURCE_EXHAUSTED`` waits ``Retry-After`` or the
  ``google.rpc.RetryInfo`` ``retryDelay``. An error inside a 200 never clears the key.
* Models: ``GET {base}/v1beta/models?pageSize=1000`` lists ``models/<id>`` entries; those
  that support ``generateContent`` are listed, priced from the bundled snapshot.

No cost comes back: cost = real tokens × the dated price snapshot (computed, R4.2).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final
from urllib.parse import quote

from byom.core.catalog import Catalog, Price
from byom.core.errors import (
    BadRequest,
    BadResponse,
    ByomError,
    InvalidRequest,
    KeyRejected,
    ModerationFlagged,
    RateLimited,
)
from byom.core.secret import Secret
from byom.core.usage import ChatResult, Delta, GenerationInfo, KeyInfo, RawToolCall, Usage
from byom.providers._listing import merge_listing
from byom.providers._wire import (
    SSEDecoder,
    dumps,
    get,
    loads,
    optional_count,
    retry_after,
    token_count,
    tool_arguments,
    tool_calls_of,
    wire_str,
)
from byom.providers.base import DecoderState, HttpRequest, origin_of, post_json, require_key
from byom.providers.errors import error_for_status

DEFAULT_BASE_URL: Final = "https://generativelanguage.googleapis.com"
API_VERSION: Final = "v1beta"

#: OpenAI-style request fields → ``generationConfig`` fields.
_GENERATION: Final[Mapping[str, str]] = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}
#: Fields translated elsewhere, and fields accepted and dropped (no Gemini equivalent), so the
#: same app code runs against every provider.
_TRANSLATED: Final = frozenset(
    {"stop", "response_format", "tools", "tool_choice", "parallel_tool_calls"}
)
_DROPPED: Final = frozenset({"user", "logit_bias"})

#: ``finishReason`` values that are a refusal (a safety or recitation stop).
_REFUSALS: Final = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)
#: Google's canonical error ``status`` → the HTTP status it stands for (for errors in a 200).
_ERROR_STATUS: Final[Mapping[str, int]] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
#: ``google.rpc.ErrorInfo`` reasons that mean "this key is not valid" (with HTTP 400).
KEY_REJECTED_REASONS: Final = frozenset({"API_KEY_INVALID"})
_ERROR_INFO: Final = "type.googleapis.com/google.rpc.ErrorInfo"
_RETRY_INFO: Final = "type.googleapis.com/google.rpc.RetryInfo"
_MODEL_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_DELAY: Final = re.compile(r"([0-9]{1,6})(?:\.([0-9]{1,9}))?s")
#: How many thought signatures an adapter remembers (one per call it read).
_SIGNATURES: Final = 512


def usage_from_gemini(data: Any, web_searches: int = 0) -> Usage | None:
    """``usageMetadata`` → byom usage; ``None`` when absent or unreadable.

    ``promptTokenCount`` is required; the other counts may be left out (Gemini omits
    ``candidatesTokenCount`` when nothing but thoughts came back)."""
    if not isinstance(data, Mapping):
        return None
    prompt = token_count(data.get("promptTokenCount"))
    candidates = optional_count(data.get("candidatesTokenCount"))
    thoughts = optional_count(data.get("thoughtsTokenCount"))
    cached = optional_count(data.get("cachedContentTokenCount"))
    tool_prompt = optional_count(data.get("toolUsePromptTokenCount"))
    if None in (prompt, candidates, thoughts, cached, tool_prompt):
        return None
    assert prompt is not None and candidates is not None and thoughts is not None
    assert cached is not None and tool_prompt is not None
    return Usage(
        prompt_tokens=prompt + tool_prompt,
        completion_tokens=candidates + thoughts,
        cached_tokens=min(cached, prompt),
        reasoning_tokens=thoughts,
        web_search_requests=web_searches,
    )


def finish_of(value: Any, has_calls: bool) -> str | None:
    """byom's finish reason for a Gemini ``finishReason`` (see the module docstring)."""
    if not isinstance(value, str):
        return None
    if value == "STOP":
        return "tool_calls" if has_calls else "stop"
    if value == "MAX_TOKENS":
        return "length"
    if value in _REFUSALS:
        return "refusal"
    return "error"


def _aliases(model_id: str) -> Iterable[str]:
    """A versioned id (``gemini-2.0-flash-001``) → itself, then its stable name."""
    yield model_id
    head, _, tail = model_id.rpartition("-")
    if head and len(tail) == 3 and tail.isdigit():
        yield head


def _searches(candidate: Any) -> int:
    queries = get(candidate, "groundingMetadata", "webSearchQueries")
    return len(queries) if isinstance(queries, list) else 0


def _image_part(part: Mapping[str, Any]) -> dict[str, Any]:
    url = get(part, "image_url", "url")
    if not isinstance(url, str):
        url = part.get("image_url")
    if not isinstance(url, str) or not url.startswith("data:"):
        raise InvalidRequest("Gemini takes images as data: URLs (base64).")
    head, _, data = url.partition(",")
    media_type = head[5:].split(";")[0]
    if ";base64" not in head or not media_type:
        raise InvalidRequest("An image data URL must be base64-encoded.")
    return {"inlineData": {"mimeType": media_type, "data": data}}


def _parts(content: Any) -> list[dict[str, Any]]:
    """A message's content as Gemini parts (a string is one text part; ``""`` none)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list | tuple):
        raise InvalidRequest("A message's content must be text or a list of parts.")
    out: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, Mapping):
            raise InvalidRequest("A content part must be an object.")
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            out.append({"text": part["text"]})
        elif kind == "image_url":
            out.append(_image_part(part))
        elif kind is None:
            out.append(dict(part))  # already a Gemini part
        else:
            raise InvalidRequest("Gemini takes text and image parts only.")
    return out


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    texts = [get(p, "text") for p in content or () if isinstance(p, Mapping)]
    return "".join(t for t in texts if isinstance(t, str))


def _tool(spec: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``(function declaration, None)`` for an OpenAI-style function tool, else ``(None, a
    Gemini tool)``: byom's native-tool dict ``{"type": "googleSearch", **config}`` becomes
    Gemini's ``{"googleSearch": config}`` (``codeExecution``, ``urlContext`` alike)."""
    if not isinstance(spec, Mapping):
        raise InvalidRequest("A tool must be an object.")
    kind = spec.get("type")
    if kind != "function":
        if not isinstance(kind, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", kind):
            raise InvalidRequest('A Gemini tool is {"type": "googleSearch", ...}.')
        return None, {kind: {k: v for k, v in spec.items() if k != "type"}}
    function = spec.get("function")
    name = get(function, "name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("A function tool needs a name.")
    declaration: dict[str, Any] = {"name": name}
    description = get(function, "description")
    if isinstance(description, str) and description:
        declaration["description"] = description
    parameters = get(function, "parameters")
    if isinstance(parameters, Mapping):
        declaration["parametersJsonSchema"] = dict(parameters)
    return declaration, None


def _tool_config(choice: Any) -> dict[str, Any]:
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if isinstance(choice, str) and choice in modes:
        return {"functionCallingConfig": {"mode": modes[choice]}}
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        name = get(choice, "function", "name")
        if isinstance(name, str) and name:
            return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    raise InvalidRequest('tool_choice must be "auto", "none", "required" or a named function.')


def _response_format(value: Any) -> dict[str, Any]:
    """``generationConfig`` fields for an OpenAI-style ``response_format``."""
    if value is None:
        return {}
    kind = get(value, "type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        schema = get(value, "json_schema", "schema")
        schema = {"type": "object"} if schema is None else schema
        if not isinstance(schema, Mapping):
            raise InvalidRequest("A json_schema response format needs a schema.")
        return {"responseMimeType": "application/json", "responseJsonSchema": dict(schema)}
    raise InvalidRequest("Unsupported response_format for Gemini.")


def _retry_delay(error: Any) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail (``"34.4s"``), or ``None``."""
    details = get(error, "details")
    for detail in details if isinstance(details, list) else ():
        if get(detail, "@type") != _RETRY_INFO:
            continue
        delay = get(detail, "retryDelay")
        match = _DELAY.fullmatch(delay) if isinstance(delay, str) else None
        if match is not None:
            seconds = int(match.group(1)) + float("0." + (match.group(2) or "0"))
            return min(seconds, 24 * 3600.0)
    return None


def _reasons(error: Any) -> set[str]:
    details = get(error, "details")
    out: set[str] = set()
    for detail in details if isinstance(details, list) else ():
        reason = get(detail, "reason")
        if get(detail, "@type") == _ERROR_INFO and isinstance(reason, str) and len(reason) < 64:
            out.add(reason)
    return out


class _Reply:
    """What the parts of one or more ``GenerateContentResponse`` chunks hold so far."""

    def __init__(self, adapter: GeminiAdapter) -> None:
        self.adapter = adapter
        self.calls: list[RawToolCall] = []
        self.response_id: str | None = None

    def take(self, data: Mapping[str, Any]) -> tuple[str, str]:
        """Read one response object: returns ``(text, thoughts)`` of its first candidate;
        function calls are collected. A blocked prompt raises :class:`ModerationFlagged`."""
        if isinstance(data.get("responseId"), str) and self.response_id is None:
            self.response_id = data["responseId"][:200]
        candidate = get(data, "candidates", 0)
        if candidate is None and get(data, "promptFeedback", "blockReason") is not None:
            raise ModerationFlagged("Gemini blocked this prompt. Your key is unaffected.")
        parts = get(candidate, "content", "parts")
        text: list[str] = []
        thoughts: list[str] = []
        for part in parts if isinstance(parts, list) else ():
            if not isinstance(part, Mapping):
                continue
            call = part.get("functionCall")
            if call is not None:
                self.calls.append(self._call(call, part.get("thoughtSignature")))
            value = part.get("text")
            if isinstance(value, str):
                (thoughts if part.get("thought") is True else text).append(value)
        return "".join(text), "".join(thoughts)

    def _call(self, call: Any, signature: Any) -> RawToolCall:
        index = len(self.calls)
        call_id = wire_str(get(call, "id"), 128) or self.adapter.call_id(self.response_id, index)
        args = get(call, "args")
        arguments: str | Mapping[str, Any] | None
        if args is None:
            arguments = {}  # a call without arguments
        elif isinstance(args, str | Mapping):
            arguments = args
        else:  # not an object: its JSON text, which the core refuses (never silently {})
            try:
                arguments = dumps(args).decode("utf-8")
            except (TypeError, ValueError):
                arguments = None
        extra: Mapping[str, Any] | None = None
        if isinstance(signature, str) and signature:
            self.adapter.remember_signature(call_id, signature)
            extra = {"google": {"thought_signature": signature}}
        return RawToolCall(call_id, wire_str(get(call, "name")), arguments, extra)


class GeminiDecoder(DecoderState):
    """Incremental parser of a ``streamGenerateContent?alt=sse`` body.

    Usage counts only once a chunk with a ``finishReason`` arrived (every chunk carries the
    figures so far; a cut stream's would be too low): a stream cut before it has unknown usage,
    so its estimate keeps counting."""

    def __init__(self, adapter: GeminiAdapter) -> None:
        super().__init__()
        self._adapter = adapter
        self._sse = SSEDecoder()
        self._reply = _Reply(adapter)
        self._usage: Any = None
        self._searches = 0

    @property
    def partial(self) -> ChatResult:
        usage = usage_from_gemini(self._usage, self._searches) if self._done else None
        return self._result(usage, None, tuple(self._reply.calls))

    def _finish_reason(self, has_calls: bool) -> str | None:
        if self._finish == "stop" and has_calls:
            return "tool_calls"
        return self._finish

    def feed(self, data: bytes) -> list[Delta]:
        out: list[Delta] = []
        for _event, payload in self._sse.feed(data):
            delta = self._payload(payload)
            if delta is not None:
                out.append(delta)
        return out

    def _payload(self, payload: str) -> Delta | None:
        if not payload.strip():
            return None
        data = loads(payload)
        if not isinstance(data, Mapping):
            raise BadResponse()
        if data.get("error") is not None:
            self._finish = self._finish or "error"
            raise self._adapter.error_from_object(data["error"])
        text, thoughts = self._reply.take(data)
        self._generation_id = self._reply.response_id
        if isinstance(data.get("modelVersion"), str):
            self._model = data["modelVersion"][:200]
        if data.get("usageMetadata") is not None:
            self._usage = data["usageMetadata"]
        candidate = get(data, "candidates", 0)
        self._searches = max(self._searches, _searches(candidate))
        reason = get(candidate, "finishReason")
        if isinstance(reason, str):
            self._finish = finish_of(reason, False)
            self._done = True
        if not text and not thoughts:
            return None
        self._text.append(text)
        self._reasoning.append(thoughts)
        return Delta(text=text, reasoning=thoughts)

    def close(self) -> ChatResult:
        for _event, payload in self._sse.close():
            self._payload(payload)
        return self.partial


class GeminiAdapter:
    """The Gemini API's native wire format."""

    name = "gemini"
    reports_cost = False
    needs_key = True

    def __init__(self, base_url: str | None = None, *, prices: Catalog | None = None) -> None:
        """``base_url`` is the API root (``https://generativelanguage.googleapis.com``; a
        trailing ``/v1beta`` is accepted). ``prices``: the snapshot merged into listed models
        (default: none; the shell passes the bundled one)."""
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if base.endswith("/" + API_VERSION):
            base = base[: -len(API_VERSION) - 1]
        self.base_url = base
        self._origin = origin_of(self.base_url)
        self._prices = prices
        self._signatures: OrderedDict[str, str] = OrderedDict()
        self._calls = 0

    @property
    def origin(self) -> str:
        return self._origin

    def _auth(self, key: Secret | None) -> dict[str, Secret]:
        return {"x-goog-api-key": require_key(key)}

    # -- call ids and thought signatures --------------------------------------------------------

    def call_id(self, response_id: str | None, index: int) -> str:
        """An id for a call Gemini sent without one: unique within this adapter's session."""
        self._calls += 1
        stem = response_id if response_id and _MODEL_ID.fullmatch(response_id) else "call"
        return f"gemini_{stem[:80]}_{self._calls}_{index}"

    def remember_signature(self, call_id: str, signature: str) -> None:
        self._signatures[call_id] = signature
        self._signatures.move_to_end(call_id)
        while len(self._signatures) > _SIGNATURES:
            self._signatures.popitem(last=False)

    def __repr__(self) -> str:  # never the signatures (they encode the model's thoughts)
        return f"GeminiAdapter({self.base_url!r})"

    # -- chat ---------------------------------------------------------------------------------

    def _model_path(self, model: str) -> str:
        model = model.removeprefix("models/")
        if not _MODEL_ID.fullmatch(model):
            raise InvalidRequest("A Gemini model id is letters, digits, '.', '_' and '-'.")
        return f"{self.base_url}/{API_VERSION}/models/{quote(model, safe='')}"

    def contents(self, messages: Sequence[Mapping[str, Any]]) -> tuple[list[Any], list[Any]]:
        """``(systemInstruction parts, contents)`` for byom's normalised messages."""
        system: list[dict[str, Any]] = []
        contents: list[dict[str, Any]] = []
        names: dict[str, str] = {}  # tool_call_id → function name, from the assistant turns

        def add(role: str, parts: Iterable[dict[str, Any]]) -> None:
            parts = list(parts)
            if not parts:
                return
            if contents and contents[-1]["role"] == role:
                contents[-1]["parts"].extend(parts)
            else:
                contents.append({"role": role, "parts": parts})

        for message in messages:
            role = message.get("role")
            content = message.get("content")
            if role in ("system", "developer"):
                if not isinstance(content, str) and any(
                    not (isinstance(p, Mapping) and isinstance(p.get("text"), str))
                    for p in content or ()
                ):
                    raise InvalidRequest("A system message may only hold text.")
                text = _text_of(content)
                if text:
                    system.append({"text": text})
            elif role == "user":
                add("user", _parts(content))
            elif role == "assistant":
                parts = _parts(content)
                for call in tool_calls_of(message):
                    parts.append(self._function_call(call, names))
                add("model", parts)  # an empty assistant turn is left out
            elif role == "tool":
                call_id = message.get("tool_call_id")
                name = names.get(call_id) if isinstance(call_id, str) else None
                if name is None:
                    raise InvalidRequest("A tool result needs the tool_call_id of its call.")
                response = {"name": name, "response": {"result": _text_of(content)}}
                add("user", [{"functionResponse": response}])
            else:
                raise InvalidRequest("Gemini takes system, user, assistant and tool messages.")
        return system, contents

    def _function_call(self, call: Mapping[str, Any], names: dict[str, str]) -> dict[str, Any]:
        function = call.get("function")
        call_id, name = call.get("id"), get(function, "name")
        if call.get("type", "function") != "function" or not isinstance(function, Mapping):
            raise InvalidRequest("Gemini takes function tool calls only.")
        if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
            raise InvalidRequest("A tool call needs an id and a name.")
        names[call_id] = name
        part: dict[str, Any] = {
            "functionCall": {"name": name, "args": tool_arguments(function.get("arguments"))}
        }
        signature = get(call, "extra_content", "google", "thought_signature")
        if not isinstance(signature, str) or not signature:
            signature = self._signatures.get(call_id)
        if signature is not None:
            part["thoughtSignature"] = signature
        return part

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
        """``max_price`` is ignored: there is no routing, the catalog price is the price."""
        unknown = set(params) - set(_GENERATION) - _TRANSLATED - _DROPPED
        if unknown:
            raise InvalidRequest(
                "byom does not pass these request fields: " + ", ".join(sorted(unknown)[:5])
            )
        system, contents = self.contents(messages)
        if not contents:
            raise InvalidRequest("Gemini needs at least one user message.")
        config: dict[str, Any] = {
            wire: params[name] for name, wire in _GENERATION.items() if params.get(name) is not None
        }
        stop = params.get("stop")
        if stop is not None:
            config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
        config.update(_response_format(params.get("response_format")))
        config["maxOutputTokens"] = max_tokens
        body: dict[str, Any] = {"contents": contents, "generationConfig": config}
        if system:
            body["systemInstruction"] = {"parts": system}
        declarations: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []
        for spec in params.get("tools") or ():
            declaration, other = _tool(spec)
            if declaration is not None:
                declarations.append(declaration)
            elif other is not None:
                others.append(other)
        tools = ([{"functionDeclarations": declarations}] if declarations else []) + others
        if tools:
            body["tools"] = tools
            if params.get("tool_choice") is not None and declarations:
                body["toolConfig"] = _tool_config(params["tool_choice"])
        method = ":streamGenerateContent?alt=sse" if stream else ":generateContent"
        return post_json(
            self._model_path(model) + method,
            body,
            stream=stream,
            secret_headers=self._auth(key),
        )

    def parse_response(self, status: int, headers: Mapping[str, str], body: bytes) -> ChatResult:
        if status != 200:
            raise self.error_for(status, headers, body)
        data = loads(body)
        if not isinstance(data, Mapping):
            raise BadResponse()
        if data.get("error") is not None:
            raise self.error_from_object(data["error"])
        reply = _Reply(self)
        text, thoughts = reply.take(data)
        candidate = get(data, "candidates", 0)
        if not isinstance(candidate, Mapping):
            raise BadResponse()
        calls = tuple(reply.calls)
        model = data.get("modelVersion")
        return ChatResult(
            text=text,
            reasoning=thoughts,
            usage=usage_from_gemini(data.get("usageMetadata"), _searches(candidate)),
            generation_id=reply.response_id,
            finish_reason=finish_of(candidate.get("finishReason"), bool(calls)),
            model=model[:200] if isinstance(model, str) else None,
            tool_calls=calls,
        )

    def stream_decoder(self) -> GeminiDecoder:
        return GeminiDecoder(self)

    # -- errors -------------------------------------------------------------------------------

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        try:
            data = loads(body[:65536]) if body else None
        except BadResponse:
            data = None
        return self._error(status, headers, get(data, "error"))

    def error_from_object(self, error: Any) -> ByomError:
        """The error for an ``error`` object inside a 200 body or stream (never a key
        rejection: only an HTTP status can say that)."""
        code = get(error, "code")
        status = code if isinstance(code, int) and 400 <= code <= 599 else None
        if status is None:
            name = get(error, "status")
            status = _ERROR_STATUS.get(name, 502) if isinstance(name, str) else 502
        return self._error(status, {}, error, in_band=True)

    def _error(
        self, status: int, headers: Mapping[str, str], error: Any, *, in_band: bool = False
    ) -> ByomError:
        reasons = _reasons(error)
        if not in_band and status == 400 and reasons & KEY_REJECTED_REASONS:
            return KeyRejected(status=status)
        if in_band and reasons & KEY_REJECTED_REASONS:
            status = 401  # mapped to "kept the key" by error_for_status(in_band=True)
        if status == 403:
            # PERMISSION_DENIED: the key lacks access to this API or model. Gemini has no
            # moderation status; the key is kept.
            return BadRequest(
                "Gemini refused this request: the key has no access to this API or model.",
                status=status,
            )
        if status == 429:
            wait = retry_after(headers, time.time())
            if wait is None:
                wait = _retry_delay(error)
            return RateLimited(status=None if in_band else status, retry_after=wait)
        message = get(error, "message")
        hint = message if isinstance(message, str) else ""
        name = get(error, "status")
        hint += " " + (name if isinstance(name, str) and len(name) < 64 else "")
        return error_for_status(status, headers, hint=hint, in_band=in_band)

    # -- after the fact: none; key check and models via GET /v1beta/models -------------------

    def generation_request(self, key: Secret | None, generation_id: str) -> HttpRequest | None:
        return None

    def parse_generation(self, status: int, body: bytes) -> GenerationInfo | None:
        return None

    def key_info_request(self, key: Secret | None) -> HttpRequest:
        """``GET /v1beta/models?pageSize=1`` with the key: a 200 proves the key works."""
        return HttpRequest(
            "GET",
            f"{self.base_url}/{API_VERSION}/models?pageSize=1",
            secret_headers=self._auth(key),
        )

    def parse_key_info(self, status: int, headers: Mapping[str, str], body: bytes) -> KeyInfo:
        if status != 200:
            raise self.error_for(status, headers, body)
        return KeyInfo()

    def models_request(self, key: Secret | None = None) -> HttpRequest:
        return HttpRequest(
            "GET",
            f"{self.base_url}/{API_VERSION}/models?pageSize=1000",
            secret_headers=self._auth(key),
        )

    def parse_models(self, body: bytes) -> Catalog:
        """Listed models that support ``generateContent``, merged with the price snapshot."""
        data = get(loads(body), "models")
        if not isinstance(data, list):
            raise BadResponse("The model list could not be read.")
        listed: list[tuple[str, str | None]] = []
        for entry in data:
            name, label = get(entry, "name"), get(entry, "displayName")
            methods = get(entry, "supportedGenerationMethods")
            if not isinstance(name, str) or not isinstance(methods, list):
                continue
            if "generateContent" not in methods:
                continue
            model_id = name.removeprefix("models/")
            if _MODEL_ID.fullmatch(model_id):
                listed.append((model_id, label[:200] if isinstance(label, str) else None))
        if self._prices is None:
            self._prices = Catalog(source="bundled")  # the shell passes prices=
        catalog = merge_listing(
            listed, self._prices, provider=self.name, source=self.name, aliases=_aliases
        )
        limits = {
            get(e, "name").removeprefix("models/"): token_count(get(e, "inputTokenLimit"))
            for e in data
            if isinstance(get(e, "name"), str)
        }
        models = tuple(
            m if m.context_length is not None or not limits.get(m.id)
            else replace(m, context_length=limits[m.id])
            for m in catalog
        )  # fmt: skip
        return Catalog(models, as_of=catalog.as_of, source=catalog.source)


__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "KEY_REJECTED_REASONS",
    "GeminiAdapter",
    "GeminiDecoder",
    "finish_of",
    "usage_from_gemini",
]
