"""``byom sim`` tool calling and structured output (R8.1, R8.2) in every wire format, and what it
bills for them (R8.4, R8.5): OpenRouter, OpenAI, Anthropic, Ollama native and Ollama's ``/v1``.

Every test talks HTTP to a simulator on loopback and reads the replies with its own small
parsers (independent of byom's adapters); expected arguments are worked out by hand from the
documented rules in ``byom.sim``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import jsonschema
import openai
import pytest

from byom.catalogs import bundled
from byom.sim import SimError, Simulator, fit_schema, tool_arguments

KEY = "sk-tools-test-key"
FORMATS = ("openrouter", "openai", "anthropic", "ollama", "ollama_v1")
OPENAI_STYLE = ("openrouter", "openai", "ollama_v1")
MODEL = {
    "openrouter": "openai/gpt-4o-mini",
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "ollama": "llama3.2:3b",
    "ollama_v1": "llama3.2:3b",
}
TOOL_FINISH = {"anthropic": "tool_use", "ollama": "stop"}  # else "tool_calls"
LENGTH_FINISH = {"anthropic": "max_tokens"}  # else "length"
STOP_FINISH = {"anthropic": "end_turn"}  # else "stop"
MINI_PROMPT, MINI_COMPLETION = Decimal("0.00000015"), Decimal("0.0000006")
HAIKU_PROMPT, HAIKU_COMPLETION = Decimal("0.000001"), Decimal("0.000005")

WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "days": {"type": "integer", "minimum": 2, "maximum": 5},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "where": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "exact": {"type": "boolean"}},
            "required": ["lat"],
        },
    },
    "required": ["city", "days"],
}
LOOKUP: dict[str, Any] = {
    "type": "object",
    "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "maximum": 3}},
    "required": ["query"],
}
# By hand from the rules: leaves numbered from the salt; words "amber", "anchor", "apple",
# "arrow", "aspen", "autumn", … are WORDS[0], WORDS[1], …
WEATHER_0 = {
    "city": "amber", "days": 2, "unit": "celsius", "tags": ["arrow"],
    "where": {"lat": 4.5, "exact": False},
}  # fmt: skip
WEATHER_2 = {
    "city": "apple", "days": 3, "unit": "celsius", "tags": ["autumn"],
    "where": {"lat": 6.5, "exact": False},
}  # fmt: skip
LOOKUP_1 = {"query": "anchor", "limit": 2}


def function(name: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "description": f"The {name} tool."}
    if schema is not None:
        spec["parameters"] = schema
    return {"type": "function", "function": spec}


TOOLS = [function("get_weather", WEATHER), function("lookup", LOOKUP)]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _clean(sim: Simulator) -> None:
    sim.reset()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=20) as client:
        yield client


def toks(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 3)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# ---------------------------------------------------------------------- a small client


@dataclass
class Call:
    id: str | None
    name: str | None
    arguments: Any  # text (OpenAI-style, any stream) or what an object-valued wire carried

    @property
    def text(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else compact(self.arguments)

    def parsed(self) -> Any:
        return json.loads(self.arguments) if isinstance(self.arguments, str) else self.arguments


@dataclass
class Turn:
    status: int
    calls: list[Call]
    content: str
    finish: str | None
    completion_tokens: int | None
    ended: bool  # the format's own end marker arrived ([DONE], message_stop, done: true)
    reply_id: str | None = None
    events: list[Any] = field(default_factory=list)


def billed(calls: list[Call]) -> int:
    """tokens of [{"name":N,"arguments":A},…] with each arguments text inserted verbatim."""
    inner = ",".join(f'{{"name":{json.dumps(c.name)},"arguments":{c.text}}}' for c in calls)
    return toks(f"[{inner}]")


def wire_tools(fmt: str, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if fmt != "anthropic":
        return tools
    out = []
    for tool in tools:
        spec = tool["function"]
        out.append(
            {"name": spec["name"], "description": spec.get("description", ""),
             "input_schema": spec.get("parameters", {"type": "object"})}
        )  # fmt: skip
    return out


def history(fmt: str, steps: int) -> list[dict[str, Any]]:
    """A question and ``steps`` earlier tool-call turns with their results, in ``fmt``'s shape."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather?"}]
    for s in range(steps):
        if fmt == "anthropic":
            messages.append(
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": f"toolu_old{s}", "name": "lookup",
                     "input": {"query": "x"}}]}
            )  # fmt: skip
            messages.append(
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": f"toolu_old{s}", "content": "42"}]}
            )  # fmt: skip
        elif fmt == "ollama":
            messages.append(
                {"role": "assistant", "content": "",
                 "tool_calls": [{"function": {"name": "lookup", "arguments": {"query": "x"}}}]}
            )  # fmt: skip
            messages.append({"role": "tool", "content": "42", "tool_name": "lookup"})
        else:
            messages.append(
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": f"call_old{s}", "type": "function",
                     "function": {"name": "lookup", "arguments": '{"query":"x"}'}}]}
            )  # fmt: skip
            messages.append({"role": "tool", "tool_call_id": f"call_old{s}", "content": "42"})
    return messages


