"""R8.4, R4.5 — runs in the terminal: the live run line's text for each sequence of events, and
``Terminal.run_agent`` (the terminal's counterpart of ``App.run``) against the simulator: the
steps, Ctrl-C during a paid step and during a tool, a 401 in the middle of a run, a run stopped
by the allowance.

The line is fed the very events the App emits (``app.events.emit``), so each rule is tested on
its own; the Terminal tests run the whole call path. Ctrl-C is a real SIGINT raised in the main
thread at a chosen point (inside the transport while a step is in flight, or inside a tool);
only the person answering the question is stood in for.
"""

from __future__ import annotations

import io
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import byom
import byom.terminal.live as live
from byom.core.errors import BudgetExceeded, Cancelled, RunCeilingReached
from byom.core.events import (
    Event,
    Failed,
    Landed,
    Pending,
    Refused,
    RunFinished,
    RunStarted,
    StepLanded,
)
from byom.core.usage import Usage
from byom.locales import Messages
from byom.sim import Simulator
from byom.terminal.live import CostLine, Terminal
from conftest import CANARY_KEY, SUMMARIZE, user

RUN = "run0001"
MODEL = "openai/gpt-4o-mini"
CEILING = Decimal("0.05")


# -- the live run line, event by event ----------------------------------------------------------


class Line:
    """A cost line on an 80-column console that is not a terminal (every line stays)."""

    def __init__(self, tmp_path: Path, lang: str = "en") -> None:
        self.app = byom.App("Runner", [SUMMARIZE], data_dir=tmp_path / "data")
        self.buffer = io.StringIO()
        console = Console(
            file=self.buffer, width=80, color_system=None, highlight=False, emoji=False
        )
        self.tr = Messages(lang)
        self.cost = CostLine(self.app, console, self.tr)

    def emit(self, *events: Event) -> None:
        for event in events:
            self.app.events.emit(event)

    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()

    def close(self) -> None:
        self.cost.close()
        self.app.close()


@pytest.fixture()
def line(tmp_path: Path) -> Iterator[Line]:
    shown = Line(tmp_path)
    yield shown
    shown.close()


def started(max_steps: int = 6, ceiling: Decimal = CEILING, run_id: str = RUN) -> RunStarted:
    return RunStarted(run_id, "summarize", max_steps, ceiling, 0.0)


def pending(call: str, run_id: str | None = RUN, model: str = MODEL) -> Pending:
    return Pending(call, "summarize", "openrouter", model, 0.0, run_id)


def landed(
    call: str, cost: str | None, source: str = "provider", run_id: str | None = RUN
) -> Landed:
    amount = None if cost is None else Decimal(cost)
    usage = Usage(prompt_tokens=120, completion_tokens=30)
    return Landed(
        call, "summarize", "openrouter", MODEL, amount, source, usage, "stop", 1.0, run_id
    )  # type: ignore[arg-type]


def step(
    n: int, call: str, run_cost: str, *tools: str, cost: str | None = "0.0001", run_id: str = RUN
) -> StepLanded:
    amount = None if cost is None else Decimal(cost)
    return StepLanded(run_id, n, call, amount, Decimal(run_cost), CEILING, tools)


def finished(stopped: str, steps: int, cost: str, run_id: str = RUN) -> RunFinished:
    return RunFinished(run_id, "summarize", stopped, steps, Decimal(cost), 2.0)


