"""R3.1 / R3.7 / pitfall 1: estimation bounds and max_tokens always sent."""

from __future__ import annotations

import json
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from byom import Secret
from byom.core.catalog import Price
from byom.core.estimate import CharEstimator, Estimate, StrictEstimator
from byom.providers.openrouter import OpenRouterAdapter
from byom.sim import prompt_tokens as _sim_prompt_tokens


def prompt_tokens(msgs: list) -> int:
    """The simulator's count for chat messages (its rule takes the message texts)."""
    return _sim_prompt_tokens([m["content"] for m in msgs])


messages_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["system", "user", "assistant"]),
            "content": st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400),
        }
    ),
    min_size=1,
    max_size=6,
)


def test_r3_1_default_is_ceil_chars_over_four_plus_overhead() -> None:
    msgs = [{"role": "user", "content": "x" * 10}]
    assert CharEstimator().input_tokens(msgs) == math.ceil(10 / 4) + 4 + 3


@settings(max_examples=300, deadline=None)
@given(messages_strategy)
def test_r3_7_strict_estimate_is_an_upper_bound_of_the_simulators_count(msgs: list) -> None:
    assert StrictEstimator().input_tokens(msgs) >= prompt_tokens(msgs)


@settings(max_examples=200, deadline=None)
@given(messages_strategy)
def test_r3_7_strict_estimate_bounds_utf8_bytes(msgs: list) -> None:
    total_bytes = sum(len(m["content"].encode("utf-8")) for m in msgs)
    assert StrictEstimator().input_tokens(msgs) >= total_bytes


def test_r3_7_default_estimate_can_under_estimate_non_ascii_text() -> None:
    """Why strict mode exists: 4 chars/token is wrong for many scripts."""
    msgs = [{"role": "user", "content": "日本語のテキスト" * 50}]
    assert CharEstimator().input_tokens(msgs) < prompt_tokens(msgs)
    assert StrictEstimator().input_tokens(msgs) >= prompt_tokens(msgs)


def test_r3_2_estimate_uses_the_price_and_max_tokens() -> None:
    price = Price(Decimal("0.000001"), Decimal("0.000002"))
    est = Estimate.of(100, 50, price)
    assert est.amount == Decimal("0.0002")


def test_pitfall_1_max_tokens_is_always_in_the_request() -> None:
    adapter = OpenRouterAdapter("http://127.0.0.1:9/api/v1")
    request = adapter.chat_request(
        Secret("k" * 20),
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=77,
        stream=False,
        params={},
    )
    assert json.loads(request.body or b"")["max_tokens"] == 77


def test_r3_7_strict_mode_sends_max_price_equal_to_the_reserved_price() -> None:
    adapter = OpenRouterAdapter("http://127.0.0.1:9/api/v1")
    price = Price(Decimal("0.00000015"), Decimal("0.0000006"))
    request = adapter.chat_request(
        Secret("k" * 20),
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=5,
        stream=True,
        params={},
        max_price=price,
    )
    body = json.loads(request.body or b"", parse_float=Decimal)
    assert body["provider"]["max_price"] == {
        "prompt": Decimal("0.15"),
        "completion": Decimal("0.6"),
    }
    assert body["stream"] is True
