"""Anthropic Messages API (R1.2). Sans-I/O.

Wire facts (``shared/spec/providers.md``): ``POST https://api.anthropic.com/v1/messages`` with
headers ``x-api-key`` and ``anthropic-version``; ``max_tokens`` is required (byom always sends
one); the system prompt is a top-level ``system`` field, so ``system`` / ``developer`` messages
are lifted out of ``messages``. Usage is ``{input_tokens, output_tokens,
cache_creation_input_tokens, cache_read_input_tokens}``; total input is the sum of the three
input figures (cache reads and writes are priced at their own rates). No cost comes back: cost =
real tokens × the bundled catalog price (computed, R4.2).

Streaming events: ``message_start`` (input usage; a provisional ``output_tokens``),
``content_block_start`` / ``content_block_delta`` / ``content_block_stop``, ``message_delta``
(``stop_reason``; its ``usage.output_tokens`` is the *cumulative final* count — it replaces, never
adds to, what came before), ``message_stop``, ``ping``, and ``error`` (mapped like an HTTP error).
Usage counts as known only once ``message_delta`` arrived: a stream cut before it has an unknown
output count, so its estimate stays counted (unreconciled) rather than a too-low figure.

Tools and structured output arrive in byom's one normalised (OpenAI) shape and are translated:

* ``tools[].function`` → ``{name, description, input_schema}`` (no ``parameters``: an empty
  object schema); entries already in Anthropic's shape pass unchanged.
* ``tool_choice`` ``auto`` / ``none`` / ``required`` / a named function → ``{"type": "auto" |
  "none" | "any" | "tool"}``; ``parallel_tool_calls: false`` → ``disable_parallel_tool_use``
  (on an ``auto`` choice when the app gave none). Without any tool, no ``tool_choice`` is sent.
* An assistant turn's ``tool_calls`` → ``tool_use`` blocks after its text; consecutive ``tool``
  messages → one ``user`` turn of ``tool_result`` blocks, followed by the content of a user
  message that comes right after them (the API wants turns to alternate).
* ``response_format`` → one more tool, named after the schema (``json_schema.name``, or
  ``json_output`` for ``json_object``), whose input is the answer; the core reads the output
  from that call. It is forced (``{"type": "tool"}``) when it is the only tool; beside the
  app's tools the choice becomes ``any`` — for an app choice of ``auto`` too, which would let
  the model answer in free text — an app's ``required`` or named choice stays, and ``none``
  becomes the output tool (the app's tools stay defined: the turns may refer to them).
  With extended ``thinking``, which refuses forced tool use, byom's own choice is ``auto``.

Replies: ``tool_use`` blocks (``id``, ``name``, ``input``) become the result's tool calls; a
stream announces one with ``content_block_start`` (``input: {}``) and sends its input as
``input_json_delta`` fragments, concatenated per block index (an empty concatenation is ``{}``).
``stop_reason: "tool_use"`` is normalised to ``"tool_calls"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from byom.core.catalog import Catalog, Price
from byom.core.errors import BadResponse, ByomError, InvalidRequest, OutOfCredits
from byom.core.secret import Secret
from byom.core.usage import ChatResult, Delta, GenerationInfo, KeyInfo, RawToolCall, Usage
from byom.providers._listing import merge_listing
from byom.providers._openai_style import error_hint, error_object
from byom.providers._wire import (
    MAX_BODY,
    SSEDecoder,
    dumps,
    get,
    loads,
    optional_count,
    token_count,
    tool_arguments,
    tool_calls_of,
    wire_str,
)
from byom.providers.base import DecoderState, HttpRequest, origin_of, post_json, require_key
from byom.providers.errors import error_for_status

DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
API_VERSION: Final = "2023-06-01"

#: Fields passed as they are.
PASSTHROUGH: Final = frozenset({"temperature", "top_p", "top_k", "stop_sequences", "thinking"})
#: OpenAI-style fields with an Anthropic equivalent: ``stop`` → ``stop_sequences``, ``user`` →
#: ``metadata.user_id``, and the tool and structured-output fields (see the module docstring).
#: Sampling hints Anthropic has no equivalent for are accepted and dropped, so the same app code
#: runs against every provider.
_TRANSLATED: Final = frozenset(
    {"stop", "user", "tools", "tool_choice", "parallel_tool_calls", "response_format"}
)
_DROPPED: Final = frozenset({"seed", "presence_penalty", "frequency_penalty", "logit_bias"})

#: Anthropic error ``type`` → the HTTP status it stands for (for ``error`` stream events).
_ERROR_STATUS: Final[Mapping[str, int]] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "timeout_error": 408,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
#: ``stop_reason`` values passed on as they are, except ``tool_use`` → ``"tool_calls"`` (byom's
#: one name for "stopped to call tools"). ``refusal`` (the model stopped on a safety refusal:
#: what it used is charged, the text is no answer) stays ``"refusal"``, byom's one name for it
#: across providers (``Reply.refused``); ``pause_turn`` (the API paused a long server-tool
#: turn; sending the conversation again continues it) stays as it is and reads as not finished
#: (``Reply.truncated``).
_FINISH: Final[Mapping[str, str]] = {"tool_use": "tool_calls"}
#: The name of the output tool for ``response_format: {"type": "json_object"}``.
JSON_OUTPUT_TOOL: Final = "json_output"
_OUTPUT_DESCRIPTION: Final = (
    "Give your final answer by calling this tool: its input is the answer, in this structure."
)


def _finish(value: Any, has_calls: bool = False) -> str | None:
    if not isinstance(value, str):
        return None
    if has_calls and value == "end_turn":
        return "tool_calls"
    return _FINISH.get(value, value[:40])


def _input(value: Any) -> str | Mapping[str, Any] | None:
    """A ``tool_use.input`` as byom passes it on: the object, or — when it is something else —
    its JSON text, which the core then refuses as not an object (never silently ``{}``)."""
    if value is None or isinstance(value, str | Mapping):
        return value
    try:
        return dumps(value).decode("utf-8")
    except (TypeError, ValueError):
        return None


def usage_from_anthropic(data: Any) -> Usage | None:
    """Anthropic usage → byom usage. ``prompt_tokens`` = input + cache writes + cache reads.

    ``None`` when absent or unreadable (``input_tokens`` / ``output_tokens`` missing or not
    whole numbers, a cache figure present but unreadable): the estimate keeps counting.

    * ``iterations`` (context compaction: the request ran as several sampling passes, each
      billed): when present and not empty, the figures are the sum over its entries — the
      top-level ones describe the last pass only. An unreadable entry makes the usage
      unreadable.
    * ``output_tokens_details.thinking_tokens``: the reasoning part of ``output_tokens``.
    * ``server_tool_use``: ``web_search_requests`` are priced per search from the price list;
      ``web_fetch_requests`` carry no fee (tokens only); any other count above 0 is a fee byom
      has no price for (``unpriced_tool_requests``), so the cost becomes unknown.
    """
    if not isinstance(data, Mapping):
        return None
    iterations = data.get("iterations")
    passes = iterations if isinstance(iterations, list) and iterations else [data]
    fresh = output = write = read = 0
    for entry in passes:
        figures = _figures(entry)
        if figures is None:
            return None
        fresh, output, write, read = (
            fresh + figures[0],
            output + figures[1],
            write + figures[2],
            read + figures[3],
        )
    thinking = optional_count(get(data, "output_tokens_details", "thinking_tokens"))
    tools = _server_tools(data.get("server_tool_use"))
    if thinking is None or tools is None:
        return None
    searches, unpriced = tools
    return Usage(
        prompt_tokens=fresh + write + read,
        completion_tokens=output,
        cached_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=min(thinking, output),
        web_search_requests=searches,
        unpriced_tool_requests=unpriced,
    )


def _figures(entry: Any) -> tuple[int, int, int, int] | None:
    """``(input, output, cache writes, cache reads)`` of one usage object, or ``None``."""
    if not isinstance(entry, Mapping):
        return None
    fresh = token_count(entry.get("input_tokens"))
    output = token_count(entry.get("output_tokens"))
    write = optional_count(entry.get("cache_creation_input_tokens"))
    read = optional_count(entry.get("cache_read_input_tokens"))
    if fresh is None or output is None or write is None or read is None:
        return None
    return fresh, output, write, read


#: ``server_tool_use`` counts of tools that are billed by tokens only (no per-use fee).
_FEE_FREE_TOOLS: Final = frozenset({"web_fetch_requests"})


def _server_tools(value: Any) -> tuple[int, int] | None:
    """``(web searches, other fee-bearing uses)`` from ``usage.server_tool_use``; ``None`` when
    a count is unreadable (a count byom cannot read could be a fee it cannot price)."""
    if value is None:
        return 0, 0
    if not isinstance(value, Mapping):
        return None
    searches = optional_count(value.get("web_search_requests"))
    if searches is None:
        return None
    unpriced = 0
    for name, count in value.items():
        if name == "web_search_requests" or name in _FEE_FREE_TOOLS:
            continue
        figure = optional_count(count)
        if figure is None:
            return None
        unpriced += figure
    return searches, unpriced


def _image_block(part: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI-style ``image_url`` part as an Anthropic ``image`` block."""
    url = get(part, "image_url", "url")
    if not isinstance(url, str):
        url = part.get("image_url")
    if not isinstance(url, str):
        raise InvalidRequest("An image part needs a URL.")
    if url.startswith("data:"):
        head, _, data = url.partition(",")
        media_type = head[5:].split(";")[0]
        if ";base64" not in head or not media_type:
            raise InvalidRequest("An image data URL must be base64-encoded.")
        source = {"type": "base64", "media_type": media_type, "data": data}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _content(content: Any) -> Any:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    blocks: list[Any] = []
    for part in content:
        if isinstance(part, Mapping) and part.get("type") == "image_url":
            blocks.append(_image_block(part))
        else:
            blocks.append(dict(part) if isinstance(part, Mapping) else part)
    return blocks


