"""R5.2/R5.3 for every provider kind (issue 15 item 1, issue 13 item 2): ``examples/notes`` —
a terminal app written from the README alone — driven in a real pty at 80×24 through its
wizard for each provider kind against ``byom sim``, its code unchanged but for the one
``Terminal(...)`` line that names the provider.

Each kind gets its own path: its own key page and limit page (concrete links), or for a local
server how to start it and which address is asked (Ollama: no key asked at all). The key check
names who was actually asked — here the simulator's address, never "OpenRouter accepts the key"
— and says what it learned and what it could not. A key of the wrong shape is refused before
anything is sent, saying which provider's key it looks like. With the key remembered, a second
run goes straight to the reply.

Set ``BYOM_CAPTURE_DIR=docs/terminal`` to (re)write the captures of these screens.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from byom.locales import Messages
from byom.sim import Simulator
from r5_pty import ROOT, Session, base_env, capture, plain

NOTES = ROOT / "examples" / "notes" / "notes.py"
APP = "Notes"
LINE = 'Terminal(app, provider="openrouter", base_url=BASE_URL)'
KEYS = {
    "openrouter": "sk-or-v1-notes-test-key-0123456789",
    "openai": "sk-proj-notes-test-key-0123456789",
    "anthropic": "sk-ant-api03-notes-test-key-0123456789",
    "gemini": "AIzaSyNotesTestKey0123456789abcdefghij",
    "compatible": "local-server-secret-0123",
}
#: Where each kind's own pages are (the wizard must show these, and no OpenRouter link).
LINKS = {
    "openrouter": ("https://openrouter.ai/settings/keys",),
    "openai": (
        "https://platform.openai.com/api-keys",
        "https://platform.openai.com/settings/organization/limits",
    ),
    "anthropic": (
        "https://console.anthropic.com/settings/keys",
        "https://console.anthropic.com/settings/limits",
    ),
    "gemini": (
        "https://aistudio.google.com/app/apikey",
        "https://console.cloud.google.com/billing",
    ),
    "ollama": ("https://ollama.com/download", "ollama serve"),
    "compatible": ("http://localhost:1234/v1",),
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as running:
        yield running


def base_for(sim: Simulator, kind: str) -> str:
    return {
        "openrouter": sim.openrouter_base,
        "openai": sim.openai_base,
        "anthropic": sim.base_url,
        "gemini": sim.base_url,
        "ollama": sim.base_url,
        "compatible": sim.openai_base,
    }[kind]


def notes_for(kind: str, folder: Path) -> Path:
    """The example with only its provider line changed (the acceptance: same app code)."""
    source = NOTES.read_text(encoding="utf-8")
    assert source.count(LINE) == 1
    changed = source.replace(LINE, LINE.replace('"openrouter"', f'"{kind}"'))
    diff = [
        (a, b) for a, b in zip(source.splitlines(), changed.splitlines(), strict=True) if a != b
    ]
    assert len(diff) == (0 if kind == "openrouter" else 1)
    target = folder / "notes.py"
    target.write_text(changed, encoding="utf-8")
    return target


def start(script: Path, home: Path, sim: Simulator, kind: str, lang: str) -> Session:
    env = base_env(
        home,
        home / "data",
        lang,
        NOTES_FILE=str(home / "notes.json"),
        NOTES_BASE_URL=base_for(sim, kind),
    )
    return Session([sys.executable, str(script), "summarize"], env)


def info_screens(s: Session, n: int) -> list[str]:
    shots = []
    for _ in range(n):
        s.expect_text("›")
        shots.append(s.screen())
        s.enter()
    return shots


def top(screen: str) -> str:
    return screen.split("\n", 1)[0]


@pytest.mark.parametrize(
    ("kind", "lang"),
    [
        ("openrouter", "en"),
        ("openai", "en"),
        ("anthropic", "nl"),
        ("gemini", "en"),
        ("ollama", "en"),
        ("compatible", "en"),
        ("ollama", "nl"),
    ],
)
def test_r5_2_notes_example_wizard_per_provider_kind(
    sim: Simulator, tmp_path: Path, kind: str, lang: str
) -> None:
    sim.reset()
    tr = Messages(lang)
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.json").write_text('["Buy oat milk", "Plumber on Tuesday"]')
    script = notes_for(kind, tmp_path)
    address = sim.base_url
    s = start(script, home, sim, kind, lang)
    shots: list[str] = []
    try:
        if kind == "ollama":
            shots += info_screens(s, 1)
            s.expect_text(tr("wizard.server.address", address="\x00").split("\x00")[0])
            shots.append(s.screen())
            s.enter()
        elif kind == "compatible":
            shots += info_screens(s, 1)
            s.expect_text(tr("wizard.server.address", address="\x00").split("\x00")[0])
            shots.append(s.screen())
            s.enter()
            shots += info_screens(s, 1)
        else:
            shots += info_screens(s, 4)
        if kind != "ollama":
            if kind == "openrouter":
                s.expect_text(tr("wizard.key.choice"))
                s.enter("1")
            prompt = "wizard.key.prompt.optional" if kind == "compatible" else "wizard.key.prompt"
            s.expect_text(tr(prompt).strip())
            shots.append(s.screen())
            if kind == "openai":  # an OpenRouter key in the OpenAI box: refused, unsent
                before = sim.counts()
                s.enter(KEYS["openrouter"])
                s.expect_text(tr("prompt.enter"))
                shown = plain(s.screen())
                assert "OpenRouter" in shown and "sk-or-" in shown and "sk-" in shown
                assert KEYS["openrouter"] not in s.output()
                assert sim.counts() == before
                s.enter()
                s.expect_text(tr(prompt).strip())
            s.enter(KEYS[kind])
        s.expect_text(tr("prompt.enter"))
        check = s.screen()
        shots.append(check)
        s.enter()
        if kind != "ollama":
            s.expect_text(tr("wizard.remember.question"))
            s.enter("j" if lang == "nl" else "y")
        s.expect_text(tr("wizard.model.prompt", default="\x00").split("[")[0].strip())
        shots.append(s.screen())
        s.enter()
        if kind != "ollama":
            s.expect_text(tr("wizard.allowance.amount").strip())
            s.enter("5")
            s.expect_text(tr("wizard.allowance.period").split("[")[0].strip())
            s.enter()
        s.expect_text(tr("wizard.done.title"))
        s.expect_text(tr("wizard.done.commands", app_id="notes-example"))
        done = s.screen()
        shots.append(done)
        s.enter()
        s.expect(r"summarize · ")
        s.expect(r"(session total|sessie totaal)")
        status = s.finish()
    finally:
        s.close()
    assert status == 0, s.output()[-2000:]
    output = plain(s.output())
    for n, shot in enumerate(shots, start=1):
        capture(lang, f"notes-{kind}-{n:02d}", shot)
        assert all(len(line) <= 80 for line in shot.split("\n"))
    # Its own path: its own pages and words; OpenRouter is never named for another kind.
    for link in LINKS[kind]:
        assert link in output, link
    if kind != "openrouter":
        assert "OpenRouter" not in output.replace(tr("provider.name.openrouter") + " (", "")
        assert "openrouter.ai" not in output
    # The check names who was asked: the simulator's address, standing in for the provider.
    assert address in plain(check)
    # validate_key() learns nothing more for these: said so, no bare ✓
    if kind in ("openai", "anthropic", "gemini"):
        assert tr("wizard.check.unchecked", provider=tr(f"provider.name.{kind}"), limit_url="")[
            :20
        ] in plain(check)
    if kind == "ollama":
        assert "sk-" not in output and tr("wizard.key.prompt").strip() not in output
        assert tr("where.keyless") in plain(done)
    # It ends connected to the provider asked, and a reply with its cost came back.
    assert address in plain(done)
    assert re.search(r"summarize · .* · ", output)

    if kind == "ollama":
        return
    # The key was remembered: a second run needs no wizard at all.
    again = start(script, home, sim, kind, lang)
    try:
        again.expect(r"(session total|sessie totaal)")
        assert again.finish() == 0
    finally:
        again.close()
    assert tr("wizard.key.title") not in again.output()


@pytest.mark.parametrize(
    ("kind", "lang"), [("openai", "en"), ("openai", "nl"), ("openrouter", "en")]
)
def test_r5_3_return_visit_without_a_remembered_key_shows_only_the_key_screen(
    sim: Simulator, tmp_path: Path, kind: str, lang: str
) -> None:
    """Issue 15 item 10: model and allowance saved, key not remembered: the next run shows the
    key screen alone — with a one-line reminder of who pays and where the key goes, and ``?``
    for the full explanation — then goes; not the nine steps again."""
    sim.reset()
    tr = Messages(lang)
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.json").write_text('["Buy oat milk"]')
    script = notes_for(kind, tmp_path)
    choose = kind == "openrouter"  # OpenRouter's key screen offers paste or browser first
    first = start(script, home, sim, kind, lang)
    try:
        info_screens(first, 4)
        if choose:
            first.expect_text(tr("wizard.key.choice"))
            first.enter("1")
        first.expect_text(tr("wizard.key.prompt").strip())
        first.enter(KEYS[kind])
        first.expect_text(tr("prompt.enter"))
        first.enter()
        first.expect_text(tr("wizard.remember.question"))
        first.enter()  # No (the default)
        first.expect_text(tr("wizard.model.prompt", default="\x00").split("[")[0].strip())
        first.enter()
        first.expect_text(tr("wizard.allowance.amount").strip())
        first.enter("5")
        first.expect_text(tr("wizard.allowance.period").split("[")[0].strip())
        first.enter()
        first.expect_text(tr("wizard.done.title"))
        first.enter()
        assert first.finish() == 0
    finally:
        first.close()

    again = start(script, home, sim, kind, lang)
    first_prompt = tr("wizard.key.choice") if choose else tr("wizard.key.prompt").strip()
    try:
        again.expect_text(first_prompt)
        screen = again.screen()
        capture(lang, f"notes-return-{kind}", screen)
        # "?" shows the full explanation, then the key screen again.
        again.enter("?")
        again.expect_text("›")
        for _ in range(3):
            again.enter()
            again.expect_text("›")
        explained = plain(again.output())
        again.enter()
        again.expect_text(first_prompt)
        if choose:
            again.enter("1")
            again.expect_text(tr("wizard.key.prompt").strip())
        again.enter(KEYS[kind])
        again.expect(r"summarize · ")
        again.expect(r"(session total|sessie totaal)")
        assert again.finish() == 0
    finally:
        again.close()
    output = plain(again.output())
    name = tr(f"provider.name.{kind}")
    lines = [line for line in screen.split("\n") if line.strip()]
    assert lines[0] == tr("wizard.step", app=APP, n=1, total=2)
    assert plain(tr("wizard.return.body", app=APP, provider=name)) in plain(screen)
    assert tr("wizard.return.explain") in plain(screen)
    assert LINKS[kind][0] in explained  # the full explanation, with the provider's own pages
    # Only the key screen and its check: no model, allowance, remember or done screen.
    for title in ("wizard.remember.title", "wizard.allowance.title", "wizard.done.title"):
        assert tr(title) not in output, title
    after_key = output.split(tr("wizard.key.prompt").strip())[-1]
    assert tr("wizard.model.title", feature="").split("“")[0].split("‘")[0] not in after_key
    assert tr("wizard.step", app=APP, n=1, total=9) not in output


def test_r5_5_byom_connect_takes_the_provider_kind(sim: Simulator, tmp_path: Path) -> None:
    """``byom connect --provider ollama`` walks Ollama's own path (no key) and connects there;
    a later ``byom connect`` without ``--provider`` keeps to the app's kind."""
    import byom
    from r5_pty import byom_argv

    sim.reset()
    tr = Messages("en")
    home = tmp_path / "home"
    data = home / "data"
    home.mkdir()
    byom.App(
        "Notes", [byom.Feature("summarize", "worker")], app_id="cli-notes", data_dir=data
    ).close()
    argv = byom_argv(
        "connect", "--app", "cli-notes", "--provider", "ollama", "--base-url", sim.base_url
    )
    s = Session(argv, base_env(home, data))
    try:
        s.expect_text("›")
        s.enter()
        s.expect_text(tr("wizard.server.address", address="\x00").split("\x00")[0])
        s.enter()
        s.expect_text(tr("prompt.enter"))
        s.enter()
        s.expect_text(tr("wizard.model.prompt", default="\x00").split("[")[0].strip())
        s.enter()
        s.expect_text(tr("wizard.done.ok"))
        done = plain(s.screen())
        s.enter()
        assert s.finish() == 0
    finally:
        s.close()
    assert tr("wizard.key.prompt").strip() not in s.output()
    assert "your Ollama server at " + sim.base_url in done
    with byom.App.load("cli-notes", data_dir=data) as app:
        assert app.connected and app.provider == "ollama"
        assert app.model_for("summarize").id
    # The connection surface afterwards speaks of Ollama too, never of OpenRouter.
    status = Session(byom_argv("status", "--app", "cli-notes"), base_env(home, data))
    try:
        assert status.finish() == 0
    finally:
        status.close()
    shown = plain(status.output())
    assert "Connected to ollama" in shown and "OpenRouter" not in shown


def test_r5_6_ollama_not_running_says_so_and_how_to_start_it(tmp_path: Path) -> None:
    """Nothing listening at the Ollama address: the check says the Ollama server (not
    OpenRouter) is unavailable and how to start it; declining to retry leaves nothing connected."""
    import socket

    import byom
    from r5_pty import byom_argv

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    tr = Messages("en")
    home = tmp_path / "home"
    data = home / "data"
    home.mkdir()
    byom.App("Notes", [byom.Feature("summarize", "worker")], app_id="down", data_dir=data).close()
    argv = byom_argv("connect", "--app", "down", "--provider", "ollama", "--base-url", closed)
    s = Session(argv, base_env(home, data))
    try:
        s.expect_text("›")
        s.enter()
        s.expect_text(tr("wizard.server.address", address="\x00").split("\x00")[0])
        s.enter()
        s.expect_text(tr("wizard.check.retry"))
        screen = plain(s.screen())
        s.enter("n")
        assert s.finish() == 1
    finally:
        s.close()
    assert "OpenRouter" not in plain(s.output())
    assert "Your Ollama server" in screen and "ollama serve" in screen
    with byom.App.load("down", data_dir=data) as app:
        assert not app.connected
