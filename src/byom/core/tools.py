"""Tools a model may call: their schemas (from plain Python callables), the request fields that
offer them, and the checks that turn what a provider sent back into :class:`ToolCall` objects.

One shape for every provider kind: the app offers tools as OpenAI-style ``function`` entries
(or as callables, whose schema comes from their signature and docstring); each adapter
translates them. What comes back is checked here, in one place, before the app sees it: a call
whose name or arguments cannot be read makes the whole reply ``bad_output`` — the app never gets
half a tool call.

Standard library only (``inspect``, ``typing``); no I/O.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from byom.core.errors import BadOutput, InvalidRequest
from byom.core.usage import RawToolCall, ToolCall

#: Tool names every provider accepts (OpenAI and Anthropic: ``^[a-zA-Z0-9_-]{1,64}$``).
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Tool-call ids byom passes on as they came (else it gives the call its own).
_CALL_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
#: Most tools an app may offer in one request.
MAX_TOOLS = 128
#: Longest argument text byom decodes (a model asked for more is broken or hostile).
MAX_ARGUMENTS_BYTES = 1_000_000
TOOL_CHOICES = frozenset({"auto", "none", "required"})


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool offered to the model: its name, description, JSON-schema parameters and, for
    :meth:`byom.App.run`, the function that runs it (sync or async). ``repr`` shows the name."""

    name: str
    description: str = field(default="", repr=False)
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}, repr=False
    )
    function: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise InvalidRequest(
                "A tool name must be 1–64 letters, digits, underscores or hyphens."
            )
        if not isinstance(self.parameters, Mapping) or self.parameters.get("type") != "object":
            raise InvalidRequest(f"The parameters of tool {self.name} must be an object schema.")

    @property
    def spec(self) -> dict[str, Any]:
        """The OpenAI-style request entry every adapter translates."""
        function: dict[str, Any] = {"name": self.name, "parameters": dict(self.parameters)}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    @classmethod
    def of(cls, value: Any) -> Tool:
        """A :class:`Tool` from a callable (schema from its hints and docstring), an
        OpenAI-style ``{"type": "function", "function": {...}}`` dict, an Anthropic-style
        ``{"name", "description", "input_schema"}`` dict, or a ``Tool``."""
        if isinstance(value, Tool):
            return value
        if isinstance(value, Mapping):
            return _from_spec(value)
        if callable(value):
            return from_function(value)
        raise InvalidRequest("A tool is a function, a Tool, or a function schema dict.")


def _from_spec(spec: Mapping[str, Any]) -> Tool:
    if spec.get("type") in (None, "custom") and "input_schema" in spec:
        # Anthropic's own shape ({name, description, input_schema}): the same tool.
        function: Any = {
            "name": spec.get("name"),
            "description": spec.get("description", ""),
            "parameters": spec.get("input_schema"),
        }
    else:
        function = spec.get("function") if spec.get("type") == "function" else None
    if not isinstance(function, Mapping):
        raise InvalidRequest('A tool schema is {"type": "function", "function": {...}}.')
    name = function.get("name")
    description = function.get("description", "")
    parameters = function.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(description, str):
        raise InvalidRequest("A tool description must be text.")
    return Tool(name=name, description=description, parameters=parameters)  # type: ignore[arg-type]


# -- schemas from Python signatures -----------------------------------------------------------

