"""R3.4: only an unreconciled request of this app can be cleared or reconciled.

Break 4 of the adversarial review: ``App.clear_unreconciled`` took any ledger id — a committed
call's, another app's — and set its counted spend to $0, so more requests got past a strict
allowance than it allowed. Now anything but an unreconciled row of this app raises
``InvalidRequest`` and changes nothing, in the core, the browser shell and the CLI.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.core.call import apply_generation
from byom.core.errors import BudgetExceeded, Interrupted, InvalidRequest, ProviderUnavailable
from byom.core.store import LedgerRow
from byom.core.usage import GenerationInfo, Usage
from byom.sim import Simulator
from conftest import CANARY_KEY, SUMMARIZE, chat_count, user
from test_web_build import FakeStorage

ALL_STATES = frozenset({"reserved", "committed", "released", "unreconciled", "cleared"})


def _row(app: byom.App, row_id: str) -> LedgerRow:
    (row,) = [r for r in app.store.ledger_rows(app.app_id, ALL_STATES) if r.id == row_id]
    return row


def _cut_stream(app: byom.App, sim: Simulator) -> LedgerRow:
    """One request whose stream is cut before usage: it stays counted as unreconciled."""
    before = {r.id for r in app.unreconciled()}
    sim.push_faults([{"kind": "cut_before_usage"}])
    with pytest.raises(Interrupted):
        for _item in app.stream("summarize", user("cut me"), max_tokens=200):
            pass
    (row,) = [r for r in app.unreconciled() if r.id not in before]
    return row


def _refused(call: Any, app: byom.App, row_id: str) -> InvalidRequest:
    """``call(row_id)`` must raise InvalidRequest without echoing the id, changing nothing."""
    spent = app.spent("total")
    rows = app.store.ledger_rows(app.app_id, ALL_STATES)
    with pytest.raises(InvalidRequest) as info:
        call(row_id)
    error = info.value
    assert error.code == "invalid_request"
    assert len(row_id) <= 8 or row_id not in str(error)  # at most a short prefix is echoed
    assert app.spent("total") == spent
    assert app.store.ledger_rows(app.app_id, ALL_STATES) == rows
    return error


def _other_app(sim: Simulator, data_dir: Path) -> byom.App:
    other = byom.App("Other app", features=[SUMMARIZE], data_dir=data_dir)
    other.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base)
    other.choose_model("summarize", "openai/gpt-4o-mini")
    return other


def test_r3_4_clearing_committed_calls_cannot_stretch_a_strict_allowance(
    make_app, sim: Simulator
) -> None:
    """The review's exploit: clear every committed call's id after it lands."""
    app = make_app()
    allowance = Decimal("0.0006")
    app.set_allowance(allowance, strict=True)
    charged = Decimal(0)
    with pytest.raises(BudgetExceeded):
        for _ in range(20):
            reply = app.chat("summarize", user("hello"), max_tokens=300)
            assert reply.cost is not None
            charged += reply.cost
            with pytest.raises(InvalidRequest):
                app.clear_unreconciled(reply.call_id)
            assert _row(app, reply.call_id).state == "committed"
    assert charged <= allowance
    assert app.spent() == charged
    assert chat_count(sim) < 20


def test_r3_4_a_committed_id_is_refused_and_not_echoed(make_app) -> None:
    app = make_app()
    reply = app.chat("summarize", user("hello"), max_tokens=100)
    row = _row(app, reply.call_id)
    error = _refused(app.clear_unreconciled, app, reply.call_id)
    assert reply.call_id[:8] in str(error)  # a short prefix helps the user find it
    assert _row(app, reply.call_id) == row
    assert app.spent() == reply.cost


@pytest.mark.parametrize(
    "bad_id",
    ["nope", "", "0" * 32, "x" * 5000, "abc\n\x1b[31mDROP TABLE ledger; --", "' OR 1=1 --"],
)
def test_r3_4_an_unknown_id_is_refused(make_app, sim: Simulator, bad_id: str) -> None:
    app = make_app()
    app.chat("summarize", user("hello"), max_tokens=100)
    row = _cut_stream(app, sim)
    error = _refused(app.clear_unreconciled, app, bad_id)
    assert "\n" not in str(error) and "\x1b" not in str(error) and "DROP" not in str(error)
    assert [r.id for r in app.unreconciled()] == [row.id]  # the real one still counts


def test_r3_4_another_apps_rows_cannot_be_cleared(make_app, sim: Simulator, tmp_path) -> None:
    """Two apps (different names) share one data dir: neither clears the other's rows."""
    app = make_app()
    other = _other_app(sim, tmp_path / "data")
    try:
        reply = other.chat("summarize", user("hello"), max_tokens=100)
        cut = _cut_stream(other, sim)
        other_spent = other.spent("total")
        for row_id in (reply.call_id, cut.id):
            _refused(app.clear_unreconciled, app, row_id)
        assert other.spent("total") == other_spent
        assert [r.id for r in other.unreconciled()] == [cut.id]
        assert _row(other, reply.call_id).state == "committed"
        other.clear_unreconciled(cut.id)  # its own app can
        assert other.spent("total") == other_spent - Decimal(cut.estimate_pico) / 10**12
    finally:
        other.close()