def endpoint(sim: Simulator, fmt: str) -> tuple[str, dict[str, str]]:
    if fmt == "openrouter":
        return sim.openrouter_base + "/chat/completions", {"Authorization": f"Bearer {KEY}"}
    if fmt == "openai":
        return sim.openai_base + "/chat/completions", {"Authorization": f"Bearer {KEY}"}
    if fmt == "ollama_v1":
        return sim.openai_base + "/chat/completions", {"Authorization": "Bearer ollama"}
    if fmt == "anthropic":
        return sim.base_url + "/v1/messages", {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    return sim.base_url + "/api/chat", {}


def body_for(
    fmt: str,
    *,
    stream: bool,
    steps: int = 0,
    tools: list[dict[str, Any]] | None = TOOLS,
    max_tokens: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL[fmt], "messages": history(fmt, steps), "stream": stream}
    if tools is not None:
        body["tools"] = wire_tools(fmt, tools)
    if fmt == "anthropic":
        body["max_tokens"] = 1_000_000 if max_tokens is None else max_tokens
    elif max_tokens is not None and fmt == "ollama":
        body["options"] = {"num_predict": max_tokens}
    elif max_tokens is not None:
        body["max_tokens"] = max_tokens
    if fmt in ("openai", "ollama_v1") and stream:
        body["stream_options"] = {"include_usage": True}
    body.update(extra)
    return body


def send(http: httpx.Client, sim: Simulator, fmt: str, body: dict[str, Any]) -> Turn:
    url, headers = endpoint(sim, fmt)
    if not body["stream"]:
        response = http.post(url, headers=headers, json=body)
        if response.status_code != 200:
            return Turn(response.status_code, [], "", None, None, False, events=[response.json()])
        return parse_whole(fmt, response.json())
    received = bytearray()
    status = 0
    try:
        with http.stream("POST", url, headers=headers, json=body) as response:
            status = response.status_code
            for chunk in response.iter_bytes():
                received += chunk
    except (httpx.RemoteProtocolError, httpx.ReadError):
        pass  # a cut stream: keep what arrived
    text = received.decode("utf-8", errors="replace")
    if fmt == "anthropic":
        return parse_anthropic_stream(status, text)
    if fmt == "ollama":
        return parse_ollama_stream(status, text)
    return parse_openai_stream(status, text)


def turn(http: httpx.Client, sim: Simulator, fmt: str, **kwargs: Any) -> Turn:
    return send(http, sim, fmt, body_for(fmt, **kwargs))


def parse_whole(fmt: str, body: dict[str, Any]) -> Turn:
    if fmt == "anthropic":
        calls = [
            Call(b["id"], b["name"], b["input"]) for b in body["content"] if b["type"] == "tool_use"
        ]
        text = "".join(b["text"] for b in body["content"] if b["type"] == "text")
        return Turn(
            200, calls, text, body["stop_reason"], body["usage"]["output_tokens"], True, body["id"]
        )
    if fmt == "ollama":
        message = body["message"]
        calls = [
            Call(None, c["function"]["name"], c["function"]["arguments"])
            for c in message.get("tool_calls") or []
        ]
        return Turn(200, calls, message["content"], body["done_reason"], body["eval_count"], True)
    message = body["choices"][0]["message"]
    calls = [
        Call(c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in message.get("tool_calls") or []
    ]
    assert all(c["type"] == "function" for c in message.get("tool_calls") or [])
    return Turn(
        200,
        calls,
        message["content"] or "",
        body["choices"][0]["finish_reason"],
        body["usage"]["completion_tokens"],
        True,
        body["id"],
    )


def parse_openai_stream(status: int, text: str) -> Turn:
    events = []
    for block in text.split("\n\n"):
        line = block.strip()
        if line.startswith("data: ") and line != "data: [DONE]":
            try:
                events.append(json.loads(line[6:]))
            except json.JSONDecodeError:
                pass  # a cut chunk
    calls: dict[int, Call] = {}
    content, finish, usage, reply_id = "", None, None, None
    for event in events:
        reply_id = event.get("id", reply_id)
        if event.get("usage"):
            usage = event["usage"]["completion_tokens"]
        for choice in event.get("choices") or []:
            delta = choice["delta"]
            content += delta.get("content") or ""
            for entry in delta.get("tool_calls") or []:
                index = entry["index"]
                if "id" in entry:
                    assert index not in calls, "a second start for one call index"
                    assert entry["type"] == "function"
                    assert entry["function"]["arguments"] == ""
                    calls[index] = Call(entry["id"], entry["function"]["name"], "")
                calls[index].arguments += entry["function"].get("arguments", "")
            finish = choice.get("finish_reason") or finish
    ordered = [calls[i] for i in sorted(calls)]
    return Turn(status, ordered, content, finish, usage, "data: [DONE]" in text, reply_id, events)


def parse_anthropic_stream(status: int, text: str) -> Turn:
    events = []
    for block in text.split("\n\n"):
        lines = block.strip().split("\n")
        if len(lines) == 2 and lines[1].startswith("data: "):
            try:
                events.append((lines[0][7:], json.loads(lines[1][6:])))
            except json.JSONDecodeError:
                pass
    calls: dict[int, Call] = {}
    open_blocks: set[int] = set()
    content, finish, usage, reply_id = "", None, None, None
    for name, data in events:
        assert name == data["type"]
        if name == "message_start":
            reply_id = data["message"]["id"]
        elif name == "content_block_start":
            block = data["content_block"]
            open_blocks.add(data["index"])
            if block["type"] == "tool_use":
                assert block["input"] == {}
                calls[data["index"]] = Call(block["id"], block["name"], "")
        elif name == "content_block_delta":
            assert data["index"] in open_blocks
            delta = data["delta"]
            if delta["type"] == "input_json_delta":
                calls[data["index"]].arguments += delta["partial_json"]
            else:
                content += delta["text"]
        elif name == "content_block_stop":
            open_blocks.discard(data["index"])
        elif name == "message_delta":
            finish = data["delta"]["stop_reason"]
            usage = data["usage"]["output_tokens"]
    ended = any(name == "message_stop" for name, _ in events)
    ordered = [calls[i] for i in sorted(calls)]
    return Turn(status, ordered, content, finish, usage, ended, reply_id, events)


def parse_ollama_stream(status: int, text: str) -> Turn:
    events = []
    for line in text.split("\n"):
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    calls: list[Call] = []
    content, finish, usage, ended = "", None, None, False
    for event in events:
        message = event.get("message") or {}
        content += message.get("content") or ""
        for c in message.get("tool_calls") or []:
            calls.append(Call(None, c["function"]["name"], c["function"]["arguments"]))
        if event.get("done"):
            ended, finish, usage = True, event["done_reason"], event["eval_count"]
    return Turn(status, calls, content, finish, usage, ended, None, events)


def tool_finish(fmt: str) -> str:
    return TOOL_FINISH.get(fmt, "tool_calls")


def length_finish(fmt: str) -> str:
    return LENGTH_FINISH.get(fmt, "length")


def stop_finish(fmt: str) -> str:
    return STOP_FINISH.get(fmt, "stop")


both = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
every_format = pytest.mark.parametrize("fmt", FORMATS)


# ---------------------------------------------------------------------- R8.1 tool turns


@every_format
@both
def test_r8_1_sim_tool_turns_until_tool_steps_then_an_answer(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    sim.config(tool_steps=2)
    first = turn(http, sim, fmt, stream=stream)
    assert first.status == 200 and first.ended
    assert [(c.name, c.parsed()) for c in first.calls] == [("get_weather", WEATHER_0)]
    assert first.finish == tool_finish(fmt) and first.content == ""
    assert first.completion_tokens == billed(first.calls)
    second = turn(http, sim, fmt, stream=stream, steps=1)  # step 1 calls the next tool
    assert [(c.name, c.parsed()) for c in second.calls] == [("lookup", LOOKUP_1)]
    answer = turn(http, sim, fmt, stream=stream, steps=2)
    assert answer.calls == [] and answer.finish == stop_finish(fmt)
    assert answer.content.startswith("Simulated reply: ")
    assert answer.completion_tokens == toks(answer.content)
    records = sim.generations()
    assert [r["finish_reason"] for r in records] == ["tool_calls", "tool_calls", "stop"]
    assert [r["tokens_completion"] for r in records] == [
        first.completion_tokens, second.completion_tokens, answer.completion_tokens
    ]  # fmt: skip


@every_format
def test_r8_1_sim_default_tool_steps_is_one_and_zero_means_answer(
    sim: Simulator, http: httpx.Client, fmt: str
) -> None:
    assert turn(http, sim, fmt, stream=False).calls
    assert turn(http, sim, fmt, stream=False, steps=1).calls == []
    sim.config(tool_steps=0)
    assert turn(http, sim, fmt, stream=False).calls == []
    assert turn(http, sim, fmt, stream=False, tools=None).calls == []  # nothing offered


@every_format
@both
def test_r8_1_sim_parallel_calls_take_the_tools_in_turn(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    sim.config(parallel_tool_calls=3)
    result = turn(http, sim, fmt, stream=stream)
    assert [(c.name, c.parsed()) for c in result.calls] == [
        ("get_weather", WEATHER_0), ("lookup", LOOKUP_1), ("get_weather", WEATHER_2)
    ]  # fmt: skip
    assert result.completion_tokens == billed(result.calls)
    ids = [c.id for c in result.calls]
    if fmt == "ollama":
        assert ids == [None, None, None]  # Ollama native sends no id
    else:
        prefix = "toolu" if fmt == "anthropic" else "call"
        serial = re.fullmatch(rf"{prefix}_(\d+)_0", str(ids[0]))
        assert serial is not None
        assert ids == [f"{prefix}_{serial[1]}_{i}" for i in range(3)]
        reply_id = str(result.reply_id)
        n = serial[1]
        assert (
            reply_id.startswith(f"gen-{n}-")
            or reply_id.startswith(f"chatcmpl-sim{n}")
            or reply_id.startswith(f"msg_sim{n}")
        )
    if stream and fmt in OPENAI_STYLE:
        # Index-keyed deltas: call 1 starts before call 0's arguments are complete.
        order = [
            (e["index"], "id" in e)
            for event in result.events
            for choice in event.get("choices") or []
            for e in choice["delta"].get("tool_calls") or []
        ]
        assert order.index((1, True)) < max(i for i, (idx, _) in enumerate(order) if idx == 0)


@pytest.mark.parametrize("fmt", ["openrouter", "openai", "anthropic", "ollama_v1"])
def test_r8_1_sim_request_can_turn_parallel_calls_off(
    sim: Simulator, http: httpx.Client, fmt: str
) -> None:
    sim.config(parallel_tool_calls=3)
    if fmt == "anthropic":
        extra: dict[str, Any] = {"tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}
    else:
        extra = {"parallel_tool_calls": False}
    result = turn(http, sim, fmt, stream=False, **extra)
    assert [c.name for c in result.calls] == ["get_weather"]


@pytest.mark.parametrize("fmt", ["openrouter", "openai", "anthropic", "ollama_v1"])
@both
def test_r8_1_sim_forced_choice_always_calls(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    anthropic_style = fmt == "anthropic"
    required = {"type": "any"} if anthropic_style else "required"
    named: Any = (
        {"type": "tool", "name": "lookup"}
        if anthropic_style
        else {"type": "function", "function": {"name": "lookup"}}
    )
    none = {"type": "none"} if anthropic_style else "none"
    sim.config(parallel_tool_calls=2)
    forced = turn(http, sim, fmt, stream=stream, steps=3, tool_choice=required)
    assert len(forced.calls) == 2 and forced.finish == tool_finish(fmt)
    # Step 3: the tools in turn start at tool 3 % 2, with salts 3 and 4.
    assert [c.name for c in forced.calls] == ["lookup", "get_weather"]
    assert forced.calls[0].parsed() == {"query": "arrow", "limit": 3}  # 4 moved under maximum
    one = turn(http, sim, fmt, stream=stream, steps=5, tool_choice=named)
    assert [(c.name, c.parsed()) for c in one.calls] == [
        ("lookup", {"query": "autumn", "limit": 3})
    ]
    nothing = turn(http, sim, fmt, stream=stream, tool_choice=none)
    assert nothing.calls == [] and nothing.content.startswith("Simulated reply: ")


def test_r8_1_sim_tool_name_config_scripts_the_called_tool(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.config(tool_name="lookup", parallel_tool_calls=2)
    result = turn(http, sim, "openai", stream=False)
    assert [(c.name, c.parsed()) for c in result.calls] == [
        ("lookup", {"query": "amber", "limit": 1}), ("lookup", LOOKUP_1)
    ]  # fmt: skip
    sim.config(tool_name="not_offered", parallel_tool_calls=1)
    result = turn(http, sim, "anthropic", stream=False)
    assert [(c.name, c.parsed()) for c in result.calls] == [("not_offered", {})]


@every_format
def test_r8_1_sim_tool_turns_are_deterministic(
    sim: Simulator, http: httpx.Client, fmt: str
) -> None:
    sim.config(parallel_tool_calls=2)
    one = turn(http, sim, fmt, stream=False)
    two = turn(http, sim, fmt, stream=True)
    assert [(c.name, c.text) for c in one.calls] == [(c.name, c.text) for c in two.calls]
    assert one.completion_tokens == two.completion_tokens


# ---------------------------------------------------------------------- arguments


SCHEMAS: list[dict[str, Any]] = [
    WEATHER,
    LOOKUP,
    {"type": "object", "properties": {}},
    {"type": "object", "properties": {"n": {"type": ["null", "integer"], "exclusiveMinimum": 7}}},
    {"type": "object", "properties": {"x": {"type": "number", "minimum": 10, "maximum": 11}}},
    {"type": "object", "properties": {"s": {"type": "string", "minLength": 30, "maxLength": 40}}},
    {"type": "object", "properties": {"s": {"type": "string", "maxLength": 2}}},
    {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"},
                                            "minItems": 3, "maxItems": 4}}},
    {"type": "object", "properties": {"v": {"anyOf": [{"type": "boolean"}, {"type": "string"}]}}},
    {"type": "object", "properties": {"c": {"const": "fixed"}, "e": {"enum": [3, 4]}}},
    {"type": "object", "required": ["only_required"]},
    {
        "type": "object",
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}},
                            "required": ["x"]}},
        "properties": {"p": {"$ref": "#/$defs/Point"},
                       "ps": {"type": "array", "items": {"$ref": "#/$defs/Point"}}},
        "required": ["p"],
        "additionalProperties": False,
    },
    {"properties": {"deep": {"properties": {"deeper": {"items": {"type": "boolean"}}}}}},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(i) for i in range(len(SCHEMAS))])
