"""The simulator's fifth wire format: Google's Gemini API (``v1beta``), with the same rules.

Paths: ``POST /v1beta/models/<model>:generateContent``, ``POST /v1beta/models/<model>:
streamGenerateContent?alt=sse``, ``GET /v1beta/models``, ``GET /v1beta/models/<model>``. Base
URL for a client: the simulator's ``base_url``.

A request is read into the simulator's common :class:`~byom.sim._server.Chat` — the texts of
``systemInstruction`` (first) and of each ``contents`` turn (its ``text`` parts joined), the
tools (``functionDeclarations``), the choice (``toolConfig.functionCallingConfig``) and a
response schema (``generationConfig.responseJsonSchema`` / ``responseSchema`` with
``responseMimeType: "application/json"``) — so tokens, the reply, tool turns and structured
output follow the rules in ``byom.sim``'s docstring exactly. Structure tokens are those of the
same request in the OpenAI shape (tools as ``function`` entries, ``functionCall`` /
``functionResponse`` parts as content parts; ``inlineData`` images are not billed).

Gemini's own ways, as the real API has them:

* The key is the ``x-goog-api-key`` header. None → 403 ``PERMISSION_DENIED``; a wrong or
  revoked one → 400 ``INVALID_ARGUMENT`` with a ``google.rpc.ErrorInfo`` detail, reason
  ``API_KEY_INVALID``. The simulator refuses a key in the URL (``?key=``) with 400: byom must
  never send one there.
* Faults: ``{"status": 401}`` answers what Gemini answers a bad key (above); 429 is
  ``RESOURCE_EXHAUSTED`` with a ``google.rpc.RetryInfo`` ``retryDelay`` of ``retry_after``
  seconds and no ``Retry-After`` header; other statuses carry Google's canonical status name.
* Replies: ``candidates[0].content.parts`` (``text``, or one ``functionCall {name, args}`` part
  per call — no id; the first carries ``thoughtSignature: "sim-signature-<n>"``), a
  ``finishReason`` (``STOP`` for text and tool turns, ``MAX_TOKENS``, ``OTHER`` for the
  ``finish_error`` fault), ``usageMetadata {promptTokenCount, candidatesTokenCount,
  totalTokenCount}``, ``modelVersion``, ``responseId`` (``simresp<n><hex>``). A request whose
  history has a ``model`` turn with function calls but without that turn's signature on its
  first call answers 400, as Gemini 3 does.
* Streams: SSE ``data:`` events separated by ``\\r\\n\\r\\n``, each a whole response with the
  usage so far; the last carries the ``finishReason``; there is no end marker. Text pieces as in
  the rules; a tool turn is one event with every call, then the finish event.
  ``cut_before_usage`` sends every piece and drops the connection before the finish event;
  ``midstream_error`` sends half the pieces then ``data: {"error": {…}}``;
  ``stream_cut_in_tool_arguments`` sends the first half of the bytes of the calls event.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from byom.sim import _rules as rules
from byom.sim import _tools as tools

if TYPE_CHECKING:
    from byom.sim._server import Plan, SimHandler
    from byom.sim._state import SimConfig

GEMINI: Final = "gemini"
PREFIX: Final = "/v1beta/"

#: ``(id, display name, inputTokenLimit, outputTokenLimit, methods)`` — the listed models.
MODELS: Final[tuple[tuple[str, str, int, int, tuple[str, ...]], ...]] = (
    ("gemini-2.5-flash", "Gemini 2.5 Flash", 1048576, 65536, ("generateContent", "countTokens")),
    ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", 1048576, 65536, ("generateContent",)),
    ("gemini-2.5-pro", "Gemini 2.5 Pro", 1048576, 65536, ("generateContent", "countTokens")),
    ("gemini-3.5-flash", "Gemini 3.5 Flash", 1048576, 65536, ("generateContent",)),
    ("text-embedding-004", "Text Embedding 004", 2048, 1, ("embedContent",)),
)
_CHAT_IDS: Final = frozenset(m[0] for m in MODELS if "generateContent" in m[4])
_ALL_IDS: Final = frozenset(m[0] for m in MODELS)

#: HTTP status → Google's canonical error status.
CANONICAL: Final[Mapping[int, str]] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "FAILED_PRECONDITION",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
FINISH: Final[Mapping[str, str]] = {
    "stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "error": "OTHER",
}  # fmt: skip
BAD_KEY_MESSAGE: Final = "API key not valid. Please pass a valid API key."
SIGNATURE_PREFIX: Final = "sim-signature-"
_CHAT_RE: Final = re.compile(r"^/v1beta/models/([^/:]+):(generateContent|streamGenerateContent)$")
_MODEL_RE: Final = re.compile(r"^/v1beta/models/([^/:]+)$")


def error_payload(status: int, message: str, metadata: Mapping[str, object]) -> dict[str, object]:
    """Google's error body: ``{"error": {code, message, status, details?}}``."""
    error: dict[str, object] = {
        "code": status,
        "message": message,
        "status": CANONICAL.get(status, "UNKNOWN"),
    }
    details: list[dict[str, object]] = []
    reason = metadata.get("reason")
    if isinstance(reason, str):
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        )
    delay = metadata.get("retry_delay")
    if isinstance(delay, int):
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay}s"}
        )
    if details:
        error["details"] = details
    return {"error": error}