def one_step(n: int, cost: str, run_cost: str, *tools: str) -> list[Event]:
    call = f"c{n}"
    return [pending(call), landed(call, cost), step(n, call, run_cost, *tools, cost=cost)]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r8_4_live_line_of_a_run_that_answers(tmp_path: Path, lang: str) -> None:
    shown = Line(tmp_path, lang)
    try:
        shown.emit(
            started(),
            *one_step(1, "0.0004", "0.0004", "search_notes"),
            *one_step(2, "0.0005", "0.0009", "read_note", "read_note"),
            *one_step(3, "0.0003", "0.0012"),
            finished("done", 3, "0.0012"),
        )
        tr = shown.tr
        expected = {
            "en": [
                "▸ summarize · up to 6 steps · ceiling $0.05",
                "… step 1/6 · summarize · openai/gpt-4o-mini · pending…",
                "✓ step 1/6 · search_notes · $0.0004 of $0.05 ceiling",
                "… step 2/6 · summarize · openai/gpt-4o-mini · pending…",
                "✓ step 2/6 · read_note ×2 · $0.0009 of $0.05 ceiling",
                "… step 3/6 · summarize · openai/gpt-4o-mini · pending…",
                "✓ step 3/6 · answer · $0.0012 of $0.05 ceiling",
                "Done: the model answered.",
                "  3 steps · $0.0012 of $0.05 ceiling · session total $0.0012",
            ],
            "nl": [
                "▸ summarize · hoogstens 6 stappen · maximaal $ 0,05",
                "… stap 1/6 · summarize · openai/gpt-4o-mini · bezig…",
                "✓ stap 1/6 · search_notes · $ 0,0004 van maximaal $ 0,05",
                "… stap 2/6 · summarize · openai/gpt-4o-mini · bezig…",
                "✓ stap 2/6 · read_note ×2 · $ 0,0009 van maximaal $ 0,05",
                "… stap 3/6 · summarize · openai/gpt-4o-mini · bezig…",
                "✓ stap 3/6 · antwoord · $ 0,0012 van maximaal $ 0,05",
                "Klaar: het model heeft geantwoord.",
                "  3 stappen · $ 0,0012 van maximaal $ 0,05 · sessie totaal $ 0,0012",
            ],
        }[lang]
        assert shown.lines() == expected
        # A run's steps never show as single calls (no "feature · model · cost · tokens" line).
        cost = byom.format_money(Decimal("0.0004"), lang)
        single = tr("live.landed", feature="summarize", model=MODEL, cost=cost, tokens="")
        assert not any(single.rstrip() in text for text in shown.lines())
        assert not shown.cost.run_active and shown.cost.current_run is None
        assert shown.cost.session_total == Decimal("0.0012")
    finally:
        shown.close()


def test_r8_4_live_line_names_the_tools_never_their_arguments(line: Line) -> None:
    many = ("read_note", "search", "read_note", "ls", "tag", "tag")
    line.emit(
        started(max_steps=8),
        pending("c1"),
        landed("c1", "0.0001"),
        step(1, "c1", "0.0001", *many),
        pending("c2", model="evil\x1b]0;title\x07/model"),
    )
    lines = line.lines()
    assert lines[2] == ("✓ step 1/8 · read_note ×2, search, ls, +1 more · $0.0001 of $0.05 ceiling")
    assert "\x1b" not in line.buffer.getvalue() and "\x07" not in line.buffer.getvalue()
    assert lines[3] == "… step 2/8 · summarize · evil]0;title/model · pending…"
    assert line.cost.run_active


@pytest.mark.parametrize(
    ("stopped", "en", "nl"),
    [
        ("done", "Done: the model answered.", "Klaar: het model heeft geantwoord."),
        (
            "max_steps",
            "Stopped: the run reached its limit of 4 steps.",
            "Gestopt: de reeks heeft haar grens van 4 stappen bereikt.",
        ),
        (
            "max_cost",
            "Stopped: the next step could cost more than is left of the $0.05 ceiling, so it "
            "was not sent.",
            "Gestopt: de volgende stap kon meer kosten dan er over is van het kostenplafond van "
            "$ 0,05, "
            "dus die is niet verstuurd.",
        ),
        (
            "allowance",
            "Stopped: your allowance does not cover the next step, so it was not sent.",
            "Gestopt: je budget dekt de volgende stap niet, dus die is niet verstuurd.",
        ),
        ("cancelled", "Stopped: you cancelled the run.", "Gestopt: je hebt de reeks afgebroken."),
        ("error", "Stopped: a step went wrong.", "Gestopt: er ging iets mis bij een stap."),
        ("something_new", "Stopped (something_new).", "Gestopt (something_new)."),
    ],
)
def test_r8_4_live_line_says_why_each_run_stopped(
    tmp_path: Path, stopped: str, en: str, nl: str
) -> None:
    for lang, reason in (("en", en), ("nl", nl)):
        shown = Line(tmp_path / lang, lang)
        try:
            shown.emit(
                started(max_steps=4),
                *one_step(1, "0.001", "0.001", "search_notes"),
                finished(stopped, 1, "0.001"),
            )
            text = " ".join(shown.buffer.getvalue().split())  # a long reason may wrap
            assert reason in text
            summary = shown.tr(
                "run.summary",
                steps=shown.tr("run.steps.one"),
                spent=byom.format_money(Decimal("0.001"), lang),
                ceiling=byom.format_money(Decimal("0.05"), lang),
            )
            assert shown.lines()[-1].strip().startswith(summary)
        finally:
            shown.close()


