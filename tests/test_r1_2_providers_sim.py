"""R1.2 acceptance: one test app (one worker feature) runs unchanged against all six provider
kinds — OpenRouter, OpenAI, Anthropic, Gemini, Ollama, and an OpenAI-compatible server (the
simulator's ``/v1``) — through the simulator: non-streaming, streaming, 401 (Gemini: its bad-key
answer, 400 + ``API_KEY_INVALID``), 429, 5xx, stream cut; cost and usage correct for each
(R4.2); strict-mode budget holds for each (R3.7).

Only the *user's* side differs per provider (which provider, which model, a price for a custom
model); :func:`summarize` — the app's code — is the same for all six.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

import byom
from byom.catalogs import bundled
from byom.core.catalog import Price
from byom.core.errors import (
    BudgetExceeded,
    ByomError,
    Interrupted,
    KeyRejected,
    NotConnected,
    ProviderUnavailable,
    RateLimited,
)
from byom.core.money import from_pico
from byom.core.store import CallRecord
from byom.sim import Simulator, reply_text, truncate
from conftest import CANARY_KEY

SUMMARIZE = byom.Feature("summarize", "worker", "Five-bullet summary")
SYSTEM = "Summarise the text in five bullets."
MAX_TOKENS = 200

#: What the user says a custom (compatible-server) model costs, USD per token.
CUSTOM_PRICE = Price(Decimal("0.0000002"), Decimal("0.0000008"))
#: A deliberately dear price for the strict-budget loops, so they end in a dozen requests.
DEAR_PRICE = Price(Decimal("0.00001"), Decimal("0.00004"))
DEAR_OPENROUTER_MODEL = "sim/dear-worker"


@dataclass(frozen=True)
class Kind:
    """One provider kind as the *user* connects it."""

    provider: str
    model: str
    #: The chat endpoint's path; one ending in ``:`` is a prefix (Gemini's
    #: ``…:generateContent`` and ``…:streamGenerateContent``).
    chat_path: str
    base: Callable[[Simulator], str]

    def __str__(self) -> str:
        return self.provider

    def chats(self, sim: Simulator) -> int:
        """Chat requests the simulator has seen on this kind's endpoint."""
        return sum(
            count
            for path, count in sim.counts().items()
            if path == self.chat_path
            or (self.chat_path.endswith(":") and path.startswith(self.chat_path))
        )

    def is_chat_url(self, url: str) -> bool:
        return (
            self.chat_path in url if self.chat_path.endswith(":") else url.endswith(self.chat_path)
        )


KINDS = [
    Kind(
        "openrouter", "openai/gpt-4o-mini", "/api/v1/chat/completions", lambda s: s.openrouter_base
    ),
    Kind("openai", "gpt-4o-mini", "/v1/chat/completions", lambda s: s.openai_base),
    Kind("anthropic", "claude-haiku-4-5", "/v1/messages", lambda s: s.base_url),
    Kind("gemini", "gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:", lambda s: s.base_url),
    Kind("ollama", "llama3.2:3b", "/api/chat", lambda s: s.base_url),
    Kind("compatible", "qwen2.5:7b", "/v1/chat/completions", lambda s: s.openai_base),
]


# -- the app: the same code for every provider -------------------------------------------------


def messages(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]


def summarize(app: byom.App, text: str, *, stream: bool = False) -> byom.Reply:
    """The app's one model feature. It never names a provider or a model."""
    if not stream:
        return app.chat("summarize", messages(text), max_tokens=MAX_TOKENS)
    pieces: list[str] = []
    reply = None
    for item in app.stream("summarize", messages(text), max_tokens=MAX_TOKENS):
        if isinstance(item, byom.Done):
            reply = item.reply
        else:
            pieces.append(item.text)
    assert reply is not None
    assert "".join(pieces) == reply.text
    return reply


async def asummarize(app: byom.App, text: str, *, stream: bool = False) -> byom.Reply:
    if not stream:
        return await app.achat("summarize", messages(text), max_tokens=MAX_TOKENS)
    reply = None
    async for item in app.astream("summarize", messages(text), max_tokens=MAX_TOKENS):
        if isinstance(item, byom.Done):
            reply = item.reply
    assert reply is not None
    return reply


# -- the user's side: connect and choose a worker model ----------------------------------------


def connect(app: byom.App, kind: Kind, sim: Simulator, *, dear: bool = False) -> str:
    """Connect like a user would; returns the chosen model id."""
    app.connect(kind.provider, key=CANARY_KEY, base_url=kind.base(sim))
    model = kind.model
    if dear:
        if kind.provider == "openrouter":
            model = DEAR_OPENROUTER_MODEL
            sim.config(
                extra_models=[
                    {"id": model, "prompt": str(DEAR_PRICE.prompt),
                     "completion": str(DEAR_PRICE.completion)}
                ]
            )  # fmt: skip
            app.refresh_models()
        app.add_model(
            model, "worker", prompt_price=DEAR_PRICE.prompt, completion_price=DEAR_PRICE.completion
        )
    elif kind.provider == "ollama":
        app.refresh_models()  # GET /api/tags: listed, free, a worker until the user says
        listed = app.catalog.get(model)
        assert listed is not None and listed.category == "worker"
        assert listed.price is not None and listed.price.is_free
    elif kind.provider == "compatible":
        app.refresh_models()  # GET /v1/models: listed, price unknown
        listed = app.catalog.get(model)
        assert listed is not None and listed.price is None
        app.add_model(
            model,
            "worker",
            prompt_price=CUSTOM_PRICE.prompt,
            completion_price=CUSTOM_PRICE.completion,
        )
    app.choose_model("summarize", model)
    return model


