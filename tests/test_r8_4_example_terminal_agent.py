"""R8.4, R4.5, R5.1 — the terminal agent example ("ask your notes"), driven in a real pty at 80×24
against ``byom sim`` with tool steps, looking at the screen as a person would: the wizard on
first use, the run's live line (step counter, tool names, the cost against the ceiling), the
answer with the notes it read, why the run stopped, and the Ctrl-C question while a step is
paid for. Tool arguments never reach the screen.

Set ``BYOM_CAPTURE_DIR=docs/terminal`` to (re)write the captures ``13-run-*.txt``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.core.events import Refused
from byom.locales import Messages
from byom.sim import Simulator
from byom.terminal._format import usd
from conftest import chat_count, wait_until
from r5_pty import INFO_STEPS, Session, base_env, capture, check_ok, plain

ROOT = Path(__file__).resolve().parent.parent
AGENT = ROOT / "examples" / "terminal_agent" / "app.py"
APP = "Ask your notes"
APP_ID = "ask-your-notes"
KEY = "sk-or-v1-agent-test-key-0123456789abcdef"
QUESTION = "How much chain do I let out?"
#: Held at the simulator until released (or until the client hangs up).
HELD = {"kind": "slow_first_byte", "seconds": 3600}
NOT_HELD = {"kind": "slow_first_byte", "seconds": 0}


def agent_argv(*args: str) -> list[str]:
    return [sys.executable, str(AGENT), *args]


def load_example() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("terminal_agent", AGENT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as running:
        yield running


@pytest.fixture()
def fresh_sim(sim: Simulator) -> Simulator:
    sim.reset()
    sim.config(tool_steps=2)  # search_notes, then read_note, then the answer
    return sim


@pytest.fixture()
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "home"
    home.mkdir()
    return home, home / ".local" / "share" / "byom"


def features(lang: str = "en") -> list[byom.Feature]:
    return [byom.Feature("ask", "worker", load_example().TEXTS[lang]["feature"])]


@pytest.fixture()
def connected(
    fresh_sim: Simulator, dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """The example's app, connected once with a remembered key (the consented 0600 file)."""
    import byom.store.vault as vault_module

    home, data = dirs
    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)
    with byom.App(APP, features(), data_dir=data) as app:
        assert app.app_id == APP_ID
        app.connect(
            "openrouter",
            key=KEY,
            remember=True,
            allow_plain_file=True,
            base_url=fresh_sim.openrouter_base,
        )
    return home, data


def no_arguments_shown(text: str) -> None:
    """What the model passed to the tools is content: never on the screen."""
    for fragment in ('"query"', '"limit"', '"name"', "query=", "{'", '{"', "amber tone"):
        assert fragment not in text, fragment


def walk_wizard(s: Session, tr: Messages) -> None:
    """The first-time wizard, answered with its defaults, a typed key and a $5 allowance."""
    for step in INFO_STEPS:
        s.expect_text(tr(f"wizard.{step}.title", app=APP))
        s.expect_text("›")
        s.enter()
    s.expect_text(tr("wizard.key.choice"))
    s.enter("1")
    s.expect_text(tr("wizard.key.prompt").strip())
    assert s.child.waitnoecho(timeout=60), "the key prompt must switch terminal echo off"
    s.enter(KEY)
    s.expect_text(check_ok(tr))
    s.expect_text(tr("prompt.enter"))
    s.enter()
    s.expect_text(tr("wizard.remember.question"))
    s.enter()
    s.expect_text(tr("wizard.model.prompt", default="1").split("[")[0].strip())
    s.enter()
    s.expect_text(tr("wizard.allowance.amount").strip())
    s.enter("5")
    s.expect_text(tr("wizard.allowance.period").split("[")[0].strip())
    s.enter()
    s.expect_text(tr("wizard.done.title"))
    s.expect_text(tr("wizard.done.run", feature="\x00").split("\x00")[0])
    s.enter()


def lines_of(screen: str) -> list[str]:
    return [line for line in screen.split("\n") if line.strip()]