def test_r8_4_a_step_refused_before_sending_shows_no_line_of_its_own(line: Line) -> None:
    error = RunCeilingReached(ceiling=CEILING, spent=Decimal("0.04"), estimate=Decimal("0.02"))
    line.emit(
        started(),
        *one_step(1, "0.04", "0.04", "search_notes"),
        Refused("c2", "summarize", "openrouter", MODEL, error, RUN),
        finished("max_cost", 1, "0.04"),
    )
    lines = line.lines()
    assert len(lines) == 6  # the reason wraps at 80 columns
    assert lines[3].startswith("Stopped: the next step could cost more than is left")
    assert "step 2/6" not in line.buffer.getvalue()
    assert lines[-1] == "  1 step · $0.04 of $0.05 ceiling · session total $0.04"


def test_r8_4_a_step_cut_off_is_the_runs_step_and_its_estimate_stays_counted(line: Line) -> None:
    line.emit(
        started(),
        *one_step(1, "0.001", "0.001", "search_notes"),
        pending("c2"),
        Failed("c2", "summarize", "openrouter", MODEL, Cancelled(), True, None, 1.5, RUN),
        finished("cancelled", 1, "0.004"),  # the step's estimate still counts
    )
    lines = line.lines()
    assert lines[4] == "✗ step 2/6 · summarize · openai/gpt-4o-mini · not completed"
    assert lines[5].startswith("The request may have been charged.")
    assert "Stopped: you cancelled the run." in lines
    assert lines[-1] == "  1 step · $0.004 of $0.05 ceiling · session total $0.001"
    assert line.cost.unreconciled == 1
    assert "summarize · openai/gpt-4o-mini · not completed" not in lines[4][:20]


def test_r8_4_a_step_whose_cost_is_not_the_providers_says_how_it_was_counted(line: Line) -> None:
    line.emit(
        started(),
        pending("c1"),
        landed("c1", "0.0002", "computed"),
        step(1, "c1", "0.0002", "search_notes", cost="0.0002"),
        pending("c2"),
        landed("c2", "0", "free"),
        step(2, "c2", "0.0002", "read_note", cost="0"),
        pending("c3"),
        landed("c3", None, "unknown"),
        step(3, "c3", "0.0009", cost=None),
    )
    steps = [text for text in line.lines() if text.startswith("✓")]
    assert steps == [
        "✓ step 1/6 · search_notes · $0.0002 (tokens × price) · $0.0002 of $0.05 ceiling",
        "✓ step 2/6 · read_note · free · $0.0002 of $0.05 ceiling",
        "✓ step 3/6 · answer · cost unknown · $0.0009 of $0.05 ceiling",
    ]


def test_r8_4_single_calls_beside_a_run_still_show_as_single_calls(line: Line) -> None:
    line.emit(
        started(),
        pending("other", run_id=None),
        landed("other", "0.002", run_id=None),
        pending("stray", run_id="a-run-this-line-never-saw-start"),
    )
    lines = line.lines()
    assert lines[1] == "… summarize · openai/gpt-4o-mini · pending…"
    assert lines[2] == "✓ summarize · openai/gpt-4o-mini · $0.002 · 120 in + 30 out tokens"
    assert lines[3] == "  session total $0.002"
    assert lines[4] == "… summarize · openai/gpt-4o-mini · pending…"


