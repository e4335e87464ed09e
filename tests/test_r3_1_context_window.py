"""Issue 15, item 7 (R3.1): a request that cannot fit the model's context window is refused
before it is sent — it would be refused by the provider, or worse, charged. Judged by the input
estimate plus ``max_tokens`` against the catalog's context length, in both estimator modes (strict
mode judges by the realistic estimate, so its byte bound does not refuse requests that fit)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from byom.core.errors import ContextTooLong
from byom.sim import Simulator
from conftest import chat_count, user


def test_r3_1_a_request_past_the_context_window_is_refused_unsent(
    make_app: Any, sim: Simulator
) -> None:
    app = make_app()
    model = app.model_for("summarize")
    assert model.context_length == 128_000  # gpt-4o-mini in the bundled catalog
    huge = "word " * 700_000  # 3.5 M characters: about 875 k tokens by chars/4
    with pytest.raises(ContextTooLong) as caught:
        app.chat("summarize", user(huge), max_tokens=500)
    assert "128,000" in caught.value.message and "huge" not in caught.value.message
    assert chat_count(sim) == 0
    [row] = app.history()
    assert row.outcome == "refused" and row.error_code == "context_too_long"
    assert app.spent("session") == 0


def test_r3_1_max_tokens_counts_towards_the_window(make_app: Any, sim: Simulator) -> None:
    app = make_app()
    text = "x" * 400_000  # about 100 k tokens by chars/4
    with pytest.raises(ContextTooLong):
        app.chat("summarize", user(text), max_tokens=40_000)
    assert chat_count(sim) == 0
    app.chat("summarize", user(text), max_tokens=1_000)  # fits: sent
    assert chat_count(sim) == 1


def test_r3_1_strict_mode_does_not_refuse_what_fits(make_app: Any, sim: Simulator) -> None:
    """400 k ASCII characters are ~100 k tokens: they fit a 128 k window, though the strict byte
    bound (400 k) does not — that bound is for money, not for the window."""
    app = make_app()
    app.set_allowance(Decimal("50"), period="session", strict=True)
    app.chat("summarize", user("y" * 400_000), max_tokens=1_000)
    assert chat_count(sim) == 1
