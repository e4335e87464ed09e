"""R1.2 (issue 12, part 1): the Gemini adapter against real recorded responses and streams.

``tests/fixtures/wire/README.md`` names the repository, path and commit of every sample. Streams
are fed whole and one byte at a time, so parsing cannot depend on where the body was cut.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from byom.catalogs import bundled
from byom.core.errors import (
    BadRequest,
    BadResponse,
    ContextTooLong,
    KeyRejected,
    ModerationFlagged,
    RateLimited,
)
from byom.core.secret import Secret
from byom.core.usage import ChatResult, Usage
from byom.providers.gemini import GeminiAdapter, usage_from_gemini

WIRE = Path(__file__).parent / "fixtures" / "wire"


def sample(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def chunks_as_sse(name: str) -> bytes:
    """A Vercel AI SDK ``.chunks.txt`` recording (one JSON object a line) as the SSE body of
    ``streamGenerateContent?alt=sse`` it was: each object one ``data:`` event."""
    lines = [line for line in sample(name).decode().splitlines() if line.strip()]
    return "".join(f"data: {line}\r\n\r\n" for line in lines).encode()


def decode(data: bytes, *, bytewise: bool, adapter: GeminiAdapter | None = None) -> ChatResult:
    decoder = (adapter or GeminiAdapter()).stream_decoder()
    if bytewise:
        for i in range(len(data)):
            decoder.feed(data[i : i + 1])
    else:
        decoder.feed(data)
    assert decoder.complete
    result: ChatResult = decoder.close()
    return result


def test_r1_2_gemini_recorded_text_reply() -> None:
    """vercel/ai ``packages/google/src/__fixtures__/google-text.json`` (gemini-3-pro-preview):
    the text, ``finishReason: "STOP"``, and usage with 244 thought tokens billed as output."""
    result = GeminiAdapter().parse_response(200, {}, sample("gemini_generate_text.json"))
    assert result.text.startswith("There are **3** r's in strawberry.")
    assert result.finish_reason == "stop"
    assert result.usage == Usage(prompt_tokens=9, completion_tokens=28 + 244, reasoning_tokens=244)
    assert result.generation_id == "Un6LacrVMcjUxs0PmJfWoQc"
    assert result.model == "gemini-3-pro-preview"
    assert result.tool_calls == ()


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_r1_2_gemini_recorded_text_stream(bytewise: bool) -> None:
    """vercel/ai ``…/google-text.chunks.txt``: three chunks, each with the usage so far; the
    last carries ``finishReason``. The text concatenates; the last usage counts."""
    result = decode(chunks_as_sse("gemini_stream_text.chunks.txt"), bytewise=bytewise)
    lines = [json.loads(x) for x in sample("gemini_stream_text.chunks.txt").splitlines() if x]
    pieces = [p.get("text", "") for x in lines for p in x["candidates"][0]["content"]["parts"]]
    assert result.text == "".join(pieces)
    assert result.finish_reason == "stop"
    assert result.usage == usage_from_gemini(lines[-1]["usageMetadata"])
    assert result.usage is not None and result.usage.reasoning_tokens > 0


def test_r1_2_gemini_stream_cut_before_its_finish_has_no_usage() -> None:
    """Every chunk carries the usage so far: a stream cut before the chunk with the finish
    reason must not report the earlier (too low) figures — its estimate keeps counting."""
    data = chunks_as_sse("gemini_stream_text.chunks.txt")
    decoder = GeminiAdapter().stream_decoder()
    decoder.feed(data[: data.rindex(b"data: ")])
    assert not decoder.complete
    assert decoder.close().usage is None


def test_r1_2_gemini_recorded_tool_call_reply() -> None:
    """vercel/ai ``…/google-tool-call.json``: a ``functionCall`` part (no id) with a
    ``thoughtSignature``, ``finishReason: "STOP"`` → one call, finish ``tool_calls``; the
    signature goes back with the call on the next request."""
    adapter = GeminiAdapter()
    result = adapter.parse_response(200, {}, sample("gemini_generate_tool_call.json"))
    [call] = result.tool_calls
    assert call.name == "weather" and call.arguments == {"location": "San Francisco"}
    assert call.id is not None and call.id.startswith("gemini_")
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(prompt_tokens=29, completion_tokens=15 + 893, reasoning_tokens=893)
    signature = json.loads(sample("gemini_generate_tool_call.json"))["candidates"][0]["content"][
        "parts"
    ][0]["thoughtSignature"]
    messages = [
        {"role": "user", "content": "Weather in San Francisco?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function",
             "function": {"name": "weather", "arguments": '{"location": "San Francisco"}'}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees, fog"},
    ]  # fmt: skip
    request = adapter.chat_request(
        Secret("AIza-test"), model="gemini-3-pro-preview", messages=messages, max_tokens=100,
        stream=False, params={},
    )  # fmt: skip
    body = json.loads(request.body or b"")
    model_turn = body["contents"][1]
    assert model_turn["role"] == "model"
    assert model_turn["parts"][0]["functionCall"] == {
        "name": "weather",
        "args": {"location": "San Francisco"},
    }
    assert model_turn["parts"][0]["thoughtSignature"] == signature
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "weather", "response": {"result": "18 degrees, fog"}}}
        ],
    }
    assert signature not in repr(adapter)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_r1_2_gemini_recorded_tool_call_stream(bytewise: bool) -> None:
    """vercel/ai ``…/google-tool-call.chunks.txt``: the whole call in one chunk, then a chunk
    with ``finishReason: "STOP"`` and the usage."""
    result = decode(chunks_as_sse("gemini_stream_tool_call.chunks.txt"), bytewise=bytewise)
    [call] = result.tool_calls
    assert call.name == "weather" and call.arguments == {"location": "San Francisco"}
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(prompt_tokens=29, completion_tokens=15 + 45, reasoning_tokens=45)


def test_r1_2_gemini_recorded_thinking_usage() -> None:
    """vercel/ai ``…/google-reasoning.json``: thoughts not returned, but counted and billed."""
    result = GeminiAdapter().parse_response(200, {}, sample("gemini_generate_thoughts.json"))
    assert result.usage == Usage(prompt_tokens=9, completion_tokens=29 + 282, reasoning_tokens=282)


def test_r1_2_gemini_bad_key_is_decided_by_status_and_reason() -> None:
    """A wrong key: HTTP 400 with ``ErrorInfo.reason: "API_KEY_INVALID"`` (the body Gemini sent,
    quoted in google/timesketch pull request #3703) → key rejected. Another 400
    (google-gemini/gemini-cli issue #4701: ``INVALID_ARGUMENT``, reason ``badRequest``) is a
    bad request, and the same reason inside a 200 never clears the key."""
    adapter = GeminiAdapter()
    bad_key = sample("gemini_error_api_key_invalid.json")
    assert isinstance(adapter.error_for(400, {}, bad_key), KeyRejected)
    assert isinstance(adapter.error_for(400, {}, sample("gemini_error_invalid_argument.json")),
                      BadRequest)  # fmt: skip
    # The words alone decide nothing: the same message without the structured reason …
    words_only = json.loads(bad_key)
    words_only["error"]["details"] = []
    assert not isinstance(adapter.error_for(400, {}, json.dumps(words_only).encode()), KeyRejected)
    # … and the reason in a 200 (in band) is no key rejection either.
    with pytest.raises(BadResponse):
        adapter.parse_response(200, {}, bad_key)
    decoder = adapter.stream_decoder()
    with pytest.raises(BadResponse):
        decoder.feed(b"data: " + bad_key.strip() + b"\n\n")
    # A 403 (no access to the API or model) keeps the key, and is not called moderation.
    error = adapter.error_for(403, {}, b'{"error": {"code": 403, "status": "PERMISSION_DENIED"}}')
    assert isinstance(error, BadRequest) and not isinstance(error, ModerationFlagged)


def test_r1_2_gemini_input_over_the_window_is_context_too_long() -> None:
    """Gemini's 400 for a prompt over the model's window (its message, as public projects'
    tests quote it): ``context_too_long``, like the other providers' — not a plain 400."""
    body = {
        "error": {
            "code": 400,
            "status": "INVALID_ARGUMENT",
            "message": "The input token count exceeds the maximum number of tokens allowed "
            "1048576.",
        }
    }
    error = GeminiAdapter().error_for(400, {}, json.dumps(body).encode())  # fmt: skip
    assert isinstance(error, ContextTooLong)


def test_r1_2_gemini_recorded_429_waits_its_retry_delay() -> None:
    """vercel/ai ``…/google-429-retry-info.json``: ``RESOURCE_EXHAUSTED`` with a
    ``google.rpc.RetryInfo`` ``retryDelay: "34.4s"`` and no ``Retry-After`` header."""
    error = GeminiAdapter().error_for(429, {}, sample("gemini_error_429_retry_info.json"))
    assert isinstance(error, RateLimited) and error.retry_after == pytest.approx(34.4)
    with_header = GeminiAdapter().error_for(
        429, {"Retry-After": "7"}, sample("gemini_error_429_retry_info.json")
    )
    assert isinstance(with_header, RateLimited) and with_header.retry_after == 7.0


# -- finish reasons and safety blocks (values from the API reference's FinishReason enum) -----


def _reply(finish: str, parts: list[dict[str, Any]] | None = None) -> bytes:
    candidate: dict[str, Any] = {"finishReason": finish, "index": 0}
    if parts is not None:
        candidate["content"] = {"parts": parts, "role": "model"}
    return json.dumps({"candidates": [candidate], "usageMetadata": {
        "promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 15},
        "responseId": "r1", "modelVersion": "gemini-2.5-flash"}).encode()  # fmt: skip


@pytest.mark.parametrize(
    ("finish", "expected"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "refusal"),
        ("RECITATION", "refusal"),
        ("PROHIBITED_CONTENT", "refusal"),
        ("BLOCKLIST", "refusal"),
        ("SPII", "refusal"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "error"),
        ("SOMETHING_NEW", "error"),
    ],
)
def test_r1_2_gemini_finish_reasons_are_plain(finish: str, expected: str) -> None:
    result = GeminiAdapter().parse_response(200, {}, _reply(finish, [{"text": "x"}]))
    assert result.finish_reason == expected
    assert result.usage == Usage(prompt_tokens=12, completion_tokens=3)


def test_r1_2_gemini_blocked_prompt_is_a_plain_moderation_error() -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}}  # fmt: skip
    with pytest.raises(ModerationFlagged):
        GeminiAdapter().parse_response(200, {}, json.dumps(body).encode())
    with pytest.raises(ModerationFlagged):
        GeminiAdapter().stream_decoder().feed(b"data: " + json.dumps(body).encode() + b"\n\n")


