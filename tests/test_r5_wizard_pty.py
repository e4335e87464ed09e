"""R5.1–R5.4, R2.1–R2.2, R2.6, pitfall 7 — the connection wizard, driven in a real pty at 80×24
against ``byom sim`` through the example terminal app.

Set ``BYOM_CAPTURE_DIR=docs/terminal`` to (re)write the text captures of every screen.
"""

from __future__ import annotations

import re
import stat
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from byom.locales import Messages
from byom.sim import Simulator
from conftest import chat_count, wait_until
from r5_pty import (
    APP,
    APP_ID,
    INFO_STEPS,
    KEY,
    Session,
    base_env,
    before,
    capture,
    check_ok,
    example_argv,
    header,
    plain,
    walk_wizard,
)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as running:
        yield running


@pytest.fixture()
def fresh_sim(sim: Simulator) -> Simulator:
    sim.reset()
    return sim


@pytest.fixture()
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "home"
    data = home / ".local" / "share" / "byom"  # where platformdirs puts it on Linux
    home.mkdir()
    return home, data


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r5_2_wizard_screens_in_order_key_hidden_and_nothing_persisted(
    fresh_sim: Simulator, dirs: tuple[Path, Path], lang: str
) -> None:
    home, data = dirs
    tr = Messages(lang)
    s = Session(
        example_argv("summarize", "--base-url", fresh_sim.openrouter_base),
        base_env(home, data, lang),
    )
    shots: dict[str, str] = {}
    try:
        # "abc" and "" are refused and asked again; then a Dutch or English amount is accepted.
        amount = "2,50" if lang == "nl" else "2.50"
        walk_wizard(s, tr, allowance=("abc", "", amount), shots=shots)
        s.expect_text("summarize · ")
        s.expect(r"(session total \$0\.0|sessie totaal \$ 0,0)")
        status = s.finish()
    finally:
        s.close()
    assert status == 0
    output = s.output()

    # R5.2/R5.3: every screen, in this order (pexpect consumed them in sequence; the positions of
    # the titles in the full output confirm it).
    titles = [tr(f"wizard.{step}.title", app=APP) for step in INFO_STEPS]
    titles += [
        tr("wizard.key.title"),
        tr("wizard.check.title"),
        tr("wizard.remember.title"),
        tr("wizard.allowance.title"),
    ]
    positions = [output.find(title) for title in titles]
    assert -1 not in positions and positions == sorted(positions)
    model_title = output.find(tr("wizard.model.title", feature=""))
    assert positions[-2] < model_title < positions[-1]
    if lang == "nl":
        assert "stap 1 van 9" in output and "Je sleutel" in output and "Je budget" in output
        assert "step 1 of 9" not in output
    # The threat model says what it cannot promise (R5.2), visibly, on its own screen.
    assert tr("wizard.threat.body", app=APP).split("\n")[4] in plain(shots["04-threat"])

    # R2.1/R2.5: the key was never echoed, in the raw output or on any screen.
    assert KEY not in output and KEY[:20] not in output
    assert all(KEY[:20] not in shot for shot in shots.values())
    # The key prompt really was hidden, and the prompt came before the check screen.
    assert output.find(tr("wizard.key.prompt").strip()) < output.find(check_ok(tr))

    # R2.2: persistence defaulted to No; nothing was written (no key folder, no key bytes).
    assert "[y/N]" in shots["07-remember"] or "[j/N]" in shots["07-remember"]
    assert tr("where.memory", app=APP) in plain(shots["10-done"])
    assert not (data / "keys").exists()
    for path in data.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()
    assert not (home / ".local" / "share" / "python_keyring").exists()

    # Pitfall 5: refused amounts were asked again; the accepted one (Dutch "2,50") is stored.
    assert tr("wizard.allowance.invalid") in plain(output)
    from byom.app import App

    with App.load(APP_ID, data_dir=data) as app:
        assert not app.connected
        allowances = app.allowances()
        assert [(a.amount, a.period) for a in allowances] == [(Decimal("2.50"), "month")]
        records = app.history()
        assert len(records) == 1 and records[0].outcome == "ok" and records[0].cost

    for name, screen in shots.items():
        capture(lang, name, screen)


