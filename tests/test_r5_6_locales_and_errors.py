"""R5.6, R4.1, pitfalls 7, 8, 12 — complete English and Dutch catalogs, the locale choice, plain
errors for every error code, and readable live cost (no pty needed here)."""

from __future__ import annotations

import io
import string
from decimal import Decimal

import pytest

from byom.core.errors import (
    ERROR_CODES,
    BudgetExceeded,
    OutOfCredits,
    RateLimited,
    error_class,
)
from byom.core.events import EventBus, Failed, Landed, Pending
from byom.core.usage import Usage
from byom.locales import SUPPORTED, Messages, catalog, detect, messages, resolve
from byom.providers.openrouter import OpenRouterAdapter
from byom.terminal._format import price_per_million, usd
from byom.terminal.chart import bar, bar_lines
from byom.terminal.errors import describe_error
from byom.terminal.live import WordWrap


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_r5_6_catalogs_have_the_same_keys_and_placeholders() -> None:
    english, dutch = catalog("en"), catalog("nl")
    assert set(english) == set(dutch)
    for key in english:
        assert english[key].strip() and dutch[key].strip(), key
        assert _fields(english[key]) == _fields(dutch[key]), key
    # Dutch really is Dutch, not a copy.
    neutral = {
        "wizard.done.commands",
        "allowance.amount",
        "live.landed",
        "cli.status.title",
        "provider.name.gemini",
    }
    same = {k for k in english if english[k] == dutch[k] and len(english[k]) > 12}
    assert same <= neutral, same - neutral


def test_r5_6_every_error_code_has_plain_words_in_both_languages() -> None:
    for lang in SUPPORTED:
        tr = Messages(lang)
        for code in ERROR_CODES:
            assert tr.has(f"error.{code}"), (lang, code)
            cls = error_class(code)
            error = (
                cls(period="day", allowance=Decimal(1), spent=Decimal("0.5"), estimate=Decimal(1))  # type: ignore[call-arg]
                if cls is BudgetExceeded
                else cls()
            )
            text = describe_error(error, tr, app_id="my-app")
            assert text and "{" not in text and "error." not in text, (lang, code)
        assert describe_error(ValueError("x"), tr) == tr("error.byom_error")


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503])
def test_r5_6_provider_payloads_never_reach_the_user(status: int) -> None:
    body = (
        b'{"error": {"code": %d, "message": "PAYLOAD-ECHO my secret prompt", '
        b'"metadata": {"raw": "RAW-PROVIDER-TEXT"}}}' % status
    )
    error = OpenRouterAdapter().error_for(status, {"retry-after": "7"}, body)
    for lang in SUPPORTED:
        text = describe_error(error, Messages(lang))
        assert "PAYLOAD" not in text and "RAW-PROVIDER" not in text and "secret" not in text


def test_pitfall_7_and_8_distinct_messages() -> None:
    adapter = OpenRouterAdapter()
    tr = Messages("en")
    texts = {
        status: describe_error(adapter.error_for(status, {}, b""), tr)
        for status in (401, 402, 403, 408, 429, 502)
    }
    assert len(set(texts.values())) == len(texts)
    assert "flagged" in texts[403] and "key is fine" in texts[403]
    assert "removed" in texts[401]
    limited = describe_error(RateLimited(retry_after=7.2), tr)
    assert "7 seconds" in limited
    key_limit = OutOfCredits(limit_source="openrouter_key_limit")
    assert "credit limit" in describe_error(key_limit, tr)
    refused = BudgetExceeded(
        period="month", allowance=Decimal(2), spent=Decimal("1.5"), estimate=Decimal("0.00004")
    )
    dutch = describe_error(refused, Messages("nl"), app_id="reader")
    assert "$ 0,00004" in dutch and "$ 2,00" in dutch and "per maand" in dutch  # decimal comma
    assert "byom budget --app reader" in dutch


