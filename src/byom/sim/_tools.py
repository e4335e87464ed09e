"""The simulator's tool-calling and structured-output rules (pure: no I/O, clock or randomness).

What a request offers (tools, tool choice, a response schema) is read here in each wire style;
what the simulated model answers — which tools it calls, with which arguments, how a streamed
call is split into fragments, what a turn is billed — is decided here, so tests can recompute
it. The rules are restated in ``byom.sim``'s module docstring; change both together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from byom.sim._rules import WORDS, dumps, tokens, truncate

Style = Literal["openai", "anthropic", "ollama"]
Choice = Literal["auto", "none", "required", "named"]
StepKind = Literal["start", "args", "stop"]

#: Tool names the providers accept.
TOOL_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Anthropic server tools (``web_search_20250305``, ``bash_20250124`` …): offered, never called.
_SERVER_TOOL_TYPE: Final = re.compile(r"^[a-z][a-z0-9_]*_[0-9]{8}$")
#: Characters per streamed argument fragment.
FRAGMENT_CHARS: Final = 8
#: Deepest schema nesting followed (deeper, or a ``$ref`` cycle, gives ``null``).
MAX_DEPTH: Final = 32
#: Most items generated for one array (``minItems`` above this is not honoured).
MAX_ITEMS: Final = 100
#: Longest ``minLength`` honoured.
MAX_STRING: Final = 1_000_000
#: The padding cycle for ``tool_argument_bytes``: " amber anchor apple … willow", repeated.
_PAD_CYCLE: Final = "".join(" " + word for word in WORDS)


class ToolRequestError(ValueError):
    """A tool or format field the provider would refuse (the simulator answers 400)."""


@dataclass(frozen=True, slots=True)
class OfferedTool:
    """A tool the model may call: its name and JSON schema (``None`` when absent)."""

    name: str
    schema: object


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """What one chat request offers and asks for, read from its wire style."""

    tools: tuple[OfferedTool, ...] = ()
    choice: Choice = "auto"
    named: str | None = None
    parallel: bool = True
    #: Earlier assistant turns in the conversation that carry tool calls.
    step: int = 0
    #: True when structured output is asked for (``response_format`` / Ollama ``format``).
    structured: bool = False
    output_schema: object = None

    def schema_of(self, name: str) -> object:
        for tool in self.tools:
            if tool.name == name:
                return tool.schema
        return None


NO_TOOLS: Final = ToolRequest()


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One tool call of a tool-call turn, as the simulator will send it.

    ``arguments`` is the text on the wire (OpenAI-style ``function.arguments``; the fragments of a
    stream concatenate to it). ``value`` is the decoded object when that text is the complete,
    valid JSON of it — Anthropic and Ollama send ``value`` as an object then, else the text as a
    string (malformed or cut arguments).
    """

    index: int
    id: str | None
    name: str
    arguments: str
    value: dict[str, Any] | None

    @property
    def wire_arguments(self) -> object:
        """What an object-valued wire (Anthropic ``input``, Ollama ``arguments``) carries."""
        return self.value if self.value is not None else self.arguments


@dataclass(frozen=True, slots=True)
class ToolTurn:
    """A planned tool-call turn: the calls, the billed completion tokens, and whether it was cut
    at ``max_tokens``."""

    calls: tuple[PlannedCall, ...]
    completion_tokens: int
    truncated: bool


# ---------------------------------------------------------------------- reading requests


def parse_request(style: Style, data: Mapping[str, Any]) -> ToolRequest:
    """The tool offer, tool choice and structured-output request of a chat body.

    ``style`` is ``"openai"`` (OpenRouter, OpenAI, Ollama's ``/v1``), ``"anthropic"`` or
    ``"ollama"`` (native ``/api/chat``). Raises :class:`ToolRequestError` for a field the
    provider would refuse (a malformed tool, an unknown choice, a choice naming a tool not
    offered), so an adapter that speaks the wrong shape is caught.
    """
    messages = data.get("messages")
    step = tool_turns(messages if isinstance(messages, list) else [], style)
    if style == "anthropic":
        return _anthropic_request(data, step)
    tools = _openai_tools(data.get("tools"))
    choice: Choice = "auto"
    named: str | None = None
    parallel = True
    if style == "openai":
        choice, named = _openai_choice(data.get("tool_choice"), tools)
        flag = data.get("parallel_tool_calls")
        if flag is not None and not isinstance(flag, bool):
            raise ToolRequestError("parallel_tool_calls must be a boolean")
        parallel = flag is not False
        structured, schema = _response_format(data.get("response_format"))
    else:
        structured, schema = _ollama_format(data.get("format"))
    return ToolRequest(tools, choice, named, parallel, step, structured, schema)