def test_r2_2_remember_yes_writes_a_0600_file_and_reconnects_without_wizard(
    fresh_sim: Simulator, dirs: tuple[Path, Path]
) -> None:
    home, data = dirs
    tr = Messages("en")
    env = base_env(home, data, "en")
    s = Session(example_argv("summarize", "--base-url", fresh_sim.openrouter_base), env)
    try:
        walk_wizard(s, tr, remember=True)
        s.expect_text("session total")
        assert s.finish() == 0
    finally:
        s.close()
    key_file = data / "keys" / f"{APP_ID}.json"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert KEY not in s.output()
    # The next start finds the remembered key: no wizard, straight to the reply.
    s = Session(example_argv("critique", "--base-url", fresh_sim.openrouter_base), env)
    try:
        s.expect_text("session total")
        assert s.finish() == 0
    finally:
        s.close()
    assert tr("wizard.intro.title", app=APP) not in s.output()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r5_4_pkce_in_the_browser_end_to_end(
    fresh_sim: Simulator, dirs: tuple[Path, Path], tmp_path: Path, lang: str
) -> None:
    """Choose "browser": the wizard listens on a loopback port, "opens" the authorize page (a
    stand-in browser follows the simulator's redirect to the callback), exchanges the code with
    its verifier, and continues with that key — never shown."""
    home, data = dirs
    browser = tmp_path / "fake-browser"
    browser.write_text(
        f"#!{sys.executable}\n"
        "import sys, urllib.request\n"
        "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
        "with opener.open(sys.argv[1], timeout=10) as page:\n"
        "    page.read()\n"
        "open(sys.argv[0] + '.visited', 'w').write('yes')\n",
        encoding="utf-8",
    )
    browser.chmod(0o755)
    tr = Messages(lang)
    env = base_env(home, data, lang, BROWSER=str(browser))
    shots: dict[str, str] = {}
    s = Session(example_argv("summarize", "--base-url", fresh_sim.openrouter_base), env)
    try:
        walk_wizard(s, tr, browser=True, shots=shots)
        s.expect_text(tr("live.session", total="$ 0,0" if lang == "nl" else "$0.0"))
        assert s.finish() == 0
    finally:
        s.close()
    assert (tmp_path / "fake-browser.visited").exists()
    counts = fresh_sim.counts()
    assert counts.get("/auth") == 1
    assert counts.get("/api/v1/auth/keys") == 1
    assert counts.get("/api/v1/key") == 1
    output = s.output()
    assert "sk-or-v1-sim-" not in output  # the exchanged key is never shown
    assert re.search(
        r"http://127\.0\.0\.1:\d+/auth\?callback_url=http%3A%2F%2F127\.0\.0\.1", output
    )
    assert "code_challenge_method=S256" in output
    assert not (data / "keys").exists()
    capture(lang, "05-key-browser", shots["05-key-browser"])


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r2_6_a_401_brings_the_wizard_back_and_a_403_keeps_the_key(
    fresh_sim: Simulator, dirs: tuple[Path, Path], lang: str
) -> None:
    home, data = dirs
    tr = Messages(lang)
    s = Session(example_argv("--base-url", fresh_sim.openrouter_base), base_env(home, data, lang))
    menu = "Keuze: " if lang == "nl" else "Choice: "
    total = tr("live.session", total="$ 0,0" if lang == "nl" else "$0.0")
    try:
        s.expect_text(menu)  # R5.1: the app starts on its own menu, not on the wizard
        assert tr("wizard.intro.title", app=APP) not in s.output()
        s.enter("3")
        walk_wizard(s, tr)
        s.expect_text(total)
        s.expect_text(menu)

        # 403: moderation flagged the input — say so, keep the key, no wizard.
        fresh_sim.push_faults([{"status": 403}])
        mark = len(s.output())
        s.enter("3")
        s.expect_text(menu)
        after_403 = plain(s.output()[mark:])
        assert tr("error.moderation_flagged", provider="OpenRouter") in after_403
        assert header(tr, 1, 3) not in after_403 and header(tr, 1, 9) not in after_403
        s.enter("4")  # the key still works for the next feature
        s.expect_text("critique · ")
        s.expect_text(total)
        s.expect_text(menu)

        # 401: the key is stale — it is cleared and the wizard comes back (steps 5–7 only).
        fresh_sim.push_faults([{"status": 401}])
        s.enter("3")
        s.expect_text(tr("error.key_rejected", provider="OpenRouter")[:30])
        s.expect_text(header(tr, 1, 3))
        s.expect_text(before(tr, "wizard.key.reconnect", "asked"))
        s.expect_text(tr("wizard.key.choice"))
        capture(lang, "11-reconnect-after-401", s.screen())
        s.enter("1")
        s.expect_text(tr("wizard.key.prompt").strip())
        assert s.child.waitnoecho(timeout=60)
        s.enter("sk-or-v1-second-key-0123456789")
        s.expect_text(check_ok(tr))
        s.enter()
        s.expect_text(tr("wizard.remember.question"))
        s.enter()
        s.expect_text(tr("wizard.done.title"))
        s.enter()
        s.expect_text(tr("run.retry", feature="summarize"))
        s.expect_text(total)
        s.expect_text(menu)
        s.enter("q")
        assert s.finish() == 0
    finally:
        s.close()
    output = s.output()
    assert output.count(header(tr, 1, 9)) == 1  # the full first-time wizard ran once
    assert KEY not in output and "sk-or-v1-second-key" not in output