def _system_blocks(content: Any) -> Iterable[dict[str, Any]]:
    if isinstance(content, str):
        yield {"type": "text", "text": content}
        return
    for part in content or ():
        if isinstance(part, Mapping) and isinstance(part.get("text"), str):
            yield dict(part, type="text")
        else:
            raise InvalidRequest("A system message may only hold text.")


def _blocks(content: Any) -> list[Any]:
    """Translated content as a list of blocks (a string becomes one text block; ``""`` none)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content)


def _assistant(message: Mapping[str, Any]) -> dict[str, Any]:
    """An assistant turn; its ``tool_calls`` become ``tool_use`` blocks after its text."""
    content = _content(message.get("content"))
    calls = tool_calls_of(message)
    if not calls:
        return {"role": "assistant", "content": content}
    blocks = _blocks(content)
    for call in calls:
        function = call.get("function")
        call_id, name = call.get("id"), get(function, "name")
        if call.get("type", "function") != "function" or not isinstance(function, Mapping):
            raise InvalidRequest("Anthropic takes function tool calls only.")
        if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
            raise InvalidRequest("A tool call needs an id and a name.")
        arguments = tool_arguments(function.get("arguments"))
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
    return {"role": "assistant", "content": blocks}


def _tool_result(message: Mapping[str, Any]) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequest("A tool result needs the tool_call_id of its call.")
    return {
        "type": "tool_result",
        "tool_use_id": call_id,
        "content": _content(message.get("content")),
    }


def split_messages(
    messages: Sequence[Mapping[str, Any]],
) -> tuple[str | list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """Lift ``system`` / ``developer`` messages out (R1.2): ``(system, messages)``; translate
    tool calls and results (R8.1).

    ``system`` is one string (several system messages joined by blank lines), or a list of text
    blocks when any carries extra fields such as ``cache_control``; ``None`` when there is none.
    Consecutive ``tool`` messages become one ``user`` turn of ``tool_result`` blocks; a user
    message right after them joins that turn, after the results.
    """
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    results: list[Any] | None = None  # the blocks of the open tool-result turn, if any
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_system_blocks(message.get("content")))
            continue
        if role == "tool":
            if results is None:
                results = []
                out.append({"role": "user", "content": results})
            results.append(_tool_result(message))
            continue
        if role == "user" and results is not None:
            results.extend(_blocks(_content(message.get("content"))))
        elif role == "user":
            out.append({"role": role, "content": _content(message.get("content"))})
        elif role == "assistant":
            out.append(_assistant(message))
        else:
            raise InvalidRequest("Anthropic takes system, user, assistant and tool messages only.")
        results = None
    if not system:
        return None, out
    if all(set(block) == {"type", "text"} for block in system):
        return "\n\n".join(block["text"] for block in system), out
    return system, out


def _tool(spec: Any) -> dict[str, Any]:
    """An OpenAI-style function tool as an Anthropic tool; other entries (already Anthropic's
    shape, or a provider-defined tool) pass unchanged."""
    if not isinstance(spec, Mapping):
        raise InvalidRequest("A tool must be an object.")
    if spec.get("type") != "function":
        return dict(spec)
    function = spec.get("function")
    name = get(function, "name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("A function tool needs a name.")
    tool: dict[str, Any] = {"name": name}
    description = get(function, "description")
    if isinstance(description, str) and description:
        tool["description"] = description
    parameters = get(function, "parameters")
    tool["input_schema"] = (
        dict(parameters)
        if isinstance(parameters, Mapping)
        else {"type": "object", "properties": {}}
    )
    return tool


def _tool_choice(choice: Any) -> dict[str, Any]:
    """OpenAI's ``tool_choice`` as Anthropic's (an Anthropic-shaped choice passes unchanged)."""
    named = {"auto": "auto", "none": "none", "required": "any"}
    if isinstance(choice, str) and choice in named:
        return {"type": named[choice]}
    if isinstance(choice, Mapping):
        if choice.get("type") == "function":
            name = get(choice, "function", "name")
            if isinstance(name, str) and name:
                return {"type": "tool", "name": name}
        elif choice.get("type") in ("auto", "any", "none", "tool"):
            return dict(choice)
    raise InvalidRequest('tool_choice must be "auto", "none", "required" or a named function.')


def _output_tool(response_format: Any) -> dict[str, Any] | None:
    """The tool whose input is the structured answer, for a ``response_format`` (``None`` for
    plain text)."""
    if response_format is None:
        return None
    kind = get(response_format, "type")
    if kind == "text":
        return None
    if kind == "json_object":
        name: Any = JSON_OUTPUT_TOOL
        schema: Any = {"type": "object"}
        description: Any = None
    elif kind == "json_schema":
        name = get(response_format, "json_schema", "name")
        schema = get(response_format, "json_schema", "schema")
        description = get(response_format, "json_schema", "description")
        schema = {"type": "object"} if schema is None else schema
        if not isinstance(name, str) or not name or not isinstance(schema, Mapping):
            raise InvalidRequest("A json_schema response format needs a name and a schema.")
    else:
        raise InvalidRequest("Unsupported response_format for Anthropic.")
    text = description if isinstance(description, str) and description else _OUTPUT_DESCRIPTION
    return {"name": name, "description": text, "input_schema": dict(schema)}


def _thinking_on(thinking: Any) -> bool:
    kind = get(thinking, "type")
    return thinking is not None and kind != "disabled"


def tool_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """``tools`` and ``tool_choice`` for a request, from the normalised ``tools``,
    ``tool_choice``, ``parallel_tool_calls`` and ``response_format`` (module docstring)."""
    raw_tools = params.get("tools")
    if raw_tools is not None and not isinstance(raw_tools, list | tuple):
        raise InvalidRequest("tools must be a list.")
    tools = [_tool(spec) for spec in raw_tools or ()]
    choice = _tool_choice(params["tool_choice"]) if params.get("tool_choice") is not None else None
    output = _output_tool(params.get("response_format"))
    if output is not None:
        if any(tool.get("name") == output["name"] for tool in tools):
            raise InvalidRequest("The response format has the name of one of the tools.")
        forced: dict[str, Any] = (
            {"type": "any"} if tools else {"type": "tool", "name": output["name"]}
        )
        if choice is not None and choice["type"] == "none":
            forced = {"type": "tool", "name": output["name"]}
        if _thinking_on(params.get("thinking")):
            forced = {"type": "auto"}  # Anthropic refuses forced tool use while thinking
        if choice is None or choice["type"] in ("auto", "none"):
            choice = forced
        tools.append(output)
    if not tools:
        return {}
    if params.get("parallel_tool_calls") is False:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    fields: dict[str, Any] = {"tools": tools}
    if choice is not None:
        fields["tool_choice"] = choice
    return fields


def _aliases(model_id: str) -> Iterable[str]:
    """A dated id (``claude-sonnet-4-5-20250929``) → itself, its alias, ``-0`` / ``-latest``."""
    yield model_id
    head, _, tail = model_id.rpartition("-")
    if head and len(tail) == 8 and tail.isdigit():
        yield head
        yield head + "-0"
        yield head + "-latest"


class _ToolBlock:
    """A ``tool_use`` block being streamed: its start, then its ``input_json_delta`` text."""

    __slots__ = ("id", "input", "name", "parts", "streamed")

    def __init__(self, start: Any) -> None:
        self.id = wire_str(get(start, "id")) or None
        self.name = wire_str(get(start, "name"))
        self.input = _input(get(start, "input"))
        self.parts: list[str] = []
        self.streamed = False

    def call(self) -> RawToolCall:
        if not self.streamed:
            return RawToolCall(self.id, self.name, self.input)
        text = "".join(self.parts)
        return RawToolCall(self.id, self.name, text if text else {})

    def __repr__(self) -> str:  # never the input
        return f"_ToolBlock(id={self.id!r}, name={self.name!r})"


class AnthropicDecoder(DecoderState):
    """Incremental parser of a Messages API event stream."""

    def __init__(self, adapter: AnthropicAdapter) -> None:
        super().__init__()
        self._adapter = adapter
        self._sse = SSEDecoder()
        self._input: Mapping[str, Any] = {}
        self._output: Any = 0  # as reported: usage_from_anthropic decides if it is readable
        self._final = False
        self._blocks: dict[Any, str] = {}  # block index → its type, as started
        self._tools: dict[Any, _ToolBlock] = {}  # tool_use blocks by index, in order
        self._json_size = 0

    @property
    def partial(self) -> ChatResult:
        usage = None
        if self._final:
            usage = usage_from_anthropic({**self._input, "output_tokens": self._output})
        return self._result(usage, None, tuple(b.call() for b in self._tools.values()))

    def _finish_reason(self, has_calls: bool) -> str | None:
        if has_calls and self._finish == "end_turn":
            return "tool_calls"
        return self._finish

    def feed(self, data: bytes) -> list[Delta]:
        out: list[Delta] = []
        for event, payload in self._sse.feed(data):
            delta = self._event(event, payload)
            if delta is not None:
                out.append(delta)
        return out

    def _event(self, event: str, payload: str) -> Delta | None:
        if self._done:
            return None
        data = loads(payload)
        if not isinstance(data, Mapping):
            raise BadResponse()
        kind = data.get("type") if isinstance(data.get("type"), str) else event
        if kind == "message_start":
            message = data.get("message")
            if isinstance(get(message, "id"), str):
                self._generation_id = get(message, "id")[:200]
            if isinstance(get(message, "model"), str):
                self._model = get(message, "model")[:200]
            usage = get(message, "usage")
            if isinstance(usage, Mapping):
                self._input = _input_figures(usage)
                self._output = usage.get("output_tokens")
            return None
        if kind == "content_block_start":
            block = get(data, "content_block")
            index = _index(data.get("index"))
            block_type = get(block, "type")
            self._blocks[index] = block_type if isinstance(block_type, str) else ""
            if block_type == "tool_use":
                self._tools[index] = _ToolBlock(block)
            return self._piece(block)
        if kind == "content_block_delta":
            delta = get(data, "delta")
            if get(delta, "type") == "input_json_delta":
                self._input_json(_index(data.get("index")), get(delta, "partial_json"))
                return None
            return self._piece(delta)
        if kind == "message_delta":
            stop = get(data, "delta", "stop_reason")
            if stop is not None:
                self._finish = _finish(stop)
            usage = data.get("usage")
            if isinstance(usage, Mapping):
                # Cumulative figures: they replace earlier ones, never add to them.
                if "output_tokens" in usage:
                    self._output = usage.get("output_tokens")
                    self._final = True
                figures = _input_figures(usage)
                if figures:
                    self._input = {**self._input, **figures}
            return None
        if kind == "message_stop":
            self._done = True
            return None
        if kind == "error":
            self._finish = self._finish or "error"
            raise self._adapter.error_from_object(data.get("error"))
        return None  # ping, content_block_stop, and event types added later

    def _input_json(self, index: Any, fragment: Any) -> None:
        """A fragment of a tool's input. One for a block never started is kept as a call with
        no name (the core refuses it); one for a server tool's block is not the app's."""
        if index not in self._blocks:
            self._blocks[index] = "tool_use"
            self._tools[index] = _ToolBlock(None)
        tool = self._tools.get(index)
        if tool is None:
            return
        tool.streamed = True
        if isinstance(fragment, str) and fragment:
            self._json_size += len(fragment)
            if self._json_size > MAX_BODY:
                raise BadResponse("The provider's stream was too large.")
            tool.parts.append(fragment)

    def _piece(self, block: Any) -> Delta | None:
        """Text or thinking from a ``content_block_start`` block or a ``…_delta``."""
        kind = get(block, "type")
        text = _field(block, "text") if kind in ("text", "text_delta") else ""
        thinking = _field(block, "thinking") if kind in ("thinking", "thinking_delta") else ""
        if not text and not thinking:
            return None
        self._text.append(text)
        self._reasoning.append(thinking)
        return Delta(text=text, reasoning=thinking)

    def close(self) -> ChatResult:
        for event, payload in self._sse.close():
            self._event(event, payload)
        return self.partial


def _index(value: Any) -> Any:
    """A content block's ``index`` as a dict key (an unusable one is ``None``)."""
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _input_figures(usage: Mapping[str, Any]) -> dict[str, Any]:
    """The usage members besides ``output_tokens`` a stream event carries; later events'
    (cumulative) members replace earlier ones."""
    names = (
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "iterations",
        "output_tokens_details",
        "server_tool_use",
    )
    return {name: usage[name] for name in names if usage.get(name) is not None}