def _request_error(status: int, message: str, **metadata: object) -> Exception:
    from byom.sim._server import RequestError

    return RequestError(status, message, metadata=metadata)


def _bad_key() -> Exception:
    return _request_error(400, BAD_KEY_MESSAGE, reason="API_KEY_INVALID")


def status_fault(status: int, retry_after: int) -> Exception:
    """What a ``{"status": N}`` fault answers on the Gemini paths."""
    from byom.sim._server import STATUS_MESSAGES

    if status == 401:
        return _bad_key()
    if status == 429:
        return _request_error(
            429, "Resource has been exhausted (e.g. check quota).", retry_delay=retry_after
        )
    return _request_error(status, STATUS_MESSAGES.get(status, "Error"))


# ---------------------------------------------------------------------- routing


def route(
    handler: SimHandler, method: str, path: str, body: bytes, query: Mapping[str, list[str]]
) -> bool:
    """Answer a ``/v1beta/…`` request; False when the path is not one of Gemini's."""
    match = _CHAT_RE.match(path)
    if match is not None and method == "POST":
        stream = match.group(2) == "streamGenerateContent"
        if stream and query.get("alt") != ["sse"]:
            raise _request_error(400, "byom sim: streamGenerateContent is served with ?alt=sse")
        _chat(handler, unquote(match.group(1)), body, query, stream)
        return True
    if method == "GET" and path == "/v1beta/models":
        _key(handler, query)
        handler._json(200, {"models": [_model_entry(m) for m in MODELS]})
        return True
    match = _MODEL_RE.match(path)
    if method == "GET" and match is not None:
        _key(handler, query)
        model_id = unquote(match.group(1))
        entry = next((m for m in MODELS if m[0] == model_id), None)
        if entry is None:
            raise _request_error(404, f"models/{model_id} is not found for API version v1beta")
        handler._json(200, _model_entry(entry))
        return True
    return False


def _model_entry(model: tuple[str, str, int, int, tuple[str, ...]]) -> dict[str, object]:
    model_id, name, input_limit, output_limit, methods = model
    return {
        "name": f"models/{model_id}",
        "version": "001",
        "displayName": name,
        "inputTokenLimit": input_limit,
        "outputTokenLimit": output_limit,
        "supportedGenerationMethods": list(methods),
    }