def test_r8_4_a_run_this_line_saw_only_the_end_of_still_reads_plainly(line: Line) -> None:
    line.emit(step(3, "c3", "0.003", "search_notes"), finished("max_steps", 3, "0.003"))
    assert line.lines() == [
        "✓ step 3/? · search_notes · $0.003 of $0.05 ceiling",
        "Stopped: the run reached its limit of ? steps.",
        "  3 steps · $0.003 of $0.05 ceiling · session total $0.00",
    ]


def test_r8_4_on_a_terminal_the_pending_step_line_is_erased_when_the_step_lands(
    tmp_path: Path,
) -> None:
    app = byom.App("Runner", [SUMMARIZE], data_dir=tmp_path / "data")
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=True, color_system=None)
    cost = CostLine(app, console, Messages("en"))
    try:
        for event in (started(), *one_step(1, "0.001", "0.001", "search_notes")):
            app.events.emit(event)
        out = buffer.getvalue()
        at = out.index("… step 1/6 · summarize · openai/gpt-4o-mini · pending…")
        assert "\x1b[2K" in out[at:]  # erased, then the step's line written where it was
        assert out.rstrip().endswith("✓ step 1/6 · search_notes · $0.001 of $0.05 ceiling")
    finally:
        cost.close()
        app.close()


# -- Terminal.run_agent against the simulator ---------------------------------------------------


def search_notes(query: str, limit: int = 5) -> list[str]:
    """Search the notes.

    Args:
        query: words to look for
        limit: most results
    """
    return [f"note {n}" for n in range(min(limit, 3))]


def read_note(name: str) -> str:
    """Read a note.

    Args:
        name: the note's name
    """
    return "The note says seven times the depth."


class Interrupting:
    """The real transport, with a Ctrl-C (SIGINT in this, the main thread) while the
    ``at``-th streamed request is in flight."""

    def __init__(self, origin: str, at: int) -> None:
        from byom.transport.httpx_transport import HttpxTransport

        self.inner = HttpxTransport(origin)
        self.at = at
        self.streams = 0

    def send(self, request: Any) -> Any:
        return self.inner.send(request)

    @contextmanager
    def stream(self, request: Any) -> Iterator[Any]:
        self.streams += 1
        with self.inner.stream(request) as response:
            if self.streams == self.at:
                signal.raise_signal(signal.SIGINT)
            yield response

    def close(self) -> None:
        self.inner.close()