@pytest.mark.parametrize("salt", [0, 1, 7, 63, 64])
def test_r8_1_sim_arguments_fit_the_schema(schema: dict[str, Any], salt: int) -> None:
    value = json.loads(json.dumps(tool_arguments(schema, salt), default=float))
    jsonschema.Draft202012Validator(schema).validate(value)
    properties = schema.get("properties", {})
    assert set(value) == set(properties) | set(schema.get("required", []))


def test_r8_1_sim_argument_rules_by_hand() -> None:
    assert tool_arguments(WEATHER, 0) == {
        "city": "amber", "days": 2, "unit": "celsius", "tags": ["arrow"],
        "where": {"lat": Decimal("4.5"), "exact": False},
    }  # fmt: skip
    assert tool_arguments(None, 0) == {} and tool_arguments({"type": "string"}, 0) == {}
    assert tool_arguments({"type": "object"}, 3) == {}
    minimum = tool_arguments(SCHEMAS[5], 0)["s"]
    assert minimum == "amber anchor apple arrow aspen" and len(minimum) == 30
    assert tool_arguments(SCHEMAS[6], 0) == {"s": "am"}
    assert tool_arguments(SCHEMAS[3], 0) == {"n": 8}  # 0 moved above the exclusive bound 7
    assert tool_arguments(SCHEMAS[7], 2) == {"a": [2, 3, 4]}
    assert tool_arguments(SCHEMAS[9], 5) == {"c": "fixed", "e": 3}
    assert fit_schema(None) == {} and fit_schema({"type": "array", "items": {}}, 1) == ["anchor"]