@pytest.fixture
def new_app(tmp_path: Path) -> Iterator[Callable[..., byom.App]]:
    apps: list[byom.App] = []

    def factory(**kwargs: object) -> byom.App:
        app = byom.App("Paper digest", [SUMMARIZE], data_dir=tmp_path / "data", **kwargs)  # type: ignore[arg-type]
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


def expected(kind: Kind, sim: Simulator, text: str) -> tuple[str, dict[str, object]]:
    """What the simulator answered to :func:`summarize` — its deterministic rules."""
    reply, _ = truncate(reply_text([SYSTEM, text], sim.config()["reply_words"]), MAX_TOKENS)  # type: ignore[arg-type]
    return reply, sim.generations()[-1]


def expected_cost(kind: Kind, gen: dict[str, object]) -> tuple[Decimal, str]:
    prompt, completion = int(gen["tokens_prompt"]), int(gen["tokens_completion"])  # type: ignore[call-overload]
    if kind.provider == "openrouter":
        return Decimal(str(gen["cost"])), "provider"
    if kind.provider == "ollama":
        return Decimal(0), "free"
    if kind.provider == "compatible":
        price = CUSTOM_PRICE
    else:
        bundled_price = bundled(kind.provider).lookup(kind.model).price
        assert bundled_price is not None
        price = bundled_price
    assert gen["cost"] is None  # the simulator charges nothing for these formats: byom computes
    return price.prompt * prompt + price.completion * completion, "computed"


def record_of(app: byom.App, reply: byom.Reply) -> CallRecord:
    [record] = [r for r in app.history() if r.id == reply.call_id]
    return record


def check_reply(
    app: byom.App, reply: byom.Reply, kind: Kind, sim: Simulator, text: str, model: str
) -> None:
    want_text, gen = expected(kind, sim, text)
    assert reply.text == want_text
    assert reply.provider == kind.provider and reply.model == model
    assert reply.usage.prompt_tokens == gen["tokens_prompt"]
    assert reply.usage.completion_tokens == gen["tokens_completion"]
    cost, source = expected_cost(kind, gen)
    assert reply.cost == cost and reply.cost_source == source
    if source == "computed":
        assert reply.cost is not None and reply.cost > 0
    if kind.provider != "ollama":
        assert reply.generation_id == gen["id"]
    record = record_of(app, reply)
    assert record.cost == cost and record.cost_source == source and record.outcome == "ok"
    assert record.usage == reply.usage


# -- happy paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_one_app_runs_unchanged(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind, stream: bool
) -> None:
    app = new_app()
    model = connect(app, kind, sim)
    text = f"A paper about {kind.provider} and rivers."
    before = kind.chats(sim)
    reply = summarize(app, text, stream=stream)
    assert kind.chats(sim) == before + 1
    check_reply(app, reply, kind, sim, text, model)
    assert app.spent("session") == reply.cost
    assert not app.unreconciled() and not app.in_flight()