def _key(handler: SimHandler, query: Mapping[str, list[str]]) -> str:
    """The request key's fingerprint; the refusals of the module docstring."""
    from byom.sim._state import key_fingerprint

    if "key" in query:
        raise _request_error(400, "byom sim: the key must travel in x-goog-api-key, not the URL")
    key = handler.headers.get("x-goog-api-key")
    if key is None or not key.strip():
        raise _request_error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )
    if not handler.server.state.key_valid(key.strip()):
        raise _bad_key()
    return key_fingerprint(key.strip())


# ---------------------------------------------------------------------- chat


def _chat(
    handler: SimHandler, model: str, body: bytes, query: Mapping[str, list[str]], stream: bool
) -> None:
    from byom.sim._server import _fault_int

    state = handler.server.state
    fault = state.pop_fault()
    kind = None if fault is None else str(fault["kind"])
    if fault is not None and kind == "status":
        raise status_fault(_fault_int(fault, "status", 500), _fault_int(fault, "retry_after", 1))
    if fault is not None and kind == "slow_first_byte":
        seconds = fault.get("seconds", 0)
        handler._wait_for_hangup(float(seconds) if isinstance(seconds, int | float) else 0.0)
        kind = None
    config = state.config
    chat = _parse(handler, model, body, query, stream, config)
    plan = handler._plan(chat, config, kind, fault)
    if stream:
        _stream(handler, plan, config)
    else:
        _whole(handler, plan)


def _parse(
    handler: SimHandler,
    model: str,
    body: bytes,
    query: Mapping[str, list[str]],
    stream: bool,
    config: SimConfig,
) -> Any:
    from byom.sim._server import Chat, _int_field, _parse_json

    key_fp = _key(handler, query)
    data = _parse_json(body)
    contents = data.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _request_error(400, "* GenerateContentRequest.contents: contents is not specified")
    if not all(isinstance(c, Mapping) for c in contents):
        raise _request_error(400, "contents must be a list of Content objects")
    if model not in _CHAT_IDS:
        if model in _ALL_IDS:
            raise _request_error(400, f"models/{model} is not supported for generateContent")
        raise _request_error(
            404,
            f"models/{model} is not found for API version v1beta, or is not supported for "
            "generateContent.",
        )
    _check_signatures(contents)
    generation = data.get("generationConfig")
    generation = generation if isinstance(generation, Mapping) else {}
    max_tokens = None
    if generation.get("maxOutputTokens") is not None:
        max_tokens = _int_field(generation["maxOutputTokens"], "maxOutputTokens", 1)
    texts: list[str] = []
    system = data.get("systemInstruction")
    if system is not None:
        texts.append(_text(get_parts(system)))
    texts.extend(_text(get_parts(c)) for c in contents)
    chat = Chat(GEMINI, model, texts, max_tokens, stream, False, key_fp)
    billed, offered = _openai_shape(data, contents, generation)
    chat.extra_tokens = rules.structure_tokens(billed)
    try:
        chat.request = tools.parse_request("openai", offered)
    except tools.ToolRequestError as exc:
        raise _request_error(400, str(exc)) from exc
    if model in config.unavailable_models:
        raise _request_error(503, "The model is overloaded. Please try again later.")
    return chat


def get_parts(content: object) -> list[Any]:
    parts = content.get("parts") if isinstance(content, Mapping) else None
    return parts if isinstance(parts, list) else []


def _text(parts: Sequence[Any]) -> str:
    return "".join(
        p["text"] for p in parts if isinstance(p, Mapping) and isinstance(p.get("text"), str)
    )


def _check_signatures(contents: Sequence[Mapping[str, Any]]) -> None:
    """A ``model`` turn with function calls must carry its thought signature on the first."""
    for content in contents:
        if content.get("role") != "model":
            continue
        calls = [p for p in get_parts(content) if isinstance(p, Mapping) and "functionCall" in p]
        if not calls:
            continue
        signature = calls[0].get("thoughtSignature")
        if not isinstance(signature, str) or not signature.startswith(SIGNATURE_PREFIX):
            raise _request_error(
                400,
                "Function call is missing a thought_signature in functionCall parts. This is "
                "required for tools to work correctly.",
            )