@pytest.mark.parametrize("fmt", FORMATS)
@both
def test_r8_1_sim_huge_arguments(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    size = 200_000
    sim.config(tool_argument_bytes=size)
    result = turn(http, sim, fmt, stream=stream)
    assert result.ended
    [call] = result.calls
    assert len(call.text.encode()) == size
    args = call.parsed()
    jsonschema.Draft202012Validator(WEATHER).validate(args)
    assert args["city"].startswith("amber amber anchor apple arrow")
    assert {k: v for k, v in args.items() if k != "city"} == {
        k: v for k, v in WEATHER_0.items() if k != "city"
    }
    assert result.completion_tokens == billed(result.calls) > size // 3


@pytest.mark.parametrize("fmt", FORMATS)
@both
def test_r8_1_sim_malformed_arguments(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    sim.config(malformed_tool_arguments=True)
    result = turn(http, sim, fmt, stream=stream)
    assert result.ended and result.finish == tool_finish(fmt)
    [call] = result.calls
    assert isinstance(call.arguments, str)  # Anthropic input / Ollama arguments: a string
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.arguments)
    assert call.arguments == compact(WEATHER_0)[:-1]
    assert result.completion_tokens == billed(result.calls)


@pytest.mark.parametrize("fmt", FORMATS)
def test_r8_1_sim_stream_cut_in_tool_arguments(
    sim: Simulator, http: httpx.Client, fmt: str
) -> None:
    sim.config(stream_cut_in_tool_arguments=True, parallel_tool_calls=2)
    result = turn(http, sim, fmt, stream=True)
    assert result.status == 200 and not result.ended
    assert result.finish is None and result.completion_tokens is None  # no finish, no usage
    [record] = sim.generations()
    assert record["cancelled"] is True and record["finish_reason"] is None
    if fmt == "ollama":
        assert result.calls == [] and record["tokens_completion"] == 0
        return
    full = [compact(WEATHER_0), compact(LOOKUP_1)]
    sent = [c.text for c in result.calls]
    assert sum(map(len, sent)) == math.ceil(sum(map(len, full)) / 2)
    assert all(whole.startswith(part) for part, whole in zip(sent, full, strict=False))
    assert sent != full[: len(sent)]  # cut inside the arguments
    assert record["tokens_completion"] == billed(result.calls)


@pytest.mark.parametrize("fmt", ["openrouter", "anthropic", "ollama"])
def test_r8_1_sim_faults_still_apply_to_tool_streams(
    sim: Simulator, http: httpx.Client, fmt: str
) -> None:
    sim.config(stream_cut_in_tool_arguments=True)  # a taken fault acts instead
    sim.push_faults([{"kind": "midstream_error", "code": 502}])
    result = turn(http, sim, fmt, stream=True)
    assert not result.ended
    [record] = sim.generations()
    assert record["finish_reason"] == "error" and record["cancelled"] is False
    if fmt == "ollama":
        assert result.calls == [] and record["tokens_completion"] == 0
    else:
        assert record["tokens_completion"] == billed(result.calls)
    sim.reset()
    sim.push_faults([{"kind": "cut_before_usage"}])
    result = turn(http, sim, fmt, stream=True)
    assert not result.ended and [c.parsed() for c in result.calls] == [WEATHER_0]
    [record] = sim.generations()
    assert record["cancelled"] is True
    assert record["tokens_completion"] == billed(result.calls)


# ---------------------------------------------------------------------- R8.5 billing


@pytest.mark.parametrize("fmt", FORMATS)
@both
def test_r8_5_sim_tool_turn_billing_never_above_max_tokens(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    sim.config(parallel_tool_calls=2)
    whole = turn(http, sim, fmt, stream=False)
    full_cost = whole.completion_tokens
    assert full_cost == billed(whole.calls)
    texts = [c.text for c in whole.calls]
    for max_tokens in (1, 2, 5, 9, 17, full_cost - 1, full_cost, full_cost + 1):
        sim.reset()
        sim.config(parallel_tool_calls=2)
        result = turn(http, sim, fmt, stream=stream, max_tokens=max_tokens)
        assert result.ended, max_tokens
        assert result.completion_tokens is not None
        assert result.completion_tokens <= max_tokens
        [record] = sim.generations()
        assert record["tokens_completion"] == result.completion_tokens
        if max_tokens >= full_cost:
            assert result.finish == tool_finish(fmt)
            assert [c.text for c in result.calls] == texts
            continue
        assert result.finish == length_finish(fmt) and record["finish_reason"] == "length"
        assert 1 <= len(result.calls) <= 2 and result.calls[0].name == "get_weather"
        for call, text in zip(result.calls, texts, strict=False):
            assert text.startswith(call.text)
            if call.text != text:
                assert isinstance(call.arguments, str)  # a cut call is text on every wire
        assert [c.text for c in result.calls] != texts
        if fmt == "openrouter":
            prompt = record["tokens_prompt"]
            expected = prompt * MINI_PROMPT + result.completion_tokens * MINI_COMPLETION
            assert Decimal(str(record["cost"])) == expected


def test_r8_5_sim_a_cut_to_zero_still_names_the_first_call(
    sim: Simulator, http: httpx.Client
) -> None:
    result = turn(http, sim, "openrouter", stream=False, max_tokens=0)
    assert [(c.name, c.arguments) for c in result.calls] == [("get_weather", "")]
    assert result.completion_tokens == 0 and result.finish == "length"


@pytest.mark.parametrize("fmt", FORMATS)
def test_r8_4_sim_charged_since_a_mark_matches_every_reply(
    sim: Simulator, http: httpx.Client, fmt: str
) -> None:
    turn(http, sim, fmt, stream=False)  # before the mark: not counted
    mark = sim.mark()
    results = [
        turn(http, sim, fmt, stream=False),
        turn(http, sim, fmt, stream=True, steps=1),
        turn(http, sim, fmt, stream=True, tools=None, response_format=None),
    ]
    records = sim.generations(since=mark)
    assert len(records) == 3 and len(sim.generations()) == 4
    assert [r["tokens_completion"] for r in records] == [t.completion_tokens for t in results]
    price = {
        "openrouter": (MINI_PROMPT, MINI_COMPLETION),
        "openai": (MINI_PROMPT, MINI_COMPLETION),
        "anthropic": (HAIKU_PROMPT, HAIKU_COMPLETION),
    }.get(fmt, (Decimal(0), Decimal(0)))
    expected = sum(
        (r["tokens_prompt"] * price[0] + r["tokens_completion"] * price[1] for r in records),
        Decimal(0),
    )
    assert sim.charged(since=mark) == expected
    if fmt != "ollama" and fmt != "ollama_v1":
        assert expected > 0
    assert sim.charged(since=sim.mark()) == 0
    over_http = http.get(sim.base_url + "/_sim/generations", params={"since": mark}).json()
    assert [r["id"] for r in over_http] == [r["id"] for r in records]
    assert http.get(sim.base_url + "/_sim/mark").json() == {"mark": sim.mark()}


def test_r8_4_sim_charged_takes_explicit_prices_and_refuses_unknown_ones(
    sim: Simulator, http: httpx.Client
) -> None:
    turn(http, sim, "openai", stream=False, model="gpt-4o")
    [record] = sim.generations()
    prices = {"gpt-4o": (Decimal("0.001"), Decimal("0.002"))}
    expected = record["tokens_prompt"] * Decimal("0.001") + record["tokens_completion"] * Decimal(
        "0.002"
    )
    assert sim.charged(prices=prices) == expected
    assert sim.charged() == (
        record["tokens_prompt"] * Decimal("0.0000025")
        + record["tokens_completion"] * Decimal("0.00001")
    )
    turn(http, sim, "anthropic", stream=False, model="claude-sonnet-4-6")
    if bundled("anthropic").get("claude-sonnet-4-6") is None:
        with pytest.raises(SimError):
            sim.charged()  # not in byom's bundled snapshot
    assert http.get(sim.base_url + "/_sim/generations", params={"since": "x"}).status_code == 400


# ---------------------------------------------------------------------- R8.2 structured output


SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "weather", "strict": True, "schema": WEATHER},
}


