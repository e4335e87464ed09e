"""The asyncio twins of the App API, and the admission hook the browser uses (R3.5)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

import byom
from byom.core.errors import KeyRejected, ProviderUnavailable
from byom.sim import Simulator
from conftest import CANARY_KEY, SUMMARIZE, user


def test_avalidate_key_and_arefresh_models(make_app, sim: Simulator) -> None:
    app = make_app()

    async def run() -> None:
        info = await app.avalidate_key()
        assert info.limit == Decimal("10")
        catalog = await app.arefresh_models()
        assert catalog.source == "openrouter" and "openai/gpt-4o-mini" in catalog  # its real source

    asyncio.run(run())


def test_avalidate_key_401_clears_the_key(make_app, sim: Simulator) -> None:
    app = make_app(key="sk-sim-bad-key-000000000000")
    with pytest.raises(KeyRejected):
        asyncio.run(app.avalidate_key())
    assert not app.connected


def test_transport_failures_of_side_requests_are_byom_errors(make_app, sim: Simulator) -> None:
    app = make_app(connect=False)
    app.connect("openrouter", key=CANARY_KEY, base_url="http://127.0.0.1:1/api/v1")
    with pytest.raises(ProviderUnavailable):
        app.validate_key()
    with pytest.raises(ProviderUnavailable):
        asyncio.run(app.avalidate_key())


def test_r3_5_admission_hook_wraps_check_and_reserve(sim: Simulator, tmp_path: Path) -> None:
    entered: list[str] = []

    @contextlib.asynccontextmanager
    async def admission() -> AsyncIterator[None]:
        entered.append("in")
        yield
        entered.append("out")

    app = byom.App("Paper digest", [SUMMARIZE], data_dir=tmp_path, admission=admission)
    app.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base)
    asyncio.run(app.achat("summarize", user("hi"), max_tokens=20))
    assert entered == ["in", "out"]
    assert app.in_flight_count() == 0
    app.close()