class Person:
    """Stands in for the person at the terminal: records each stop question, gives answers."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.questions: list[str] = []

    def __call__(self, tr: Messages, question: str, **kwargs: Any) -> bool:
        self.questions.append(question)
        return self.answers.pop(0)


@pytest.fixture()
def person(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Person]:
    def install(*answers: bool) -> Person:
        someone = Person(*answers)
        monkeypatch.setattr(live, "interactive", lambda stream=None: True)
        monkeypatch.setattr(live, "ask_question", someone)
        return someone

    return install


class Screen:
    def __init__(self, app: byom.App, lang: str = "en") -> None:
        self.console_buffer = io.StringIO()
        self.out = io.StringIO()
        console = Console(
            file=self.console_buffer, width=80, color_system=None, highlight=False, emoji=False
        )
        self.term = Terminal(app, lang=lang, console=console, out=self.out)

    def text(self) -> str:
        return " ".join(self.console_buffer.getvalue().split())


def agent(app: byom.App, **options: Any) -> tuple[Screen, Any]:
    screen = Screen(app)
    options.setdefault("max_cost", CEILING)
    options.setdefault("max_steps", 6)
    result = screen.term.run_agent(
        "summarize", user("how much chain?"), tools=[search_notes, read_note], **options
    )
    screen.term.close()
    return screen, result


def test_r8_4_run_agent_shows_each_step_and_streams_the_answer(
    sim: Simulator, make_app: Callable[..., byom.App]
) -> None:
    sim.config(tool_steps=2)
    app = make_app()
    screen, result = agent(app)
    assert result is not None and result.stopped == "done" and result.steps == 3
    assert screen.out.getvalue() == result.text + "\n"
    assert result.text.startswith("Simulated reply")
    shown = screen.text()
    assert "▸ summarize · up to 6 steps · ceiling $0.05" in shown
    assert "✓ step 1/6 · search_notes · $" in shown and "✓ step 2/6 · read_note · $" in shown
    assert "✓ step 3/6 · answer · $" in shown
    assert "Done: the model answered. 3 steps · " in shown
    assert "seven times" not in shown and "query" not in shown  # tool content stays off screen


def test_r4_5_ctrl_c_during_a_tool_asks_and_no_lets_the_run_go_on(
    sim: Simulator, make_app: Callable[..., byom.App], person: Callable[..., Person]
) -> None:
    sim.config(tool_steps=1)
    someone = person(False)
    ran: list[str] = []

    def slow_search(query: str, limit: int = 5) -> list[str]:
        """Search.

        Args:
            query: words
            limit: most results
        """
        signal.raise_signal(signal.SIGINT)  # Ctrl-C while the tool runs, between paid steps
        ran.append("after")  # "no": the tool goes on from where it was
        return ["note"]

    app = make_app()
    screen = Screen(app)
    try:
        result = screen.term.run_agent(
            "summarize", user("q"), tools=[slow_search], max_cost=CEILING, max_steps=4
        )
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C during a tool of a run stopped it without asking")
    assert result is not None and result.stopped == "done" and ran == ["after"]
    assert len(someone.questions) == 1
    assert someone.questions[0].startswith("This run (summarize) is between paid steps; the $")
    assert "Stop the run?" in someone.questions[0]


def test_r4_5_ctrl_c_during_a_tool_yes_stops_the_run_with_nothing_left_in_flight(
    sim: Simulator, make_app: Callable[..., byom.App], person: Callable[..., Person]
) -> None:
    sim.config(tool_steps=1)
    person(True)

    def slow_search(query: str) -> str:
        """Search.

        Args:
            query: words
        """
        signal.raise_signal(signal.SIGINT)
        raise AssertionError("yes stops the run here")

    app = make_app()
    screen = Screen(app)
    try:
        result = screen.term.run_agent(
            "summarize", user("q"), tools=[slow_search], max_cost=CEILING
        )
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C during a tool of a run stopped it without asking")
    assert result is None
    assert "Stopped: you cancelled the run. 1 step · $" in screen.text()
    rows = app.history()
    assert [row.outcome for row in rows] == ["ok"] and rows[0].run_id
    assert app.unreconciled() == [] and not app.in_flight()
    assert chat_count_of(sim) == 1  # no step was sent after "yes"


def chat_count_of(sim: Simulator) -> int:
    return sim.counts().get("/api/v1/chat/completions", 0)


@pytest.mark.parametrize("answer", [False, True])
def test_r4_5_ctrl_c_while_a_step_is_paid_for(
    sim: Simulator,
    make_app: Callable[..., byom.App],
    person: Callable[..., Person],
    answer: bool,
) -> None:
    sim.config(tool_steps=1)
    someone = person(answer)
    app = make_app(transport_factory=lambda origin: Interrupting(origin, at=2))
    screen, result = agent(app)
    assert someone.questions == [
        "A paid step of this run is still running (summarize, step 2/6). Stop the run? The step "
        "may be charged anyway."
    ]
    rows = app.history()
    assert len({row.run_id for row in rows}) == 1
    if not answer:  # "no": the step went on, its cost landed, the run answered
        assert result is not None and result.stopped == "done" and result.steps == 2
        assert sorted(row.outcome for row in rows) == ["ok", "ok"]
        return
    # "yes": stopped; the step in flight is cancelled and counts at its estimate (unreconciled).
    assert result is None
    assert sorted(row.outcome for row in rows) == ["ok", "unreconciled"]
    stopped = next(row for row in rows if row.outcome == "unreconciled")
    assert stopped.error_code == "cancelled"
    assert [row.id for row in app.unreconciled()] == [stopped.id]
    shown = screen.text()
    assert "✗ step 2/6 · summarize · openai/gpt-4o-mini · not completed" in shown
    assert "The request may have been charged." in shown
    assert "Stopped: you cancelled the run. 1 step · $" in shown
    assert not app.in_flight()


def test_r4_5_with_no_terminal_to_ask_in_ctrl_c_stops_the_run_and_says_why(
    sim: Simulator,
    make_app: Callable[..., byom.App],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim.config(tool_steps=1)
    monkeypatch.setattr(live, "interactive", lambda stream=None: False)
    app = make_app(transport_factory=lambda origin: Interrupting(origin, at=1))
    _, result = agent(app)
    assert result is None
    assert (
        "There is no terminal to ask whether to stop, so the run stops." in capsys.readouterr().err
    )
    assert [row.outcome for row in app.history()] == ["unreconciled"]


def test_r8_4_a_401_mid_run_reconnects_and_the_run_goes_on_within_its_ceiling(
    sim: Simulator, make_app: Callable[..., byom.App], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.config(tool_steps=2)
    app = make_app()
    monkeypatch.setattr(live, "interactive", lambda stream=None: True)
    screen = Screen(app)
    reconnects: list[bool] = []

    def wizard(feature: str, *, reconnect: bool = False, then_run: bool = True) -> bool:
        reconnects.append(reconnect)
        app.connect("openrouter", key=CANARY_KEY + "-new", base_url=sim.openrouter_base)
        return True

    screen.term.connect = wizard  # type: ignore[method-assign]
    runs: list[dict[str, Any]] = []
    real = app.run_stream

    def spy(feature: str, messages: Any, **options: Any) -> Any:
        runs.append({"messages": list(messages), **options})
        return real(feature, messages, **options)

    app.run_stream = spy  # type: ignore[method-assign]
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 0}, {"status": 401}])
    result = screen.term.run_agent(
        "summarize", user("q"), tools=[search_notes, read_note], max_cost=CEILING, max_steps=6
    )
    screen.term.close()
    assert reconnects == [True]
    assert result is not None and result.stopped == "done"
    first, second = runs
    assert first["max_cost"] == CEILING and second["max_steps"] == 5
    history = app.history()
    step_one = min(history, key=lambda row: row.started_at)
    assert step_one.outcome == "ok" and step_one.cost
    assert second["max_cost"] == CEILING - step_one.cost  # what is left of the ceiling
    # The second run carries on from the first: its messages hold step 1's tool call and result.
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool"]
    shown = screen.text()
    assert Messages("en")("error.key_rejected", provider="OpenRouter")[:30] in shown
    assert "Connected again. The run goes on within what is left of its ceiling" in shown
    assert CANARY_KEY not in shown


def test_r8_4_a_run_stopped_by_the_allowance_shows_the_figures(
    sim: Simulator, make_app: Callable[..., byom.App]
) -> None:
    app = make_app()
    app.set_allowance("0.0000001", "session")
    screen, result = agent(app)
    assert result is not None and result.stopped == "allowance" and result.steps == 0
    assert isinstance(result.error, BudgetExceeded)
    shown = screen.text()
    assert "Stopped: your allowance does not cover the next step, so it was not sent." in shown
    assert "Not sent" in shown and "$0.0000001" in shown
    assert chat_count_of(sim) == 0


def test_r8_4_run_agent_opens_the_wizard_first_when_not_connected(
    make_app: Callable[..., byom.App],
) -> None:
    app = make_app(connect=False)
    screen = Screen(app)
    asked: list[str] = []
    screen.term.connect = lambda feature, **kw: asked.append(feature) or False  # type: ignore[method-assign]
    assert screen.term.run_agent("summarize", user("q"), max_cost=CEILING) is None
    assert asked == ["summarize"]
    assert app.history() == []
