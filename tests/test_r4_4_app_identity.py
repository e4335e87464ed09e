"""Issue 15, item 4 — R2.3 / R4.4: an app's identity on a device is its ``app_id``. A second,
unrelated app that only shares the display name (same derived id, other features) is refused
with ``AppIdTaken`` before it opens anything of the first: never its remembered key, allowance,
history or declaration. The Quickstart shows ``app_id=`` up front."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

import byom
import byom.store.vault as vault_module
from byom.core.errors import AppIdTaken
from byom.sim import Simulator
from conftest import CANARY_KEY, user

README = Path(__file__).resolve().parents[1] / "README.md"
SUMMARIZE = byom.Feature("summarize", "worker", "Five-bullet summary")
TRANSLATE = byom.Feature("translate", "worker", "Into Dutch")


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)


def test_r4_4_a_same_named_app_with_other_features_is_refused(
    sim: Simulator, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with byom.App("Notes", [SUMMARIZE], data_dir=data) as first:
        first.connect(
            "openrouter",
            key=CANARY_KEY,
            base_url=sim.openrouter_base,
            remember=True,
            allow_plain_file=True,
        )
        first.set_allowance(Decimal("0.50"), period="day")
        first.chat("summarize", user("hi"), max_tokens=20)
        declaration = first.store.get_setting(first.app_id, "declaration")

    with pytest.raises(AppIdTaken) as caught:
        byom.App("Notes", [TRANSLATE], data_dir=data)
    error = caught.value
    assert error.code == "app_id_taken"
    assert "app_id='notes'" in error.message and "summarize" in error.message
    assert CANARY_KEY not in str(error) and CANARY_KEY not in repr(error.args)

    # The first app's record is untouched and it still finds its key.
    with byom.App("Notes", [SUMMARIZE], data_dir=data) as again:
        assert again.store.get_setting(again.app_id, "declaration") == declaration
        assert again.connected and again.key_location() == ["memory", "file"]
        assert [a.amount for a in again.allowances()] == [Decimal("0.50")]

    # Its own id: a fresh app, with no key, allowance or history of the first.
    with byom.App("Notes", [TRANSLATE], app_id="notes-translate", data_dir=data) as other:
        assert not other.connected
        assert other.allowances() == [] and other.history() == []


def test_r4_4_the_same_app_keeps_its_identity(sim: Simulator, tmp_path: Path) -> None:
    data = tmp_path / "data"
    byom.App("Notes", [SUMMARIZE, TRANSLATE], data_dir=data).close()
    # The same features in another order, or with new descriptions: the same app.
    reworded = [byom.Feature("translate", "worker", "Into English"), SUMMARIZE]
    byom.App("Notes", reworded, data_dir=data).close()
    # A feature's category changed: another declaration, refused when the id is derived...
    with pytest.raises(AppIdTaken):
        byom.App("Notes", [byom.Feature("summarize", "frontier"), TRANSLATE], data_dir=data)
    # ...and accepted from an app that states its id: it owns it, and may change its features.
    changed = [SUMMARIZE, TRANSLATE, byom.Feature("critique", "frontier")]
    with byom.App("Notes", changed, app_id="notes", data_dir=data) as owner:
        stored = json.loads(owner.store.get_setting("notes", "declaration") or "{}")
        assert {f["name"] for f in stored["features"]} == {"summarize", "translate", "critique"}


def test_r4_4_the_quickstart_gives_the_app_its_id() -> None:
    text = README.read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    first_code = quickstart.split("```python", 1)[1].split("```", 1)[0]
    construction = first_code.split("byom.App(", 1)[1].split("app.connect", 1)[0]
    assert re.search(r"\bapp_id=", construction), first_code[:300]
    assert "app_id" in quickstart.split("```python", 1)[0] + quickstart.split("```", 2)[2]
