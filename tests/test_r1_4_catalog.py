"""R1.3 / R1.4 / R3.2 and pitfall 2: catalog, real Decimal prices, categories, fallback."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from byom.catalogs import bundled_openrouter
from byom.core.catalog import FALLBACK_PRICE, Catalog, Model, parse_openrouter_models
from byom.core.errors import BadResponse
from byom.core.features import Feature
from byom.sim import Simulator


def test_r1_4_bundled_snapshot_is_dated_priced_and_categorised() -> None:
    catalog = bundled_openrouter()
    assert catalog.as_of and len(catalog.as_of) == 10  # an ISO date
    assert len(catalog) >= 10
    for model in catalog:
        assert model.price is not None, model.id
        assert isinstance(model.price.prompt, Decimal)
        assert model.category in ("frontier", "worker")
    assert catalog.in_category("frontier") and catalog.in_category("worker")
    mini = catalog.lookup("openai/gpt-4o-mini")
    assert mini.price is not None and mini.price.prompt == Decimal("0.00000015")


def test_pitfall_2_prices_parse_from_openrouter_strings_exactly(sim: Simulator) -> None:
    import httpx

    body = httpx.get(sim.openrouter_base + "/models").content
    catalog = parse_openrouter_models(body)
    model = catalog.lookup("openai/gpt-4o-mini")
    assert model.price is not None
    assert model.price.prompt == Decimal("0.00000015")
    assert model.price.completion == Decimal("0.0000006")
    assert model.context_length and model.context_length > 0
    free = catalog.lookup("meta-llama/llama-3.2-3b-instruct:free")
    assert free.price is not None and free.price.is_free


def test_r3_2_unknown_price_over_estimates_every_bundled_model() -> None:
    for model in bundled_openrouter():
        assert model.price is not None
        assert FALLBACK_PRICE.prompt >= model.price.prompt
        assert FALLBACK_PRICE.completion >= model.price.completion
    unknown = Catalog().lookup("someone/new-model")
    assert unknown.price is None
    assert unknown.guard_price == FALLBACK_PRICE


@pytest.mark.parametrize(
    "pricing",
    [
        None,
        {},
        {"prompt": "-1", "completion": "-1"},
        {"prompt": "abc", "completion": "0.1"},
        {"prompt": "NaN", "completion": "0"},
    ],
)
def test_r3_2_unusable_prices_become_unknown_not_free(pricing: object) -> None:
    body = json.dumps({"data": [{"id": "x/y", "pricing": pricing}]})
    model = parse_openrouter_models(body).lookup("x/y")
    assert model.price is None
    assert model.guard_price == FALLBACK_PRICE


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"data": 3}', b"\xff\xfe"])
def test_r1_4_malformed_model_lists_raise_typed_errors(body: bytes) -> None:
    with pytest.raises(BadResponse):
        parse_openrouter_models(body)


def test_r1_4_malformed_entries_are_skipped_not_fatal() -> None:
    body = json.dumps({"data": [1, "x", {"name": "no id"}, {"id": "ok/model"}]})
    assert [m.id for m in parse_openrouter_models(body)] == ["ok/model"]


def test_r1_3_feature_requires_a_known_category() -> None:
    assert Feature("summarize").category == "worker"
    with pytest.raises(ValueError):
        Feature("summarize", "gpt-4o")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Feature("Bad Name!", "worker")


def test_r1_3_adding_a_model_needs_no_code_change() -> None:
    catalog = bundled_openrouter().with_models([Model("me/custom", "Custom", "worker")])
    assert "me/custom" in catalog
    assert catalog.lookup("me/custom").category == "worker"
