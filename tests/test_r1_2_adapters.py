"""R1.2: the OpenAI, Anthropic, Ollama and OpenAI-compatible adapters, sans-I/O.

Requests are built as plain data and responses parsed from bytes, so every wire detail is checked
here without a network: auth headers, message shapes, usage fields, stream framing (fed in
arbitrary splits), error bodies.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from byom.core.catalog import Catalog, Model, Price
from byom.core.errors import (
    BadRequest,
    BadResponse,
    ContextTooLong,
    InvalidRequest,
    KeyRejected,
    ModelUnavailable,
    ModerationFlagged,
    OutOfCredits,
    ProviderUnavailable,
    RateLimited,
    RequestTimeout,
)
from byom.core.secret import Secret
from byom.core.usage import Usage
from byom.providers import make_adapter
from byom.providers.anthropic import AnthropicAdapter, split_messages
from byom.providers.base import HttpRequest
from byom.providers.compatible import CompatibleAdapter
from byom.providers.ollama import OllamaAdapter
from byom.providers.openai import OpenAIAdapter
from byom.providers.openrouter import OpenRouterAdapter, _OpenAIStyleDecoder
from byom.providers.registry import PROVIDERS

KEY = Secret("sk-unit-KEY-0123456789abcdef")
MSGS = [{"role": "user", "content": "hello"}]


def body(request: HttpRequest) -> Any:
    assert request.body is not None
    return json.loads(request.body, parse_float=Decimal)


def chat(adapter: Any, key: Secret | None = KEY, stream: bool = False, **params: Any) -> Any:
    return adapter.chat_request(
        key, model="m", messages=MSGS, max_tokens=77, stream=stream, params=params
    )


def feed_split(decoder: Any, data: bytes, size: int) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(data), size):
        out += decoder.feed(data[i : i + size])
    return out


def sse(*events: tuple[str | None, Any]) -> bytes:
    out = b""
    for name, payload in events:
        if name:
            out += b"event: " + name.encode() + b"\n"
        text = payload if isinstance(payload, str) else json.dumps(payload)
        out += b"data: " + text.encode() + b"\n\n"
    return out


# -- registry -----------------------------------------------------------------------------------


def test_r1_2_registry_knows_six_providers_with_their_default_addresses() -> None:
    assert set(PROVIDERS) == {
        "openrouter",
        "openai",
        "anthropic",
        "gemini",
        "ollama",
        "compatible",
        "builtin",
    }
    assert make_adapter("openai").base_url == "https://api.openai.com/v1"
    assert make_adapter("gemini").base_url == "https://generativelanguage.googleapis.com"
    assert make_adapter("anthropic").base_url == "https://api.anthropic.com"
    assert make_adapter("ollama").base_url == "http://localhost:11434"
    assert make_adapter("ollama").origin == "http://localhost:11434"
    assert make_adapter("anthropic", "https://api.anthropic.com/v1/").base_url == (
        "https://api.anthropic.com"
    )
    with pytest.raises(InvalidRequest):
        make_adapter("compatible")
    assert make_adapter("compatible", "http://127.0.0.1:1234/v1").origin == "http://127.0.0.1:1234"
    with pytest.raises(InvalidRequest):
        make_adapter("nonesuch")


@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama", "compatible"])
def test_r1_2_every_request_goes_to_the_adapters_own_origin(provider: str) -> None:
    adapter = make_adapter(provider, "http://127.0.0.1:9/v1" if provider == "compatible" else None)
    requests = [
        chat(adapter),
        chat(adapter, stream=True),
        adapter.models_request(KEY),
        adapter.key_info_request(KEY),
        adapter.generation_request(KEY, "gen-1"),
    ]
    for request in requests:
        if request is not None:
            assert request.origin == adapter.origin
            assert "sk-unit-KEY" not in repr(request)
            assert "sk-unit-KEY" not in json.dumps(dict(request.headers))
    assert adapter.reports_cost is False


# -- OpenAI -------------------------------------------------------------------------------------


def test_r1_2_openai_request_shape() -> None:
    adapter = OpenAIAdapter()
    request = chat(adapter, temperature=0.2)
    data = body(request)
    assert request.url == "https://api.openai.com/v1/chat/completions"
    assert data["max_completion_tokens"] == 77 and "max_tokens" not in data
    assert data["stream"] is False and "stream_options" not in data
    assert data["temperature"] == Decimal("0.2")
    assert dict(request.headers) == {"Content-Type": "application/json"}
    assert request.wire_headers()["Authorization"] == "Bearer " + KEY.reveal()
    streamed = body(chat(adapter, stream=True))
    assert streamed["stream"] is True
    assert streamed["stream_options"] == {"include_usage": True}
    assert adapter.needs_key and not adapter.key_optional


@pytest.mark.parametrize("field", ["n", "max_tokens", "stream", "service_tier", "store"])
def test_r1_2_openai_refuses_fields_that_would_lift_a_bound(field: str) -> None:
    with pytest.raises(InvalidRequest):
        OpenAIAdapter().chat_request(
            KEY, model="m", messages=MSGS, max_tokens=5, stream=False, params={field: 2}
        )


def test_r1_2_openai_needs_a_key() -> None:
    from byom.core.errors import NotConnected

    with pytest.raises(NotConnected):
        chat(OpenAIAdapter(), key=None)


OPENAI_USAGE = {
    "prompt_tokens": 1000,
    "completion_tokens": 500,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 300, "audio_tokens": 0},
}


def test_r1_2_openai_parses_cached_and_reasoning_tokens() -> None:
    payload = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "o4-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                     "finish_reason": "stop"}],
        "usage": OPENAI_USAGE,
    }  # fmt: skip
    result = OpenAIAdapter().parse_response(200, {}, json.dumps(payload).encode())
    assert result.text == "hi" and result.generation_id == "chatcmpl-1"
    assert result.usage == Usage(
        prompt_tokens=1000, completion_tokens=500, cached_tokens=400, reasoning_tokens=300
    )
    assert result.cost is None
    assert result.finish_reason == "stop"


def test_r4_2_openai_cost_prices_cached_input_and_counts_reasoning_as_output_once() -> None:
    from byom.catalogs import bundled
    from byom.core.call import cost_of

    model = bundled("openai").lookup("gpt-4o-mini")
    assert model.price is not None
    usage = Usage(
        prompt_tokens=1000, completion_tokens=500, cached_tokens=400, reasoning_tokens=300
    )
    cost, source = cost_of(OpenAIAdapter(), model, usage, None)
    expected = (
        600 * Decimal("0.00000015") + 400 * Decimal("0.000000075") + 500 * Decimal("0.0000006")
    )
    assert (cost, source) == (expected, "computed")


def _openai_stream(with_usage: bool, done: bool = True) -> bytes:
    base = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "gpt-4o-mini"}
    events: list[tuple[str | None, Any]] = [
        (None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
                "usage": None}),
        (None, {**base, "choices": [{"index": 0, "delta": {"content": "Hel"}}], "usage": None}),
        (None, {**base, "choices": [{"index": 0, "delta": {"content": "lo"},
                                      "finish_reason": "stop"}], "usage": None}),
    ]  # fmt: skip
    if with_usage:
        events.append((None, {**base, "choices": [], "usage": OPENAI_USAGE}))
    if done:
        events.append((None, "[DONE]"))
    return sse(*events)


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_r1_2_openai_stream_usage_arrives_in_the_last_chunk(size: int) -> None:
    decoder = OpenAIAdapter().stream_decoder()
    deltas = feed_split(decoder, _openai_stream(True), size)
    result = decoder.close()
    assert "".join(d.text for d in deltas) == "Hello" == result.text
    assert decoder.complete and result.generation_id == "chatcmpl-9"
    assert result.usage is not None and result.usage.reasoning_tokens == 300
    assert result.finish_reason == "stop"


def test_r1_2_openai_stream_cut_has_no_usage_and_is_not_complete() -> None:
    decoder = OpenAIAdapter().stream_decoder()
    decoder.feed(_openai_stream(False, done=False))
    result = decoder.close()
    assert result.usage is None and not decoder.complete
    assert decoder.partial.text == "Hello"


def test_r1_2_openai_error_inside_a_stream_is_mapped() -> None:
    decoder = OpenAIAdapter().stream_decoder()
    decoder.feed(_openai_stream(False, done=False))
    error = {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}}
    with pytest.raises(ProviderUnavailable):
        decoder.feed(sse((None, error)))
    limited = OpenAIAdapter().stream_decoder()
    with pytest.raises(RateLimited):
        limited.feed(sse((None, {"error": {"message": "x", "code": "rate_limit_exceeded"}})))


def _openai_error(status: int, message: str, type_: str, code: str | None) -> tuple[int, bytes]:
    payload = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return status, json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("status", "message", "type_", "code", "expected"),
    [
        (401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key",
         KeyRejected),
        (429, "Rate limit reached", "requests", "rate_limit_exceeded", RateLimited),
        (429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota",
         OutOfCredits),
        (400, "This model's maximum context length is 128000 tokens", "invalid_request_error",
         "context_length_exceeded", ContextTooLong),
        (404, "The model `x` does not exist", "invalid_request_error", "model_not_found",
         ModelUnavailable),
        (400, "Unrecognized request argument", "invalid_request_error", None, BadRequest),
        (403, "Input XYZ-123 was refused", "permission_error", None, ModerationFlagged),
        (500, "oops", "server_error", None, ProviderUnavailable),
        (503, "busy", "server_error", None, ProviderUnavailable),
    ],
)  # fmt: skip
def test_r1_2_openai_error_bodies(
    status: int, message: str, type_: str, code: str | None, expected: type
) -> None:
    status, raw = _openai_error(status, message, type_, code)
    error = OpenAIAdapter().error_for(status, {"retry-after": "3"}, raw)
    assert isinstance(error, expected)
    assert message not in str(error)  # provider words never reach the user
    if isinstance(error, RateLimited):
        assert error.retry_after == 3.0


def test_r1_2_openai_unreadable_error_body_still_maps_on_status() -> None:
    assert isinstance(OpenAIAdapter().error_for(502, {}, b"<html>bad gateway"), ProviderUnavailable)
    with pytest.raises(BadResponse):
        OpenAIAdapter().parse_response(200, {}, b'{"choices": [')


def test_r1_2_openai_models_listing_keeps_snapshot_prices() -> None:
    known = Catalog(
        (Model("gpt-4o-mini", "GPT-4o mini", "worker", price=Price(Decimal(1), Decimal(2))),)
    )
    listing = {
        "object": "list",
        "data": [
            {"id": "gpt-4o-mini", "object": "model"},
            {"id": "gpt-9-preview", "object": "model"},
            {"id": "text-embedding-3-small", "object": "model"},
            {"id": "whisper-1", "object": "model"},
        ],
    }
    catalog = OpenAIAdapter(prices=known).parse_models(json.dumps(listing).encode())
    mini = catalog.get("gpt-4o-mini")
    assert mini is not None and mini.price == Price(Decimal(1), Decimal(2))
    assert mini.category == "worker" and mini.provider == "openai"
    new = catalog.get("gpt-9-preview")
    assert new is not None and new.price is None and new.category is None  # unknown, never zero
    assert "text-embedding-3-small" not in catalog and "whisper-1" not in catalog
    request = OpenAIAdapter().models_request(KEY)
    assert request.url.endswith("/v1/models") and "Authorization" in request.secret_headers


def test_r1_2_openai_models_listing_keeps_the_bundled_snapshot_prices() -> None:
    from byom.app import _adapter

    listing = {"data": [{"id": "gpt-4o-mini"}, {"id": "brand-new-model"}]}
    catalog = _adapter("openai", None, {}).parse_models(json.dumps(listing).encode())
    mini = catalog.get("gpt-4o-mini")
    assert mini is not None and mini.price is not None and mini.price.prompt > 0
    new = catalog.get("brand-new-model")
    assert new is not None and new.price is None  # unknown, never zero
    bare = OpenAIAdapter().parse_models(json.dumps(listing).encode())  # no I/O in the adapter
    assert bare.get("gpt-4o-mini") is not None and bare.get("gpt-4o-mini").price is None


def test_r1_2_openai_key_check_is_a_models_call() -> None:
    adapter = OpenAIAdapter()
    request = adapter.key_info_request(KEY)
    assert request is not None and request.method == "GET"
    adapter.parse_key_info(200, {}, b'{"data": []}')
    with pytest.raises(KeyRejected):
        adapter.parse_key_info(401, {}, b"{}")


# -- OpenRouter keeps its behaviour after the refactor -----------------------------------------


def test_r1_2_openrouter_still_uses_the_shared_decoder() -> None:
    adapter = OpenRouterAdapter()
    decoder = adapter.stream_decoder()
    assert isinstance(decoder, _OpenAIStyleDecoder)
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "cost": 0.0000123}
    data = sse(
        (None, {"id": "gen-1", "choices": [{"delta": {"content": "ok"}}]}),
        (None, {"id": "gen-1", "choices": [], "usage": usage}),
        (None, "[DONE]"),
    )
    decoder.feed(b": OPENROUTER PROCESSING\n\n" + data)
    result = decoder.close()
    assert result.cost == Decimal("0.0000123") and result.text == "ok"
    error = {
        "error": {"code": 402, "message": "x", "metadata": {"limit_source": "openrouter_credits"}}
    }
    err = adapter.error_from_object(error["error"])
    assert isinstance(err, OutOfCredits) and err.limit_source == "openrouter_credits"


# -- compatible ---------------------------------------------------------------------------------


def test_r1_2_compatible_key_is_optional_and_never_invented() -> None:
    adapter = CompatibleAdapter("http://127.0.0.1:1234/v1")
    assert adapter.key_optional and adapter.name == "compatible"
    request = chat(adapter, key=None)
    assert request.secret_headers == {} and "Authorization" not in request.wire_headers()
    assert adapter.key_info_request(None) is None
    assert "Authorization" not in adapter.models_request(None).wire_headers()
    keyed = chat(adapter)
    assert keyed.wire_headers()["Authorization"] == "Bearer " + KEY.reveal()
    assert request.url == "http://127.0.0.1:1234/v1/chat/completions"


def test_r1_2_compatible_stream_options_is_a_per_endpoint_flag() -> None:
    on = body(chat(CompatibleAdapter("http://h/v1"), stream=True))
    off = body(chat(CompatibleAdapter("http://h/v1", stream_usage=False), stream=True))
    assert on["stream_options"] == {"include_usage": True}
    assert "stream_options" not in off
    assert on["max_tokens"] == 77 and "max_completion_tokens" not in on
    newer = body(chat(CompatibleAdapter("http://h/v1", max_tokens_field="max_completion_tokens")))
    assert newer["max_completion_tokens"] == 77
    assert body(chat(CompatibleAdapter("http://h/v1"), top_k=20))["top_k"] == 20


def test_r1_2_compatible_lists_every_model_without_a_price() -> None:
    listing = {"data": [{"id": "qwen2.5:7b"}, {"id": "nomic-embed-text"}]}
    catalog = CompatibleAdapter("http://h/v1").parse_models(json.dumps(listing).encode())
    assert [m.id for m in catalog] == ["qwen2.5:7b", "nomic-embed-text"]
    assert all(m.price is None and m.category is None for m in catalog)
    assert all(m.provider == "compatible" for m in catalog)


def test_r1_2_compatible_zero_prompt_tokens_when_cached_is_fine() -> None:
    payload = {
        "id": "c1",
        "choices": [{"message": {"content": "x", "reasoning_content": "think"}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 3},
    }
    result = CompatibleAdapter("http://h/v1").parse_response(200, {}, json.dumps(payload).encode())
    assert result.usage == Usage(prompt_tokens=0, completion_tokens=3)
    assert result.reasoning == "think"


# -- Anthropic ----------------------------------------------------------------------------------


def test_r1_2_anthropic_headers_and_body() -> None:
    adapter = AnthropicAdapter()
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "again"},
    ]
    request = adapter.chat_request(
        KEY, model="claude-haiku-4-5", messages=messages, max_tokens=300, stream=False,
        params={"temperature": 0.5, "stop": "END", "seed": 1},
    )  # fmt: skip
    assert request.url == "https://api.anthropic.com/v1/messages"
    headers = request.wire_headers()
    assert headers["x-api-key"] == KEY.reveal()
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers
    assert "x-api-key" not in request.headers  # only among the secret headers
    data = body(request)
    assert data["system"] == "Be brief."
    assert [m["role"] for m in data["messages"]] == ["user", "assistant", "user"]
    assert data["max_tokens"] == 300 and data["stream"] is False
    assert data["stop_sequences"] == ["END"] and "stop" not in data
    assert "seed" not in data and data["temperature"] == Decimal("0.5")
    streamed = adapter.chat_request(
        KEY, model="m", messages=MSGS, max_tokens=1, stream=True, params={}
    )
    assert body(streamed)["stream"] is True and "system" not in body(streamed)


def test_r1_2_anthropic_system_prompt_lifting() -> None:
    system, turns = split_messages(
        [
            {"role": "system", "content": "One."},
            {"role": "developer", "content": [{"type": "text", "text": "Two."}]},
            {"role": "user", "content": "q"},
        ]
    )
    assert system == "One.\n\nTwo." and turns == [{"role": "user", "content": "q"}]
    cached = {"type": "text", "text": "Long.", "cache_control": {"type": "ephemeral"}}
    system, _ = split_messages([{"role": "system", "content": [cached]}, *MSGS])
    assert system == [cached]
    assert split_messages(MSGS)[0] is None
    # Tool results are translated now (tests/test_r1_2_tools_wire.py); one without the id of
    # its call, or a role Anthropic has no equivalent for, is still refused.
    with pytest.raises(InvalidRequest):
        split_messages([{"role": "tool", "content": "x"}])
    with pytest.raises(InvalidRequest):
        split_messages([{"role": "function", "content": "x", "name": "f"}])


def test_r1_2_anthropic_translates_image_parts() -> None:
    _, turns = split_messages(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}},
                ],
            }
        ]
    )
    parts = turns[0]["content"]
    assert parts[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
    }
    assert parts[2]["source"] == {"type": "url", "url": "https://example.org/a.png"}


def test_r1_2_anthropic_refuses_unknown_fields() -> None:
    with pytest.raises(InvalidRequest):  # response_format is translated now; n is not
        chat(AnthropicAdapter(), n=2)
    with pytest.raises(InvalidRequest):
        chat(AnthropicAdapter(), max_tokens=5)


ANTHROPIC_USAGE = {
    "input_tokens": 100,
    "output_tokens": 50,
    "cache_creation_input_tokens": 200,
    "cache_read_input_tokens": 300,
}


def test_r1_2_anthropic_parses_usage_as_the_sum_of_three_input_figures() -> None:
    payload = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Hel"},
            {"type": "text", "text": "lo"},
        ],
        "stop_reason": "end_turn",
        "usage": ANTHROPIC_USAGE,
    }
    result = AnthropicAdapter().parse_response(200, {}, json.dumps(payload).encode())
    assert result.text == "Hello" and result.reasoning == "hmm"
    assert result.usage == Usage(
        prompt_tokens=600, completion_tokens=50, cached_tokens=300, cache_write_tokens=200
    )
    assert result.generation_id == "msg_1" and result.finish_reason == "end_turn"
    assert result.cost is None


def test_r4_2_anthropic_cache_reads_and_writes_are_priced_at_their_rates() -> None:
    from byom.catalogs import bundled
    from byom.core.call import cost_of

    model = bundled("anthropic").lookup("claude-haiku-4-5")
    usage = Usage(
        prompt_tokens=600, completion_tokens=50, cached_tokens=300, cache_write_tokens=200
    )
    cost, source = cost_of(AnthropicAdapter(), model, usage, None)
    expected = (
        100 * Decimal("0.000001")
        + 200 * Decimal("0.00000125")
        + 300 * Decimal("0.0000001")
        + 50 * Decimal("0.000005")
    )
    assert (cost, source) == (expected, "computed")


def _anthropic_events(
    *, final: bool = True, stop: bool = True, start_output: int = 1
) -> list[tuple[str | None, Any]]:
    start_usage = {**ANTHROPIC_USAGE, "output_tokens": start_output}
    message = {
        "id": "msg_7",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [],
        "stop_reason": None,
        "usage": start_usage,
    }
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "mull"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "text_delta", "text": "Hel"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "text_delta", "text": "lo"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ]  # fmt: skip
    if final:
        events.append(
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                               "usage": {"output_tokens": 50}})
        )  # fmt: skip
    if stop:
        events.append(("message_stop", {"type": "message_stop"}))
    return events


@pytest.mark.parametrize("size", [1, 13, 65536])
def test_r1_2_anthropic_stream_output_tokens_are_cumulative_never_added(size: int) -> None:
    decoder = AnthropicAdapter().stream_decoder()
    deltas = feed_split(decoder, sse(*_anthropic_events(start_output=7)), size)
    result = decoder.close()
    assert "".join(d.text for d in deltas) == "Hello" and result.reasoning == "mull"
    assert decoder.complete and result.generation_id == "msg_7"
    # message_start said 7, message_delta says 50 in total: 50, not 57.
    assert result.usage == Usage(
        prompt_tokens=600, completion_tokens=50, cached_tokens=300, cache_write_tokens=200
    )
    assert result.finish_reason == "max_tokens"


def test_r1_2_anthropic_repeated_message_delta_replaces_the_count() -> None:
    events = _anthropic_events(stop=False)
    later = ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                               "usage": {"output_tokens": 64, "input_tokens": 100}})  # fmt: skip
    decoder = AnthropicAdapter().stream_decoder()
    decoder.feed(sse(*events, later, ("message_stop", {"type": "message_stop"})))
    result = decoder.close()
    assert result.usage is not None and result.usage.completion_tokens == 64
    assert result.usage.prompt_tokens == 600


def test_r1_2_anthropic_stream_cut_before_message_delta_has_no_usage() -> None:
    decoder = AnthropicAdapter().stream_decoder()
    decoder.feed(sse(*_anthropic_events(final=False, stop=False)))
    result = decoder.close()
    # message_start's provisional output count is not a final figure.
    assert result.usage is None and not decoder.complete
    assert decoder.partial.text == "Hello" and decoder.generation_id == "msg_7"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("overloaded_error", ProviderUnavailable),
        ("api_error", ProviderUnavailable),
        ("rate_limit_error", RateLimited),
        ("invalid_request_error", BadRequest),
        ("timeout_error", RequestTimeout),
    ],
)
def test_r1_2_anthropic_stream_error_event_is_mapped(kind: str, expected: type) -> None:
    decoder = AnthropicAdapter().stream_decoder()
    decoder.feed(sse(*_anthropic_events(final=False, stop=False)[:4]))
    event = {"type": "error", "error": {"type": kind, "message": "Overloaded"}}
    with pytest.raises(expected):
        decoder.feed(sse(("error", event)))
    assert decoder.partial.usage is None


def test_r1_2_anthropic_refusal_is_not_a_clean_finish() -> None:
    payload = {"id": "m", "content": [], "stop_reason": "refusal",
               "usage": {"input_tokens": 3, "output_tokens": 1}}  # fmt: skip
    result = AnthropicAdapter().parse_response(200, {}, json.dumps(payload).encode())
    assert result.finish_reason == "refusal"  # byom's one name for it (Reply.refused)


@pytest.mark.parametrize(
    ("status", "kind", "message", "expected"),
    [
        (401, "authentication_error", "invalid x-api-key", KeyRejected),
        (403, "permission_error", "no", ModerationFlagged),
        (404, "not_found_error", "model: claude-nope", ModelUnavailable),
        (413, "request_too_large", "too big", ContextTooLong),
        (400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum",
         ContextTooLong),
        (400, "invalid_request_error",
         "Your credit balance is too low to access the Anthropic API.", OutOfCredits),
        (402, "billing_error", "pay", OutOfCredits),
        (429, "rate_limit_error", "slow down", RateLimited),
        (500, "api_error", "oops", ProviderUnavailable),
        (529, "overloaded_error", "Overloaded", ProviderUnavailable),
    ],
)  # fmt: skip
def test_r1_2_anthropic_error_bodies(status: int, kind: str, message: str, expected: type) -> None:
    raw = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    error = AnthropicAdapter().error_for(status, {}, raw)
    assert isinstance(error, expected)
    assert message not in str(error)


def test_r1_2_anthropic_models_listing_prices_dated_ids_by_alias() -> None:
    price = Price(Decimal(1), Decimal(5))
    known = Catalog(
        (
            Model("claude-haiku-4-5", "Claude Haiku 4.5", "worker", price=price),
            Model("claude-opus-4-0", "Claude Opus 4", "frontier", price=price),
        )
    )
    listing = {
        "data": [
            {
                "type": "model",
                "id": "claude-haiku-4-5-20251001",
                "display_name": "Claude Haiku 4.5",
            },
            {"type": "model", "id": "claude-opus-4-20250514", "display_name": "Claude Opus 4"},
            {"type": "model", "id": "claude-next-5", "display_name": "Claude Next"},
        ],
        "has_more": False,
    }
    catalog = AnthropicAdapter(prices=known).parse_models(json.dumps(listing).encode())
    dated = catalog.get("claude-haiku-4-5-20251001")
    assert dated is not None and dated.price == price and dated.category == "worker"
    opus = catalog.get("claude-opus-4-20250514")
    assert opus is not None and opus.category == "frontier"
    unknown = catalog.get("claude-next-5")
    assert unknown is not None and unknown.price is None and unknown.category is None
    assert "claude-haiku-4-5" in catalog  # the snapshot's aliases stay choosable
    request = AnthropicAdapter().models_request(KEY)
    assert request.wire_headers()["anthropic-version"] == "2023-06-01"
    assert "x-api-key" in request.secret_headers


def test_r1_2_anthropic_browser_header_is_opt_in() -> None:
    assert "anthropic-dangerous-direct-browser-access" not in chat(AnthropicAdapter()).headers
    browser = chat(AnthropicAdapter(direct_browser_access=True))
    assert browser.headers["anthropic-dangerous-direct-browser-access"] == "true"


# -- Ollama -------------------------------------------------------------------------------------


def test_r1_2_ollama_never_sends_a_key_even_when_given_one() -> None:
    adapter = OllamaAdapter()
    assert adapter.needs_key is False and adapter.reports_cost is False
    for request in (chat(adapter), chat(adapter, stream=True), adapter.models_request(KEY)):
        assert request.secret_headers == {}
        wire = {k.lower() for k in request.wire_headers()}
        assert not wire & {"authorization", "x-api-key"}
        assert KEY.reveal().encode() not in (request.body or b"")
    assert adapter.key_info_request(KEY) is None


def test_r1_2_ollama_request_shape() -> None:
    adapter = OllamaAdapter("http://127.0.0.1:11434/")
    request = adapter.chat_request(
        None,
        model="llama3.2:3b",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "what"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
            ]},
        ],
        max_tokens=123,
        stream=False,
        params={"temperature": 0.1, "repetition_penalty": 1.1, "response_format":
                {"type": "json_object"}, "keep_alive": "5m"},
    )  # fmt: skip
    assert request.url == "http://127.0.0.1:11434/api/chat"
    data = body(request)
    assert data["stream"] is False  # the server's default is true: always say it
    assert data["options"] == {
        "num_predict": 123,
        "temperature": Decimal("0.1"),
        "repeat_penalty": Decimal("1.1"),
    }
    assert data["format"] == "json" and data["keep_alive"] == "5m"
    assert data["messages"][0] == {"role": "system", "content": "Be brief."}
    assert data["messages"][1] == {"role": "user", "content": "what", "images": ["QUJD"]}
    with pytest.raises(InvalidRequest):
        chat(adapter, n=2)


def _ollama_lines(done: bool = True, prompt_count: bool = True) -> bytes:
    lines: list[dict[str, Any]] = [
        {"model": "llama3.2:3b", "message": {"role": "assistant", "content": "Hel"}, "done": False},
        {"model": "llama3.2:3b", "message": {"role": "assistant", "content": "lo"}, "done": False},
    ]
    if done:
        final: dict[str, Any] = {
            "model": "llama3.2:3b",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "eval_count": 9,
            "total_duration": 123456789,
        }
        if prompt_count:
            final["prompt_eval_count"] = 21
        lines.append(final)
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


@pytest.mark.parametrize("size", [1, 10, 1 << 20])
def test_r1_2_ollama_ndjson_stream(size: int) -> None:
    decoder = OllamaAdapter().stream_decoder()
    deltas = feed_split(decoder, _ollama_lines(), size)
    result = decoder.close()
    assert "".join(d.text for d in deltas) == "Hello" == result.text
    assert decoder.complete and result.usage == Usage(prompt_tokens=21, completion_tokens=9)
    assert result.finish_reason == "stop" and decoder.generation_id is None


def test_r1_2_ollama_final_line_without_trailing_newline_and_cached_prompt() -> None:
    decoder = OllamaAdapter().stream_decoder()
    decoder.feed(_ollama_lines(prompt_count=False).rstrip(b"\n"))
    result = decoder.close()
    assert decoder.complete and result.usage == Usage(prompt_tokens=0, completion_tokens=9)


def test_r1_2_ollama_stream_cut_and_error_line() -> None:
    cut = OllamaAdapter().stream_decoder()
    cut.feed(_ollama_lines(done=False))
    assert cut.close().usage is None and not cut.complete
    failing = OllamaAdapter().stream_decoder()
    failing.feed(_ollama_lines(done=False))
    with pytest.raises(ProviderUnavailable):
        failing.feed(b'{"error": "upstream error"}\n')
    garbage = OllamaAdapter().stream_decoder()
    with pytest.raises(BadResponse):
        garbage.feed(b'{"model": "x", "message": {"rol\n')


def test_r1_2_ollama_non_stream_and_errors() -> None:
    payload = {
        "model": "llama3.2:3b",
        "message": {"role": "assistant", "content": "Hi", "thinking": "hm"},
        "done": True,
        "done_reason": "length",
        "prompt_eval_count": 5,
        "eval_count": 4,
    }
    result = OllamaAdapter().parse_response(200, {}, json.dumps(payload).encode())
    assert result.text == "Hi" and result.reasoning == "hm"
    assert result.usage == Usage(prompt_tokens=5, completion_tokens=4)
    assert result.finish_reason == "length"
    not_found = b'{"error": "model \\"x\\" not found, try pulling it first"}'
    assert isinstance(OllamaAdapter().error_for(404, {}, not_found), ModelUnavailable)
    assert isinstance(OllamaAdapter().error_for(500, {}, b"{}"), ProviderUnavailable)


def test_r1_2_ollama_models_are_free_and_uncategorised() -> None:
    tags = {"models": [{"name": "llama3.2:3b", "model": "llama3.2:3b", "details": {}},
                       {"name": "qwen2.5:7b", "model": "qwen2.5:7b"}]}  # fmt: skip
    catalog = OllamaAdapter().parse_models(json.dumps(tags).encode())
    assert [m.id for m in catalog] == ["llama3.2:3b", "qwen2.5:7b"]
    for model in catalog:
        assert model.category is None and model.provider == "ollama"
        assert model.price is not None and model.price.is_free
    request = OllamaAdapter().models_request(None)
    assert request.url == "http://localhost:11434/api/tags" and request.secret_headers == {}
