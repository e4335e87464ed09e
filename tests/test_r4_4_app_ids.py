"""R2.3 / R4.4, break 11: two app names must never share one app id on a device.

``app_id_for`` maps "Réader" and "R ader" to the same id, ``r-ader``. Without a check the second
app would open the first one's ledger, history and key vault: its remembered key and its spend.
The store records which name claimed an id; another name deriving it is refused with
``AppIdTaken`` unless it passes ``app_id=`` explicitly.
"""

from __future__ import annotations

import asyncio
import json
import sys
import types
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
import byom.store.vault as vault_module
from byom.core.errors import AppIdTaken, InvalidRequest
from byom.identity import app_id_for
from byom.sim import Simulator
from byom.store.sqlite import SQLiteStore
from conftest import CANARY_KEY, SUMMARIZE, user

FIRST = "Réader"  # NFC: "R\u00e9ader"
SECOND = "R ader"


@pytest.fixture
def open_app(sim: Simulator, tmp_path: Path) -> Iterator[Callable[..., byom.App]]:
    apps: list[byom.App] = []

    def factory(name: str, **kwargs: Any) -> byom.App:
        app = byom.App(name, [SUMMARIZE], data_dir=tmp_path / "data", **kwargs)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


def _used(app: byom.App, sim: Simulator) -> None:
    """Remember the key in the consented file and spend some money."""
    app.connect(
        "openrouter",
        key=CANARY_KEY,
        base_url=sim.openrouter_base,
        remember=True,
        allow_plain_file=True,
    )
    app.choose_model("summarize", "openai/gpt-4o-mini")
    assert app.chat("summarize", user("hi"), max_tokens=20).cost
    assert app.spent("total") > 0