def tool_turns(messages: Sequence[object], style: Style) -> int:
    """Earlier assistant messages carrying tool calls: a non-empty ``tool_calls`` list
    (OpenAI-style, Ollama), or a ``tool_use`` content block (Anthropic)."""
    count = 0
    for message in messages:
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        if style == "anthropic":
            content = message.get("content")
            if isinstance(content, list) and any(
                isinstance(part, Mapping) and part.get("type") == "tool_use" for part in content
            ):
                count += 1
        else:
            calls = message.get("tool_calls")
            if isinstance(calls, list) and calls:
                count += 1
    return count


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not TOOL_NAME.match(value):
        raise ToolRequestError(f"{where}: a tool name is 1-64 letters, digits, '_' or '-'")
    return value


def _openai_tools(value: object) -> tuple[OfferedTool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ToolRequestError("tools must be a list")
    out: list[OfferedTool] = []
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping) or entry.get("type") != "function":
            raise ToolRequestError(f'tools[{i}].type must be "function"')
        function = entry.get("function")
        if not isinstance(function, Mapping):
            raise ToolRequestError(f"tools[{i}].function must be an object")
        name = _name(function.get("name"), f"tools[{i}].function.name")
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ToolRequestError(f"tools[{i}].function.parameters must be an object")
        out.append(OfferedTool(name, parameters))
    return tuple(out)


def _openai_choice(value: object, tools: Sequence[OfferedTool]) -> tuple[Choice, str | None]:
    if value is None or value == "auto":
        return "auto", None
    if value == "none":
        return "none", None
    if value == "required":
        return "required", None
    if isinstance(value, Mapping) and value.get("type") == "function":
        function = value.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise ToolRequestError("tool_choice.function.name is required")
        if tools and name not in {t.name for t in tools}:
            raise ToolRequestError(f"tool_choice names a function that is not in tools: {name}")
        return "named", name
    raise ToolRequestError('tool_choice must be "auto", "none", "required" or a function')


def _response_format(value: object) -> tuple[bool, object]:
    if value is None:
        return False, None
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "text":
        return False, None
    if kind == "json_object":
        return True, None
    if kind == "json_schema" and isinstance(value, Mapping):
        spec = value.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
            raise ToolRequestError("response_format.json_schema needs a name")
        schema = spec.get("schema")
        if schema is not None and not isinstance(schema, Mapping):
            raise ToolRequestError("response_format.json_schema.schema must be an object")
        return True, schema
    raise ToolRequestError('response_format.type must be "text", "json_object" or "json_schema"')


def _ollama_format(value: object) -> tuple[bool, object]:
    if value is None or value == "":
        return False, None
    if value == "json":
        return True, None
    if isinstance(value, Mapping):
        return True, value
    raise ToolRequestError('format must be "json" or a JSON schema object')


def _anthropic_request(data: Mapping[str, Any], step: int) -> ToolRequest:
    value = data.get("tools")
    callable_tools: list[OfferedTool] = []
    names: set[str] = set()
    if value is not None:
        if not isinstance(value, list):
            raise ToolRequestError("tools: Input should be a valid list")
        for i, entry in enumerate(value):
            if not isinstance(entry, Mapping):
                raise ToolRequestError(f"tools.{i}: Input should be an object")
            name = _name(entry.get("name"), f"tools.{i}.name")
            names.add(name)
            kind = entry.get("type")
            if kind is None or kind == "custom":
                schema = entry.get("input_schema")
                if not isinstance(schema, Mapping):
                    raise ToolRequestError(f"tools.{i}.custom.input_schema: Field required")
                callable_tools.append(OfferedTool(name, schema))
            elif not (isinstance(kind, str) and _SERVER_TOOL_TYPE.match(kind)):
                raise ToolRequestError(f"tools.{i}: unknown tool type {kind!r}")
    choice_value = data.get("tool_choice")
    choice: Choice = "auto"
    named: str | None = None
    parallel = True
    if choice_value is not None:
        if not isinstance(choice_value, Mapping):
            raise ToolRequestError("tool_choice: Input should be an object")
        kind = choice_value.get("type")
        if kind == "any":
            choice = "required"
        elif kind == "none":
            choice = "none"
        elif kind == "tool":
            chosen = choice_value.get("name")
            if not isinstance(chosen, str) or chosen not in names:
                raise ToolRequestError("tool_choice.tool.name: not one of the tools")
            choice, named = "named", chosen
        elif kind != "auto":
            raise ToolRequestError('tool_choice.type must be "auto", "any", "tool" or "none"')
        disable = choice_value.get("disable_parallel_tool_use")
        if disable is not None and not isinstance(disable, bool):
            raise ToolRequestError("tool_choice.disable_parallel_tool_use must be a boolean")
        parallel = disable is not True
    if named is not None and named not in {t.name for t in callable_tools}:
        choice, named = "auto", None  # a server tool: the provider runs it, not the app
    return ToolRequest(tuple(callable_tools), choice, named, parallel, step)