_SCALARS: Mapping[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def type_schema(hint: Any) -> dict[str, Any]:
    """The JSON schema of a type hint: ``str``/``int``/``float``/``bool``, ``list[X]``,
    ``tuple[X, ...]``, ``dict[str, X]``, ``Literal[...]``, ``X | None``, a ``TypedDict``;
    anything else is refused (a schema the model cannot follow is worse than none)."""
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if hint is type(None):
        return {"type": "null"}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Literal:
        values = list(args)
        kinds = {_SCALARS.get(type(v)) for v in values}
        schema: dict[str, Any] = {"enum": values}
        if len(kinds) == 1 and None not in kinds:
            schema["type"] = kinds.pop()
        return schema
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            inner = type_schema(options[0])
            if len(options) < len(args):
                return {"anyOf": [inner, {"type": "null"}]}
            return inner
        return {"anyOf": [type_schema(a) for a in args]}
    if origin in (list, Sequence, tuple, set, frozenset) or hint in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return {"type": "array", "items": [type_schema(a) for a in args]}
        return {"type": "array", "items": type_schema(args[0]) if args else {}}
    if origin in (dict, Mapping) or hint is dict:
        if args and args[0] is not str:
            raise InvalidRequest("Tool argument objects must have string keys.")
        out: dict[str, Any] = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = type_schema(args[1])
        return out
    if isinstance(hint, type) and typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        required = sorted(getattr(hint, "__required_keys__", hints))
        return {
            "type": "object",
            "properties": {name: type_schema(h) for name, h in hints.items()},
            "required": required,
        }
    if hint is Any:
        return {}
    name = getattr(hint, "__name__", type(hint).__name__)
    raise InvalidRequest(f"byom cannot describe the type {name} to a model.")


def _docstring_parts(doc: str | None) -> tuple[str, dict[str, str]]:
    """The description (first paragraph) and per-parameter texts from an ``Args:`` section
    (Google style) or ``:param name:`` lines."""
    text = inspect.cleandoc(doc or "")
    description = text.split("\n\n", 1)[0].replace("\n", " ").strip()
    params: dict[str, str] = {}
    in_args = False
    for line in text.splitlines():
        stripped = line.strip()
        sphinx = re.match(r":param\s+(?:\w+\s+)?(\w+):\s*(.*)", stripped)
        if sphinx:
            params[sphinx.group(1)] = sphinx.group(2)
            continue
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        if in_args:
            match = re.match(r"(\w+)(?:\s*\([^)]*\))?:\s*(.*)", stripped)
            if match and line.startswith((" ", "\t")):
                params[match.group(1)] = match.group(2)
            elif stripped and not line.startswith((" ", "\t")):
                in_args = False
    return description, params


def from_function(function: Callable[..., Any], *, name: str | None = None) -> Tool:
    """A :class:`Tool` for a plain callable: its ``__name__`` (or ``name``), the first paragraph
    of its docstring as the description, and a parameters schema from its type hints (every
    parameter without a default is required). ``*args`` / ``**kwargs`` are refused."""
    try:
        signature = inspect.signature(function)
        hints = typing.get_type_hints(function)
    except (TypeError, ValueError, NameError) as exc:
        raise InvalidRequest(f"byom cannot read the signature of tool {name}.") from exc
    description, texts = _docstring_parts(inspect.getdoc(function))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise InvalidRequest("A tool function cannot take *args or **kwargs.")
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise InvalidRequest("A tool function's parameters must accept keywords.")
        schema = type_schema(hints.get(parameter.name, str))
        if parameter.name in texts:
            schema["description"] = texts[parameter.name]
        if parameter.default is parameter.empty:
            required.append(parameter.name)
        elif _plain_json(parameter.default):
            schema["default"] = parameter.default
        properties[parameter.name] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    tool_name = str(name or getattr(function, "__name__", ""))
    return Tool(tool_name, description, parameters, function)


def _plain_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def is_native(value: Any) -> bool:
    """A provider's own server-side tool (Anthropic ``web_search_…``, OpenRouter plugins): a
    dict whose ``type`` is not ``"function"``. It is passed to that provider as it is (its
    adapter decides whether it can take it) and runs at the provider, not in the app."""
    return isinstance(value, Mapping) and value.get("type") not in ("function", "custom", None)


def tools_of(values: Sequence[Any]) -> list[Tool]:
    """Tools for a request: each a callable, a :class:`Tool` or a schema dict; names unique."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise InvalidRequest("tools must be a list.")
    tools = [Tool.of(value) for value in values]
    if len(tools) > MAX_TOOLS:
        raise InvalidRequest(f"At most {MAX_TOOLS} tools can be offered at once.")
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise InvalidRequest("Two tools have the same name.")
    return tools


def check_tool_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The request fields with ``tools`` in the one shape every adapter translates
    (callables and :class:`Tool` objects become OpenAI-style entries) and ``tool_choice`` /
    ``parallel_tool_calls`` checked. Raises :class:`InvalidRequest` before anything is sent."""
    out = dict(params)
    if "tools" in out:
        values = out["tools"]
        if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
            raise InvalidRequest("tools must be a list.")
        native = [v for v in values if is_native(v)]
        tools = tools_of([v for v in values if not is_native(v)])
        if not tools and not native:
            del out["tools"]
        else:
            out["tools"] = [tool.spec for tool in tools] + [dict(v) for v in native]
    choice = out.get("tool_choice")
    if choice is not None:
        if isinstance(choice, str):
            if choice not in TOOL_CHOICES:
                raise InvalidRequest('tool_choice is "auto", "none", "required" or a tool.')
        else:
            name = _choice_name(choice)
            offered = function_names(out.get("tools", ()))
            if name not in offered:
                raise InvalidRequest("tool_choice names a tool that is not offered.")
            out["tool_choice"] = {"type": "function", "function": {"name": name}}
        if "tools" not in out:
            raise InvalidRequest("tool_choice needs tools.")
    parallel = out.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise InvalidRequest("parallel_tool_calls is true or false.")
    return out


def function_names(tools: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """The names of the app's function tools among normalised ``tools`` entries."""
    return frozenset(
        t["function"]["name"] for t in tools if t.get("type") == "function" and "function" in t
    )


def _choice_name(choice: Any) -> str:
    if isinstance(choice, Tool):
        return choice.name
    name = None
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
    if not isinstance(name, str):
        raise InvalidRequest('tool_choice is "auto", "none", "required" or a tool.')
    return name


# -- what came back ---------------------------------------------------------------------------


def checked_calls(raw: Sequence[RawToolCall], *, offered: frozenset[str]) -> tuple[ToolCall, ...]:
    """Public :class:`ToolCall` objects from what the adapter read, in order.

    A call whose name is missing, not a tool name, or (when tools were offered) not one of them,
    or whose arguments are not one JSON object, raises :class:`BadOutput`. A missing or unsafe
    id is replaced by byom's own (``call_<n>``), unique within the reply."""
    calls: list[ToolCall] = []
    seen: set[str] = set()
    for index, call in enumerate(raw):
        name = call.name
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BadOutput()
        if offered and name not in offered:
            raise BadOutput()
        arguments, text = _arguments(call.arguments)
        call_id = call.id if isinstance(call.id, str) and _CALL_ID.fullmatch(call.id) else None
        if call_id is None or call_id in seen:
            call_id = f"call_{index}"
        seen.add(call_id)
        extra = dict(call.extra_content) if isinstance(call.extra_content, Mapping) else {}
        calls.append(ToolCall(call_id, name, arguments, text, extra))
    return tuple(calls)


def _arguments(value: str | Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    if value is None:
        return {}, "{}"
    if isinstance(value, Mapping):
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            raise BadOutput() from None
        return dict(value), text
    if not isinstance(value, str) or len(value) > MAX_ARGUMENTS_BYTES:
        raise BadOutput()
    if not value.strip():
        return {}, "{}"
    try:
        parsed = json.loads(value, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadOutput() from None
    if not isinstance(parsed, dict):
        raise BadOutput()
    return parsed, value


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON


def assistant_message(text: str, calls: Sequence[ToolCall]) -> dict[str, Any]:
    """The assistant turn that asked for ``calls``, to send back with the results.

    A call's ``extra_content`` (Gemini's thought signature) rides on it, so the turn is whole
    even when the app stores the conversation and sends it again in another session."""
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [_call_entry(call) for call in calls],
    }


def _call_entry(call: ToolCall) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }
    if call.extra_content:
        entry["extra_content"] = dict(call.extra_content)
    return entry


def tool_message(call: ToolCall, content: str) -> dict[str, Any]:
    """A tool result for ``call``, to send back to the model."""
    return {"role": "tool", "tool_call_id": call.id, "content": content}


__all__ = [
    "MAX_TOOLS",
    "Tool",
    "assistant_message",
    "check_tool_params",
    "checked_calls",
    "from_function",
    "tool_message",
    "tools_of",
    "type_schema",
]
