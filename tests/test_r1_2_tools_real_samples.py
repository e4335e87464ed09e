"""R8.1 against real wire samples: recorded tool-call replies and streams parse to the calls the
provider sent.

Every sample is a file under ``tests/fixtures/wire/``; ``tests/fixtures/wire/README.md`` names
the repository, path and commit each was taken from. Streams are fed whole and one byte at a
time (every possible split point), so fragment assembly cannot depend on how the body was cut.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from byom.core.usage import ChatResult, RawToolCall, Usage
from byom.providers.anthropic import AnthropicAdapter
from byom.providers.compatible import CompatibleAdapter
from byom.providers.ollama import OllamaAdapter
from byom.providers.openai import OpenAIAdapter
from byom.providers.openrouter import OpenRouterAdapter

WIRE = Path(__file__).parent / "fixtures" / "wire"


def sample(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def decode(adapter: Any, data: bytes, *, bytewise: bool) -> tuple[Any, ChatResult]:
    decoder = adapter.stream_decoder()
    if bytewise:
        for i in range(len(data)):
            decoder.feed(data[i : i + 1])
    else:
        decoder.feed(data)
    return decoder, decoder.close()


def arguments_of(call: RawToolCall) -> Any:
    """The call's arguments as an object (JSON text is parsed; an object is returned as is)."""
    if isinstance(call.arguments, str):
        return json.loads(call.arguments)
    assert isinstance(call.arguments, Mapping)
    return dict(call.arguments)


OPENAI_STYLE = [OpenAIAdapter(), OpenRouterAdapter(), CompatibleAdapter("http://127.0.0.1:1/v1")]


# -- OpenAI -------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", OPENAI_STYLE, ids=lambda a: a.name)
def test_r8_1_openai_recorded_parallel_tool_calls_reply(adapter: Any) -> None:
    """openai/openai-python ``tests/lib/chat/test_completions.py``,
    ``test_parse_multiple_pydantic_tools`` (recorded ``chat.completion`` body, gpt-4o-2024-08-06):
    two calls in ``message.tool_calls``, ``finish_reason: "tool_calls"``."""
    result = adapter.parse_response(200, {}, sample("openai_chat_tool_calls.json"))
    assert [(c.id, c.name) for c in result.tool_calls] == [
        ("call_fdNz3vOBKYgOIpMdWotB9MjY", "GetWeatherArgs"),
        ("call_h1DWI1POMJLb0KwIyQHWXD4p", "get_stock_price"),
    ]
    # The raw JSON text, exactly as sent (the core parses it).
    assert result.tool_calls[0].arguments == '{"city": "Edinburgh", "country": "GB", "units": "c"}'
    assert arguments_of(result.tool_calls[1]) == {"ticker": "AAPL", "exchange": "NASDAQ"}
    assert result.finish_reason == "tool_calls" and result.text == ""
    assert result.usage == Usage(prompt_tokens=149, completion_tokens=60)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "byte-by-byte"])
@pytest.mark.parametrize("adapter", OPENAI_STYLE, ids=lambda a: a.name)
def test_r8_1_openai_recorded_stream_with_parallel_index_keyed_fragments(
    adapter: Any, bytewise: bool
) -> None:
    """openai/openai-python ``.inline-snapshot/external/f82268f2fefd….bin`` (the stream of
    ``tests/lib/chat/test_completions_streaming.py::test_parse_multiple_pydantic_tools``):
    index 0 and index 1, each opened by a fragment with ``id`` and ``function.name`` and filled
    by ``function.arguments`` fragments; ``finish_reason: "tool_calls"``; a usage chunk."""
    decoder, result = decode(
        adapter, sample("openai_stream_parallel_tool_calls.sse"), bytewise=bytewise
    )
    assert decoder.complete
    assert [(c.id, c.name) for c in result.tool_calls] == [
        ("call_JMW1whyEaYG438VE1OIflxA2", "GetWeatherArgs"),
        ("call_DNYTawLBoN8fj3KN6qU9N1Ou", "get_stock_price"),
    ]
    assert result.tool_calls[0].arguments == '{"city": "Edinburgh", "country": "GB", "units": "c"}'
    assert result.tool_calls[1].arguments == '{"ticker": "AAPL", "exchange": "NASDAQ"}'
    assert result.finish_reason == "tool_calls" and result.text == ""
    assert result.usage == Usage(prompt_tokens=149, completion_tokens=60)
    assert result.generation_id == "chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63"


# -- Anthropic ----------------------------------------------------------------------------------


