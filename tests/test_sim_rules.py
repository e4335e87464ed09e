"""The simulator's deterministic rules, checked against independent re-statements."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from decimal import Decimal

import pytest

from byom.sim import SimConfig, SimError, Simulator
from byom.sim import _rules as rules
from byom.sim._state import normalize_fault


def reference_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 3)


@pytest.mark.parametrize(
    "text", ["", "a", "ab", "abc", "abcd", "héllo", "日本語", "🙂🙂", "x" * 301]
)
def test_tokens_is_ceil_of_utf8_bytes_over_three(text: str) -> None:
    assert rules.tokens(text) == reference_tokens(text)


def test_prompt_tokens_sum_plus_overheads() -> None:
    texts = ["You are terse.", "héllo", ""]
    expected = sum(reference_tokens(t) + 3 for t in texts) + 3
    assert rules.prompt_tokens(texts) == expected == (5 + 3) + (2 + 3) + (0 + 3) + 3


@pytest.mark.parametrize("text", ["", "a", "日本語テキスト", "🙂" * 50, "plain ascii text " * 9])
def test_prompt_tokens_never_exceed_utf8_bound(text: str) -> None:
    assert rules.prompt_tokens([text]) <= len(text.encode("utf-8")) + 4 + 3


def test_content_parts_are_concatenated_text_parts_only() -> None:
    parts = [
        {"type": "text", "text": "ab"},
        {"type": "image_url", "image_url": {"url": "data:"}},
        {"type": "text", "text": "cd"},
    ]
    assert rules.content_text(parts) == "abcd"
    assert rules.content_text(None) == ""
    assert rules.content_text("xyz") == "xyz"


def test_reply_follows_the_documented_hash_rule() -> None:
    texts = ["system words", "user question"]
    seed = hashlib.sha256("\n".join(texts).encode()).digest()
    picked: list[str] = []
    block = 0
    while len(picked) < 40:
        for byte in hashlib.sha256(seed + block.to_bytes(4, "big")).digest():
            if len(picked) < 40:
                picked.append(rules.WORDS[byte % 64])
        block += 1
    assert rules.reply_text(texts, 40) == "Simulated reply: " + " ".join(picked) + "."
    assert rules.reply_text(texts, 0) == "Simulated reply."
    assert len(rules.reply_text(texts, 100).split()) == 102  # "Simulated", "reply:", 100 words


def test_reply_is_deterministic_and_prompt_dependent_and_never_echoes() -> None:
    prompt = "SECRET-PROMPT-TEXT zebra"
    one = rules.reply_text([prompt], 40)
    assert one == rules.reply_text([prompt], 40)
    assert one != rules.reply_text([prompt + "!"], 40)
    assert "SECRET" not in one and "zebra" not in one
    assert all(w.strip(".") in rules.WORDS for w in one.split()[2:])


def test_truncate_cuts_until_within_bound() -> None:
    text = rules.reply_text(["q"], 40)
    cut, truncated = rules.truncate(text, 10)
    assert truncated and rules.tokens(cut) <= 10 and text.startswith(cut)
    assert rules.tokens(text[: len(cut) + 1]) > 10  # no longer prefix would fit
    assert rules.truncate(text, 10_000) == (text, False)
    assert rules.truncate(text, None) == (text, False)
    assert rules.truncate(text, 0) == ("", True)
    multibyte, _ = rules.truncate("日本語日本語", 2)
    assert multibyte == "日本" and rules.tokens(multibyte) == 2


def test_split_pieces_reassemble_exactly() -> None:
    text = rules.reply_text(["q"], 13)
    pieces = rules.split_pieces(text, 4)
    assert "".join(pieces) == text
    assert len(pieces) == math.ceil(15 / 4)
    assert rules.split_pieces("", 4) == []


def test_cost_is_exact_decimal() -> None:
    cost = rules.cost(150, 25, Decimal("0.00000015"), Decimal("0.0000006"))
    assert cost == Decimal("0.0000375")
    assert rules.decimal_text(cost) == "0.0000375"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.0000375"), "0.0000375"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("0E-9"), "0"),
        (Decimal("1.50"), "1.5"),
        (Decimal("1E+3"), "1000"),
        (Decimal("12"), "12"),
    ],
)
def test_decimal_text_is_plain(value: Decimal, text: str) -> None:
    assert rules.decimal_text(value) == text


def test_dumps_writes_exact_decimals_and_round_trips() -> None:
    payload = {"cost": Decimal("0.0000001"), "n": 3, "ok": True, "none": None, "s": "é\n", "l": [1]}
    text = rules.dumps(payload)
    assert '"cost":0.0000001' in text and "E" not in text and "e-" not in text
    assert json.loads(text, parse_float=Decimal) == payload
    with pytest.raises(TypeError):
        rules.dumps({"x": object()})


def test_pkce_challenge_matches_rfc7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert rules.pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    digest = hashlib.sha256(verifier.encode()).digest()
    assert rules.pkce_challenge(verifier) == base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_catalog_has_required_models_with_exact_prices() -> None:
    prices = {m.id: (m.prompt, m.completion) for m in rules.OPENROUTER_MODELS}
    assert prices["openai/gpt-4o-mini"] == (Decimal("0.00000015"), Decimal("0.0000006"))
    assert prices["openai/gpt-4o"] == (Decimal("0.0000025"), Decimal("0.00001"))
    assert prices["anthropic/claude-sonnet-4.5"] == (Decimal("0.000003"), Decimal("0.000015"))
    assert prices["anthropic/claude-haiku-4.5"] == (Decimal("0.000001"), Decimal("0.000005"))
    assert prices["google/gemini-2.5-flash"] == (Decimal("0.0000003"), Decimal("0.0000025"))
    assert prices["meta-llama/llama-3.3-70b-instruct"] == (
        Decimal("0.00000013"),
        Decimal("0.0000004"),
    )
    assert prices["meta-llama/llama-3.2-3b-instruct:free"] == (Decimal(0), Decimal(0))


def test_config_validation() -> None:
    config = SimConfig().updated({"routed_price_multiplier": "1.5", "key_limit": None})
    assert config.routed_price_multiplier == Decimal("1.5") and config.key_limit is None
    assert config.as_json()["routed_price_multiplier"] == "1.5"
    for bad in (
        {"nope": 1},
        {"reply_words": -1},
        {"routed_price_multiplier": "x"},
        {"routed_price_multiplier": 0},
        {"reject_stream_options": "yes"},
        {"unavailable_models": "a"},
        {"generation_delay": -1},
    ):
        with pytest.raises(SimError):
            SimConfig().updated(bad)


def test_fault_validation() -> None:
    assert normalize_fault({"status": 429}) == {"kind": "status", "status": 429, "retry_after": 1}
    assert normalize_fault({"kind": "midstream_error"}) == {"kind": "midstream_error", "code": 502}
    for bad in ({"status": 200}, {"kind": "explode"}, {}, "status", {"status": "x"}):
        with pytest.raises(SimError):
            normalize_fault(bad)


def test_simulator_needs_start_for_base_url() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    with sim:
        assert sim.base_url.startswith("http://127.0.0.1:")
        assert sim.openrouter_base == sim.base_url + "/api/v1"
        assert sim.openai_base == sim.base_url + "/v1"
    sim.stop()  # idempotent
