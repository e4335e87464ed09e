"""Structured output: ask for JSON that fits a schema, and check what came back.

``App.chat(feature, messages, schema=...)`` takes a JSON Schema dict, or a class with
``model_json_schema()`` (pydantic, duck-typed: byom never imports it). The request carries it in
the one normalised shape, OpenAI's ``response_format: {"type": "json_schema", ...}``; each adapter
translates it — natively where the provider has it (OpenAI and OpenRouter ``response_format``,
Ollama ``format``), as a forced tool call named after the schema where not (Anthropic). The
reply's JSON is parsed and checked here against the schema (the subset of JSON Schema a model is
asked to follow: ``type``, ``properties``, ``required``, ``additionalProperties``, ``items``,
``enum``, ``const``, ``anyOf`` / ``oneOf``, local ``$ref``); output that does not fit is
:class:`~byom.core.errors.BadOutput` — the call still costs what it cost.

Standard library only; no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from byom.core.errors import BadOutput, InvalidRequest
from byom.core.usage import RawToolCall

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_FENCE = re.compile(r"\A```(?:json|JSON)?\s*\n(.*)\n```\Z", re.DOTALL)
#: How deep a schema or a reply may nest before byom stops following it.
MAX_DEPTH = 64
_TYPES: Mapping[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
}


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """The form a structured reply must have. ``model`` is the class it came from, when one
    (its ``model_validate`` builds ``Reply.data``)."""

    name: str
    schema: Mapping[str, Any] = field(repr=False)
    model: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, value: Any) -> OutputSchema:
        """From a JSON Schema dict or a class with ``model_json_schema()``."""
        if isinstance(value, OutputSchema):
            return value
        model = None
        if isinstance(value, Mapping):
            schema = dict(value)
            name = schema.get("title") if isinstance(schema.get("title"), str) else "output"
        elif callable(getattr(value, "model_json_schema", None)):
            schema = value.model_json_schema()
            model = value
            name = getattr(value, "__name__", "output")
        else:
            raise InvalidRequest("schema must be a JSON Schema dict or a class that has one.")
        if not isinstance(schema, Mapping) or not schema:
            raise InvalidRequest("schema must be a non-empty JSON Schema object.")
        try:
            json.dumps(schema)
        except (TypeError, ValueError):
            raise InvalidRequest("schema must be plain JSON data.") from None
        name = _NAME_CHARS.sub("_", str(name))[:64] or "output"
        return cls(name=name, schema=schema, model=model)

    def response_format(self) -> dict[str, Any]:
        """The normalised request field every adapter translates."""
        spec: dict[str, Any] = {"name": self.name, "schema": dict(self.schema)}
        if strict_compatible(self.schema):
            spec["strict"] = True
        return {"type": "json_schema", "json_schema": spec}

    def parse(self, text: str, calls: Sequence[RawToolCall]) -> tuple[Any, tuple[RawToolCall, ...]]:
        """The structured value and the tool calls that remain once the output's own call
        (the forced tool where a provider has no native schema support) is taken out.

        Raises :class:`BadOutput` when there is no output, or it is not JSON fitting the schema.
        """
        own = [c for c in calls if c.name == self.name]
        rest = tuple(c for c in calls if c.name != self.name)
        if own:
            value: Any = own[0].arguments
            if isinstance(value, str):
                value = _json(value)
        elif rest:
            return None, rest  # the model asked for tools first; no output yet
        else:
            value = _json(text)
        if not fits(value, self.schema):
            raise BadOutput()
        if self.model is not None and callable(getattr(self.model, "model_validate", None)):
            try:
                value = self.model.model_validate(value)
            except Exception:
                raise BadOutput() from None
        return value, rest


def _json(text: str) -> Any:
    text = text.strip() if isinstance(text, str) else ""
    fenced = _FENCE.match(text)
    if fenced:  # some local models wrap JSON in a Markdown fence
        text = fenced.group(1).strip()
    try:
        return json.loads(text, parse_constant=_refuse)
    except (ValueError, RecursionError):
        raise BadOutput() from None


def _refuse(name: str) -> Any:
    raise ValueError(name)


def strict_compatible(schema: Mapping[str, Any]) -> bool:
    """Whether OpenAI's strict mode can take the schema as it is: every object lists all its
    properties as required and forbids others (else byom asks without ``strict``)."""

    def walk(node: Any, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, Mapping):
            if node.get("type") == "object" or "properties" in node:
                props = node.get("properties", {})
                if node.get("additionalProperties") is not False:
                    return False
                if not isinstance(props, Mapping) or set(node.get("required", ())) != set(props):
                    return False
            return all(walk(v, depth + 1) for v in node.values())
        if isinstance(node, list):
            return all(walk(v, depth + 1) for v in node)
        return True

    return walk(schema, 0)


def fits(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether ``value`` fits ``schema`` (the subset in the module docstring; other keywords
    are not checked)."""
    return _fits(value, schema, schema, 0)


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    if not ref.startswith("#/"):
        return None
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, Mapping) or part not in target:
            return None
        target = target[part]
    return target if isinstance(target, Mapping) else None


def _fits(value: Any, node: Any, root: Mapping[str, Any], depth: int) -> bool:
    if depth > MAX_DEPTH:
        return False
    if node is True or node == {}:
        return True
    if not isinstance(node, Mapping):
        return node is not False
    resolved = _resolve(node, root)
    if resolved is None:
        return False
    node = resolved
    if "const" in node and value != node["const"]:
        return False
    if "enum" in node and value not in node["enum"]:
        return False
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and not any(_fits(value, o, root, depth + 1) for o in options):
            return False
    kind = node.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(value, k) for k in kinds):
            return False
    if isinstance(value, dict):
        props = node.get("properties", {})
        props = props if isinstance(props, Mapping) else {}
        required = node.get("required", ())
        if any(name not in value for name in required if isinstance(name, str)):
            return False
        extra = node.get("additionalProperties", True)
        for name, item in value.items():
            if name in props:
                if not _fits(item, props[name], root, depth + 1):
                    return False
            elif extra is False or (
                isinstance(extra, Mapping) and not _fits(item, extra, root, depth + 1)
            ):
                return False
    if isinstance(value, list):
        items = node.get("items")
        if isinstance(items, Mapping) and not all(_fits(v, items, root, depth + 1) for v in value):
            return False
    return True


def _is(value: Any, kind: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _TYPES.get(kind) if isinstance(kind, str) else None
    if expected is None:
        return True  # a type byom does not know: not checked
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, expected) and not (kind != "boolean" and isinstance(value, bool))


__all__ = ["OutputSchema", "fits", "strict_compatible"]