def structured_body(fmt: str, stream: bool, **kwargs: Any) -> dict[str, Any]:
    if fmt == "anthropic":
        tools = [function("weather", WEATHER)]
        return body_for(
            fmt, stream=stream, tools=tools, tool_choice={"type": "tool", "name": "weather"},
            **kwargs,
        )  # fmt: skip
    if fmt == "ollama":
        return body_for(fmt, stream=stream, tools=None, format=WEATHER, **kwargs)
    return body_for(fmt, stream=stream, tools=None, response_format=SCHEMA_FORMAT, **kwargs)


def structured_value(fmt: str, result: Turn) -> Any:
    if fmt == "anthropic":
        [call] = result.calls
        assert call.name == "weather"
        return call.arguments
    assert result.calls == []
    return result.content


@pytest.mark.parametrize("fmt", FORMATS)
@both
def test_r8_2_sim_structured_output_fits_the_schema(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    result = send(http, sim, fmt, structured_body(fmt, stream))
    assert result.ended
    value = structured_value(fmt, result)
    data = value if isinstance(value, dict) else json.loads(value)
    jsonschema.Draft202012Validator(WEATHER).validate(data)
    assert data == WEATHER_0
    text = value if isinstance(value, str) else compact(value)
    if fmt == "anthropic":
        assert result.finish == "tool_use"
        assert result.completion_tokens == billed(result.calls)
    else:
        assert result.finish == "stop" and result.completion_tokens == toks(text)
    if fmt != "anthropic":  # (Anthropic's forced tool call takes the step as its salt)
        # Later steps do not change it: structured output is not a tool turn.
        again = send(http, sim, fmt, structured_body(fmt, stream, steps=3))
        assert structured_value(fmt, again) == value


@pytest.mark.parametrize("fmt", FORMATS)
@both
def test_r8_2_sim_malformed_output(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    sim.config(malformed_output=True)
    value = structured_value(fmt, send(http, sim, fmt, structured_body(fmt, stream)))
    assert isinstance(value, str)
    with pytest.raises(json.JSONDecodeError):
        json.loads(value)
    assert value == compact(WEATHER_0)[:-1]


@pytest.mark.parametrize("fmt", ["openrouter", "openai", "ollama", "ollama_v1"])
def test_r8_2_sim_json_mode_gives_an_object(sim: Simulator, http: httpx.Client, fmt: str) -> None:
    extra: dict[str, Any] = (
        {"format": "json"} if fmt == "ollama" else {"response_format": {"type": "json_object"}}
    )
    result = send(http, sim, fmt, body_for(fmt, stream=False, tools=None, **extra))
    assert result.content == "{}"
    text_mode = send(
        http, sim, fmt,
        body_for(fmt, stream=False, tools=None, response_format={"type": "text"})
        if fmt != "ollama" else body_for(fmt, stream=False, tools=None),
    )  # fmt: skip
    assert text_mode.content.startswith("Simulated reply: ")


@pytest.mark.parametrize("fmt", ["openai", "ollama"])
@both
def test_r8_2_sim_structured_output_is_cut_at_max_tokens(
    sim: Simulator, http: httpx.Client, fmt: str, stream: bool
) -> None:
    result = send(http, sim, fmt, structured_body(fmt, stream, max_tokens=5))
    assert result.finish == "length" and result.completion_tokens == toks(result.content) <= 5
    assert compact(WEATHER_0).startswith(result.content)


def test_r8_2_sim_tools_then_structured_answer(sim: Simulator, http: httpx.Client) -> None:
    body = body_for("openai", stream=False, response_format=SCHEMA_FORMAT)
    assert send(http, sim, "openai", body).calls  # tools first
    body = body_for("openai", stream=False, steps=1, response_format=SCHEMA_FORMAT)
    assert json.loads(send(http, sim, "openai", body).content) == WEATHER_0


# ---------------------------------------------------------------------- requests refused


BAD_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("anthropic", {"tools": TOOLS}),  # OpenAI-shaped tools sent to Anthropic
    ("anthropic", {"tools": [{"name": "x"}]}),  # no input_schema
    ("anthropic", {"tool_choice": {"type": "tool", "name": "missing"}}),
    ("anthropic", {"tool_choice": "auto"}),
    ("openai", {"tools": [{"name": "x", "input_schema": {}}]}),  # Anthropic-shaped
    ("openai", {"tools": [function("bad name!", None)]}),
    ("openai", {"tool_choice": {"type": "function", "function": {"name": "missing"}}}),
    ("openai", {"tool_choice": "sometimes"}),
    ("openrouter", {"parallel_tool_calls": "no"}),
    ("openrouter", {"response_format": {"type": "xml"}}),
    ("openai", {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}),
    ("ollama", {"format": 3}),
    ("ollama", {"tools": {"get_weather": {}}}),
]


@pytest.mark.parametrize(("fmt", "extra"), BAD_REQUESTS)
def test_r8_1_sim_refuses_tool_fields_the_provider_would(
    sim: Simulator, http: httpx.Client, fmt: str, extra: dict[str, Any]
) -> None:
    body = body_for(fmt, stream=False)
    body.update(extra)
    assert send(http, sim, fmt, body).status == 400
    assert sim.generations() == []


def test_r8_1_sim_anthropic_server_tools_are_offered_but_never_called(
    sim: Simulator, http: httpx.Client
) -> None:
    body = body_for("anthropic", stream=False, tools=None)
    body["tools"] = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}]
    result = send(http, sim, "anthropic", body)
    assert result.status == 200 and result.calls == []