class AnthropicAdapter:
    """Anthropic's Messages API wire format."""

    name = "anthropic"
    reports_cost = False
    needs_key = True

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_version: str = API_VERSION,
        direct_browser_access: bool = False,
        prices: Catalog | None = None,
    ) -> None:
        """``base_url`` is the API root (``https://api.anthropic.com``; a trailing ``/v1`` is
        accepted). ``direct_browser_access`` adds the header Anthropic requires for calls made
        straight from a web page (the browser shell). ``prices``: the snapshot merged into
        listed models (default: the bundled one)."""
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if base.endswith("/v1"):
            base = base[:-3]
        self.base_url = base
        self._origin = origin_of(self.base_url)
        self._headers = {"anthropic-version": api_version}
        if direct_browser_access:
            self._headers["anthropic-dangerous-direct-browser-access"] = "true"
        self._prices = prices

    @property
    def origin(self) -> str:
        return self._origin

    def _auth(self, key: Secret | None) -> dict[str, Secret]:
        return {"x-api-key": require_key(key)}

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
        """``max_price`` is ignored: there is no routing, the catalog price is the price."""
        unknown = set(params) - PASSTHROUGH - _TRANSLATED - _DROPPED
        if unknown:
            raise InvalidRequest(
                "byom does not pass these request fields: " + ", ".join(sorted(unknown)[:5])
            )
        system, turns = split_messages(messages)
        body: dict[str, Any] = {k: v for k, v in params.items() if k in PASSTHROUGH}
        body.update(tool_fields(params))
        stop = params.get("stop")
        if stop is not None:
            body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        if params.get("user") is not None:
            body["metadata"] = {"user_id": params["user"]}
        body.update(model=model, max_tokens=max_tokens, messages=turns, stream=stream)
        if system is not None:
            body["system"] = system
        return post_json(
            self.base_url + "/v1/messages",
            body,
            stream=stream,
            secret_headers=self._auth(key),
            headers=self._headers,
        )

    def parse_response(self, status: int, headers: Mapping[str, str], body: bytes) -> ChatResult:
        if status != 200:
            raise self.error_for(status, headers, body)
        data = loads(body)
        if not isinstance(data, Mapping):
            raise BadResponse()
        if data.get("type") == "error" or (
            data.get("error") is not None and data.get("content") is None
        ):
            raise self.error_from_object(data.get("error"))
        content = data.get("content")
        if not isinstance(content, list):
            raise BadResponse()
        text = [_field(b, "text") for b in content if get(b, "type") == "text"]
        thinking = [_field(b, "thinking") for b in content if get(b, "type") == "thinking"]
        calls = tuple(
            RawToolCall(
                id=wire_str(get(b, "id")) or None,
                name=wire_str(get(b, "name")),
                arguments=_input(get(b, "input")),
            )
            for b in content
            if get(b, "type") == "tool_use"
        )
        generation_id = data.get("id")
        model = data.get("model")
        return ChatResult(
            text="".join(text),
            reasoning="".join(thinking),
            usage=usage_from_anthropic(data.get("usage")),
            generation_id=generation_id[:200] if isinstance(generation_id, str) else None,
            finish_reason=_finish(data.get("stop_reason"), bool(calls)),
            model=model[:200] if isinstance(model, str) else None,
            tool_calls=calls,
        )

    def stream_decoder(self) -> AnthropicDecoder:
        return AnthropicDecoder(self)

    # -- errors -------------------------------------------------------------------------------

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        return self._error(status, headers, error_object(body))

    def error_from_object(self, error: Any) -> ByomError:
        """The error for an ``error`` stream event (or an error object in a 200 body)."""
        kind = get(error, "type")
        status = _ERROR_STATUS.get(kind, 502) if isinstance(kind, str) else 502
        return self._error(status, {}, error, in_band=True)

    def _error(
        self, status: int, headers: Mapping[str, str], error: Any, *, in_band: bool = False
    ) -> ByomError:
        hint = error_hint(error).lower()
        # Anthropic reports an empty balance as a 400 ``invalid_request_error``.
        if status == 400 and "credit balance" in hint:
            return OutOfCredits(status=status)
        kind = get(error, "type")
        kind = kind if isinstance(kind, str) and len(kind) < 64 else ""
        return error_for_status(status, headers, hint=hint + " " + kind, in_band=in_band)

    # -- after the fact: none; key check and models via GET /v1/models -------------------------

    def generation_request(self, key: Secret | None, generation_id: str) -> HttpRequest | None:
        return None

    def parse_generation(self, status: int, body: bytes) -> GenerationInfo | None:
        return None

    def key_info_request(self, key: Secret | None) -> HttpRequest:
        """``GET /v1/models?limit=1`` with the key: a 200 proves the key works."""
        return HttpRequest(
            "GET",
            self.base_url + "/v1/models?limit=1",
            headers=dict(self._headers),
            secret_headers=self._auth(key),
        )

    def parse_key_info(self, status: int, headers: Mapping[str, str], body: bytes) -> KeyInfo:
        if status != 200:
            raise self.error_for(status, headers, body)
        return KeyInfo()

    def models_request(self, key: Secret | None = None) -> HttpRequest:
        return HttpRequest(
            "GET",
            self.base_url + "/v1/models?limit=1000",
            headers=dict(self._headers),
            secret_headers=self._auth(key),
        )

    def parse_models(self, body: bytes) -> Catalog:
        """Listed ids merged with the price snapshot (a dated id takes its alias's price)."""
        data = get(loads(body), "data")
        if not isinstance(data, list):
            raise BadResponse("The model list could not be read.")
        listed: list[tuple[str, str | None]] = []
        for entry in data:
            model_id, name = get(entry, "id"), get(entry, "display_name")
            if isinstance(model_id, str) and model_id:
                listed.append((model_id[:200], name[:200] if isinstance(name, str) else None))
        if self._prices is None:
            self._prices = Catalog(source="bundled")  # the shell passes prices=
        return merge_listing(
            listed, self._prices, provider=self.name, source=self.name, aliases=_aliases
        )


def _field(block: Any, name: str) -> str:
    value = get(block, name)
    return value if isinstance(value, str) else ""


__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "JSON_OUTPUT_TOOL",
    "AnthropicAdapter",
    "split_messages",
    "tool_fields",
]