def test_r5_6_locale_from_the_environment_with_posix_precedence() -> None:
    assert detect({}) == "en"
    assert detect({"LANG": "nl_NL.UTF-8"}) == "nl"
    assert detect({"LANG": "nl_BE"}) == "nl"
    assert detect({"LANG": "nl_NL.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}) == "en"
    assert detect({"LANG": "en_US.UTF-8", "LC_MESSAGES": "nl_NL", "LC_ALL": ""}) == "nl"
    assert detect({"LC_ALL": "nl_NL.UTF-8", "LC_MESSAGES": "en_US", "LANG": "en_US"}) == "nl"
    assert detect({"LC_ALL": "C", "LANG": "nl_NL"}) == "en"  # LC_ALL set: it decides
    assert detect({"LANG": "fr_FR.UTF-8"}) == "en"
    assert resolve("nl", {"LC_ALL": "en_US"}) == "nl"  # the flag wins
    assert resolve("nl-NL") == "nl"
    with pytest.raises(ValueError):
        resolve("xx")
    assert messages("nl").decimal_comma and not messages("en").decimal_comma


def test_pitfall_12_tiny_amounts_stay_readable() -> None:
    assert usd(Decimal("0.00004")) == "$0.00004"
    assert usd(Decimal("0.0000564")) == "$0.000056"
    assert usd(Decimal("0.42")) == "$0.42"
    assert usd(None) == "unknown"
    assert price_per_million(Decimal("0.000000075")) == "$0.075"
    assert price_per_million(Decimal("0.000003")) == "$3.00"
    assert price_per_million(Decimal("0.00000000001")) == "$0.00001"


class _FakeApp:
    app_id = "reader"

    def __init__(self) -> None:
        self.events = EventBus()
        self.flying = False

    def subscribe(self, listener):  # type: ignore[no-untyped-def]
        return self.events.subscribe(listener)

    def in_flight(self) -> bool:
        return self.flying


def test_r4_1_cost_line_pending_then_real_cost_and_session_total() -> None:
    from rich.console import Console

    from byom.terminal.live import CostLine

    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False, color_system=None)
    app = _FakeApp()
    line = CostLine(app, console, Messages("en"))  # type: ignore[arg-type]
    app.events.emit(Pending("c1", "summarize", "openrouter", "openai/gpt-4o-mini", 0.0))
    assert "summarize · openai/gpt-4o-mini · pending…" in out.getvalue()
    usage = Usage(prompt_tokens=8, completion_tokens=92)
    app.events.emit(
        Landed(
            "c1",
            "summarize",
            "openrouter",
            "m",
            Decimal("0.0000564"),
            "provider",
            usage,
            "stop",
            1.0,
        )
    )
    app.events.emit(
        Landed(
            "c2", "summarize", "openrouter", "m", Decimal("0.00002"), "computed", usage, "stop", 1.0
        )
    )
    app.events.emit(
        Failed("c3", "critique", "openrouter", "m", error_class("timeout")(), True, None, 2.0)
    )
    text = out.getvalue()
    assert "$0.000056 · 8 in + 92 out tokens" in text
    assert "$0.00002 (tokens × price)" in text
    assert "session total $0.000076" in text
    assert "critique · m · not completed" in text and "until its real cost is known" in text
    assert line.session_total == Decimal("0.0000764") and line.unreconciled == 1
    # An "interrupted" error says the same itself: the note is not repeated.
    mark = len(out.getvalue())
    app.events.emit(
        Failed("c4", "critique", "openrouter", "m", error_class("interrupted")(), True, None, 3.0)
    )
    assert "until its real cost is known" not in out.getvalue()[mark:]
    assert line.unreconciled == 2
    line.close()


def test_r4_5_guard_asks_only_while_paid_work_is_in_flight() -> None:
    import os
    import signal

    from byom.terminal.live import CtrlCGuard

    app = _FakeApp()
    asked: list[bool] = []

    def ask() -> bool:
        asked.append(True)
        return False  # "no, keep going"

    before = signal.getsignal(signal.SIGINT)
    with CtrlCGuard(app.in_flight, ask) as guard:
        with pytest.raises(KeyboardInterrupt):  # nothing in flight: Ctrl-C acts at once
            os.kill(os.getpid(), signal.SIGINT)
        assert asked == []
        app.flying = True
        os.kill(os.getpid(), signal.SIGINT)  # in flight: asked, answered "no", continues
        assert asked == [True] and not guard.stopped
    assert signal.getsignal(signal.SIGINT) is before


def test_streamed_text_is_word_wrapped_for_the_terminal() -> None:
    written: list[str] = []
    wrap = WordWrap(written.append, 20)
    for piece in ("Simulated reply: ", "arrow stone field ", "ivory coral", "\nvalley"):
        wrap.feed(piece)
    wrap.flush()
    lines = "".join(written).split("\n")
    assert lines == ["Simulated reply:", "arrow stone field", "ivory coral", "valley"]
    assert all(len(line) <= 20 for line in lines)


def test_spend_chart_bars_scale_and_show_tiny_amounts() -> None:
    assert bar(Decimal(0), Decimal(1), 10) == ""
    assert bar(Decimal("0.000001"), Decimal(1), 10) == "▏"  # never invisible
    assert bar(Decimal(1), Decimal(1), 10) == "█" * 10
    lines = bar_lines([("2026-11-24", Decimal(0)), ("2026-11-25", Decimal("0.00011"))], 40)
    assert lines[0].endswith("·") and lines[1].endswith("$0.00011")
    assert all(len(line) <= 40 for line in lines)