# ---------------------------------------------------------------------- config


def test_tool_config_options_are_validated_and_listed(sim: Simulator, http: httpx.Client) -> None:
    config = sim.config()
    assert {k: config[k] for k in (
        "tool_steps", "tool_name", "parallel_tool_calls", "tool_argument_bytes",
        "malformed_tool_arguments", "stream_cut_in_tool_arguments", "malformed_output",
    )} == {
        "tool_steps": 1, "tool_name": None, "parallel_tool_calls": 1,
        "tool_argument_bytes": None, "malformed_tool_arguments": False,
        "stream_cut_in_tool_arguments": False, "malformed_output": False,
    }  # fmt: skip
    changed = http.post(
        sim.base_url + "/_sim/config",
        json={"tool_steps": 3, "tool_name": "lookup", "parallel_tool_calls": 2,
              "tool_argument_bytes": 5000, "malformed_output": True},
    ).json()  # fmt: skip
    assert changed["tool_steps"] == 3 and changed["tool_name"] == "lookup"
    assert changed["parallel_tool_calls"] == 2 and changed["tool_argument_bytes"] == 5000
    assert changed["malformed_output"] is True
    for bad in (
        {"tool_steps": -1}, {"tool_steps": "2"}, {"parallel_tool_calls": 0},
        {"tool_name": ""}, {"tool_name": 3}, {"tool_argument_bytes": -5},
        {"tool_argument_bytes": 10**9}, {"malformed_tool_arguments": 1},
        {"stream_cut_in_tool_arguments": "yes"},
    ):  # fmt: skip
        assert http.post(sim.base_url + "/_sim/config", json=bad).status_code == 400, bad
        with pytest.raises(SimError):
            sim.config(**bad)
    sim.reset()
    assert sim.config()["tool_steps"] == 1