def test_r4_5_ctrl_c_during_a_paid_stream_asks_first(
    fresh_sim: Simulator, dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, data = dirs
    # Connect once with a remembered key (consented file), so the app starts connected.
    import byom
    import byom.store.vault as vault_module
    from byom.app import App

    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)
    features = [
        byom.Feature("summarize", "worker", "a short summary of the text"),
        byom.Feature("critique", "frontier", "a careful critique of the text"),
    ]
    with App(APP, features, data_dir=data) as app:
        app.connect(
            "openrouter",
            key="sk-or-v1-ctrl-c-test",
            remember=True,
            allow_plain_file=True,
            base_url=fresh_sim.openrouter_base,
        )
    env = base_env(home, data, "en")

    # Each request is held at the simulator until released (or until the client hangs up), so
    # it is still pending when the question is answered, however slow the machine.
    held = [{"kind": "slow_first_byte", "seconds": 3600}]

    # 1. Ctrl-C while pending → asked first → "n" → the request completes and its cost lands.
    fresh_sim.push_faults(held)
    sent = chat_count(fresh_sim)
    s = Session(example_argv("summarize"), env)
    try:
        s.expect_text("summarize · ")
        s.expect_text("pending…")
        s.child.sendintr()
        s.expect_text("Stop it?")
        s.expect_text("[y/N]")
        s.enter("n")
        s.expect_text("Continuing")
        wait_until(lambda: chat_count(fresh_sim) == sent + 1, "the request to reach the sim")
        fresh_sim.release()
        s.expect_text("session total")
        assert s.finish() == 0
    finally:
        s.close()

    # 2. Ctrl-C → "y" → stopped; the request counts as possibly charged (unreconciled).
    fresh_sim.push_faults(held)  # "y" stops it: the hang-up ends the hold
    sent = chat_count(fresh_sim)
    s = Session(example_argv("summarize"), env)
    try:
        s.expect_text("pending…")
        # Stop it once it is really out (a Ctrl-C before the send stops nothing paid for).
        wait_until(lambda: chat_count(fresh_sim) == sent + 1, "the request to reach the sim")
        s.child.sendintr()
        s.expect_text("Stop it?")
        s.enter("y")
        s.expect_text("Stopped.")
        assert s.finish() == 1
    finally:
        s.close()
    assert "Traceback" not in s.output()
    with App.load(APP_ID, data_dir=data) as app:
        records = app.history()
        assert [r.outcome for r in records] == ["unreconciled", "ok"]
        assert records[0].error_code == "cancelled"
        assert not app.in_flight()

    # 3. A second Ctrl-C while the question is open stops at once.
    fresh_sim.push_faults(held)  # the stop hangs up, which ends the hold
    s = Session(example_argv("summarize"), env)
    try:
        s.expect_text("pending…")
        s.child.sendintr()
        s.expect_text("Stop it?")
        s.child.sendintr()
        s.expect_text("Stopped.")
        assert s.finish() == 1
    finally:
        s.close()