def test_r5_1_listing_and_searching_need_no_key_no_network_and_no_byom(tmp_path: Path) -> None:
    script = (
        "import runpy, socket, sys, json\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network disabled by the test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        f"for argv in ([{str(AGENT)!r}, '--list'], [{str(AGENT)!r}, '--search', 'amber']):\n"
        "    sys.argv = argv\n"
        "    try:\n"
        f"        runpy.run_path({str(AGENT)!r}, run_name='__main__')\n"
        "    except SystemExit as exit:\n"
        "        assert not exit.code, exit.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('byom', 'httpx', 'rich'))\n"
        "sys.stderr.write('REPORT ' + json.dumps(loaded))\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=base_env(home, tmp_path / "data", "en"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stderr.rsplit("REPORT ", 1)[1]) == []
    assert "4 notes in" in result.stdout and "boat-anchor.md — Anchoring checklist" in result.stdout
    assert "table-finish.md — Finishing the oak table" in result.stdout  # found by "amber"
    assert not (tmp_path / "data").exists()


def test_r8_4_the_notes_tools_stay_inside_their_folder(tmp_path: Path) -> None:
    example = load_example()
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\nnot a note\n", encoding="utf-8")
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "boat-anchor.md").write_text("# Anchoring\nseven times\n", encoding="utf-8")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.md").write_text("# Hidden\n", encoding="utf-8")
    notes = example.Notes(folder)
    search_notes, read_note = example.tools_for(notes)
    assert [t.__name__ for t in (search_notes, read_note)] == ["search_notes", "read_note"]
    assert list(notes.texts) == ["sub/boat-anchor.md"]
    for name in ("../secret.md", str(secret), "secret", "../../secret", ".hidden/x.md"):
        assert "There is no note by that name" in read_note(name)
    assert notes.read_names == []
    assert read_note("anchor").startswith("# sub/boat-anchor.md")  # a shortened name is found
    assert read_note("Anchoring").startswith("# sub/boat-anchor.md")  # so is its title
    assert notes.read_names == ["sub/boat-anchor.md"]
    assert search_notes("seven", 0)[0]["name"] == "sub/boat-anchor.md"  # limit at least 1


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r8_4_first_question_opens_the_wizard_then_the_run_shows_its_steps(
    fresh_sim: Simulator, dirs: tuple[Path, Path], lang: str
) -> None:
    home, data = dirs
    tr = Messages(lang)
    s = Session(
        agent_argv(QUESTION, "--base-url", fresh_sim.openrouter_base),
        base_env(home, data, lang),
    )
    read = "Gelezen notities" if lang == "nl" else "Notes read"
    try:
        walk_wizard(s, tr)
        s.expect_text(tr("run.step", n=1, max_steps=6))
        s.expect_text(tr("run.stopped.done"))
        s.expect_text(f"{read}: boat-anchor.md")
        assert s.finish() == 0
    finally:
        s.close()
    shown = plain(s.output())
    assert tr("run.started", feature="ask", max_steps=6, ceiling=usd(Decimal("0.05"), tr)) in shown
    assert KEY not in s.output()
    no_arguments_shown(s.output())
    with byom.App.load(APP_ID, data_dir=data) as app:
        rows = app.history()
    assert len(rows) == 3 and len({row.run_id for row in rows}) == 1
    assert all(row.outcome == "ok" and row.run_id for row in rows)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r8_4_the_live_run_line_step_counter_tools_ceiling_answer_and_notes_read(
    fresh_sim: Simulator, connected: tuple[Path, Path], lang: str
) -> None:
    home, data = connected
    tr = Messages(lang)
    s = Session(agent_argv(QUESTION, "--lang", lang), base_env(home, data, lang))
    read = "Gelezen notities" if lang == "nl" else "Notes read"
    try:
        s.expect_text(f"{read}: boat-anchor.md")
        assert s.finish() == 0
    finally:
        s.close()
    screen = s.screen()
    lines = lines_of(screen)
    assert all(len(line) <= 80 for line in screen.split("\n"))
    with byom.App.load(APP_ID, data_dir=data) as app:
        rows = sorted(app.history(), key=lambda row: row.started_at)
    assert len(rows) == 3 and len({row.run_id for row in rows}) == 1
    costs = [row.cost for row in rows]
    assert all(cost and cost > 0 for cost in costs)
    running = [sum(costs[: i + 1], Decimal(0)) for i in range(3)]

    def landed(n: int, tools: str) -> str:
        step = tr("run.step", n=n, max_steps=6)
        spent = usd(running[n - 1], tr)
        return "✓ " + tr(
            "run.landed", step=step, tools=tools, spent=spent, ceiling=usd(Decimal("0.05"), tr)
        )

    # What a person sees, top to bottom: the run, each step with the tools it asked for (by name)
    # and the run's cost against its ceiling, the answer, why it stopped, the notes read.
    header = "▸ " + tr("run.started", feature="ask", max_steps=6, ceiling=usd(Decimal("0.05"), tr))
    assert lines[0] == header
    assert lines[1] == landed(1, "search_notes")
    assert lines[2] == landed(2, "read_note")
    answer_at = next(i for i, line in enumerate(lines) if line.startswith("Simulated reply"))
    assert answer_at == 3
    tail = lines[answer_at + 1 :]
    assert landed(3, tr("run.answer")) in tail  # after the answer, word-wrapped at 80 columns
    assert all(not line.startswith("✓") for line in tail[: tail.index(landed(3, tr("run.answer")))])
    summary = tr(
        "run.summary",
        steps=tr("run.steps.many", count=3),
        spent=usd(running[2], tr),
        ceiling=usd(Decimal("0.05"), tr),
    )
    assert tr("run.stopped.done") in tail
    assert any(line.strip().startswith(summary) for line in tail)
    assert tail[-1] == f"{read}: boat-anchor.md"
    # The pending line was transient: replaced, not left behind.
    assert tr("live.pending", feature="ask", model="x").split("·")[-1].strip() not in screen
    # The steps are shown as the run's steps, never as unrelated single calls.
    tokens_word = tr("live.tokens", prompt="", completion="").split("+")[-1].strip()
    assert tokens_word not in plain(s.output())  # "out tokens": a single call's line
    no_arguments_shown(s.output())
    capture(lang, "13-run-steps", screen)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r8_4_a_run_stopped_by_its_ceiling_says_so(
    fresh_sim: Simulator, connected: tuple[Path, Path], tmp_path: Path, lang: str
) -> None:
    """A ceiling that covers the first step's worst case but not the second's: the first step
    runs, the second is never sent, and the screen says why."""
    home, data = connected
    example = load_example()
    # The first step's worst case, as byom estimates it for this very request (read from the
    # refusal of a run whose ceiling is too small for anything).
    with byom.App(APP, features(), data_dir=tmp_path / "probe") as probe:
        probe.connect("openrouter", key=KEY, base_url=fresh_sim.openrouter_base)
        refusals: list[Refused] = []
        probe.subscribe(lambda e: refusals.append(e) if isinstance(e, Refused) else None)
        notes = example.Notes(example.NOTES)
        result = probe.run(
            "ask",
            example.messages_for(QUESTION, lang),
            tools=example.tools_for(notes),
            max_steps=example.MAX_STEPS,
            max_tokens=example.MAX_TOKENS,
            max_cost="0.000000000001",
        )
    assert result.stopped == "max_cost" and result.steps == 0
    estimate = refusals[0].error.estimate  # type: ignore[attr-defined]
    ceiling = format(estimate, "f")
    sent = chat_count(fresh_sim)
    tr = Messages(lang)
    s = Session(
        agent_argv(QUESTION, "--lang", lang, "--max-cost", ceiling), base_env(home, data, lang)
    )
    try:
        s.expect_text(tr("run.stopped.max_cost", ceiling="\x00").split("\x00")[0][:30])
        assert s.finish() == 1
    finally:
        s.close()
    assert chat_count(fresh_sim) == sent + 1  # the second step never reached the provider
    shown = plain(s.output())
    assert tr("run.stopped.max_cost", ceiling=usd(estimate, tr)) in shown
    assert tr("run.step", n=1, max_steps=6) in shown and "search_notes" in shown
    assert tr("run.step", n=2, max_steps=6) not in shown
    with byom.App.load(APP_ID, data_dir=data) as app:
        rows = app.history()
    assert [row.outcome for row in rows] == ["refused", "ok"]
    assert rows[0].error_code == "run_ceiling" and rows[0].run_id == rows[1].run_id
    assert rows[1].cost is not None and rows[1].cost <= estimate
    no_arguments_shown(s.output())
    capture(lang, "13-run-ceiling", s.screen())