# ---------------------------------------------------------------------- the official clients


def test_r8_1_sim_openai_client_assembles_tool_call_stream(sim: Simulator) -> None:
    sim.config(parallel_tool_calls=2)
    with openai.OpenAI(base_url=sim.openai_base, api_key=KEY, max_retries=0, timeout=10) as client:
        with client.chat.completions.stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Weather?"}],
            tools=TOOLS,
        ) as stream:
            final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    named = [(c.function.name, json.loads(c.function.arguments)) for c in calls]
    assert named == [("get_weather", WEATHER_0), ("lookup", LOOKUP_1)]


def test_r8_1_sim_anthropic_client_assembles_tool_use_stream(sim: Simulator) -> None:
    with anthropic.Anthropic(
        base_url=sim.base_url, api_key=KEY, max_retries=0, timeout=10
    ) as client:
        with client.messages.stream(
            model="claude-haiku-4-5",
            max_tokens=500,
            messages=[{"role": "user", "content": "Weather?"}],
            tools=wire_tools("anthropic", TOOLS),
        ) as stream:
            final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    [block] = final.content
    assert block.type == "tool_use" and block.name == "get_weather"
    assert block.input == WEATHER_0
    assert final.usage.output_tokens == billed([Call(block.id, block.name, WEATHER_0)])