def test_r1_2_gemini_usage_counts_cache_tool_prompt_and_searches() -> None:
    metadata = {"promptTokenCount": 1000, "cachedContentTokenCount": 600,
                "toolUsePromptTokenCount": 50, "candidatesTokenCount": 20,
                "thoughtsTokenCount": 30}  # fmt: skip
    assert usage_from_gemini(metadata, 2) == Usage(
        prompt_tokens=1050, completion_tokens=50, cached_tokens=600, reasoning_tokens=30,
        web_search_requests=2,
    )  # fmt: skip
    assert usage_from_gemini({"promptTokenCount": "12"}) is None
    assert usage_from_gemini({"candidatesTokenCount": 3}) is None


# -- requests ------------------------------------------------------------------------------------


def test_r1_2_gemini_request_shape_and_key_header() -> None:
    adapter = GeminiAdapter()
    image = "data:image/png;base64,iVBORw0KGgo="
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": image}}]},
    ]  # fmt: skip
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    tool = {"type": "function", "function": {"name": "look", "description": "Look closer.",
                                             "parameters": {"type": "object"}}}  # fmt: skip
    params = {
        "temperature": 0.2,
        "stop": "END",
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
        "tools": [tool],
        "tool_choice": {"type": "function", "function": {"name": "look"}},
    }
    for stream in (False, True):
        request = adapter.chat_request(
            Secret("AIza-secret-key"), model="gemini-2.5-flash", messages=messages,
            max_tokens=300, stream=stream, params=params,
        )  # fmt: skip
        suffix = ":streamGenerateContent?alt=sse" if stream else ":generateContent"
        assert request.url == (
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash" + suffix
        )
        assert "key=" not in request.url and "AIza" not in request.url
        assert request.wire_headers()["x-goog-api-key"] == "AIza-secret-key"
        assert "AIza" not in repr(request) and "AIza" not in str(dict(request.headers))
        body = json.loads(request.body or b"")
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert body["contents"] == [{"role": "user", "parts": [
            {"text": "What is this?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]}]  # fmt: skip
        assert body["generationConfig"] == {
            "temperature": 0.2, "stopSequences": ["END"], "maxOutputTokens": 300,
            "responseMimeType": "application/json", "responseJsonSchema": schema,
        }  # fmt: skip
        assert body["tools"] == [{"functionDeclarations": [
            {"name": "look", "description": "Look closer.",
             "parametersJsonSchema": {"type": "object"}}]}]  # fmt: skip
        assert body["toolConfig"] == {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["look"]}
        }


def test_r1_2_gemini_native_tools_and_grounding_fees() -> None:
    """A native tool (``{"type": "googleSearch"}``, byom's shape for a provider's own tool) is
    Gemini's ``{"googleSearch": {}}``; the searches a grounded reply ran are priced per search."""
    request = GeminiAdapter().chat_request(
        Secret("AIza-k"), model="gemini-2.5-flash", messages=[{"role": "user", "content": "news"}],
        max_tokens=50, stream=False, params={"tools": [{"type": "googleSearch"}]},
    )  # fmt: skip
    assert json.loads(request.body or b"")["tools"] == [{"googleSearch": {}}]
    reply = json.loads(_reply("STOP", [{"text": "x"}]))
    reply["candidates"][0]["groundingMetadata"] = {"webSearchQueries": ["a", "b"]}
    result = GeminiAdapter().parse_response(200, {}, json.dumps(reply).encode())
    assert result.usage is not None and result.usage.web_search_requests == 2


def test_r1_2_gemini_models_and_bundled_prices() -> None:
    """The model list keeps what can ``generateContent``; known ids take the dated snapshot's
    price (generated from genai-prices), others stay unpriced (never free)."""
    prices = bundled("gemini")
    assert prices.as_of and prices.get("gemini-2.5-flash") is not None
    listing = {"models": [
        {"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash",
         "inputTokenLimit": 1048576, "supportedGenerationMethods": ["generateContent"]},
        {"name": "models/gemini-9-unknown", "inputTokenLimit": 32768,
         "supportedGenerationMethods": ["generateContent", "countTokens"]},
        {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
    ]}  # fmt: skip
    catalog = GeminiAdapter(prices=prices).parse_models(json.dumps(listing).encode())
    flash = catalog.get("gemini-2.5-flash")
    assert flash is not None and flash.price is not None and flash.price.prompt > 0
    assert flash.category == "worker" and flash.provider == "gemini"
    unknown = catalog.get("gemini-9-unknown")
    assert unknown is not None and unknown.price is None and unknown.context_length == 32768
    assert catalog.get("text-embedding-004") is None
    pro = prices.get("gemini-2.5-pro")
    assert pro is not None and pro.context_length == 200_000  # the price tier's limit
    assert pro.price is not None and pro.price.web_search == Decimal("0.035")