def test_r8_4_a_run_that_reaches_its_step_limit_says_so(
    fresh_sim: Simulator, connected: tuple[Path, Path]
) -> None:
    home, data = connected
    fresh_sim.config(tool_steps=20)  # the model never stops asking for tools
    tr = Messages("en")
    s = Session(agent_argv(QUESTION), base_env(home, data, "en"))
    try:
        s.expect_text(tr("run.stopped.max_steps", max_steps=6))
        assert s.finish() == 1
    finally:
        s.close()
    shown = plain(s.output())
    assert tr("run.step", n=6, max_steps=6) in shown
    assert tr("run.step", n=7, max_steps=6) not in shown
    assert tr("run.steps.many", count=6) in shown


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r4_5_ctrl_c_during_a_paid_run_step_asks_first(
    fresh_sim: Simulator, connected: tuple[Path, Path], lang: str
) -> None:
    home, data = connected
    tr = Messages(lang)
    env = base_env(home, data, lang)
    step2 = tr("run.step", n=2, max_steps=6)
    question = tr("run.guard.step", feature="ask", step=step2)
    yes = "j" if lang == "nl" else "y"

    # 1. Ctrl-C while step 2 is paid for and pending → asked first → No → the run goes on.
    fresh_sim.push_faults([NOT_HELD, HELD])
    sent = chat_count(fresh_sim)
    s = Session(agent_argv(QUESTION), env)
    try:
        s.expect_text(tr("run.pending", step=step2, feature="ask", model="\x00").split("\x00")[0])
        s.child.sendintr()
        s.expect_text(question[:40])
        s.expect_text(tr("prompt.no_default"))
        capture(lang, "13-run-ctrl-c", s.screen())
        s.enter("n")
        s.expect_text(tr("guard.continuing"))
        wait_until(lambda: chat_count(fresh_sim) == sent + 2, "step 2 to reach the simulator")
        fresh_sim.release()
        s.expect_text(tr("run.stopped.done"))
        s.expect_text("boat-anchor.md")
        assert s.finish() == 0
    finally:
        s.close()
    assert chat_count(fresh_sim) == sent + 3  # nothing was sent twice

    # 2. Ctrl-C → yes → the run stops; the step in flight counts as possibly charged.
    fresh_sim.push_faults([NOT_HELD, HELD])  # "yes" hangs up, which ends the hold
    sent = chat_count(fresh_sim)
    s = Session(agent_argv(QUESTION), env)
    try:
        s.expect_text(tr("run.pending", step=step2, feature="ask", model="\x00").split("\x00")[0])
        wait_until(lambda: chat_count(fresh_sim) == sent + 2, "step 2 to reach the simulator")
        s.child.sendintr()
        s.expect_text(question[:40])
        s.enter(yes)
        s.expect_text(tr("run.stopped.cancelled"))
        assert s.finish() == 1
        capture(lang, "13-run-cancelled", s.screen())
    finally:
        s.close()
    output = plain(s.output())
    assert "Traceback" not in output
    assert tr("live.unreconciled", app_id=APP_ID) in output
    assert tr("run.failed", step=step2, feature="ask", model="\x00").split("\x00")[0] in output
    with byom.App.load(APP_ID, data_dir=data) as app:
        rows = app.history()
        assert not app.in_flight()
        unreconciled = app.unreconciled()
    latest = [row for row in rows if row.run_id == rows[0].run_id]
    assert [row.outcome for row in latest] == ["unreconciled", "ok"]
    assert latest[0].error_code == "cancelled"
    assert [row.id for row in unreconciled] == [latest[0].id]

    # 3. A second Ctrl-C while the question is open stops at once.
    fresh_sim.push_faults([NOT_HELD, HELD])
    sent = chat_count(fresh_sim)
    s = Session(agent_argv(QUESTION), env)
    try:
        s.expect_text(tr("run.pending", step=step2, feature="ask", model="\x00").split("\x00")[0])
        wait_until(lambda: chat_count(fresh_sim) == sent + 2, "step 2 to reach the simulator")
        s.child.sendintr()
        s.expect_text(question[:40])
        s.child.sendintr()
        s.expect_text(tr("run.stopped.cancelled"))
        assert s.finish() == 1
    finally:
        s.close()
    assert fresh_sim.faults() == []  # every held step reached the simulator
    no_arguments_shown(s.output())
