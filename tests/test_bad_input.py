"""Bad input never crashes byom and never leaks: typed errors or correct values (hypothesis)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byom.core.errors import BadResponse, ByomError, InvalidRequest
from byom.core.estimate import validate_messages
from byom.providers._wire import SSEDecoder, dumps
from byom.providers.openrouter import OpenRouterAdapter

ADAPTER = OpenRouterAdapter("http://127.0.0.1:1/api/v1")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_as_a_response(body: bytes) -> None:
    try:
        ADAPTER.parse_response(200, {}, body)
    except ByomError:
        pass


@settings(max_examples=300)
@given(json_values)
def test_arbitrary_json_as_a_response(value: object) -> None:
    try:
        result = ADAPTER.parse_response(200, {}, json.dumps(value).encode())
    except ByomError:
        return
    assert isinstance(result.text, str)
    assert result.cost is None or (isinstance(result.cost, Decimal) and result.cost >= 0)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_arbitrary_stream_bytes(chunks: list[bytes]) -> None:
    decoder = ADAPTER.stream_decoder()
    try:
        for chunk in chunks:
            decoder.feed(chunk)
        decoder.close()
    except ByomError:
        pass


@settings(max_examples=200)
@given(st.lists(json_values, max_size=6))
def test_arbitrary_stream_events(events: list[object]) -> None:
    decoder = ADAPTER.stream_decoder()
    payload = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    try:
        decoder.feed(payload + b"data: [DONE]\n\n")
        result = decoder.close()
    except ByomError:
        return
    assert result.usage is None or result.usage.prompt_tokens >= 0


@settings(max_examples=200)
@given(st.integers(min_value=100, max_value=599), st.binary(max_size=300))
def test_any_error_status_maps_to_a_typed_error(status: int, body: bytes) -> None:
    error = ADAPTER.error_for(status, {"Retry-After": "abc"}, body)
    assert isinstance(error, ByomError) and error.code


def test_invalid_utf8_and_huge_bodies_are_typed_errors() -> None:
    with pytest.raises(BadResponse):
        ADAPTER.parse_response(200, {}, b'{"choices": [{"message": {"content": "\xff\xfe"}}]}')
    with pytest.raises(BadResponse):
        ADAPTER.parse_response(200, {}, b" " * (17 * 1024 * 1024))
    decoder = SSEDecoder()
    with pytest.raises(BadResponse):
        list(decoder.feed(b"data: \xff\xfe\n\n"))
    with pytest.raises(BadResponse):
        list(SSEDecoder().feed(b"x" * (17 * 1024 * 1024)))


def test_sse_framing_skips_comments_and_handles_crlf_and_split_chunks() -> None:
    decoder = SSEDecoder()
    stream = (
        b': OPENROUTER PROCESSING\r\n\r\ndata: {"a":1}\r\n\r\n: keep-alive\n\nevent: x\ndata: 2\n\n'
    )
    events = []
    for i in range(len(stream)):  # byte by byte
        events.extend(decoder.feed(stream[i : i + 1]))
    assert events == [("message", '{"a":1}'), ("x", "2")]


def test_midstream_error_object_is_mapped_not_success() -> None:
    decoder = ADAPTER.stream_decoder()
    decoder.feed(b'data: {"id":"gen-1","choices":[{"delta":{"content":"hi"}}]}\n\n')
    with pytest.raises(ByomError) as info:
        decoder.feed(
            b'data: {"error":{"code":429,"message":"slow down"},'
            b'"choices":[{"finish_reason":"error"}]}\n\n'
        )
    assert info.value.code == "rate_limited"
    assert "slow down" not in str(info.value)  # provider text is never shown raw


@pytest.mark.parametrize(
    "messages",
    [
        None,
        "hello",
        [],
        [{}],
        [{"role": "wizard", "content": "x"}],
        [{"role": "user", "content": 5}],
        [1, 2],
    ],
)
def test_malformed_messages_are_refused_without_echo(messages: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        validate_messages(messages)
    assert "hello" not in str(info.value)


def test_unknown_model_is_a_typed_error_and_priced_conservatively(make_app, sim) -> None:
    from byom.core.errors import ModelUnavailable

    app = make_app()
    app.add_model("nobody/unknown-model", "worker")  # user-declared, price unknown
    app.choose_model("summarize", "nobody/unknown-model")
    with pytest.raises(ModelUnavailable):
        app.chat("summarize", [{"role": "user", "content": "x"}], max_tokens=10)
    assert app.spent() == 0


def test_request_json_keeps_decimals_exact_and_content_intact() -> None:
    marker_like = "__byom_dec_0000000000000000_0"
    body = json.loads(dumps({"a": Decimal("0.0000375"), "s": marker_like}), parse_float=Decimal)
    assert body == {"a": Decimal("0.0000375"), "s": marker_like}


def _memory_call(max_tokens: int = 100):  # type: ignore[no-untyped-def]
    """A call admitted by the pure core over a MemoryStore — no SQLite, no network."""
    from byom.core.call import CallPath, Connection
    from byom.core.catalog import Catalog
    from byom.core.features import Feature
    from byom.core.ledger import Ledger
    from byom.core.secret import Secret
    from byom.core.store import MemoryStore

    ledger = Ledger(MemoryStore(), "app", clock=lambda: 1_800_000_000.0)
    path = CallPath(ledger, clock=lambda: 1_800_000_000.0)
    model = Catalog().lookup("x/unknown")  # unknown price: the fallback guards
    call = path.begin(
        Connection(ADAPTER, Secret("k" * 20)),
        Feature("f"),
        model,
        [{"role": "user", "content": "hi"}],
        max_tokens=max_tokens,
        stream=False,
    )
    return path, call


def test_pitfall_3_missing_usage_counts_the_estimate_not_zero() -> None:
    path, call = _memory_call()
    body = json.dumps(
        {"id": "gen-x", "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}
    ).encode()
    reply = call.complete(200, {}, body)
    assert reply.text == "ok" and reply.cost is None and reply.cost_source == "unreconciled"
    assert path.ledger.spent() == call.estimate.amount > 0
    assert [r.generation_id for r in path.ledger.unreconciled()] == ["gen-x"]


def test_r4_2_usage_without_cost_from_an_unknown_price_is_unknown_not_zero() -> None:
    path, call = _memory_call()
    body = json.dumps(
        {
            "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7},
        }
    ).encode()
    # Usage came back without a cost, for a model whose price nobody knows:
    reply = call.complete(200, {}, body)
    assert reply.cost_source == "unknown" and reply.cost is None
    # counted at the over-estimating fallback rate, never as zero
    assert path.ledger.spent() == 5 * Decimal("0.00015") + 7 * Decimal("0.0006")


def test_a_call_settles_exactly_once() -> None:
    path, call = _memory_call()
    body = json.dumps(
        {
            "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "cost": 0.001},
        }
    )
    call.complete(200, {}, body.encode())
    spent = path.ledger.spent()
    call.abort()  # a late cancel must not re-open or double-count
    assert path.ledger.spent() == spent == Decimal("0.001")