def test_r3_4_reserved_released_and_cleared_rows_are_refused(make_app, sim: Simulator) -> None:
    app = make_app()
    # reserved: a stream in flight
    stream = app.stream("summarize", user("a long one"), max_tokens=200)
    next(stream)
    (reserved,) = app.ledger.open_rows()
    assert reserved.state == "reserved"
    _refused(app.clear_unreconciled, app, reserved.id)
    assert app.in_flight()
    stream.close()  # cancelled after sending: now unreconciled, and then it can be cleared
    assert _row(app, reserved.id).state == "unreconciled"
    app.clear_unreconciled(reserved.id)
    assert _row(app, reserved.id).state == "cleared"
    # cleared: not a second time
    _refused(app.clear_unreconciled, app, reserved.id)
    # released: the provider refused, nothing was spent
    sim.push_faults([{"kind": "status", "status": 503}])
    with pytest.raises(ProviderUnavailable):
        app.chat("summarize", user("hello"), max_tokens=100)
    released = app.history()[0].id
    assert _row(app, released).state == "released"
    _refused(app.clear_unreconciled, app, released)


def test_r3_4_clearing_a_real_unreconciled_request_still_works(make_app, sim: Simulator) -> None:
    app = make_app()
    reply = app.chat("summarize", user("hello"), max_tokens=100)
    row = _cut_stream(app, sim)
    assert app.spent() == reply.cost + Decimal(row.estimate_pico) / 10**12
    app.clear_unreconciled(row.id)
    assert app.spent() == reply.cost
    assert app.unreconciled() == []
    cleared = _row(app, row.id)
    assert cleared.state == "cleared" and cleared.counted_pico == 0


def test_r3_4_reconcile_applies_only_to_an_unreconciled_row_of_this_app(
    make_app, sim: Simulator, tmp_path
) -> None:
    """``apply_generation`` (what ``App.reconcile`` runs) cannot commit a cleared, committed or
    another app's row — a row cleared by the user must not come back counted, or uncounted."""
    app = make_app()
    row = _cut_stream(app, sim)
    app.clear_unreconciled(row.id)
    info = GenerationInfo(row.generation_id or "gen", Decimal("0.25"), Usage(10, 10))
    spent = app.spent("total")
    with pytest.raises(InvalidRequest):
        apply_generation(app.calls, row, info)
    assert app.spent("total") == spent and _row(app, row.id).state == "cleared"

    reply = app.chat("summarize", user("hello"), max_tokens=100)
    committed = _row(app, reply.call_id)
    with pytest.raises(InvalidRequest):
        apply_generation(app.calls, committed, info)
    assert _row(app, reply.call_id) == committed

    other = _other_app(sim, tmp_path / "data")
    try:
        foreign = _cut_stream(other, sim)
        with pytest.raises(InvalidRequest):
            apply_generation(app.calls, foreign, info)
        assert _row(other, foreign.id) == foreign
        assert app.history()[0].id == reply.call_id  # no history row was made up for it
        record = apply_generation(other.calls, foreign, info)  # its own app can
        assert record.cost == Decimal("0.25") and _row(other, foreign.id).state == "committed"
    finally:
        other.close()


# -- the CLI ------------------------------------------------------------------------------------


