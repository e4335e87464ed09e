"""R1.3 / R4.2: model choice stays within the feature's category; user-assigned categories and
prices persist; a listed local model keeps its (zero) price when only its category is set."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import byom
from byom.core.errors import InvalidRequest
from byom.sim import Simulator
from conftest import CRITIQUE, SUMMARIZE, user


def test_r1_3_choice_must_be_in_the_features_category(make_app) -> None:
    app = make_app()
    with pytest.raises(InvalidRequest):
        app.choose_model("summarize", "anthropic/claude-sonnet-4.5")  # frontier
    with pytest.raises(InvalidRequest):
        app.choose_model("critique", "openai/gpt-4o-mini")  # worker
    with pytest.raises(InvalidRequest):
        app.choose_model("summarize", "nobody/never-listed")
    assert app.choose_model("critique", "openai/gpt-4o").category == "frontier"
    assert {m.category for m in app.models("worker")} == {"worker"}


def test_r1_3_user_assigned_category_and_price_persist(sim: Simulator, tmp_path: Path) -> None:
    def new() -> byom.App:
        return byom.App("Paper digest", [SUMMARIZE, CRITIQUE], data_dir=tmp_path / "d")

    app = new()
    app.connect("ollama", base_url=sim.base_url)
    app.refresh_models()
    listed = app.catalog.get("llama3.2:3b")
    assert listed is not None and listed.category == "worker"  # local: worker until the user says
    model = app.add_model("llama3.2:3b", "worker")
    assert model.price is not None and model.price.is_free  # kept the listed zero price
    app.choose_model("summarize", "llama3.2:3b")
    reply = app.chat("summarize", user("hi"), max_tokens=300)
    assert reply.cost == 0 and reply.cost_source == "free" and reply.usage.completion_tokens > 0
    app.close()

    again = new()
    assert again.provider == "ollama"
    assert again.model_for("summarize").id == "llama3.2:3b"
    assert again.catalog.get("llama3.2:3b").category == "worker"  # type: ignore[union-attr]
    again.add_model("my-finetune", "frontier", prompt_price="0.000001", completion_price="0.000002")
    again.close()
    third = new()
    custom = third.catalog.get("my-finetune")
    assert custom is not None and custom.price is not None
    assert custom.price.completion == Decimal("0.000002") and custom.category == "frontier"
    third.close()


def test_r1_3_half_a_price_is_refused(make_app) -> None:
    app = make_app()
    with pytest.raises(InvalidRequest):
        app.add_model("x/y", "worker", prompt_price="0.1")