def test_r8_1_anthropic_recorded_tool_use_reply() -> None:
    """anthropics/anthropic-sdk-python ``tests/lib/tools/__inline_snapshot__/test_runners/
    TestSyncRunTools/e075a6c2-….json`` (recorded Messages API reply, claude-haiku-4-5): a text
    block, then a ``tool_use`` block; ``stop_reason: "tool_use"``."""
    result = AnthropicAdapter().parse_response(200, {}, sample("anthropic_message_tool_use.json"))
    assert result.text.startswith("I'll get the weather for each of those cities.")
    assert [(c.id, c.name) for c in result.tool_calls] == [
        ("toolu_01LRanfq6DmHn1yDTB4d1SAh", "get_weather")
    ]
    assert result.tool_calls[0].arguments == {"location": "San Francisco, CA", "units": "f"}
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(prompt_tokens=701, completion_tokens=93)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "byte-by-byte"])
def test_r8_1_anthropic_recorded_stream_with_input_json_delta(bytewise: bool) -> None:
    """anthropics/anthropic-sdk-python ``tests/lib/streaming/fixtures/tool_use_response.txt``:
    text block 0, then ``tool_use`` block 1 (``input: {}``) whose input arrives as
    ``input_json_delta`` fragments (the first one empty); ``stop_reason: "tool_use"``."""
    decoder, result = decode(
        AnthropicAdapter(), sample("anthropic_stream_tool_use.sse"), bytewise=bytewise
    )
    assert decoder.complete
    assert result.text == "I'll check the current weather in Paris for you."
    assert [(c.id, c.name) for c in result.tool_calls] == [
        ("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather")
    ]
    assert result.tool_calls[0].arguments == '{"location": "Paris"}'
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(prompt_tokens=377, completion_tokens=65)
    assert result.generation_id == "msg_019Q1hrJbZG26Fb9BQhrkHEr"


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "byte-by-byte"])
def test_r8_1_anthropic_recorded_stream_opening_with_a_tool_block(bytewise: bool) -> None:
    """anthropics/anthropic-sdk-python ``tests/lib/tools/__inline_snapshot__/test_runners/
    TestSyncRunTools/555fb399-….json`` (recorded stream, claude-haiku-4-5): the ``tool_use``
    block is block 0, the JSON events carry padding spaces, and ``message_delta`` repeats the
    input figures."""
    decoder, result = decode(
        AnthropicAdapter(), sample("anthropic_stream_tool_use_first_block.sse"), bytewise=bytewise
    )
    assert decoder.complete and result.text == ""
    assert [(c.id, c.name) for c in result.tool_calls] == [
        ("toolu_018acGYLtfR52q9yDbWaEdQZ", "get_weather")
    ]
    assert arguments_of(result.tool_calls[0]) == {"location": "San Francisco, CA", "units": "f"}
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(prompt_tokens=656, completion_tokens=74)


# -- Ollama -------------------------------------------------------------------------------------


def test_r8_1_ollama_documented_tool_call_reply() -> None:
    """ollama/ollama ``docs/api.md``, "Chat request (No streaming, with tools)": one call with
    object arguments and no id; ``done_reason: "stop"``, normalised to ``"tool_calls"``."""
    result = OllamaAdapter().parse_response(200, {}, sample("ollama_chat_tool_calls.json"))
    assert result.tool_calls == (RawToolCall(None, "get_weather", {"city": "Tokyo"}),)
    assert result.tool_calls[0].arguments == {"city": "Tokyo"}
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(prompt_tokens=169, completion_tokens=18)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "byte-by-byte"])
def test_r8_1_ollama_documented_stream_with_the_call_before_the_final_chunk(bytewise: bool) -> None:
    """ollama/ollama ``docs/api.md``, "Chat request (Streaming with tools)": the whole call
    arrives in a ``done: false`` chunk, then the final ``done: true`` chunk with the counts."""
    decoder, result = decode(
        OllamaAdapter(), sample("ollama_chat_stream_tool_calls.ndjson"), bytewise=bytewise
    )
    assert decoder.complete and result.text == ""
    assert [(c.id, c.name) for c in result.tool_calls] == [(None, "get_weather")]
    assert result.tool_calls[0].arguments == {"city": "Tokyo"}
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(prompt_tokens=169, completion_tokens=15)


def test_r8_1_every_sample_is_named_in_the_readme() -> None:
    readme = (WIRE / "README.md").read_text(encoding="utf-8")
    for path in WIRE.iterdir():
        if path.name != "README.md":
            assert f"`{path.name}`" in readme, path.name