def test_r4_4_colliding_names_are_refused_before_any_data_is_opened(
    open_app, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert app_id_for(FIRST) == app_id_for(SECOND) == "r-ader"  # the collision itself
    first = open_app(FIRST)
    _used(first, sim)

    opened: list[str] = []
    real_vault = vault_module.KeyVault

    def spy(directory: Any, app_id: str) -> Any:
        opened.append(app_id)
        return real_vault(directory, app_id)

    monkeypatch.setattr(vault_module, "KeyVault", spy)
    with pytest.raises(AppIdTaken) as caught:
        open_app(SECOND)
    assert caught.value.code == "app_id_taken"
    assert "app_id=" in caught.value.message
    assert CANARY_KEY not in caught.value.message
    assert opened == []  # refused before the key vault was touched

    # The documented way out: an explicit id of its own — and it sees nothing of the first.
    second = open_app(SECOND, app_id="r-ader-2")
    assert not second.connected
    assert second.vault.get(first.adapter.origin) is None
    assert second.spent("total") == Decimal(0) and second.history() == []
    assert first.spent("total") > 0 and first.connected


def test_r4_4_the_same_name_reopens_and_keeps_its_claim(open_app, sim: Simulator) -> None:
    first = open_app(FIRST)
    _used(first, sim)
    spent = first.spent("total")
    first.close()
    again = open_app(FIRST)  # the same name is the same app: its key and spend come back
    assert again.app_id == "r-ader"
    assert again.connected and "file" in again.key_location()
    assert again.spent("total") == spent
    again.close()
    with pytest.raises(AppIdTaken):
        open_app(SECOND)


def test_r2_3_a_renamed_app_is_refused_unless_it_pins_its_old_id(open_app, sim: Simulator) -> None:
    old = open_app("Paper digest")
    assert old.app_id == "paper-digest"  # existing ids do not change
    _used(old, sim)
    old.close()
    with pytest.raises(AppIdTaken) as caught:
        open_app("Paper Digest")
    assert "app_id='paper-digest'" in caught.value.message
    renamed = open_app("Paper Digest", app_id="paper-digest")
    assert renamed.connected and renamed.spent("total") > 0
    # The claim stays with the first name: an explicit id never moves it.
    renamed.close()
    assert open_app("Paper digest").connected


def test_r4_4_app_load_by_id_still_works(open_app, sim: Simulator, tmp_path: Path) -> None:
    first = open_app(FIRST)
    _used(first, sim)
    first.close()
    loaded = byom.App.load("r-ader", data_dir=tmp_path / "data")
    try:
        assert loaded.name == FIRST and loaded.connected
        assert loaded.spent("total") > 0
    finally:
        loaded.close()
    with pytest.raises(AppIdTaken):
        open_app(SECOND)


def test_r4_4_an_old_store_with_only_a_declaration_keeps_working(open_app, tmp_path: Path) -> None:
    """A store written before claims existed: its saved declaration's name is the claim."""
    store = SQLiteStore(tmp_path / "data")
    declaration = {
        "name": "Paper digest",
        "features": [
            {"name": "summarize", "category": "worker", "description": "Five-bullet summary"}
        ],
    }
    store.set_setting("paper-digest", "declaration", json.dumps(declaration, sort_keys=True))
    store.set_setting("paper-digest", "model:openrouter:summarize", "openai/gpt-4o")
    store.close()

    with pytest.raises(AppIdTaken):
        open_app("Paper  Digest!")  # another name deriving paper-digest
    app = open_app("Paper digest")
    assert app.model_for("summarize").id == "openai/gpt-4o"
    loaded = byom.App.load("paper-digest", data_dir=tmp_path / "data")
    loaded.close()


def test_r4_4_ids_of_existing_names_are_stable_and_non_ascii_names_get_their_own() -> None:
    assert app_id_for("Paper digest") == "paper-digest"
    assert app_id_for("Paper Digest") == "paper-digest"
    assert app_id_for(FIRST) == "r-ader"  # unchanged: existing users keep their data
    # Names with no ASCII letter or digit used to be refused; each now gets its own id.
    a, b = app_id_for("読書"), app_id_for("書籍")
    assert a != b and a.startswith("app-") and a == app_id_for("読書")
    with pytest.raises(InvalidRequest):
        app_id_for("!!! ---")


# -- the browser shell ---------------------------------------------------------------------------


class _Origin:
    """One site's IndexedDB (rows ``<app id>|<key>``) and localStorage, as ``boot.js`` sees it."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.local: dict[str, str] = {}

    # StorageHost
    async def load(self, app_id: str) -> str:
        prefix = app_id + "|"
        return json.dumps(
            {k[len(prefix) :]: v for k, v in self.rows.items() if k.startswith(prefix)}
        )

    async def write(self, app_id: str, puts_json: str, deletes_json: str) -> None:
        for key, value in json.loads(puts_json).items():
            self.rows[app_id + "|" + key] = value
        for key in json.loads(deletes_json):
            self.rows.pop(app_id + "|" + key, None)

    async def lock(self, name: str) -> Callable[[], None]:
        return lambda: None

    def emit(self, text: str) -> None:
        pass

    # localStorage
    def getItem(self, key: str) -> str | None:
        return self.local.get(key)

    def setItem(self, key: str, value: str) -> None:
        self.local[key] = value

    def removeItem(self, key: str) -> None:
        self.local.pop(key, None)

    @property
    def length(self) -> int:
        return len(self.local)

    def key(self, index: int) -> str:
        return list(self.local)[index]


def test_r4_4_the_browser_shell_refuses_a_name_derived_collision_on_one_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every app served from one origin shares its IndexedDB and localStorage, namespaced by app
    id, so the shell applies the same rule to an id derived from the name."""
    from byom.web import WebApp
    from byom.web.browser import shell as shell_module

    site = _Origin()
    monkeypatch.setitem(sys.modules, "js", types.SimpleNamespace(localStorage=site))
    config = json.dumps({"providers": []})  # byom-app.toml pins no id matching these apps

    first = asyncio.run(shell_module.start(WebApp(FIRST), site, config))
    assert first.app.app_id == "r-ader"
    site.local["byom:r-ader:key:https://openrouter.ai"] = CANARY_KEY  # remembered by the first
    with pytest.raises(AppIdTaken):
        asyncio.run(shell_module.start(WebApp(SECOND), site, config))
    again = asyncio.run(shell_module.start(WebApp(FIRST), site, config))
    assert again.app.app_id == "r-ader"
    # Pinned ids (byom-app.toml's app_id, or WebApp(app_id=...)) are used as given.
    pinned = json.dumps({"providers": [], "app_id": "r-ader"})
    asyncio.run(shell_module.start(WebApp(SECOND, app_id="r-ader"), site, pinned))
    own = asyncio.run(shell_module.start(WebApp(SECOND, app_id="r-ader-2"), site, config))
    assert own.vault.get("https://openrouter.ai") is None
