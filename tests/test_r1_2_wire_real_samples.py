"""R1.2 / R4.2 against the wire as providers actually send it (issue 12, part 3).

Each test feeds a real recorded response or stream to byom's adapter — or through the whole call
path, with a transport that answers with the recorded bytes — and checks what byom makes of it:
refusals surfaced, server-tool fees priced (or the cost unknown, never low), a paused turn not
read as finished, compaction passes summed, thinking tokens read, Groq's stream usage found, and
older vLLM's top-level error objects classified. ``tests/fixtures/wire/README.md`` names the
repository, path and commit of every sample.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from _hostile import Canned, factories
from byom.core.call import cost_of, unknown_cost_counted
from byom.core.catalog import FALLBACK_TOOL_FEE, Model, Price
from byom.core.errors import BadRequest, ContextTooLong, KeyRejected
from byom.core.usage import ChatResult, Usage
from byom.providers.anthropic import AnthropicAdapter
from byom.providers.compatible import CompatibleAdapter
from byom.providers.openai import OpenAIAdapter
from byom.providers.openrouter import OpenRouterAdapter
from conftest import SUMMARIZE, user

WIRE = Path(__file__).parent / "fixtures" / "wire"
OPENAI_STYLE = [OpenAIAdapter(), OpenRouterAdapter(), CompatibleAdapter("http://127.0.0.1:1/v1")]
REFUSAL = "I'm very sorry, but I can't assist with that."


def sample(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def chunks_as_sse(name: str) -> bytes:
    """A recording kept as one JSON object a line (the Vercel AI SDK's ``.chunks.txt``) as the
    SSE body it was: each object one ``data:`` event."""
    lines = [line for line in sample(name).decode().splitlines() if line.strip()]
    return "".join(f"data: {line}\n\n" for line in lines).encode()


def decode(adapter: Any, data: bytes, *, bytewise: bool = False) -> ChatResult:
    decoder = adapter.stream_decoder()
    if bytewise:
        for i in range(len(data)):
            decoder.feed(data[i : i + 1])
    else:
        decoder.feed(data)
    assert decoder.complete
    result: ChatResult = decoder.close()
    return result


def replay_app(tmp_path: Path, canned: Canned, provider: str) -> byom.App:
    app = byom.App("Wire", [SUMMARIZE], data_dir=tmp_path / "data", **factories(canned))
    base = "http://127.0.0.1:9/v1" if provider == "compatible" else None
    app.connect(provider, key="sk-test-wire-0123456789", base_url=base)  # type: ignore[arg-type]
    if provider == "compatible":
        app.add_model("local-model", "worker", prompt_price="0.000001", completion_price="0.000002")
        app.choose_model("summarize", "local-model")
    return app


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", OPENAI_STYLE, ids=lambda a: a.name)
def test_r1_2_openai_recorded_refusal_reply_is_a_refusal(adapter: Any) -> None:
    """openai/openai-python ``tests/lib/chat/test_completions.py``,
    ``test_parse_pydantic_model_refusal`` (recorded gpt-4o-2024-08-06 body): ``content: null``,
    the refusal in ``message.refusal``, ``finish_reason: "stop"`` — which read as an empty,
    clean answer before."""
    result = adapter.parse_response(200, {}, sample("openai_chat_refusal.json"))
    assert result.refusal == REFUSAL
    assert result.finish_reason == "refusal"
    assert result.text == ""
    assert result.usage == Usage(prompt_tokens=79, completion_tokens=12)
    assert REFUSAL not in repr(result)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("adapter", OPENAI_STYLE, ids=lambda a: a.name)
def test_r1_2_openai_recorded_refusal_stream_is_a_refusal(adapter: Any, bytewise: bool) -> None:
    """openai/openai-python ``.inline-snapshot/external/173417d5….bin`` (the recorded stream of
    ``test_parse_pydantic_model_refusal`` in ``tests/lib/chat/test_completions_streaming.py``):
    the refusal arrives as ``delta.refusal`` fragments, then ``finish_reason: "stop"``."""
    result = decode(adapter, sample("openai_stream_refusal.sse"), bytewise=bytewise)
    assert result.refusal == "I'm sorry, I can't assist with that request."
    assert result.finish_reason == "refusal"
    assert result.text == ""
    assert result.usage == Usage(prompt_tokens=79, completion_tokens=11)


def test_r1_2_a_refusal_is_a_reply_that_says_so_with_or_without_a_schema(tmp_path: Path) -> None:
    """The recorded refusal through the whole call path: ``Reply.refused``, ``Reply.refusal``
    and ``finish_reason == "refusal"``; not truncated; its cost is counted. The sample was
    recorded for a structured-output request, so asking for a schema must not turn the
    refusal into a ``bad_output`` error — it is a refusal, with no data."""
    canned = Canned(body=sample("openai_chat_refusal.json"))
    app = replay_app(tmp_path, canned, "openai")
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    for kwargs in ({}, {"schema": schema}):
        reply = app.chat("summarize", user("How do I make anthrax?"), max_tokens=100, **kwargs)
        assert reply.refused and reply.finish_reason == "refusal"
        assert reply.refusal == REFUSAL and reply.text == "" and reply.data is None
        assert not reply.truncated
        assert reply.cost is not None and reply.cost > 0 and reply.cost_source == "computed"
        assert REFUSAL not in repr(reply)
    assert [r.finish_reason for r in app.history()] == ["refusal", "refusal"]
    app.close()


def test_r1_2_an_anthropic_refusal_reads_the_same_way(tmp_path: Path) -> None:
    """Anthropic's ``stop_reason: "refusal"`` (a value of ``StopReason`` in
    anthropics/anthropic-sdk-python ``src/anthropic/types/stop_reason.py``) becomes the same
    normalised ``"refusal"``: a reply that says it refused, not an error and not a clean end."""
    body = {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [], "stop_reason": "refusal", "stop_sequence": None,
            "usage": {"input_tokens": 18, "output_tokens": 5}}  # fmt: skip
    app = replay_app(tmp_path, Canned(body=json.dumps(body).encode()), "anthropic")
    reply = app.chat("summarize", user("x"), max_tokens=100)
    assert reply.refused and reply.finish_reason == "refusal" and reply.refusal == ""
    assert not reply.truncated and reply.cost is not None and reply.cost > 0
    app.close()


# -- Anthropic server-tool fees -----------------------------------------------------------------


def test_r4_2_anthropic_recorded_web_searches_are_read() -> None:
    """vercel/ai ``packages/anthropic/src/__fixtures__/anthropic-web-search-tool.1.json`` (a
    recorded claude-sonnet-4 reply that ran two web searches): ``usage.server_tool_use``."""
    result = AnthropicAdapter().parse_response(200, {}, sample("anthropic_message_web_search.json"))
    assert result.usage == Usage(prompt_tokens=27118, completion_tokens=600, web_search_requests=2)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_r4_2_anthropic_recorded_web_search_stream_is_read(bytewise: bool) -> None:
    """vercel/ai ``…/anthropic-web-search-tool.1.chunks.txt``: the final ``message_delta``
    carries the cumulative usage, with ``server_tool_use.web_search_requests: 1``."""
    data = chunks_as_sse("anthropic_stream_web_search.chunks.txt")
    result = decode(AnthropicAdapter(), data, bytewise=bytewise)
    assert result.usage == Usage(prompt_tokens=15665, completion_tokens=795, web_search_requests=1)


def test_r4_2_web_searches_are_priced_from_the_dated_price_list(tmp_path: Path) -> None:
    """The recorded reply through the call path: the cost is tokens at the bundled price plus
    the bundled per-search fee for each of the two searches."""
    canned = Canned(body=sample("anthropic_message_web_search.json"))
    app = replay_app(tmp_path, canned, "anthropic")
    reply = app.chat("summarize", user("What happened today?"), max_tokens=1000)
    model = next(m for m in app.models() if m.id == reply.model)
    assert model.price is not None and model.price.web_search == Decimal("0.01")
    tokens = model.price.cost(prompt_tokens=27118, completion_tokens=600)
    assert reply.cost_source == "computed"
    assert reply.cost == tokens + 2 * Decimal("0.01")
    assert app.history()[0].cost == reply.cost
    app.close()


def test_r4_2_an_unknown_tool_fee_makes_the_cost_unknown_never_low() -> None:
    """A price list without a search fee, or a server tool byom has no fee for: the cost is
    ``unknown``, and what counts against the allowance is above any priced figure."""
    usage = Usage(prompt_tokens=27118, completion_tokens=600, web_search_requests=2)
    priced = Price(prompt=Decimal("0.000003"), completion=Decimal("0.000015"))
    with_fee = Price(priced.prompt, priced.completion, web_search=Decimal("0.01"))
    adapter = AnthropicAdapter()
    assert cost_of(adapter, Model("m", "m", "worker", price=priced), usage, None) == (
        None,
        "unknown",
    )
    known, source = cost_of(adapter, Model("m", "m", "worker", price=with_fee), usage, None)
    assert source == "computed" and known is not None
    counted = unknown_cost_counted(Model("m", "m", "worker", price=priced), usage)
    assert counted > known and counted >= 2 * FALLBACK_TOOL_FEE
    other = Usage(prompt_tokens=10, completion_tokens=5, unpriced_tool_requests=1)
    assert cost_of(adapter, Model("m", "m", "worker", price=with_fee), other, None)[1] == "unknown"
    # Anthropic's own count for a tool with a per-use fee byom does not know:
    body = {"content": [], "stop_reason": "end_turn", "usage": {
        "input_tokens": 10, "output_tokens": 5,
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 3,
                            "code_execution_requests": 1}}}  # fmt: skip
    parsed = adapter.parse_response(200, {}, json.dumps(body).encode()).usage
    assert parsed is not None and parsed.unpriced_tool_requests == 1


def test_r4_2_an_unknown_search_fee_counts_conservatively_in_the_ledger(tmp_path: Path) -> None:
    """Through the call path with a price list that has no search fee: the reply's cost is
    unknown and the allowance counts more than tokens at the known rate plus the real fee."""
    canned = Canned(body=sample("anthropic_message_web_search.json"))
    app = replay_app(tmp_path, canned, "anthropic")
    app.add_model("claude-no-fee", "worker", prompt_price="0.000003", completion_price="0.000015")
    app.choose_model("summarize", "claude-no-fee")
    reply = app.chat("summarize", user("What happened today?"), max_tokens=1000)
    assert reply.cost is None and reply.cost_source == "unknown"
    low = Decimal("0.000003") * 27118 + Decimal("0.000015") * 600 + 2 * Decimal("0.01")
    assert app.spent() > low
    app.close()


# -- Anthropic pause_turn -----------------------------------------------------------------------

PAUSED = {
    # The shape of the redacted pause_turn reply posted in anthropics/anthropic-sdk-python issue
    # #961 (id, a text block, a server_tool_use block without its result); usage figures ours.
    "id": "msg_01KvPRiKCJdXBHNqwcW12Ssv",
    "type": "message",
    "role": "assistant",
    "model": "claude-haiku-4-5",
    "content": [
        {"citations": None, "text": "I need to find a 90s TV series.", "type": "text"},
        {"id": "srvtoolu_019BCGXNr8fRT5ZYdJPV94iR", "input": {"query": "90s TV series"},
         "name": "web_search", "type": "server_tool_use"},
    ],
    "stop_reason": "pause_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 2037, "output_tokens": 80,
              "server_tool_use": {"web_search_requests": 1}},
}  # fmt: skip


def test_r1_2_anthropic_pause_turn_is_not_a_finished_answer(tmp_path: Path) -> None:
    """``stop_reason: "pause_turn"``: the API paused a long server-tool turn. The reply reads as
    cut short (``Reply.truncated``; history outcome ``truncated``), not as a complete answer,
    and a server tool's block is not one of the app's tool calls."""
    result = AnthropicAdapter().parse_response(200, {}, json.dumps(PAUSED).encode())
    assert result.finish_reason == "pause_turn" and result.tool_calls == ()
    app = replay_app(tmp_path, Canned(body=json.dumps(PAUSED).encode()), "anthropic")
    reply = app.chat("summarize", user("Which series?"), max_tokens=500)
    assert reply.truncated and not reply.refused and reply.finish_reason == "pause_turn"
    assert reply.tool_calls == ()
    assert app.history()[0].outcome == "truncated"
    app.close()


def test_r1_2_anthropic_stream_pause_turn_is_not_finished() -> None:
    decoder = AnthropicAdapter().stream_decoder()
    events = [
        {"type": "message_start", "message": {"id": "msg_01", "model": "claude-haiku-4-5",
                                              "usage": {"input_tokens": 17, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "text_delta", "text": "Searching"}},
        {"type": "message_delta", "delta": {"stop_reason": "pause_turn", "stop_sequence": None},
         "usage": {"output_tokens": 227}},
        {"type": "message_stop"},
    ]  # fmt: skip
    decoder.feed("".join(f"data: {json.dumps(e)}\n\n" for e in events).encode())
    result = decoder.close()
    assert result.finish_reason == "pause_turn"
    assert byom.Reply(
        text="", cost=None, cost_source="unknown", usage=Usage(), generation_id=None,
        finish_reason=result.finish_reason, model="m", provider="anthropic", feature="f",
        call_id="c",
    ).truncated  # fmt: skip


# -- Anthropic compaction iterations and thinking tokens ----------------------------------------


def _iteration_sums(usage: dict[str, Any]) -> tuple[int, int]:
    passes = usage["iterations"]
    return sum(p["input_tokens"] for p in passes), sum(p["output_tokens"] for p in passes)


def test_r4_2_anthropic_recorded_compaction_iterations_are_summed() -> None:
    """vercel/ai ``…/anthropic-compaction.1.json`` (a recorded claude-opus-4-6 reply with context
    compaction): the top-level figures (682 in, 1320 out) are the last pass only; the billed
    usage is the sum of ``usage.iterations`` (60385 + 682 in, 592 + 1320 out)."""
    raw = sample("anthropic_message_compaction_iterations.json")
    result = AnthropicAdapter().parse_response(200, {}, raw)
    assert _iteration_sums(json.loads(raw)["usage"]) == (61067, 1912)
    assert result.usage == Usage(prompt_tokens=61067, completion_tokens=1912)


def test_r4_2_anthropic_recorded_compaction_stream_is_summed() -> None:
    """vercel/ai ``…/anthropic-compaction.1.chunks.txt``: ``iterations`` arrive in the final
    ``message_delta``; they are summed like in a whole reply."""
    data = chunks_as_sse("anthropic_stream_compaction_iterations.chunks.txt")
    last = [
        json.loads(line)
        for line in sample("anthropic_stream_compaction_iterations.chunks.txt")
        .decode()
        .splitlines()
        if line.strip()
    ]
    delta = next(e for e in reversed(last) if e["type"] == "message_delta")
    expected = _iteration_sums(delta["usage"])
    assert expected[0] > delta["usage"]["input_tokens"]  # the sample does compact
    result = decode(AnthropicAdapter(), data)
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == expected


def test_r4_2_anthropic_recorded_thinking_tokens_are_reasoning_tokens() -> None:
    """vercel/ai ``…/anthropic-claude-opus-5-reasoning-high.1.json``:
    ``usage.output_tokens_details.thinking_tokens`` (139 of 1699 output tokens)."""
    raw = sample("anthropic_message_thinking_tokens.json")
    result = AnthropicAdapter().parse_response(200, {}, raw)
    assert result.usage == Usage(prompt_tokens=51, completion_tokens=1699, reasoning_tokens=139)


def test_r4_2_an_unreadable_iteration_makes_usage_unreadable() -> None:
    body = json.loads(sample("anthropic_message_compaction_iterations.json"))
    body["usage"]["iterations"][0]["output_tokens"] = "592"
    result = AnthropicAdapter().parse_response(200, {}, json.dumps(body).encode())
    assert result.usage is None  # unreadable is missing, never a low figure


# -- Groq stream usage --------------------------------------------------------------------------


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_r4_2_groq_stream_usage_in_x_groq_is_read(bytewise: bool) -> None:
    """vercel/ai ``packages/groq/src/groq-chat-language-model.test.ts`` ("should stream tool
    call deltas when tool call arguments are passed in the first chunk"): a Groq stream whose
    only usage is ``x_groq.usage`` in the last chunk (18 prompt, 439 completion tokens)."""
    adapter = CompatibleAdapter("https://api.groq.com/openai/v1")
    result = decode(adapter, sample("groq_stream_x_groq_usage.sse"), bytewise=bytewise)
    assert result.usage == Usage(prompt_tokens=18, completion_tokens=439)
    assert result.finish_reason == "tool_calls" and len(result.tool_calls) == 1


def test_r4_2_groq_recorded_stream_with_both_usages_reads_one() -> None:
    """vercel/ai ``packages/groq/src/__fixtures__/groq-tool-call.chunks.txt`` (recorded
    llama-3.3-70b-versatile stream): today's Groq sends the same figures in ``x_groq.usage`` and
    a top-level ``usage``; byom reads them once."""
    adapter = CompatibleAdapter("https://api.groq.com/openai/v1")
    data = chunks_as_sse("groq_stream_tool_call.chunks.txt") + b"data: [DONE]\n\n"
    result = decode(adapter, data)
    assert result.usage == Usage(prompt_tokens=210, completion_tokens=15)


# -- vLLM top-level error objects ---------------------------------------------------------------


@pytest.mark.parametrize("adapter", OPENAI_STYLE, ids=lambda a: a.name)
def test_r1_2_vllm_top_level_context_error_is_context_too_long(adapter: Any) -> None:
    """vllm-project/vllm issue #12886 (the error body vLLM's OpenAI server sent): no ``error``
    member, ``"object": "error"`` with the message and ``code: 400`` at the top level."""
    body = sample("vllm_error_context_length.json")
    error = adapter.error_for(400, {}, body)
    assert isinstance(error, ContextTooLong)
    # The same object inside a 200 (in-band) is the same error — and never a key rejection.
    with pytest.raises(ContextTooLong):
        adapter.parse_response(200, {}, body)
    decoder = adapter.stream_decoder()
    with pytest.raises(ContextTooLong):
        decoder.feed(b"data: " + body.strip() + b"\n\n")
    other = json.loads(body)
    other["message"] = "Invalid sampling parameters."
    assert isinstance(adapter.error_for(400, {}, json.dumps(other).encode()), BadRequest)
    other["code"] = 401
    with pytest.raises(Exception) as caught:
        adapter.parse_response(200, {}, json.dumps(other).encode())
    assert not isinstance(caught.value, KeyRejected)


@pytest.mark.parametrize(("lang", "words"), [("en", "declined"), ("nl", "weigerde")])
def test_r1_2_the_terminal_says_a_recorded_refusal_is_one(
    tmp_path: Path, lang: str, words: str
) -> None:
    """The recorded OpenAI refusal stream through the terminal shell: the person is told the
    model declined (in their language) — not shown an empty, finished answer."""
    import io

    from rich.console import Console

    from byom.terminal.live import Terminal

    app = replay_app(tmp_path, Canned(chunks=(sample("openai_stream_refusal.sse"),)), "openai")
    buffer, out = io.StringIO(), io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, highlight=False, emoji=False)
    with Terminal(app, lang=lang, console=console, out=out) as term:
        reply = term.run("summarize", user("How do I make anthrax?"), max_tokens=100)
    assert reply is not None and reply.refused
    assert words in " ".join(buffer.getvalue().split())
    assert out.getvalue().strip() == ""  # no answer text was printed
    app.close()