@pytest.mark.parametrize("stream", [False, True], ids=["achat", "astream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_one_app_runs_unchanged_async(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind, stream: bool
) -> None:
    app = new_app()
    model = connect(app, kind, sim)
    text = "An async paper about deltas."
    reply = asyncio.run(asummarize(app, text, stream=stream))
    check_reply(app, reply, kind, sim, text, model)


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_truncation_is_reported_the_same_way(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind
) -> None:
    app = new_app()
    connect(app, kind, sim)
    sim.config(reply_words=400)
    for stream in (False, True):
        reply = summarize(app, "A long paper.", stream=stream)
        assert reply.truncated, reply.finish_reason
        assert reply.usage.completion_tokens <= MAX_TOKENS
        assert record_of(app, reply).outcome == "truncated"


# -- faults ------------------------------------------------------------------------------------


def attempt(app: byom.App, stream: bool) -> ByomError:
    with pytest.raises(ByomError) as info:
        summarize(app, "A paper.", stream=stream)
    return info.value


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_401_clears_the_key_and_nothing_is_counted(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind, stream: bool
) -> None:
    app = new_app()
    connect(app, kind, sim)
    sim.push_faults([{"status": 401}])
    error = attempt(app, stream)
    assert isinstance(error, KeyRejected)
    assert not app.connected  # asked to reconnect; no silent retry
    assert app.spent("session") == 0 and not app.unreconciled()
    [record] = app.history()
    assert record.outcome == "failed" and record.error_code == "key_rejected"
    with pytest.raises(NotConnected):
        summarize(app, "again", stream=stream)


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_403_keeps_the_key_and_nothing_is_counted(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind, stream: bool
) -> None:
    """403 is never "bad key" (moderation at OpenRouter, permission elsewhere; Gemini's
    ``PERMISSION_DENIED``): the key stays, nothing is counted, the next call works."""
    app = new_app()
    connect(app, kind, sim)
    sim.push_faults([{"status": 403}])
    error = attempt(app, stream)
    assert not isinstance(error, KeyRejected) and error.status == 403
    assert app.connected and app.spent("session") == 0 and not app.unreconciled()
    assert summarize(app, "After the refusal.", stream=stream).cost is not None


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_429_is_a_rate_limit_with_its_wait(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind, stream: bool
) -> None:
    app = new_app()
    connect(app, kind, sim)
    sim.push_faults([{"status": 429, "retry_after": 2}])
    error = attempt(app, stream)
    assert isinstance(error, RateLimited) and error.retry_after == 2.0
    assert app.connected and app.spent("session") == 0 and not app.unreconciled()
    reply = summarize(app, "After the wait.", stream=stream)  # the key still works
    assert reply.cost is not None


@pytest.mark.parametrize("status", [500, 502, 503, 529])
@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_5xx_is_provider_unavailable_and_released(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind, stream: bool, status: int
) -> None:
    app = new_app()
    connect(app, kind, sim)
    sim.push_faults([{"status": status}])
    error = attempt(app, stream)
    assert isinstance(error, ProviderUnavailable) and error.status == status
    assert app.connected and app.spent("session") == 0 and not app.unreconciled()


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_cut_before_usage_keeps_the_estimate_counted(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind, stream: bool
) -> None:
    app = new_app()
    connect(app, kind, sim)
    sim.push_faults([{"kind": "cut_before_usage"}])
    error = attempt(app, stream)
    assert isinstance(error, (Interrupted, ProviderUnavailable))
    [row] = app.unreconciled()
    assert row.counted_pico == row.estimate_pico  # the estimate keeps counting
    assert app.spent("session") == from_pico(row.counted_pico)
    assert row.counted_pico > 0 or kind.provider == "ollama"  # a local model is free
    [record] = app.history()
    assert record.outcome == "unreconciled" and record.cost is None
    assert record.cost_source == "unreconciled"


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_error_in_the_middle_of_a_stream_is_not_a_clean_success(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind
) -> None:
    app = new_app()
    connect(app, kind, sim)
    sim.push_faults([{"kind": "midstream_error", "code": 502}])
    error = attempt(app, stream=True)
    assert isinstance(error, ProviderUnavailable)
    [record] = app.history()
    assert record.outcome in ("failed", "unreconciled")
    assert record.cost is None or record.cost_source in ("provider", "computed", "free")


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r1_2_malformed_reply_counts_its_estimate(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind
) -> None:
    app = new_app()
    connect(app, kind, sim)
    for stream in (False, True):
        sim.push_faults([{"kind": "malformed_json"}])
        attempt(app, stream)
    assert len(app.unreconciled()) == 2


# -- strict budget (R3.7) ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r3_7_strict_budget_holds_for_every_provider(
    new_app: Callable[..., byom.App], sim: Simulator, kind: Kind
) -> None:
    allowance = Decimal("0.05")
    app = new_app()
    model = connect(app, kind, sim, dear=True)
    app.set_allowance(allowance, period="total", strict=True)
    served = 0
    refused: BudgetExceeded | None = None
    for i in range(200):
        before = kind.chats(sim)
        try:
            summarize(app, f"Paper number {i} about budgets.", stream=bool(i % 2))
        except BudgetExceeded as exc:
            refused = exc
            # A refused request never reaches the network.
            assert kind.chats(sim) == before
            break
        served += 1
    assert refused is not None and served >= 3, served
    gens = [g for g in sim.generations() if g["model"] == model]
    assert len(gens) == served
    # What the provider really charged (OpenRouter) or what the tokens cost at the price.
    if kind.provider == "openrouter":
        real = sum(Decimal(str(g["cost"])) for g in gens)
    else:
        real = sum(
            DEAR_PRICE.prompt * int(g["tokens_prompt"])  # type: ignore[call-overload]
            + DEAR_PRICE.completion * int(g["tokens_completion"])  # type: ignore[call-overload]
            for g in gens
        )
    recorded = sum((r.cost or Decimal(0)) for r in app.history())
    assert recorded == real <= allowance
    assert app.spent("total") == recorded
    assert refused.spent + refused.estimate > allowance
    # Even a bug that spams requests stops at the limit.
    for _ in range(5):
        with pytest.raises(BudgetExceeded):
            summarize(app, "One more paper.")
    assert len([g for g in sim.generations() if g["model"] == model]) == served