def test_r5_1_no_terminal_means_guidance_not_a_hanging_prompt(
    fresh_sim: Simulator, dirs: tuple[Path, Path]
) -> None:
    import subprocess

    home, data = dirs
    result = subprocess.run(
        example_argv("summarize", "--base-url", fresh_sim.openrouter_base),
        env=base_env(home, data, "en"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 1
    assert "interactive terminal" in result.stderr
    assert "byom connect --app terminal-reader --key-stdin" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one message, not wrapped for a log
    assert result.stdout == ""


def test_r5_2_back_and_cancel_leave_nothing_behind(
    fresh_sim: Simulator, dirs: tuple[Path, Path]
) -> None:
    home, data = dirs
    tr = Messages("en")
    s = Session(
        example_argv("summarize", "--base-url", fresh_sim.openrouter_base),
        base_env(home, data, "en"),
    )
    try:
        s.expect_text(header(tr, 1, 9))
        s.expect_text("›")
        s.enter()
        s.expect_text(header(tr, 2, 9))
        s.expect_text("›")
        s.enter("b")  # back to the first screen
        s.expect_text(header(tr, 1, 9))
        s.expect_text("›")
        assert s.screen().split("\n")[0] == header(tr, 1, 9)
        s.enter()
        s.expect_text(header(tr, 2, 9))
        s.expect_text("›")
        s.enter("q")
        s.expect_text(tr("wizard.cancelled")[:30])
        assert s.finish() == 1
    finally:
        s.close()
    # Cancelled before the key: nothing reached the provider.
    assert not any(fresh_sim.counts().values())
    assert not (data / "keys").exists()


def test_r5_5_connection_panel_changes_allowance_model_and_forgets_the_key(
    fresh_sim: Simulator, dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import byom
    import byom.store.vault as vault_module
    from byom.app import App

    home, data = dirs
    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)
    features = [
        byom.Feature("summarize", "worker", "a short summary of the text"),
        byom.Feature("critique", "frontier", "a careful critique of the text"),
    ]
    with App(APP, features, data_dir=data) as app:
        app.connect(
            "openrouter",
            key="sk-or-v1-panel-test",
            remember=True,
            allow_plain_file=True,
            base_url=fresh_sim.openrouter_base,
        )
        before = app.model_for("summarize").id
    tr = Messages("en")
    prompt = tr("panel.prompt").strip()
    s = Session(example_argv("panel"), base_env(home, data, "en"))
    try:
        s.expect_text(prompt)
        capture("en", "12-panel", s.screen())
        assert s.screen().split("\n")[0].startswith(APP)  # the panel fits the screen
        s.enter("a")
        s.expect_text(tr("wizard.allowance.amount").strip())
        s.enter("4")
        s.expect_text("Per:")
        s.enter("2")
        s.expect_text("$4.00 per day")
        s.expect_text(prompt)
        s.enter("m")
        s.expect_text("1 summarize")
        s.enter("1")
        s.expect_text(tr("wizard.model.prompt", default="").split("[")[0].strip())
        s.enter("2")
        s.expect_text(prompt)
        s.enter("h")
        s.expect_text(tr("cli.history.empty"))
        s.expect_text(tr("prompt.enter"))
        s.enter()
        s.expect_text(prompt)
        s.enter("f")
        s.expect_text(tr("cli.key.confirm_forget", app=APP))
        s.enter("y")
        s.expect_text(tr("cli.key.forgotten"))
        s.enter()
        s.expect_text("Not connected")
        s.expect_text(prompt)
        s.enter()
        assert s.finish() == 0
    finally:
        s.close()
    with App.load(APP_ID, data_dir=data) as app:
        assert [(a.amount, a.period) for a in app.allowances()] == [(Decimal(4), "day")]
        assert app.model_for("summarize").id != before
        assert not app.connected
    assert not (data / "keys" / f"{APP_ID}.json").exists()


def test_r5_6_errors_in_plain_words_in_the_terminal(
    fresh_sim: Simulator, dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import byom
    import byom.store.vault as vault_module
    from byom.app import App

    home, data = dirs
    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)
    features = [
        byom.Feature("summarize", "worker", "a short summary of the text"),
        byom.Feature("critique", "frontier", "a careful critique of the text"),
    ]
    with App(APP, features, data_dir=data) as app:
        app.connect(
            "openrouter",
            key="sk-or-v1-errors-test",
            remember=True,
            allow_plain_file=True,
            base_url=fresh_sim.openrouter_base,
        )
        app.set_allowance("0.000001", "day")
    tr = Messages("nl")
    s = Session(example_argv(), base_env(home, data, "nl"))
    menu = "Keuze: "
    try:
        s.expect_text(menu)
        s.enter("3")  # over the allowance: refused before sending, with the figures
        s.expect_text(menu)
        assert "Niet verstuurd" in plain(s.output()) and "$ 0,000001" in plain(s.output())
        assert not any(fresh_sim.counts().get(p) for p in ("/api/v1/chat/completions",))
        with App.load(APP_ID, data_dir=data) as app:
            app.set_allowance(None, "day")
        cases = [
            ({"status": 402}, "error.out_of_credits.openrouter", {}),
            ({"status": 429, "retry_after": 3}, "error.rate_limited.retry", {"seconds": "3"}),
            ({"status": 502}, "error.provider_unavailable", {}),
            ({"kind": "cut_before_usage"}, "error.interrupted", {}),
        ]
        cases = [(f, k, {**v, "provider": "OpenRouter"}) for f, k, v in cases]
        for fault, key, values in cases:
            fresh_sim.push_faults([fault])
            mark = len(s.output())
            s.enter("3")
            s.expect_text(menu)
            shown = plain(s.output()[mark:])
            assert tr(key, **values) in shown, key
            assert "error" not in shown.lower().replace("error.", "")  # no raw payload words
        assert "Traceback" not in s.output()
        s.enter("q")
        assert s.finish() == 0
    finally:
        s.close()
