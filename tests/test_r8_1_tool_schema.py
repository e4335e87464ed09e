"""Tools in one shape (R8.1): schemas from plain functions, request fields checked before
anything is sent, and what a provider sends back checked in one place — a reply whose tool call
cannot be read is ``bad_output`` as a whole, never half a call handed to the app."""

from __future__ import annotations

from typing import Literal, TypedDict

import pytest

from byom.core.errors import BadOutput, InvalidRequest
from byom.core.tools import Tool, check_tool_params, checked_calls, from_function, type_schema
from byom.core.usage import RawToolCall


class Place(TypedDict):
    city: str
    zip: int


def lookup(
    query: str,
    mode: Literal["fast", "deep"] = "fast",
    tags: list[str] | None = None,
    place: Place | None = None,
    scale: float = 1.0,
    exact: bool = False,
) -> str:
    """Look something up.

    More text that is not the description.

    Args:
        query: what to look for
        mode: how hard to look
    """
    return query


def test_r8_1_schema_from_signature_and_docstring() -> None:
    tool = from_function(lookup)
    assert tool.name == "lookup"
    assert tool.description == "Look something up."
    params = tool.parameters
    assert params["required"] == ["query"]
    props = params["properties"]
    assert props["query"] == {"type": "string", "description": "what to look for"}
    assert props["mode"] == {
        "enum": ["fast", "deep"],
        "type": "string",
        "description": "how hard to look",
        "default": "fast",
    }
    assert props["tags"]["anyOf"] == [
        {"type": "array", "items": {"type": "string"}},
        {"type": "null"},
    ]
    assert props["place"]["anyOf"][0]["properties"] == {
        "city": {"type": "string"},
        "zip": {"type": "integer"},
    }
    assert props["scale"]["type"] == "number" and props["exact"]["type"] == "boolean"
    assert tool.spec == {
        "type": "function",
        "function": {"name": "lookup", "parameters": params, "description": "Look something up."},
    }


def test_r8_1_functions_byom_cannot_describe_are_refused() -> None:
    def star(*args: str) -> None: ...
    def kw(**kwargs: str) -> None: ...
    def odd(value: complex) -> None: ...

    for function in (star, kw, odd):
        with pytest.raises(InvalidRequest):
            from_function(function)
    with pytest.raises(InvalidRequest):
        Tool("has space")
    with pytest.raises(InvalidRequest):
        type_schema(dict[int, str])


def test_r8_1_request_fields_are_normalised_and_checked() -> None:
    spec = {"type": "function", "function": {"name": "other", "parameters": {"type": "object"}}}
    out = check_tool_params({"tools": [lookup, spec], "tool_choice": {"name": "other"}})
    assert [t["function"]["name"] for t in out["tools"]] == ["lookup", "other"]
    assert out["tool_choice"] == {"type": "function", "function": {"name": "other"}}
    for bad in (
        {"tools": "lookup"},
        {"tools": [lookup, lookup]},
        {"tools": [lookup], "tool_choice": "sometimes"},
        {"tools": [lookup], "tool_choice": {"name": "missing"}},
        {"tool_choice": "auto"},
        {"tools": [lookup], "parallel_tool_calls": "yes"},
        {
            "tools": [
                {"type": "function", "function": {"name": "x", "parameters": {"type": "array"}}}
            ]
        },
    ):
        with pytest.raises(InvalidRequest):
            check_tool_params(bad)
    assert "tools" not in check_tool_params({"tools": []})


def test_r8_1_calls_from_the_wire_are_checked() -> None:
    calls = checked_calls(
        [
            RawToolCall("call_a", "lookup", '{"query": "x"}'),
            RawToolCall(None, "lookup", {"query": "y"}),  # Ollama: no id, decoded object
            RawToolCall("call_a", "lookup", ""),  # duplicate id, empty arguments = {}
        ],
        offered=frozenset({"lookup"}),
    )
    assert [c.id for c in calls] == ["call_a", "call_1", "call_2"]
    assert [c.arguments for c in calls] == [{"query": "x"}, {"query": "y"}, {}]
    assert calls[1].arguments_json == '{"query":"y"}'
    for raw in (
        RawToolCall("c", "lookup", '{"query": "x"'),  # cut
        RawToolCall("c", "lookup", "[1, 2]"),  # not an object
        RawToolCall("c", "lookup", '{"n": NaN}'),
        RawToolCall("c", None, "{}"),
        RawToolCall("c", "<script>", "{}"),
        RawToolCall("c", "not_offered", "{}"),
        RawToolCall("c", "lookup", "x" * 1_000_001),
    ):
        with pytest.raises(BadOutput):
            checked_calls([raw], offered=frozenset({"lookup"}))


def test_r8_1_reprs_leave_arguments_out() -> None:
    [call] = checked_calls([RawToolCall("c", "lookup", '{"q": "SECRET"}')], offered=frozenset())
    assert "SECRET" not in repr(call)
    assert "SECRET" not in repr(RawToolCall("c", "lookup", '{"q": "SECRET"}'))
