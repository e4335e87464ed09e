"""R4.2: where a provider reports tokens but no cost, cost = real tokens × catalog price, labelled
"computed"; local models cost zero ("free"); an unknown price is "unknown" — never zero — in the
reply, the history and both exports, and the guard over-estimates it. Bundled, dated price
snapshots for OpenAI and Anthropic; categories for non-OpenRouter models; cached model listings;
connections to key-less providers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import byom
from byom.app_models import DEFAULT_MODELS
from byom.catalogs import bundled
from byom.core.catalog import FALLBACK_PRICE
from byom.core.errors import BudgetExceeded, InvalidRequest, NotConnected
from byom.core.usage import KeyInfo
from byom.sim import Simulator
from conftest import CANARY_KEY, user

WORKER = byom.Feature("summarize", "worker", "Summary")
FRONTIER = byom.Feature("critique", "frontier", "Critique")


@pytest.fixture
def new_app(tmp_path: Path) -> Iterator[Callable[..., byom.App]]:
    apps: list[byom.App] = []

    def factory() -> byom.App:
        app = byom.App("Paper digest", [WORKER, FRONTIER], data_dir=tmp_path / "data")
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


# -- bundled snapshots --------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_r4_2_bundled_snapshot_is_dated_priced_and_categorised(provider: str) -> None:
    catalog = bundled(provider)
    assert catalog.as_of and catalog.as_of[:2] == "20" and catalog.source == "bundled"
    assert len(catalog) >= 5
    categories = {m.category for m in catalog}
    assert categories == {"frontier", "worker"}
    for model in catalog:
        assert model.provider == provider
        assert model.price is not None, model.id
        assert isinstance(model.price.prompt, Decimal) and model.price.prompt > 0
        assert model.price.completion > model.price.prompt
        assert model.price.cache_read is not None and model.price.cache_read < model.price.prompt
        if provider == "anthropic":
            assert model.price.cache_write is not None
            assert model.price.cache_write > model.price.prompt
        # Every known price is below the guard's fallback rate, so the fallback over-estimates.
        assert model.price.prompt < FALLBACK_PRICE.prompt
        assert model.price.completion < FALLBACK_PRICE.completion
    for category, model_id in DEFAULT_MODELS[provider].items():
        model = catalog.get(model_id)
        assert model is not None and model.category == category


@pytest.mark.parametrize("provider", ["ollama", "compatible"])
def test_r4_2_no_snapshot_for_local_and_compatible_servers(provider: str) -> None:
    assert len(bundled(provider)) == 0
    assert provider not in DEFAULT_MODELS


@pytest.mark.parametrize(
    ("provider", "base", "worker", "frontier"),
    [
        ("openai", "openai_base", "gpt-4o-mini", "gpt-4o"),
        ("anthropic", "base_url", "claude-haiku-4-5", "claude-sonnet-4-5"),
    ],
)
def test_r1_3_default_models_and_choice_within_the_category(
    new_app: Callable[[], byom.App],
    sim: Simulator,
    provider: str,
    base: str,
    worker: str,
    frontier: str,
) -> None:
    app = new_app()
    app.connect(provider, key=CANARY_KEY, base_url=getattr(sim, base))
    assert app.model_for("summarize").id == DEFAULT_MODELS[provider]["worker"] == worker
    with pytest.raises(InvalidRequest):
        app.choose_model("summarize", frontier)  # a frontier model for a worker feature
    app.choose_model("critique", frontier)
    reply = app.chat("critique", user("Critique this."), max_tokens=100)
    assert reply.model == frontier and reply.cost_source == "computed"


# -- computed / free / unknown, everywhere ------------------------------------------------------


def _export_rows(app: byom.App) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    as_json = json.loads(app.export_history("json"))
    as_csv = list(csv.DictReader(io.StringIO(app.export_history("csv"))))
    return as_json, as_csv


def test_r4_2_computed_free_and_unknown_are_distinct_from_zero_everywhere(
    new_app: Callable[[], byom.App], sim: Simulator
) -> None:
    app = new_app()
    replies: dict[str, byom.Reply] = {}

    # computed: OpenAI tokens × the bundled price
    app.connect("openai", key=CANARY_KEY, base_url=sim.openai_base)
    replies["computed"] = app.chat("summarize", user("One."), max_tokens=60)

    # free: a local Ollama model the user assigned to a category
    app.connect("ollama", base_url=sim.base_url)
    app.refresh_models()
    app.add_model("llama3.2:3b", "worker", prompt_price=Decimal(0), completion_price=Decimal(0))
    app.choose_model("summarize", "llama3.2:3b")
    replies["free"] = app.chat("summarize", user("Two."), max_tokens=60)

    # unknown: a compatible server's model, categorised but never priced
    app.connect("compatible", key="local", base_url=sim.openai_base)
    app.refresh_models()
    app.add_model("qwen2.5:7b", "worker")
    app.choose_model("summarize", "qwen2.5:7b")
    replies["unknown"] = app.chat("summarize", user("Three."), max_tokens=60)

    computed, free, unknown = replies["computed"], replies["free"], replies["unknown"]
    assert computed.cost_source == "computed" and computed.cost is not None and computed.cost > 0
    assert free.cost_source == "free" and free.cost == Decimal(0)
    assert free.usage.prompt_tokens > 0 and free.usage.completion_tokens > 0  # tokens still shown
    assert unknown.cost_source == "unknown" and unknown.cost is None  # never a made-up zero
    assert unknown.usage.completion_tokens > 0

    history = {r.id: r for r in app.history()}
    for source, reply in replies.items():
        record = history[reply.call_id]
        assert record.cost_source == source and record.cost == reply.cost
        assert record.usage == reply.usage

    as_json, as_csv = _export_rows(app)
    by_id_json = {row["id"]: row for row in as_json}
    by_id_csv = {row["id"]: row for row in as_csv}
    for source, reply in replies.items():
        row_json, row_csv = by_id_json[reply.call_id], by_id_csv[reply.call_id]
        assert row_json["cost_source"] == row_csv["cost_source"] == source
    assert by_id_json[computed.call_id]["cost"] == format(computed.cost, "f")
    assert Decimal(by_id_csv[computed.call_id]["cost"]) == computed.cost
    assert by_id_json[free.call_id]["cost"] == "0" and by_id_csv[free.call_id]["cost"] == "0"
    assert by_id_json[unknown.call_id]["cost"] is None and by_id_csv[unknown.call_id]["cost"] == ""

    # Totals add known costs only; an unknown cost is not counted as zero spend either:
    # the guard keeps it at the fallback rate.
    assert app.totals("model") == {"gpt-4o-mini": computed.cost, "llama3.2:3b": Decimal(0)}
    fallback = FALLBACK_PRICE.prompt * unknown.usage.prompt_tokens + (
        FALLBACK_PRICE.completion * unknown.usage.completion_tokens
    )
    assert app.spent("session") == computed.cost + fallback


def test_r3_2_unknown_price_uses_the_over_estimating_fallback_before_sending(
    new_app: Callable[[], byom.App], sim: Simulator
) -> None:
    app = new_app()
    app.connect("compatible", base_url=sim.openai_base, key="local")
    app.refresh_models()
    app.add_model("qwen2.5:7b", "worker")  # price unknown
    app.choose_model("summarize", "qwen2.5:7b")
    app.set_allowance(Decimal("0.10"), period="session")
    before = sim.counts().get("/v1/chat/completions", 0)
    with pytest.raises(BudgetExceeded) as info:
        app.chat("summarize", user("hello"), max_tokens=200)  # 200 × $600/M = $0.12 > $0.10
    assert info.value.estimate >= 200 * FALLBACK_PRICE.completion
    assert sim.counts().get("/v1/chat/completions", 0) == before  # never sent
    # Once the user prices the model, the same request fits.
    app.add_model(
        "qwen2.5:7b",
        "worker",
        prompt_price=Decimal("0.0000001"),
        completion_price=Decimal("0.0000002"),
    )
    reply = app.chat("summarize", user("hello"), max_tokens=200)
    assert reply.cost_source == "computed"
    assert reply.cost == (
        Decimal("0.0000001") * reply.usage.prompt_tokens
        + Decimal("0.0000002") * reply.usage.completion_tokens
    )


def test_r4_2_a_user_price_for_a_local_model_is_computed(
    new_app: Callable[[], byom.App], sim: Simulator
) -> None:
    app = new_app()
    app.connect("ollama", base_url=sim.base_url)
    app.refresh_models()
    app.add_model(
        "qwen2.5:7b", "worker", prompt_price=Decimal("0.000001"), completion_price=Decimal(0)
    )
    app.choose_model("summarize", "qwen2.5:7b")
    reply = app.chat("summarize", user("Electricity is not free."), max_tokens=50)
    assert reply.cost_source == "computed"
    assert reply.cost == Decimal("0.000001") * reply.usage.prompt_tokens


def test_r4_2_local_models_never_consume_the_allowance(
    new_app: Callable[[], byom.App], sim: Simulator
) -> None:
    app = new_app()
    app.connect("ollama", base_url=sim.base_url)
    app.refresh_models()
    app.add_model("llama3.2:3b", "worker", prompt_price=Decimal(0), completion_price=Decimal(0))
    app.choose_model("summarize", "llama3.2:3b")
    app.set_allowance(Decimal("0.01"), period="total", strict=True)
    for i in range(5):
        for item in app.stream("summarize", user(f"local {i}"), max_tokens=100):
            if isinstance(item, byom.Done):
                assert item.reply.cost == 0 and item.reply.cost_source == "free"
    assert app.spent("total") == 0
    assert sum(r.usage.completion_tokens for r in app.history()) > 0


# -- categories and listings ---------------------------------------------------------------------


def test_r1_3_a_listed_local_model_is_a_worker_until_the_user_says_otherwise(
    new_app: Callable[[], byom.App], sim: Simulator
) -> None:
    app = new_app()
    app.connect("ollama", base_url=sim.base_url)
    with pytest.raises(InvalidRequest):
        app.model_for("summarize")  # nothing listed yet
    app.refresh_models()
    assert {m.id for m in app.models()} == {"llama3.2:3b", "qwen2.5:7b"}
    assert {m.id for m in app.models("worker")} == {"llama3.2:3b", "qwen2.5:7b"}  # issue 15
    assert app.choose_model("summarize", "llama3.2:3b").category == "worker"
    app.set_category("qwen2.5:7b", "frontier")
    assert [m.id for m in app.models("worker")] == ["llama3.2:3b"]
    with pytest.raises(InvalidRequest):
        app.choose_model("summarize", "qwen2.5:7b")  # stays within the feature's category
    assert app.choose_model("critique", "qwen2.5:7b").category == "frontier"
    price = app.catalog.lookup("qwen2.5:7b").price
    assert price is not None and price.is_free  # still free


@pytest.mark.parametrize(
    ("provider", "base", "path", "priced"),
    [
        ("openai", "openai_base", "/v1/models", "gpt-4o-mini"),
        ("anthropic", "base_url", "/v1/models", "claude-haiku-4-5"),
        ("ollama", "base_url", "/api/tags", "llama3.2:3b"),
    ],
)
def test_r1_4_model_listing_is_cached_and_keeps_known_prices(
    tmp_path: Path, sim: Simulator, provider: str, base: str, path: str, priced: str
) -> None:
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as app:
        app.connect(
            provider,
            key=CANARY_KEY,
            base_url=getattr(sim, base),
            remember=True,
            allow_plain_file=True,
        )
        catalog = app.refresh_models()
        assert catalog.source == provider and catalog.as_of  # the list's real source
        model = catalog.get(priced)
        assert model is not None and model.price is not None  # refreshing never loses a price
        if provider == "ollama":
            assert model.price.is_free
        else:
            assert model.price == bundled(provider).lookup(priced).price
    fetched = sim.counts().get(path, 0)
    # A later session (same device) sees the cached list without asking the provider again.
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as again:
        assert again.provider == provider
        assert priced in again.catalog and again.catalog.source == provider
    assert sim.counts().get(path, 0) == fetched


# -- connecting to key-less providers -------------------------------------------------------------


def test_r1_2_ollama_holds_no_key_even_when_given_one(tmp_path: Path, sim: Simulator) -> None:
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as app:
        app.connect("ollama", key=CANARY_KEY, base_url=sim.base_url, remember=True)
        assert app.connected and app.key_location() == []
        assert app.validate_key() == KeyInfo()  # nothing to validate, nothing sent
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes()
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as again:
        assert again.provider == "ollama"  # restored: nothing to ask for


def test_r1_2_compatible_connects_without_a_key_and_restores_its_options(
    tmp_path: Path, sim: Simulator
) -> None:
    sim.config(reject_stream_options=True)  # a server that refuses stream_options
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as app:
        app.connect("compatible", base_url=sim.openai_base, stream_usage=False)
        assert app.connected and app.key_location() == []
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as again:
        assert again.provider == "compatible"
        adapter = again.adapter
        assert getattr(adapter, "stream_usage", None) is False
        assert adapter.base_url == sim.openai_base


def test_r1_2_compatible_without_stream_usage_streams_and_counts_the_estimate(
    new_app: Callable[[], byom.App], sim: Simulator
) -> None:
    sim.config(reject_stream_options=True)
    app = new_app()
    app.connect("compatible", key="local", base_url=sim.openai_base, stream_usage=False)
    app.refresh_models()
    app.add_model(
        "qwen2.5:7b",
        "worker",
        prompt_price=Decimal("0.000001"),
        completion_price=Decimal("0.000002"),
    )
    app.choose_model("summarize", "qwen2.5:7b")
    items = list(app.stream("summarize", user("no usage in streams here"), max_tokens=80))
    done = items[-1]
    assert isinstance(done, byom.Done) and done.reply.text
    # The server never said what the stream used: no figure is invented; the estimate counts.
    assert done.reply.cost is None and done.reply.cost_source == "unreconciled"
    assert len(app.unreconciled()) == 1 and app.spent("session") > 0
    # Non-streamed calls carry usage as usual.
    assert app.chat("summarize", user("plain"), max_tokens=80).cost_source == "computed"


def test_r1_2_compatible_key_given_but_not_remembered_is_asked_for_again(
    tmp_path: Path, sim: Simulator
) -> None:
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as app:
        app.connect("compatible", key=CANARY_KEY, base_url=sim.openai_base)
        assert app.key_location() == ["memory"]
    with byom.App("Paper digest", [WORKER], data_dir=tmp_path / "data") as again:
        assert not again.connected  # not silently downgraded to a key-less connection
        with pytest.raises(NotConnected):
            again.adapter  # noqa: B018


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_r1_2_hosted_providers_still_need_a_key(
    new_app: Callable[[], byom.App], sim: Simulator, provider: str
) -> None:
    app = new_app()
    with pytest.raises(NotConnected):
        app.connect(provider, base_url=sim.base_url)
    assert not app.connected