def _openai_shape(
    data: Mapping[str, Any], contents: Sequence[Mapping[str, Any]], generation: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request in the OpenAI shape, twice: for billing structure tokens (calls and
    results as content parts), and for reading the tool offer (calls as ``tool_calls``)."""
    offered_tools: list[dict[str, Any]] = []
    for tool in data.get("tools") or ():
        if not isinstance(tool, Mapping):
            raise _request_error(400, "tools must be a list of Tool objects")
        for declaration in tool.get("functionDeclarations") or ():
            if not isinstance(declaration, Mapping):
                raise _request_error(400, "functionDeclarations must be objects")
            function: dict[str, Any] = {"name": declaration.get("name")}
            schema = declaration.get("parametersJsonSchema", declaration.get("parameters"))
            if schema is not None:
                function["parameters"] = schema
            offered_tools.append({"type": "function", "function": function})
    shape: dict[str, Any] = {}
    if offered_tools:
        shape["tools"] = offered_tools
    choice = _choice(data.get("toolConfig"))
    if choice is not None:
        shape["tool_choice"] = choice
    response_format = _format(generation)
    if response_format is not None:
        shape["response_format"] = response_format
    billed_messages: list[dict[str, Any]] = []
    offered_messages: list[dict[str, Any]] = []
    for content in contents:
        role = "assistant" if content.get("role") == "model" else "user"
        parts: list[Any] = []
        calls: list[Any] = []
        for part in get_parts(content):
            if not isinstance(part, Mapping):
                continue
            if isinstance(part.get("text"), str):
                parts.append({"type": "text", "text": part["text"]})
            elif "inlineData" in part or "fileData" in part:
                parts.append({"type": "image"})  # images are not billed
            else:
                billed_part = {k: v for k, v in part.items() if k != "thoughtSignature"}
                parts.append(billed_part)
                if "functionCall" in part:
                    calls.append(part["functionCall"])
        billed_messages.append({"role": role, "content": parts})
        offered: dict[str, Any] = {"role": role, "content": ""}
        if calls:
            offered["tool_calls"] = calls
        offered_messages.append(offered)
    return {**shape, "messages": billed_messages}, {**shape, "messages": offered_messages}


def _choice(config: object) -> object:
    calling = config.get("functionCallingConfig") if isinstance(config, Mapping) else None
    if calling is None:
        return None
    if not isinstance(calling, Mapping):
        raise _request_error(400, "toolConfig.functionCallingConfig must be an object")
    mode = calling.get("mode", "AUTO")
    names = calling.get("allowedFunctionNames")
    if mode == "AUTO":
        return "auto"
    if mode == "NONE":
        return "none"
    if mode == "ANY":
        if isinstance(names, list) and len(names) == 1 and isinstance(names[0], str):
            return {"type": "function", "function": {"name": names[0]}}
        return "required"
    raise _request_error(
        400, f"Invalid value at 'tool_config.function_calling_config.mode': {mode}"
    )


def _format(generation: Mapping[str, Any]) -> object:
    mime = generation.get("responseMimeType")
    schema = generation.get("responseJsonSchema", generation.get("responseSchema"))
    if mime is None:
        if schema is not None:
            raise _request_error(400, "responseSchema needs responseMimeType application/json")
        return None
    if mime == "text/plain":
        return None
    if mime != "application/json":
        raise _request_error(400, f"Unsupported response mime type: {mime}")
    if schema is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}


# ---------------------------------------------------------------------- replies


def response_id(serial: int, model: str) -> str:
    digest = hashlib.sha256(f"{GEMINI}:{serial}:{model}".encode()).hexdigest()
    return f"simresp{serial}{digest[:16]}"


def _usage(plan: Plan, completion: int) -> dict[str, object]:
    return {
        "promptTokenCount": plan.prompt_tokens,
        "candidatesTokenCount": completion,
        "totalTokenCount": plan.prompt_tokens + completion,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": plan.prompt_tokens}],
    }


def _call_parts(plan: Plan) -> list[dict[str, object]]:
    parts: list[dict[str, object]] = []
    for call in plan.calls:
        part: dict[str, object] = {"functionCall": {"name": call.name, "args": call.wire_arguments}}
        if not parts:
            part["thoughtSignature"] = f"{SIGNATURE_PREFIX}{plan.serial}"
        parts.append(part)
    return parts


def _response(
    plan: Plan,
    parts: list[dict[str, object]],
    completion: int,
    finish: str | None,
) -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = FINISH[finish]
    candidate["index"] = 0
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(plan, completion),
        "modelVersion": plan.chat.model,
        "responseId": plan.gen_id,
    }


def _whole(handler: SimHandler, plan: Plan) -> None:
    if plan.fault == "midstream_error":
        handler._record(plan, completion_tokens=0, finish="error")
        code = plan.error_code
        handler._json(code, error_payload(code, "upstream error", {}))
        return
    parts = _call_parts(plan) if plan.calls else [{"text": plan.text}]
    handler._send_whole(
        plan, rules.dumpb(_response(plan, parts, plan.completion_tokens, plan.finish))
    )


def _event(payload: object) -> bytes:
    return b"data: " + rules.dumpb(payload) + b"\r\n\r\n"


def _stream(handler: SimHandler, plan: Plan, config: SimConfig) -> None:
    from byom.sim._server import _Cut

    handler._start_stream("text/event-stream")
    if plan.fault == "malformed_json":
        handler._record(plan)
        try:
            handler._chunk(b'data: {"candidates": [{"content": {"par\r\n\r\n')
            handler._end_stream()
        except _Cut:
            pass
        return
    if plan.calls:
        _stream_calls(handler, plan, config)
        return
    pieces = handler._pieces(plan, config)
    sent_text: list[str] = []

    def emit(piece: str) -> None:
        sent_text.append(piece)
        so_far = rules.tokens("".join(sent_text))
        handler._chunk(_event(_response(plan, [{"text": piece}], so_far, None)))

    try:
        sent = handler._send_pieces(plan, config, pieces, emit)
    except _Cut:
        return
    try:
        if plan.fault == "midstream_error":
            handler._record_partial(plan, pieces[:sent], "error")
            handler._chunk(_event(error_payload(plan.error_code, "upstream error", {})))
            handler._end_stream()
            return
        if plan.fault == "cut_before_usage":
            handler._record_cut(plan, pieces)
            handler._cut_connection()
            return
        handler._record(plan)
        final = _response(plan, [{"text": ""}], plan.completion_tokens, plan.finish)
        handler._chunk(_event(final))
        handler._end_stream()
    except _Cut:
        return


def _stream_calls(handler: SimHandler, plan: Plan, config: SimConfig) -> None:
    """A tool-call turn: one event with every call, then the finish event."""
    from byom.sim._server import _Cut

    calls_event = _event(_response(plan, _call_parts(plan), plan.completion_tokens, None))
    if config.stream_cut_in_tool_arguments and plan.fault is None:
        handler._record(plan, completion_tokens=0, finish=None, cancelled=True)
        try:
            handler._chunk(calls_event[: len(calls_event) // 2])
        except _Cut:
            return
        handler._cut_connection()
        return
    billed = plan.completion_tokens
    try:
        if plan.fault == "midstream_error":
            handler._record(plan, completion_tokens=0, finish="error")
            handler._chunk(_event(error_payload(plan.error_code, "upstream error", {})))
            handler._end_stream()
            return
        handler._send_pieces(
            plan, config, [calls_event], handler._chunk, lambda s: billed if s else 0
        )
        if plan.fault == "cut_before_usage":
            handler._record(plan, finish=None, cancelled=True)
            handler._cut_connection()
            return
        handler._record(plan)
        final = _response(plan, [{"text": ""}], plan.completion_tokens, plan.finish)
        handler._chunk(_event(final))
        handler._end_stream()
    except _Cut:
        return
