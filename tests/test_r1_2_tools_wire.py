"""R8.1–R8.3 on the wire: every adapter translates byom's one normalised (OpenAI) shape of tools,
tool calls, tool results, structured output and images into its provider's shape, and reads tool
calls back — non-streamed, and streamed in fragments split at every byte.

Sans-I/O: requests are built as data and replies parsed from bytes. Real recorded samples are in
``tests/test_r1_2_tools_real_samples.py``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from byom.core.errors import BadResponse, InvalidRequest
from byom.core.secret import Secret
from byom.core.usage import ChatResult, RawToolCall
from byom.providers.anthropic import AnthropicAdapter
from byom.providers.base import HttpRequest
from byom.providers.compatible import CompatibleAdapter
from byom.providers.ollama import OllamaAdapter
from byom.providers.openai import OpenAIAdapter
from byom.providers.openrouter import OpenRouterAdapter

KEY = Secret("sk-unit-KEY-0123456789abcdef")
#: Content that must never show in a repr or an error.
CANARY = "CANARY-ARGUMENT-7f3a"

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
CLOCK = {"type": "function", "function": {"name": "now"}}  # no description, no parameters
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
STRUCTURED = {
    "type": "json_schema",
    "json_schema": {"name": "Verdict", "schema": SCHEMA, "strict": True},
}
IMAGE_PARTS = [
    {"type": "text", "text": "what is this"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
]

#: A conversation with a parallel tool call, its two results, and the user's next turn.
TOOL_TURNS: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris and Oslo?"},
    {
        "role": "assistant",
        "content": "Checking both.",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo", "n": 1.5}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_a", "content": "18C sunny"},
    {"role": "tool", "tool_call_id": "call_b", "content": "3C snow"},
    {"role": "user", "content": "And tomorrow?"},
]


def body(request: HttpRequest) -> Any:
    assert request.body is not None
    return json.loads(request.body, parse_float=Decimal)


def chat(
    adapter: Any, messages: list[dict[str, Any]] | None = None, stream: bool = False, **params: Any
) -> Any:
    return body(
        adapter.chat_request(
            KEY,
            model="m",
            messages=messages or [{"role": "user", "content": "hi"}],
            max_tokens=50,
            stream=stream,
            params=params,
        )
    )


def bytewise(decoder: Any, data: bytes) -> ChatResult:
    """Feed one byte at a time: every split point of every fragment."""
    for i in range(len(data)):
        decoder.feed(data[i : i + 1])
    result: ChatResult = decoder.close()
    return result


def sse(*events: Any, named: bool = False) -> bytes:
    out = b""
    for event in events:
        if named:
            out += b"event: " + event["type"].encode() + b"\n"
        text = event if isinstance(event, str) else json.dumps(event)
        out += b"data: " + text.encode() + b"\n\n"
    return out


def parsed(call: RawToolCall) -> Any:
    if isinstance(call.arguments, str):
        return json.loads(call.arguments)
    return call.arguments


OPENAI_STYLE = [
    pytest.param(OpenAIAdapter(), id="openai"),
    pytest.param(OpenRouterAdapter(), id="openrouter"),
    pytest.param(CompatibleAdapter("http://127.0.0.1:8080/v1"), id="compatible"),
]


# == requests: OpenAI-style ====================================================================


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_1_openai_style_passes_tools_choice_and_tool_turns_through(adapter: Any) -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    data = chat(
        adapter, TOOL_TURNS, tools=[WEATHER, CLOCK], tool_choice=named, parallel_tool_calls=False
    )
    assert data["tools"] == [WEATHER, CLOCK]
    assert data["tool_choice"] == named and data["parallel_tool_calls"] is False
    assert data["messages"] == json.loads(json.dumps(TOOL_TURNS), parse_float=Decimal)
    for choice in ("auto", "none", "required"):
        assert chat(adapter, tools=[WEATHER], tool_choice=choice)["tool_choice"] == choice


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_2_openai_style_passes_response_format_through(adapter: Any) -> None:
    assert chat(adapter, response_format=STRUCTURED)["response_format"] == STRUCTURED
    json_object = {"type": "json_object"}
    assert chat(adapter, response_format=json_object)["response_format"] == json_object


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_3_openai_style_passes_image_parts_through(adapter: Any) -> None:
    data = chat(adapter, [{"role": "user", "content": IMAGE_PARTS}])
    assert data["messages"][0]["content"] == IMAGE_PARTS


# == requests: Anthropic =======================================================================


def test_r8_1_anthropic_translates_tools() -> None:
    data = chat(AnthropicAdapter(), tools=[WEATHER, CLOCK])
    assert data["tools"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "input_schema": WEATHER["function"]["parameters"],  # type: ignore[index]
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in data  # the provider's default (auto)
    native = {"name": "lookup", "input_schema": {"type": "object"}}
    assert chat(AnthropicAdapter(), tools=[native])["tools"] == [native]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "now"}}, {"type": "tool", "name": "now"}),
    ],
)
def test_r8_1_anthropic_translates_tool_choice(choice: Any, expected: Any) -> None:
    assert chat(AnthropicAdapter(), tools=[WEATHER, CLOCK], tool_choice=choice)["tool_choice"] == (
        expected
    )


def test_r8_1_anthropic_parallel_tool_calls_false_disables_parallel_use() -> None:
    adapter = AnthropicAdapter()
    alone = chat(adapter, tools=[WEATHER], parallel_tool_calls=False)
    assert alone["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    required = chat(adapter, tools=[WEATHER], tool_choice="required", parallel_tool_calls=False)
    assert required["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    none = chat(adapter, tools=[WEATHER], tool_choice="none", parallel_tool_calls=False)
    assert none["tool_choice"] == {"type": "none"}  # nothing to run in parallel
    allowed = chat(adapter, tools=[WEATHER], parallel_tool_calls=True)
    assert "tool_choice" not in allowed and "parallel_tool_calls" not in allowed
    # Without any tool there is no tool_choice to send (the API refuses one).
    assert "tool_choice" not in chat(adapter, tool_choice="auto", parallel_tool_calls=False)


def test_r8_1_anthropic_translates_tool_calls_and_results() -> None:
    data = chat(AnthropicAdapter(), TOOL_TURNS, tools=[WEATHER])
    assert data["system"] == "Be brief."
    assert [m["role"] for m in data["messages"]] == ["user", "assistant", "user"]
    assistant, results = data["messages"][1], data["messages"][2]
    assert assistant["content"] == [
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "call_a", "name": "get_weather", "input": {"city": "Paris"}},
        {
            "type": "tool_use",
            "id": "call_b",
            "name": "get_weather",
            "input": {"city": "Oslo", "n": Decimal("1.5")},  # exact, as the model wrote it
        },
    ]
    # Both results in one user turn, the user's next message after them.
    assert results["content"] == [
        {"type": "tool_result", "tool_use_id": "call_a", "content": "18C sunny"},
        {"type": "tool_result", "tool_use_id": "call_b", "content": "3C snow"},
        {"type": "text", "text": "And tomorrow?"},
    ]


def test_r8_1_anthropic_tool_turn_edge_cases() -> None:
    adapter = AnthropicAdapter()
    no_text = [
        {"role": "user", "content": "time?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "now", "arguments": ""}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "noon"}]},
        {"role": "assistant", "content": "It is noon."},
    ]
    turns = chat(adapter, no_text, tools=[CLOCK])["messages"]
    # No empty text block (the API refuses those); empty arguments are an empty object.
    assert turns[1]["content"] == [{"type": "tool_use", "id": "c1", "name": "now", "input": {}}]
    assert turns[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "c1",
                "content": [{"type": "text", "text": "noon"}],
            }
        ],
    }
    assert turns[3] == {"role": "assistant", "content": "It is noon."}
    # A user message with parts after results: its parts follow the results, images translated.
    then_image = [*no_text[:3], {"role": "user", "content": IMAGE_PARTS}]
    merged = chat(adapter, then_image, tools=[CLOCK])["messages"][2]["content"]
    assert [block["type"] for block in merged] == ["tool_result", "text", "image"]
    assert merged[2]["source"] == {"type": "base64", "media_type": "image/png", "data": "QUJD"}


@pytest.mark.parametrize("arguments", [f'{{"city": "{CANARY}"', f'["{CANARY}"]', f'"{CANARY}"', 42])
def test_r8_1_unreadable_arguments_in_a_turn_are_refused_without_echo(arguments: Any) -> None:
    turns = [
        {"role": "user", "content": "x"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}
            ],
        },
    ]
    for adapter in (AnthropicAdapter(), OllamaAdapter()):
        with pytest.raises(InvalidRequest) as caught:
            chat(adapter, turns)
        assert CANARY not in str(caught.value) and CANARY not in repr(caught.value)


def test_r8_1_anthropic_refuses_tool_turns_it_cannot_express() -> None:
    adapter = AnthropicAdapter()
    with pytest.raises(InvalidRequest):  # a result must name its call
        chat(adapter, [{"role": "tool", "content": "x"}])
    no_id = {"type": "function", "function": {"name": "f", "arguments": "{}"}}
    with pytest.raises(InvalidRequest):
        chat(adapter, [{"role": "assistant", "content": "", "tool_calls": [no_id]}])
    with pytest.raises(InvalidRequest):
        chat(adapter, tools=[WEATHER], tool_choice="sometimes")


def test_r8_2_anthropic_structured_output_is_a_forced_tool() -> None:
    data = chat(AnthropicAdapter(), response_format=STRUCTURED)
    assert [tool["name"] for tool in data["tools"]] == ["Verdict"]
    assert data["tools"][0]["input_schema"] == SCHEMA
    assert isinstance(data["tools"][0]["description"], str)
    assert data["tool_choice"] == {"type": "tool", "name": "Verdict"}
    assert "response_format" not in data
    loose = chat(AnthropicAdapter(), response_format={"type": "json_object"})
    assert loose["tools"][0]["name"] == "json_output"
    assert loose["tools"][0]["input_schema"] == {"type": "object"}
    assert loose["tool_choice"] == {"type": "tool", "name": "json_output"}
    assert "tools" not in chat(AnthropicAdapter(), response_format={"type": "text"})


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, {"type": "any"}),
        ("auto", {"type": "any"}),  # auto would let the model answer in free text
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "now"}}, {"type": "tool", "name": "now"}),
        ("none", {"type": "tool", "name": "Verdict"}),  # no app tool: only the answer
    ],
)
def test_r8_2_anthropic_structured_output_beside_app_tools(choice: Any, expected: Any) -> None:
    params: dict[str, Any] = {"tools": [WEATHER, CLOCK], "response_format": STRUCTURED}
    if choice is not None:
        params["tool_choice"] = choice
    data = chat(AnthropicAdapter(), **params)
    assert [tool["name"] for tool in data["tools"]] == ["get_weather", "now", "Verdict"]
    assert data["tool_choice"] == expected


def test_r8_2_anthropic_structured_output_edge_cases() -> None:
    adapter = AnthropicAdapter()
    thinking = {"type": "enabled", "budget_tokens": 1024}
    # Extended thinking refuses forced tool use: byom's own choice is then auto.
    assert chat(adapter, response_format=STRUCTURED, thinking=thinking)["tool_choice"] == {
        "type": "auto"
    }
    single = chat(adapter, response_format=STRUCTURED, parallel_tool_calls=False)
    assert single["tool_choice"] == {
        "type": "tool",
        "name": "Verdict",
        "disable_parallel_tool_use": True,
    }
    clash = {"type": "json_schema", "json_schema": {"name": "get_weather", "schema": SCHEMA}}
    with pytest.raises(InvalidRequest):
        chat(adapter, tools=[WEATHER], response_format=clash)
    with pytest.raises(InvalidRequest):
        chat(adapter, response_format={"type": "json_schema", "json_schema": {"schema": SCHEMA}})
    with pytest.raises(InvalidRequest):
        chat(adapter, response_format={"type": "xml"})


def test_r8_3_anthropic_keeps_translating_images() -> None:
    url = {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}}
    data = chat(AnthropicAdapter(), [{"role": "user", "content": [*IMAGE_PARTS, url]}])
    parts = data["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "what is this"}
    assert parts[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"},
    }
    assert parts[2] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.org/a.png"},
    }


# == requests: Ollama ==========================================================================


def test_r8_1_ollama_passes_tools_and_drops_what_it_cannot_force() -> None:
    adapter = OllamaAdapter()
    assert chat(adapter, tools=[WEATHER])["tools"] == [WEATHER]
    named = {"type": "function", "function": {"name": "get_weather"}}
    for choice in ("auto", "required", named):
        data = chat(adapter, tools=[WEATHER], tool_choice=choice, parallel_tool_calls=False)
        assert data["tools"] == [WEATHER]
        assert "tool_choice" not in data and "parallel_tool_calls" not in data
        assert "tool_choice" not in data["options"]
    # "none": the model gets no tools, so it cannot call one.
    assert "tools" not in chat(adapter, tools=[WEATHER], tool_choice="none")


def test_r8_1_ollama_translates_tool_calls_and_results() -> None:
    data = chat(OllamaAdapter(), TOOL_TURNS, tools=[WEATHER])
    messages = data["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool", "user"]
    assert messages[2] == {
        "role": "assistant",
        "content": "Checking both.",
        "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {
                "function": {
                    "name": "get_weather",
                    "arguments": {"city": "Oslo", "n": Decimal("1.5")},
                }
            },
        ],
    }
    assert messages[3] == {"role": "tool", "content": "18C sunny", "tool_name": "get_weather"}
    assert messages[4] == {"role": "tool", "content": "3C snow", "tool_name": "get_weather"}
    # A result whose call is not in the conversation goes without a name.
    orphan = chat(OllamaAdapter(), [{"role": "tool", "tool_call_id": "zz", "content": "x"}])
    assert orphan["messages"] == [{"role": "tool", "content": "x"}]


def test_r8_2_ollama_structured_output_is_format() -> None:
    assert chat(OllamaAdapter(), response_format=STRUCTURED)["format"] == SCHEMA
    assert chat(OllamaAdapter(), response_format={"type": "json_object"})["format"] == "json"


def test_r8_3_ollama_sends_images_as_base64() -> None:
    data = chat(OllamaAdapter(), [{"role": "user", "content": IMAGE_PARTS}])
    assert data["messages"][0] == {"role": "user", "content": "what is this", "images": ["QUJD"]}


# == replies: OpenAI-style =====================================================================


def completion(message: dict[str, Any], finish: Any = "tool_calls") -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7},
        }
    ).encode()


def call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_1_openai_style_reply_tool_calls_and_finish(adapter: Any) -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [call("c1", "a", '{"x": 1}'), call("c2", "b", "{}")],
    }
    result = adapter.parse_response(200, {}, completion(message))
    assert result.tool_calls == (RawToolCall("c1", "a", '{"x": 1}'), RawToolCall("c2", "b", "{}"))
    assert result.finish_reason == "tool_calls" and result.text == ""
    # Servers that say "stop" (or nothing) with calls: still a stop to call tools.
    for finish in ("stop", None):
        assert adapter.parse_response(200, {}, completion(message, finish)).finish_reason == (
            "tool_calls"
        )
    # A cut at max_tokens stays visible as truncation.
    assert adapter.parse_response(200, {}, completion(message, "length")).finish_reason == "length"
    # The legacy function_call is one id-less call.
    legacy = {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "a", "arguments": "{}"},
    }
    result = adapter.parse_response(200, {}, completion(legacy, "function_call"))
    assert result.tool_calls == (RawToolCall(None, "a", "{}"),)
    assert result.finish_reason == "tool_calls"
    # A plain answer has no calls; an empty list is none either.
    plain = {"role": "assistant", "content": "hi", "tool_calls": []}
    result = adapter.parse_response(200, {}, completion(plain, "stop"))
    assert result.tool_calls == () and result.finish_reason == "stop"


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_1_openai_style_unreadable_calls_are_kept_for_the_core_to_refuse(adapter: Any) -> None:
    broken = {"role": "assistant", "content": None, "tool_calls": "nope"}
    result = adapter.parse_response(200, {}, completion(broken))
    assert result.tool_calls == (RawToolCall(None, None, None),)
    odd = {"role": "assistant", "tool_calls": [{"id": 7, "function": {"name": 3, "arguments": 1}}]}
    assert adapter.parse_response(200, {}, completion(odd)).tool_calls == (
        RawToolCall(None, None, None),
    )


def chunk(delta: dict[str, Any], finish: Any = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-s",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def fragment(
    index: Any, *, call_id: str | None = None, name: str | None = None, args: str = ""
) -> Any:
    entry: dict[str, Any] = {"function": {"arguments": args}}
    if index is not None:
        entry["index"] = index
    if call_id is not None:
        entry["id"] = call_id
        entry["type"] = "function"
    if name is not None:
        entry["function"]["name"] = name
    return {"tool_calls": [entry]}


#: A streamed parallel call: interleaved fragments of indices 0 and 1, a multi-byte character
#: in the arguments, then the finish and usage chunks.
PARALLEL_EVENTS: list[Any] = [
    chunk({"role": "assistant", "content": None}),
    chunk(fragment(0, call_id="call_0", name="get_weather")),
    chunk(fragment(0, args='{"ci')),
    chunk(fragment(1, call_id="call_1", name="now", args="")),
    chunk(fragment(0, args='ty": "Zürich"}')),
    chunk(fragment(1, args="{}")),
    chunk({}, "tool_calls"),
    {"id": "chatcmpl-s", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}},
    "[DONE]",
]
PARALLEL_STREAM = sse(*PARALLEL_EVENTS)


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_1_openai_style_stream_assembles_fragments_at_every_byte_boundary(adapter: Any) -> None:
    decoder = adapter.stream_decoder()
    result = bytewise(decoder, PARALLEL_STREAM)
    assert decoder.complete
    assert result.tool_calls == (
        RawToolCall("call_0", "get_weather", '{"city": "Zürich"}'),
        RawToolCall("call_1", "now", "{}"),
    )
    assert result.finish_reason == "tool_calls" and result.text == ""
    assert result.usage is not None and result.usage.completion_tokens == 4


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_1_openai_style_stream_cut_mid_arguments_leaves_an_unparsable_call(adapter: Any) -> None:
    decoder = adapter.stream_decoder()
    next_event = sse(PARALLEL_EVENTS[4])
    decoder.feed(sse(*PARALLEL_EVENTS[:4]) + next_event[: len(next_event) // 2])
    partial = decoder.partial  # what the core keeps when the stream fails here
    assert not decoder.complete and partial.finish_reason is None and partial.usage is None
    assert [(c.id, c.name) for c in partial.tool_calls] == [
        ("call_0", "get_weather"),
        ("call_1", "now"),
    ]
    assert partial.tool_calls[0].arguments == '{"ci'
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial.tool_calls[0].arguments)
    # The body ends at an event boundary: close() returns the same, still not complete.
    ended = adapter.stream_decoder()
    ended.feed(sse(*PARALLEL_EVENTS[:4]))
    result = ended.close()
    assert not ended.complete and result.tool_calls == partial.tool_calls


@pytest.mark.parametrize("adapter", OPENAI_STYLE)
def test_r8_1_openai_style_stream_variants_of_servers(adapter: Any) -> None:
    # Several parallel calls all numbered 0 (some routed models) but with their own ids.
    same_index = sse(
        chunk(fragment(0, call_id="a", name="f", args='{"n": 1}')),
        chunk(fragment(0, call_id="b", name="g", args='{"n": 2}')),
        chunk({}, "stop"),  # "stop" with calls is a stop to call tools
        "[DONE]",
    )
    result = bytewise(adapter.stream_decoder(), same_index)
    assert result.tool_calls == (
        RawToolCall("a", "f", '{"n": 1}'),
        RawToolCall("b", "g", '{"n": 2}'),
    )
    assert result.finish_reason == "tool_calls"
    # No index at all: a new id starts a call, fragments without one continue it; an id that
    # is repeated on every fragment does not start a new call.
    no_index = sse(
        chunk(fragment(None, call_id="a", name="f", args='{"n"')),
        chunk(fragment(None, args=": 1}")),
        chunk(fragment(None, call_id="b", name="g", args="{")),
        chunk(fragment(None, call_id="b", args="}")),
        chunk({}, "tool_calls"),
        "[DONE]",
    )
    result = bytewise(adapter.stream_decoder(), no_index)
    assert result.tool_calls == (RawToolCall("a", "f", '{"n": 1}'), RawToolCall("b", "g", "{}"))
    # The legacy function_call, in fragments.
    legacy = sse(
        chunk({"role": "assistant", "function_call": {"name": "f", "arguments": ""}}),
        chunk({"function_call": {"arguments": '{"q": '}}),
        chunk({"function_call": {"arguments": '"x"}'}}),
        chunk({}, "function_call"),
        "[DONE]",
    )
    result = bytewise(adapter.stream_decoder(), legacy)
    assert result.tool_calls == (RawToolCall(None, "f", '{"q": "x"}'),)
    assert result.finish_reason == "tool_calls"
    # Text and a call in one reply: the text is the reply's, the call stays a call.
    mixed = sse(
        chunk({"content": "Let me look."}),
        chunk(fragment(0, call_id="a", name="f", args="{}")),
        chunk({}, "tool_calls"),
        "[DONE]",
    )
    decoder = adapter.stream_decoder()
    deltas = decoder.feed(mixed)
    assert "".join(d.text for d in deltas) == "Let me look."
    assert decoder.close().tool_calls == (RawToolCall("a", "f", "{}"),)


# == replies: Anthropic ========================================================================


def test_r8_1_anthropic_reply_tool_use_blocks() -> None:
    reply = {
        "id": "msg_1",
        "type": "message",
        "model": "claude-x",
        "content": [
            {"type": "text", "text": "Looking."},
            {"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {"q": "x"}},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}},
            {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 10, "output_tokens": 20},
    }
    result = AnthropicAdapter().parse_response(200, {}, json.dumps(reply).encode())
    # Server tools ran at the provider: they are not calls for the app.
    assert result.tool_calls == (
        RawToolCall("toolu_1", "get_weather", {"city": "Oslo"}),
        RawToolCall("toolu_2", "now", {}),
    )
    assert result.text == "Looking." and result.finish_reason == "tool_calls"
    reply["content"] = [{"type": "tool_use", "id": "t", "name": "f", "input": [1]}]
    odd = AnthropicAdapter().parse_response(200, {}, json.dumps(reply).encode())
    assert odd.tool_calls == (RawToolCall("t", "f", "[1]"),)  # not an object: the core refuses


def anthropic_stream(
    *blocks: list[dict[str, Any]], stop: str = "tool_use", end: bool = True
) -> bytes:
    events: list[Any] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_s",
                "model": "claude-x",
                "usage": {"input_tokens": 11, "output_tokens": 1},
            },
        }
    ]
    for block in blocks:
        events.extend(block)
    if end:
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop},
                "usage": {"output_tokens": 30},
            }
        )
        events.append({"type": "message_stop"})
    return sse(*events, named=True)


def tool_block(index: int, block_id: str, name: str, *parts: str, start: Any = None) -> list[Any]:
    events: list[Any] = [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {
                "type": "tool_use",
                "id": block_id,
                "name": name,
                "input": start or {},
            },
        }
    ]
    for part in parts:
        events.append(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": part},
            }
        )
    events.append({"type": "content_block_stop", "index": index})
    return events


def text_block(index: int, text: str) -> list[Any]:
    return [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": text},
        },
        {"type": "content_block_stop", "index": index},
    ]


def test_r8_1_anthropic_stream_assembles_input_json_at_every_byte_boundary() -> None:
    data = anthropic_stream(
        text_block(0, "Two looks."),
        tool_block(1, "toolu_a", "get_weather", "", '{"city": ', '"Zürich"}'),
        [{"type": "content_block_start", "index": 2, "content_block":
          {"type": "server_tool_use", "id": "srv", "name": "web_search", "input": {}}},
         {"type": "content_block_delta", "index": 2,
          "delta": {"type": "input_json_delta", "partial_json": '{"q": "x"}'}}],
        tool_block(3, "toolu_b", "now", ""),  # only an empty fragment: no arguments
        tool_block(4, "toolu_c", "ping", start={"host": "a"}),  # input given, no delta
    )  # fmt: skip
    decoder = AnthropicAdapter().stream_decoder()
    result = bytewise(decoder, data)
    assert decoder.complete and result.text == "Two looks."
    assert result.tool_calls == (
        RawToolCall("toolu_a", "get_weather", '{"city": "Zürich"}'),
        RawToolCall("toolu_b", "now", {}),
        RawToolCall("toolu_c", "ping", {"host": "a"}),
    )
    assert result.finish_reason == "tool_calls"
    assert result.usage is not None and result.usage.completion_tokens == 30


def test_r8_1_anthropic_stream_cut_mid_input_leaves_an_unparsable_call() -> None:
    data = anthropic_stream(
        tool_block(0, "toolu_a", "get_weather", '{"city": ', '"Oslo"}'), end=False
    )
    cut = data[: data.index(b"Oslo")]
    decoder = AnthropicAdapter().stream_decoder()
    decoder.feed(cut)
    partial = decoder.partial
    assert not decoder.complete and partial.usage is None and partial.finish_reason is None
    assert partial.tool_calls == (RawToolCall("toolu_a", "get_weather", '{"city": '),)
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial.tool_calls[0].arguments)  # type: ignore[arg-type]
    ended = AnthropicAdapter().stream_decoder()
    ended.feed(cut[: cut.rindex(b"event: ")])  # the body ends at an event boundary
    assert ended.close().tool_calls == partial.tool_calls and not ended.complete


def test_r8_1_anthropic_stream_fragment_without_its_block_is_an_unreadable_call() -> None:
    stray = {"type": "content_block_delta", "index": 5,
             "delta": {"type": "input_json_delta", "partial_json": "{}"}}  # fmt: skip
    result = bytewise(AnthropicAdapter().stream_decoder(), anthropic_stream([stray]))
    assert result.tool_calls == (RawToolCall(None, None, "{}"),)


def test_r8_2_anthropic_structured_output_comes_back_as_its_tool_call() -> None:
    data = anthropic_stream(tool_block(0, "toolu_o", "Verdict", '{"answer": "yes"}'))
    result = bytewise(AnthropicAdapter().stream_decoder(), data)
    assert result.tool_calls == (RawToolCall("toolu_o", "Verdict", '{"answer": "yes"}'),)


# == replies: Ollama ===========================================================================


def ollama_line(message: dict[str, Any], *, done: bool = False, reason: str = "stop") -> bytes:
    line: dict[str, Any] = {
        "model": "qwen3",
        "message": {"role": "assistant", "content": "", **message},
        "done": done,
    }
    if done:
        line.update(done_reason=reason, prompt_eval_count=12, eval_count=8)
    return json.dumps(line).encode() + b"\n"


def test_r8_1_ollama_stream_collects_every_call_in_order_at_every_byte_boundary() -> None:
    first = {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}}}
    second = {"id": "call_x", "function": {"index": 1, "name": "now", "arguments": {}}}
    data = (
        ollama_line({"content": "Hm."})
        + ollama_line({"tool_calls": [first]})
        + ollama_line({"tool_calls": [second]}, done=True)
    )
    decoder = OllamaAdapter().stream_decoder()
    result = bytewise(decoder, data)
    assert decoder.complete and result.text == "Hm."
    assert result.tool_calls == (
        RawToolCall(None, "get_weather", {"city": "Oslo"}),
        RawToolCall("call_x", "now", {}),
    )
    assert result.finish_reason == "tool_calls"
    plain = bytewise(OllamaAdapter().stream_decoder(), ollama_line({"content": "hi"}, done=True))
    assert plain.tool_calls == () and plain.finish_reason == "stop"
    long = bytewise(
        OllamaAdapter().stream_decoder(),
        ollama_line({"tool_calls": [first]}, done=True, reason="length"),
    )
    assert long.finish_reason == "length"


def test_r8_1_ollama_odd_arguments_are_passed_for_the_core_to_judge() -> None:
    odd = {"message": {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "f", "arguments": '{"a": 1}'}},
        {"function": {"name": "g", "arguments": [1, 2]}},
    ]}, "done": True, "done_reason": "stop", "eval_count": 1}  # fmt: skip
    result = OllamaAdapter().parse_response(200, {}, json.dumps(odd).encode())
    assert result.tool_calls == (
        RawToolCall(None, "f", '{"a": 1}'),
        RawToolCall(None, "g", "[1,2]"),
    )


# == nothing content-bearing in a repr =========================================================


def test_r8_1_reprs_never_show_arguments() -> None:
    arguments = json.dumps({"secret": CANARY})
    message = {"role": "assistant", "content": None, "tool_calls": [call("c1", "f", arguments)]}
    openai = OpenAIAdapter().parse_response(200, {}, completion(message))
    stream = sse(chunk(fragment(0, call_id="c1", name="f", args=arguments[:20])))
    openai_decoder = OpenAIAdapter().stream_decoder()
    openai_decoder.feed(stream)
    anthropic_decoder = AnthropicAdapter().stream_decoder()
    anthropic_decoder.feed(anthropic_stream(tool_block(0, "t", "f", arguments[:20]), end=False))
    ollama = OllamaAdapter().parse_response(
        200,
        {},
        ollama_line(
            {"tool_calls": [{"function": {"name": "f", "arguments": {"s": CANARY}}}]}, done=True
        ),
    )
    request = OpenAIAdapter().chat_request(
        KEY, model="m", messages=[message], max_tokens=5, stream=False, params={}
    )
    shown = [
        openai,
        *openai.tool_calls,
        openai_decoder.partial,
        anthropic_decoder.partial,
        *anthropic_decoder.partial.tool_calls,
        ollama,
        request,
        openai_decoder,
        anthropic_decoder,
    ]
    for value in shown:
        assert CANARY[:12] not in repr(value) and CANARY[:12] not in str(value)
    assert "c1" in repr(openai.tool_calls[0])  # the id and name are shown; they are labels


def test_r8_1_a_stream_too_large_in_arguments_is_refused() -> None:
    from byom.providers import _openai_style

    assembler = _openai_style.ToolCallAssembler()
    big = "x" * (1 << 20)
    with pytest.raises(BadResponse):
        for _ in range(20):
            assembler.add({"index": 0, "function": {"arguments": big}})


def test_r8_1_openrouter_routes_tool_and_schema_requests_only_to_endpoints_that_take_them() -> None:
    """OpenRouter's ``provider.require_parameters``: an endpoint that would drop ``tools`` or
    ``response_format`` is not chosen (it would answer in plain text)."""
    import json as _json

    from byom.core.catalog import Price
    from byom.core.secret import Secret
    from byom.providers.openrouter import OpenRouterAdapter

    adapter = OpenRouterAdapter()
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}

    def body(params: dict[str, object], price: Price | None = None) -> dict[str, object]:
        request = adapter.chat_request(
            Secret("sk-or-v1-x"), model="m", messages=[], max_tokens=5, stream=False,
            params=params, max_price=price,
        )  # fmt: skip
        assert request.body is not None
        return _json.loads(request.body)

    assert "provider" not in body({})
    assert body({"tools": [tool]})["provider"] == {"require_parameters": True}
    fmt = {"type": "json_schema", "json_schema": {"name": "o", "schema": {"type": "object"}}}
    price = Price(prompt=Decimal("0.000001"), completion=Decimal("0.000002"))
    routed = body({"response_format": fmt}, price)["provider"]
    assert routed["require_parameters"] is True and set(routed["max_price"]) == {
        "prompt",
        "completion",
    }
