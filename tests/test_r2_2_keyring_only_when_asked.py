"""Issue 15, item 9 — R2.2: the OS keyring is looked for only when persistence is involved.

Detecting the keyring backend is slow, and an app that never asked to remember a key must not
pay for it on every ``App()``. A key remembered in the keyring leaves a marker (origins only), so
a return visit still finds it — asking the keyring for exactly that origin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import byom
import byom.store.vault as vault_module
from byom.sim import Simulator
from conftest import CANARY_KEY, SUMMARIZE


class FakeKeyring:
    """A keyring backend in memory that counts how often byom looked for one."""

    def __init__(self) -> None:
        self.lookups = 0
        self.items: dict[tuple[str, str], str] = {}

    def module(self) -> Any:
        self.lookups += 1
        return self

    def set_password(self, service: str, user: str, value: str) -> None:
        self.items[(service, user)] = value

    def get_password(self, service: str, user: str) -> str | None:
        return self.items.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        self.items.pop((service, user), None)


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> FakeKeyring:
    fake = FakeKeyring()
    monkeypatch.setattr(vault_module, "_keyring_module", fake.module)
    return fake


def _app(data: Path) -> byom.App:
    return byom.App("Paper digest", [SUMMARIZE], app_id="paper-digest", data_dir=data)


def test_r2_2_app_start_never_looks_for_a_keyring_without_a_remembered_key(
    keyring: FakeKeyring, sim: Simulator, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with _app(data) as first:
        first.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base)
        first.chat("summarize", [{"role": "user", "content": "hi"}], max_tokens=20)
    assert keyring.lookups == 0  # connect with the key held in memory: no keyring either
    for _ in range(3):  # return visits: the connection was saved, the key was not
        with _app(data) as again:
            assert not again.connected
    assert keyring.lookups == 0


def test_r2_2_a_key_remembered_in_the_keyring_is_found_on_the_next_visit(
    keyring: FakeKeyring, sim: Simulator, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with _app(data) as first:
        first.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base, remember=True)
        assert first.key_location() == ["memory", "keyring"]
    marker = data / "keys" / "paper-digest.keyring"
    assert json.loads(marker.read_text()) == [sim.base_url]  # the origin, never the key
    assert CANARY_KEY not in marker.read_text()
    with _app(data) as again:
        assert again.connected  # found through the keyring, as the marker said
        assert again.chat("summarize", [{"role": "user", "content": "hi"}], max_tokens=20).cost
        again.forget_key()
    assert not marker.exists() and keyring.items == {}
    before = keyring.lookups
    with _app(data) as after:
        assert not after.connected
    assert keyring.lookups == before  # forgotten: the marker is gone, so is the look-up


def test_r2_2_a_fresh_process_does_not_load_the_keyring_package(
    sim: Simulator, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with _app(data) as first:  # a saved connection whose key was held in memory only
        first.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base)
    code = (
        "import sys, byom\n"
        f"app = byom.App('Paper digest', [byom.Feature('summarize', 'worker')], "
        f"app_id='paper-digest', data_dir={str(data)!r})\n"
        "print(app.connected, 'keyring' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