# ---------------------------------------------------------------------- fitting a schema


class _Fitter:
    """Generates a value that fits a JSON schema, deterministically.

    Scalar leaves are numbered ``j = salt, salt + 1, …`` in depth-first order; leaf ``j`` is
    ``WORDS[j % 64]`` (string), ``j % 10`` (integer), ``j % 10 + 0.5`` (number) or
    ``j % 2 == 0`` (boolean), moved into ``minimum``/``maximum`` and ``minLength``/``maxLength``.
    """

    def __init__(self, root: object, salt: int) -> None:
        self.root = root
        self.next_leaf = salt
        #: Where the first plain string leaf sits (keys and indexes), for padding.
        self.pad_path: list[str | int] | None = None

    def leaf(self) -> int:
        j = self.next_leaf
        self.next_leaf += 1
        return j

    def resolve(self, schema: Mapping[str, Any]) -> object:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        target: object = self.root
        for token in ref[1:].split("/")[1:] if ref != "#" else []:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or token not in target:
                return {}
            target = target[token]
        return target

    def fit(self, schema: object, depth: int, path: list[str | int], default: str) -> object:
        if depth > MAX_DEPTH:
            return None
        if not isinstance(schema, Mapping):
            return self.scalar("string", {}, path) if default == "string" else {}
        if "$ref" in schema:
            return self.fit(self.resolve(schema), depth + 1, path, default)
        if "const" in schema:
            self.leaf()
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            self.leaf()
            return enum[0]
        for key in ("anyOf", "oneOf", "allOf"):
            options = schema.get(key)
            if isinstance(options, list):
                for option in options:
                    if isinstance(option, Mapping):
                        return self.fit(option, depth + 1, path, default)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if isinstance(k, str)]
            kind = next((k for k in kinds if k != "null"), kinds[0] if kinds else None)
        if not isinstance(kind, str):
            if isinstance(schema.get("properties"), Mapping) or "required" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
            else:
                kind = default
        if kind == "object":
            return self.fit_object(schema, depth, path)
        if kind == "array":
            return self.fit_array(schema, depth, path)
        return self.scalar(kind, schema, path)

    def fit_object(
        self, schema: Mapping[str, Any], depth: int, path: list[str | int]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            for name, sub in properties.items():
                out[str(name)] = self.fit(sub, depth + 1, [*path, str(name)], "string")
        required = schema.get("required")
        for name in required if isinstance(required, list) else ():
            if isinstance(name, str) and name not in out:
                out[name] = self.scalar("string", {}, [*path, name])
        return out

    def fit_array(self, schema: Mapping[str, Any], depth: int, path: list[str | int]) -> list[Any]:
        items = schema.get("items")
        low = schema.get("minItems")
        high = schema.get("maxItems")
        count = min(max(1, low if isinstance(low, int) else 1), MAX_ITEMS)
        if isinstance(high, int) and not isinstance(high, bool):
            count = max(0, min(count, high))
        if isinstance(items, list):  # tuple form: one value per position
            return [self.fit(s, depth + 1, [*path, i], "string") for i, s in enumerate(items)]
        return [self.fit(items, depth + 1, [*path, i], "string") for i in range(count)]

    def scalar(self, kind: str, schema: Mapping[str, Any], path: list[str | int]) -> object:
        j = self.leaf()
        if kind == "null":
            return None
        if kind == "boolean":
            return j % 2 == 0
        if kind == "integer":
            return _clamp_int(j % 10, schema)
        if kind == "number":
            return _clamp_number(Decimal(j % 10) + Decimal("0.5"), schema)
        low, high = schema.get("minLength"), schema.get("maxLength")
        words = [WORDS[j % 64]]
        if isinstance(low, int) and not isinstance(low, bool):
            length = len(words[0])
            while length < min(low, MAX_STRING):
                words.append(WORDS[(j + len(words)) % 64])
                length += 1 + len(words[-1])
        text = " ".join(words)
        if isinstance(high, int) and not isinstance(high, bool) and high >= 0:
            text = text[:high]
        elif self.pad_path is None:
            self.pad_path = path
        return text


def _bound(schema: Mapping[str, Any], name: str) -> Decimal | None:
    value = schema.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def _clamp_int(value: int, schema: Mapping[str, Any]) -> int:
    low, high = _bound(schema, "minimum"), _bound(schema, "maximum")
    ex_low, ex_high = _bound(schema, "exclusiveMinimum"), _bound(schema, "exclusiveMaximum")
    if ex_low is not None:
        above = Decimal(math.floor(ex_low) + 1)
        low = above if low is None else max(low, above)
    if ex_high is not None:
        below = Decimal(math.ceil(ex_high) - 1)
        high = below if high is None else min(high, below)
    if low is not None and value < low:
        value = math.ceil(low)
    if high is not None and value > high:
        value = math.floor(high)
    return value


def _clamp_number(value: Decimal, schema: Mapping[str, Any]) -> Decimal:
    low, high = _bound(schema, "minimum"), _bound(schema, "maximum")
    ex_low, ex_high = _bound(schema, "exclusiveMinimum"), _bound(schema, "exclusiveMaximum")
    if low is not None and value < low:
        value = low
    if ex_low is not None and value <= ex_low:
        value = ex_low + (Decimal("0.5") if high is None else (high - ex_low) / 2)
    if high is not None and value > high:
        value = high
    if ex_high is not None and value >= ex_high:
        value = ex_high - Decimal("0.5") if low is None else (low + ex_high) / 2
    return value


def fit_schema(schema: object, salt: int = 0) -> object:
    """A value that fits ``schema`` (top level: an absent or unknown schema gives ``{}``)."""
    return _Fitter(schema, salt).fit(schema, 0, [], "object")


def tool_arguments(schema: object, salt: int, pad_to: int | None = None) -> dict[str, Any]:
    """The arguments object of a call to a tool with ``schema`` (``{}`` when the schema is absent
    or not an object schema); with ``pad_to`` the first plain string value is lengthened with
    words so that ``dumps(arguments)`` is at least ``pad_to`` bytes."""
    fitter = _Fitter(schema, salt)
    value = fitter.fit(schema, 0, [], "object")
    if not isinstance(value, dict):
        return {}
    if pad_to is not None and fitter.pad_path is not None:
        missing = pad_to - len(dumps(value))
        if missing > 0:
            _pad(value, fitter.pad_path, missing)
    return value


def _pad(value: Any, path: Sequence[str | int], missing: int) -> None:
    target = value
    for key in path[:-1]:
        target = target[key]
    repeats = missing // len(_PAD_CYCLE) + 1
    target[path[-1]] += (_PAD_CYCLE * repeats)[:missing]


def structured_text(schema: object, malformed: bool) -> str:
    """The structured-output reply: ``dumps(fit_schema(schema))``, without its last character
    when ``malformed``."""
    text = dumps(fit_schema(schema))
    return text[:-1] if malformed else text


# ---------------------------------------------------------------------- planning a tool turn


def is_tool_turn(request: ToolRequest, tool_steps: int) -> bool:
    """A tool-call turn: tools offered, choice not ``none``, and either a forced choice or fewer
    than ``tool_steps`` earlier tool-call turns."""
    if not request.tools or request.choice == "none":
        return False
    return request.choice in ("required", "named") or request.step < tool_steps


def calls_text(calls: Sequence[tuple[str, str]]) -> str:
    """What a tool-call turn is billed as: ``[{"name":N,"arguments":A},…]`` with each ``A`` the
    arguments text inserted verbatim (for valid arguments: compact JSON of name and object)."""
    inner = ",".join(f'{{"name":{dumps(name)},"arguments":{args}}}' for name, args in calls)
    return f"[{inner}]"


def plan_turn(
    request: ToolRequest,
    *,
    serial: int,
    id_prefix: str | None,
    parallel_tool_calls: int,
    tool_name: str | None,
    argument_bytes: int | None,
    malformed: bool,
    max_tokens: int | None,
) -> ToolTurn:
    """The calls of a tool-call turn and what it is billed (see ``byom.sim``, "Tools").

    ``id_prefix`` ``"call"`` / ``"toolu"`` gives ids ``<prefix>_<serial>_<i>``; ``None`` (Ollama
    native) gives none. When the calls' billed text exceeds ``max_tokens`` it is cut to fit;
    the calls keep what of their arguments is left (the first call always stays, perhaps with
    empty arguments) and the turn is ``truncated``.
    """
    count = 1 if request.choice == "named" or not request.parallel else parallel_tool_calls
    planned: list[tuple[str, str, dict[str, Any] | None]] = []
    for i in range(count):
        if request.named is not None:
            name = request.named
        elif tool_name is not None:
            name = tool_name
        else:
            name = request.tools[(request.step + i) % len(request.tools)].name
        arguments = tool_arguments(request.schema_of(name), request.step + i, argument_bytes)
        text = dumps(arguments)
        if malformed:
            planned.append((name, text[:-1], None))
        else:
            planned.append((name, text, arguments))
    full = calls_text([(name, text) for name, text, _ in planned])
    cut, truncated = truncate(full, max_tokens)
    calls: list[PlannedCall] = []
    start = 1  # offset of the next call's '{' in the billed text
    for i, (name, text, value) in enumerate(planned):
        args_at = start + len(f'{{"name":{dumps(name)},"arguments":')
        if i > 0 and len(cut) < args_at:
            break
        kept = text[: max(0, len(cut) - args_at)]
        call_id = None if id_prefix is None else f"{id_prefix}_{serial}_{i}"
        calls.append(PlannedCall(i, call_id, name, kept, value if kept == text else None))
        start = args_at + len(text) + 2  # '}' and ','
    return ToolTurn(tuple(calls), tokens(cut), truncated)


# ---------------------------------------------------------------------- streaming a tool turn

#: One streamed unit: (kind, call index, argument fragment or "").
StreamStep = tuple[StepKind, int, str]


def fragments(text: str) -> list[str]:
    """The argument text in fragments of :data:`FRAGMENT_CHARS` characters (last shorter)."""
    return [text[i : i + FRAGMENT_CHARS] for i in range(0, len(text), FRAGMENT_CHARS)]


def openai_schedule(calls: Sequence[PlannedCall]) -> list[StreamStep]:
    """OpenAI-style order, interleaved: in round ``r`` each call (in order) with anything left
    sends its start (``r == 0``) and then its fragment ``r``."""
    parts = [fragments(c.arguments) for c in calls]
    steps: list[StreamStep] = []
    rounds = max([1, *(len(p) for p in parts)])
    for r in range(rounds):
        for i, pieces in enumerate(parts):
            if r == 0:
                steps.append(("start", i, ""))
            if r < len(pieces):
                steps.append(("args", i, pieces[r]))
    return steps


def anthropic_schedule(calls: Sequence[PlannedCall]) -> list[StreamStep]:
    """Anthropic order: per call, its block start, its fragments, its block stop."""
    steps: list[StreamStep] = []
    for i, call in enumerate(calls):
        steps.append(("start", i, ""))
        steps.extend(("args", i, piece) for piece in fragments(call.arguments))
        steps.append(("stop", i, ""))
    return steps


def cut_schedule(steps: Sequence[StreamStep]) -> list[StreamStep]:
    """The steps up to the middle of the arguments: the first ``ceil(C / 2)`` argument
    characters (``C`` = all of them, in send order; a fragment may be split), then nothing."""
    total = sum(len(text) for kind, _, text in steps if kind == "args")
    if total == 0:
        return list(steps[:1])
    half = (total + 1) // 2
    out: list[StreamStep] = []
    sent = 0
    for kind, index, text in steps:
        if kind == "args":
            text = text[: half - sent]
            sent += len(text)
        out.append((kind, index, text))
        if sent >= half:
            break
    return out


def billed_steps(calls: Sequence[PlannedCall], sent: Sequence[StreamStep]) -> int:
    """Completion tokens for the steps of a tool stream that went out: ``tokens(calls_text)``
    over the calls whose start was sent, with the argument characters sent (0 if none)."""
    started: dict[int, list[str]] = {}
    for kind, index, text in sent:
        if kind == "start":
            started.setdefault(index, [])
        elif kind == "args":
            started.setdefault(index, []).append(text)
    if not started:
        return 0
    return tokens(calls_text([(calls[i].name, "".join(started[i])) for i in sorted(started)]))