def _byom(data_dir: Path, *args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "LC_ALL": "C.UTF-8",
        "BYOM_DATA_DIR": str(data_dir),
        "COLUMNS": "200",
        "HOME": str(data_dir.parent),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "byom", *args, "--app", "paper-digest", "--lang", lang],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_r3_4_byom_reconcile_clear_refuses_anything_but_this_apps_unreconciled(
    make_app, sim: Simulator, tmp_path
) -> None:
    data_dir = tmp_path / "data"
    app = make_app()
    reply = app.chat("summarize", user("hello"), max_tokens=100)
    row = _cut_stream(app, sim)
    other = _other_app(sim, data_dir)
    try:
        foreign = _cut_stream(other, sim)
    finally:
        other.close()
    spent = app.spent("total")
    for bad in (reply.call_id, foreign.id, "nope"):
        out = _byom(data_dir, "reconcile", "--clear", bad)
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr and "Error" not in out.stderr
        assert "No unreconciled request has the id" in out.stderr
        nl = _byom(data_dir, "reconcile", "--clear", bad, lang="nl")
        assert nl.returncode == 1 and "Geen onafgerekend verzoek" in nl.stderr
    assert app.spent("total") == spent
    out = _byom(data_dir, "reconcile", "--clear", row.id, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["cleared"] == [row.id]
    assert app.spent("total") == reply.cost


# -- the browser shell (its Python layer, with a fake IndexedDB) --------------------------------


class _FakeHost:
    """IndexedDB rows and one Web Lock, shared by the stores ("tabs") built over it."""

    def __init__(self, rows: dict[str, str], lock: asyncio.Lock) -> None:
        self.rows, self._lock = rows, lock

    async def load(self, app_id: str) -> str:
        prefix = app_id + "|"
        return json.dumps(
            {k[len(prefix) :]: v for k, v in self.rows.items() if k.startswith(prefix)}
        )

    async def write(self, app_id: str, puts: str, deletes: str) -> None:
        for key, value in json.loads(puts).items():
            self.rows[f"{app_id}|{key}"] = value
        for key in json.loads(deletes):
            self.rows.pop(f"{app_id}|{key}", None)

    async def lock(self, name: str) -> Any:
        await self._lock.acquire()
        return self._lock.release


def test_r3_4_browser_shell_clears_only_this_apps_unreconciled_rows() -> None:
    from byom.web.app import WebApp
    from byom.web.browser.shell import Shell
    from byom.web.browser.store import BrowserStore, row_from_json, row_to_json
    from byom.web.browser.vault import BrowserVault

    def ledger(state: str, row_id: str, app_id: str = "reader") -> LedgerRow:
        return LedgerRow(row_id, app_id, "s", "tab", 1.0, state, 7_000_000, 7_000_000)  # type: ignore[arg-type]

    async def scenario() -> dict[str, Any]:
        rows: dict[str, str] = {}
        for row in (
            ledger("committed", "c1"),
            ledger("unreconciled", "u1"),
            ledger("reserved", "r1"),
            ledger("unreconciled", "x1", app_id="other"),
        ):
            rows[f"{row.app_id}|L:{row.id}"] = row_to_json(row)
        lock = asyncio.Lock()

        async def tab() -> Shell:
            store = BrowserStore(_FakeHost(rows, lock), "reader")
            await store.load()
            vault = BrowserVault(FakeStorage(), "reader")
            return Shell(WebApp("Reader", app_id="reader"), store, vault, [], lambda _: None)

        first, second = await tab(), await tab()
        answers = {
            row_id: json.loads(await first.clear_unreconciled(row_id))
            for row_id in ("c1", "r1", "x1", "nope")
        }
        answers["u1"] = json.loads(await first.clear_unreconciled("u1"))
        # the second tab loaded before the first cleared u1: it must not clear it again
        answers["u1 again"] = json.loads(await second.clear_unreconciled("u1"))
        states = {k: row_from_json(v).state for k, v in rows.items() if "|L:" in k}
        return {"answers": answers, "states": states, "spent": first.app.spent("total")}

    result = asyncio.run(scenario())
    answers, states = result["answers"], result["states"]
    for row_id in ("c1", "r1", "x1", "nope", "u1 again"):
        assert answers[row_id] == {"ok": False, "code": "invalid_request", "status": None}, row_id
    assert answers["u1"] == {"ok": True}
    assert states == {
        "reader|L:c1": "committed",
        "reader|L:u1": "cleared",
        "reader|L:r1": "reserved",
        "other|L:x1": "unreconciled",
    }
    assert result["spent"] == Decimal("0.000014")  # c1 and r1 still count
