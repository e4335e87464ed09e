"""Live cost and the Ctrl-C guard (R4.1, R4.5, pitfalls 12 and 13).

:class:`CostLine` listens to the app's events — the same Pending / Landed / Failed events every
surface reads — and shows ``summarize · model · pending…`` while a request is out, then the real
cost and tokens when they land, with the session total. Tiny amounts keep significant digits.

A run (``App.run``) shows as one run, not as unrelated calls: a header with its step limit and
cost ceiling, ``step 2/6 · ask · model · pending…`` while a step is out, then one line per step
with the names of the tools the model asked for (never their arguments) and the run's cost
against its ceiling, and at the end why it stopped, in plain words.

:class:`CtrlCGuard` reads :meth:`byom.App.in_flight`, the one source of truth for paid work in
flight: while it is true, the first Ctrl-C asks before aborting; a second Ctrl-C (or "y")
confirms. With nothing in flight Ctrl-C behaves as usual.

:class:`Terminal` puts it together for an app author: ``Terminal(app).run("summarize", msgs)``
opens the wizard on first use, streams the reply, shows its cost, turns errors into plain words,
goes back to the wizard after a 401 and keeps the key after a 403. ``Terminal(app).run_agent(...)``
does the same for :meth:`byom.App.run`; its Ctrl-C question covers the whole run (a step in
flight, or a tool running between paid steps).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Literal, TextIO

from byom.core.boundary import public_class
from byom.core.errors import ByomError, KeyRejected, NotConnected
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
from byom.core.run import RunDone, RunResult
from byom.core.usage import Delta, Reply
from byom.locales import Messages, messages
from byom.terminal._console import Prompter, clean, interactive, make_console
from byom.terminal._format import step_text, steps_count, tokens, tool_names, usd
from byom.terminal.errors import describe_error

if TYPE_CHECKING:
    from rich.console import Console

    from byom.app import App
    from byom.providers.registry import ProviderKind
    from byom.terminal.pkce import Opener


@dataclass(slots=True)
class RunView:
    """What the cost line knows of one run in progress (figures and tool names only)."""

    feature: str
    max_steps: int | None
    max_cost: Decimal | None
    #: Steps that landed so far.
    steps: int = 0
    #: What the run counts so far against its ceiling.
    spent: Decimal = Decimal(0)
    #: The cost label of the step that just landed, when it is not a plain provider cost.
    label: str | None = None

    def step(self, tr: Messages, n: int | None = None) -> str:
        n = self.steps + 1 if n is None else n
        if self.max_steps is None:
            return tr("run.step", n=n, max_steps="?")
        return step_text(n, self.max_steps, tr)


#: Why a run stopped, for each ``RunResult.stopped`` value (others: ``run.stopped.other``).
STOPPED = ("done", "max_steps", "max_cost", "allowance", "cancelled", "error")


def stopped_text(stopped: str, tr: Messages, *, max_steps: int | None, ceiling: str) -> str:
    """The plain-words reason a run ended, in the active language."""
    if stopped not in STOPPED:
        return tr("run.stopped.other", stopped=clean(stopped)[:40])
    return tr(
        f"run.stopped.{stopped}",
        max_steps=max_steps if max_steps is not None else "?",
        ceiling=ceiling,
    )


class CostLine:
    """The status line of paid work, fed by the app's events. ``close()`` unsubscribes."""

    def __init__(
        self,
        app: App,
        console: Console,
        tr: Messages,
        *,
        shares_terminal_with: TextIO | None = None,
    ) -> None:
        self.app = app
        self.console = console
        self.tr = tr
        self.session_total = Decimal(0)
        self.unreconciled = 0
        self.current_feature: str | None = None
        self.mid_line = False
        self._pending_text: str | None = None
        self._text_out = shares_terminal_with
        #: Called before a status line is printed, to write out reply text held back.
        self.flush_text: Callable[[], None] | None = None
        self._lock = threading.RLock()
        #: Runs in progress (``RunStarted`` seen, ``RunFinished`` not yet), by run id.
        self.runs: dict[str, RunView] = {}
        #: The run whose step is in flight (or that is between steps), if any.
        self.current_run: RunView | None = None
        self._unsubscribe = app.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    # -- events ---------------------------------------------------------------------------------

    @property
    def run_active(self) -> bool:
        """True between a run's start and its end (paid steps and the tools between them)."""
        return bool(self.runs)

    def _on_event(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, RunStarted | StepLanded | RunFinished):
                self._run_event(event)
                return
            run = self.runs.get(event.run_id) if event.run_id is not None else None
            if run is not None:
                self._step_event(run, event)
            elif isinstance(event, Pending):
                self.current_feature = event.feature
                self._show_pending(
                    self.tr("live.pending", feature=event.feature, model=clean(event.model))
                )
            elif isinstance(event, Landed):
                self._landed(event)
            elif isinstance(event, Failed):
                self._failed(event)
            elif isinstance(event, Refused):
                self.clear_pending()

    def _cost_text(self, event: Landed) -> str:
        tr = self.tr
        if event.cost is None:
            return tr("live.unknown")
        if event.cost_source == "free" or (event.cost == 0 and event.cost_source != "provider"):
            return tr("live.free")
        if event.cost_source == "computed":
            return tr("live.computed", cost=usd(event.cost, tr))
        return usd(event.cost, tr)

    def _landed(self, event: Landed) -> None:
        from rich.text import Text

        if event.cost is not None:
            self.session_total += event.cost
        self.break_line()
        line = self.tr(
            "live.landed",
            feature=event.feature,
            model=clean(event.model),
            cost=self._cost_text(event),
            tokens=tokens(event.usage.prompt_tokens, event.usage.completion_tokens, self.tr),
        )
        self.console.print(Text("✓ " + line, style="green"))
        self._session_line()
        self.current_feature = None

    def _session_line(self, before: str = "") -> None:
        from rich.text import Text

        total = self.tr("live.session", total=usd(self.session_total, self.tr))
        self.console.print(Text("  " + before + total, style="dim"))

    def _failed(self, event: Failed) -> None:
        from rich.text import Text

        if event.cost is not None:
            self.session_total += event.cost
        self.break_line()
        line = self.tr("live.failed", feature=event.feature, model=clean(event.model))
        self.console.print(Text("✗ " + line, style="yellow"))
        if event.cost is not None:
            self._session_line()
        if event.unreconciled:
            self.unreconciled += 1
            if event.error.code != "interrupted":  # its own message says this already
                self.console.print(
                    Text(self.tr("live.unreconciled", app_id=self.app.app_id), style="yellow")
                )
        self.current_feature = None

    # -- runs ---------------------------------------------------------------------------------

    def _run_event(self, event: RunStarted | StepLanded | RunFinished) -> None:
        from rich.text import Text

        tr = self.tr
        if isinstance(event, RunStarted):
            run = RunView(event.feature, event.max_steps, event.max_cost)
            self.runs[event.run_id] = run
            self.current_run = run
            self.break_line()
            line = tr(
                "run.started",
                feature=event.feature,
                max_steps=event.max_steps,
                ceiling=usd(event.max_cost, tr),
            )
            self.console.print(Text("▸ " + line, style="dim"))
            return
        if isinstance(event, StepLanded):
            found = self.runs.get(event.run_id)
            if found is None:  # a run that started before this line listened
                found = self.runs[event.run_id] = RunView("?", None, event.max_cost)
            run = found
            run.steps = event.step
            run.spent = event.run_cost
            run.max_cost = event.max_cost
            self.break_line()
            what = tool_names([clean(name) for name in event.tools], tr)
            if run.label is not None:
                what = f"{what} · {run.label}"
            line = tr(
                "run.landed",
                step=run.step(tr, event.step),
                tools=what,
                spent=usd(event.run_cost, tr),
                ceiling=usd(event.max_cost, tr),
            )
            self.console.print(Text("✓ " + line, style="green"))
            run.label = None
            return
        finished = self.runs.pop(event.run_id, None)
        if finished is None:
            finished = RunView(event.feature, None, None)
        if self.current_run is finished:
            self.current_run = next(iter(self.runs.values()), None)
        self.break_line()
        ceiling = usd(finished.max_cost, tr) if finished.max_cost is not None else "?"
        reason = stopped_text(event.stopped, tr, max_steps=finished.max_steps, ceiling=ceiling)
        style = "green" if event.stopped == "done" else "yellow"
        self.console.print(Text(reason, style=style))
        steps = steps_count(event.steps, tr)
        if finished.max_cost is not None:
            summary = tr("run.summary", steps=steps, spent=usd(event.cost, tr), ceiling=ceiling)
        else:
            summary = f"{steps} · {usd(event.cost, tr)}"  # no ceiling known to this line
        self._session_line(summary + " · ")

    def _step_event(self, run: RunView, event: Pending | Landed | Refused | Failed) -> None:
        """A step's own call events: shown as the run's steps, never as unrelated calls."""
        from rich.text import Text

        tr = self.tr
        self.current_run = run
        if isinstance(event, Pending):
            self.current_feature = event.feature
            text = tr(
                "run.pending", step=run.step(tr), feature=event.feature, model=clean(event.model)
            )
            self._show_pending(text)
        elif isinstance(event, Landed):
            if event.cost is not None:
                self.session_total += event.cost
            self.break_line()
            plain = event.cost is not None and event.cost_source == "provider"
            run.label = None if plain else self._cost_text(event)
            self.current_feature = None
        elif isinstance(event, Failed):
            if event.cost is not None:
                self.session_total += event.cost
            self.break_line()
            line = tr(
                "run.failed", step=run.step(tr), feature=event.feature, model=clean(event.model)
            )
            self.console.print(Text("✗ " + line, style="yellow"))
            if event.unreconciled:
                self.unreconciled += 1
                if event.error.code != "interrupted":  # its own message says this already
                    self.console.print(
                        Text(tr("live.unreconciled", app_id=self.app.app_id), style="yellow")
                    )
            self.current_feature = None
        else:  # Refused: never sent; RunFinished says why the run stops
            self.clear_pending()

    # -- the transient pending line --------------------------------------------------------------

    def _show_pending(self, text: str) -> None:
        from rich.text import Text

        self.break_line()
        if self.console.is_terminal:
            self.console.print(Text("… " + text, style="dim"), end="")
            self._pending_text = text
        else:
            self.console.print(Text("… " + text))

    def reshow_pending(self) -> None:
        """After a question interrupted it, put the pending line back (if still pending)."""
        with self._lock:
            if self.current_feature is not None and self.app.in_flight() and not self.mid_line:
                text = self._pending_text
                self._pending_text = None
                if text:
                    self._show_pending(text)

    def clear_pending(self) -> None:
        """Erase the pending line (the reply is about to be written where it was)."""
        from rich.control import Control
        from rich.segment import ControlType

        with self._lock:
            if self._pending_text is not None:
                self.console.control(
                    Control.move_to_column(0), Control((ControlType.ERASE_IN_LINE, 2))
                )
                self._pending_text = None

    def break_line(self) -> None:
        """Make sure the next output starts on a fresh line (after any held-back reply text)."""
        with self._lock:
            if self.flush_text is not None:
                self.flush_text()
            self.clear_pending()
            if self.mid_line:
                out = self._text_out
                if out is not None:
                    out.write("\n")
                    out.flush()
                self.mid_line = False

    @property
    def shares_terminal(self) -> bool:
        return self._text_out is not None

    def wrote(self, text: str) -> None:
        """Reply text went to the terminal; remember whether it ended mid-line."""
        if self._text_out is not None and text:
            self.mid_line = not text.endswith("\n")


class WordWrap:
    """Word-wraps streamed text for a terminal: a word is written whole, on the next line when
    it would not fit (a word wider than the line is broken). Spaces are held until the next
    word shows where it goes, so no line ends in a space; indentation at a line start stays.
    ``flush()`` writes the last word."""

    def __init__(self, write: Callable[[str], None], width: int) -> None:
        self._write = write
        self.width = max(20, width)
        self.column = 0
        self._word = ""
        self._spaces = ""

    def feed(self, text: str) -> None:
        for char in text:
            if char == "\n":
                self.flush()
                self._spaces = ""
                self._write("\n")
                self.column = 0
            elif char in " \t":
                self.flush()
                self._spaces += char
            else:
                self._word += char
                if _cells(self._word) >= self.width:
                    self.flush()

    def flush(self) -> None:
        word, self._word = self._word, ""
        if not word:
            return
        size = _cells(word)
        gap = len(self._spaces.expandtabs(4))
        self._spaces = ""
        if self.column > 0 and self.column + gap + size > self.width:
            self._write("\n")
            self.column = 0
        elif gap:
            self._write(" " * gap)
            self.column += gap
        self._write(word)
        self.column += size


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


class CtrlCGuard:
    """While paid work is in flight, the first Ctrl-C asks before aborting (R4.5).

    ``ask()`` returns True to stop. A Ctrl-C while the question is open counts as "stop". The
    handler is installed only in the main thread (where Python delivers signals) and restored on
    exit; elsewhere the guard does nothing.
    """

    def __init__(self, in_flight: Callable[[], bool], ask: Callable[[], bool]) -> None:
        self._in_flight = in_flight
        self._ask = ask
        self._asking = False
        self._previous: Any = None
        self._installed = False
        self.stopped = False

    def __enter__(self) -> CtrlCGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._asking or not self._in_flight():
            raise KeyboardInterrupt
        self._asking = True
        try:
            stop = self._ask()
        except (KeyboardInterrupt, EOFError):
            stop = True
        finally:
            self._asking = False
        if stop:
            self.stopped = True
            raise KeyboardInterrupt


def ask_to_stop(
    tr: Messages,
    feature: str | None,
    *,
    out: TextIO | None = None,
    inp: TextIO | None = None,
) -> bool:
    """The guard's question, written and read without rich (it may interrupt a rich print)."""
    return ask_question(tr, tr("guard.question", feature=feature or "?"), out=out, inp=inp)


def ask_question(
    tr: Messages,
    question: str,
    *,
    out: TextIO | None = None,
    inp: TextIO | None = None,
) -> bool:
    """Ask a stop question (default No); True to stop. Without a terminal to ask in: stop."""
    out = sys.stderr if out is None else out
    inp = sys.stdin if inp is None else inp
    if not interactive(inp):
        return True
    out.write("\n" + _wrapped(f"{question} {tr('prompt.no_default')}") + " ")
    out.flush()
    line = inp.readline()
    if not line:
        return True
    stop = line.strip().lower() in tr.words("answer.yes")
    if not stop:
        out.write(tr("guard.continuing") + "\n")
        out.flush()
    return stop


def _wrapped(text: str) -> str:
    """Word-wrap a question for the terminal it is asked in (it is written without rich)."""
    import shutil
    import textwrap

    width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def guard(app: App, *, lang: str | None = None) -> CtrlCGuard:
    """A Ctrl-C guard for an app's own loop: ``with byom.terminal.guard(app): ...``."""
    tr = messages(lang)
    return CtrlCGuard(app.in_flight, lambda: ask_to_stop(tr, None))


@public_class
class Terminal:
    """The terminal surface for one app: wizard on first use, live cost, guard, plain errors.

    Human output (screens, status lines, errors) goes to ``console`` (standard error by default);
    reply text goes to ``out`` (standard output), so ``app FILE > reply.txt`` stays clean.
    """

    def __init__(
        self,
        app: App,
        *,
        lang: str | None = None,
        console: Console | None = None,
        out: TextIO | None = None,
        provider: ProviderKind = "openrouter",
        base_url: str | None = None,
        opener: Opener | None = None,
        transport_factory: Callable[[str], Any] | None = None,
        pkce_timeout: float = 300.0,
    ) -> None:
        self.app = app
        self.tr = messages(lang)
        self.console = console if console is not None else make_console()
        self.out = sys.stdout if out is None else out
        self.prompt = Prompter(self.console, self.tr)
        self.provider = provider
        self.base_url = base_url
        self.opener = opener
        self.transport_factory = transport_factory
        self.pkce_timeout = pkce_timeout
        shares = self.out if _same_terminal(self.out, self.console) else None
        self.cost = CostLine(app, self.console, self.tr, shares_terminal_with=shares)
        self._wrap: WordWrap | None = None
        self.cost.flush_text = self._flush_wrap

    def close(self) -> None:
        self.cost.close()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connecting -----------------------------------------------------------------------------

    def connect(self, feature: str, *, reconnect: bool = False, then_run: bool = True) -> bool:
        """Run the wizard for ``feature``; True when the app is connected afterwards."""
        from byom.terminal.wizard import Wizard

        wizard = Wizard(
            self.app,
            feature,
            tr=self.tr,
            console=self.console,
            provider=self.provider,
            base_url=self.base_url,
            reconnect=reconnect,
            opener=self.opener,
            pkce_timeout=self.pkce_timeout,
            transport_factory=self.transport_factory,
            then_run=then_run,
        )
        return wizard.run()

    def panel(self) -> None:
        """The connection panel: change a model, the allowance, the key; see the history."""
        from byom.terminal.panel import Panel

        Panel(
            self.app,
            tr=self.tr,
            console=self.console,
            connect=lambda feature: self.connect(feature, then_run=False),
            base_url=self.base_url,
        ).run()

    # -- running a feature ----------------------------------------------------------------------

    def run(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Reply | None:
        """Run a model feature with everything a terminal user is owed. Returns the reply, or
        None when it did not complete (the reason has been shown in plain words)."""
        if not self.app.connected and not self.connect(feature):
            return None
        reconnected = False
        while True:
            try:
                return self._stream(feature, messages, max_tokens, params)
            except (KeyRejected, NotConnected) as error:
                self.cost.break_line()
                if isinstance(error, KeyRejected):
                    self.error(error)
                if reconnected or not interactive():
                    if not interactive():
                        self.prompt.note(self.tr("wizard.no_tty", app_id=self.app.app_id))
                    return None
                if not self.connect(feature, reconnect=isinstance(error, KeyRejected)):
                    return None
                reconnected = True
                self.prompt.note(self.tr("run.retry", feature=feature), style="dim")
            except ByomError as error:
                self.cost.break_line()
                self.error(error)
                return None

    def _stream(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int | None,
        params: Mapping[str, Any],
    ) -> Reply | None:
        guard = CtrlCGuard(self.app.in_flight, self._ask_stop)
        reply: Reply | None = None
        self._wrap = WordWrap(self._emit, self.console.width) if self.cost.shares_terminal else None
        with guard:
            try:
                for item in self.app.stream(feature, messages, max_tokens=max_tokens, **params):
                    if isinstance(item, Delta):
                        if item.text:
                            self.cost.clear_pending()
                            self._write(item.text)
                    else:
                        reply = item.reply
            except KeyboardInterrupt:
                if not guard.stopped:
                    raise
                self.cost.break_line()
                self.prompt.note(self.tr("live.stopped"), style="yellow")
                return None
        self.cost.break_line()
        self._wrap = None
        self._ending_note(reply)
        return reply

    def _ending_note(self, reply: Any) -> None:
        """Say when a reply is not a complete answer: refused, paused, or cut at its limit."""
        if reply is None:
            return
        if reply.refused:
            self.prompt.note(self.tr("live.refused"), style="yellow")
        elif reply.finish_reason == "pause_turn":
            self.prompt.note(self.tr("live.paused"), style="yellow")
        elif reply.truncated:
            self.prompt.note(self.tr("live.truncated"), style="yellow")

    # -- running an agent feature (App.run) -------------------------------------------------------

    def run_agent(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_cost: Decimal | str | int,
        tools: Sequence[Any] = (),
        max_steps: int = 8,
        max_tokens: int | None = None,
        schema: Any = None,
        on_tool_error: Literal["report", "abort"] = "report",
        **params: Any,
    ) -> RunResult | None:
        """:meth:`byom.App.run` with everything a terminal user is owed: the wizard on first
        use, the run's live line (each step, the names of the tools asked for, the cost against
        the ceiling, why it stopped), the model's text streamed to ``out``, errors in plain words.

        Ctrl-C while the run goes asks first — while a paid step is in flight, and while
        a tool runs between paid steps, since stopping then discards what was paid for. "No"
        lets the run go on: the signal handler returns and the interrupted read or tool resumes
        (Python retries interrupted system calls). "Yes", a second Ctrl-C, or no terminal to ask
        in stops it: the step in flight is cancelled and its estimate stays counted as
        unreconciled until its real cost is known. Python delivers Ctrl-C only to the main
        thread, so from another thread there is nothing to ask (and nothing is interrupted).

        After a 401 the wizard asks for a key again and the run goes on from where it was,
        within what is left of ``max_cost`` and of ``max_steps``.

        Returns the :class:`~byom.core.run.RunResult` — also when the run stopped at its
        ceiling, its step limit or the allowance (``result.stopped``; the reason has been
        shown) — or None when it could not start or the user stopped it.
        """
        if not self.app.connected and not self.connect(feature):
            return None
        options: dict[str, Any] = {
            "tools": tools,
            "max_steps": max_steps,
            "max_tokens": max_tokens,
            "schema": schema,
            "on_tool_error": on_tool_error,
            **params,
        }
        ceiling: Decimal | str | int = max_cost
        reconnected = False
        while True:
            try:
                result = self._run_stream(feature, messages, ceiling, options)
            except NotConnected:
                self.cost.break_line()
                if reconnected or not interactive():
                    if not interactive():
                        self.prompt.note(self.tr("wizard.no_tty", app_id=self.app.app_id))
                    return None
                if not self.connect(feature):
                    return None
                reconnected = True
                self.prompt.note(self.tr("run.retry", feature=feature), style="dim")
                continue
            except ByomError as error:  # a mistake in the call itself: nothing was sent
                self.cost.break_line()
                self.error(error)
                return None
            if result is None:
                return None
            problem = result.error
            if result.stopped == "error" and isinstance(problem, KeyRejected | NotConnected):
                if isinstance(problem, KeyRejected):
                    self.error(problem)
                if reconnected or not interactive():
                    if not interactive():
                        self.prompt.note(self.tr("wizard.no_tty", app_id=self.app.app_id))
                    return result
                if not self.connect(feature, reconnect=isinstance(problem, KeyRejected)):
                    return result
                reconnected = True
                left = result.max_cost - result.counted
                steps_left = int(options["max_steps"]) - result.steps
                if left <= 0 or steps_left < 1:
                    return result
                self.prompt.note(self.tr("run.continue", left=usd(left, self.tr)), style="dim")
                messages, ceiling = list(result.messages), left
                options["max_steps"] = steps_left
                continue
            if problem is not None:
                self.error(problem)
            self._ending_note(result.replies[-1] if result.replies else None)
            return result

    def _run_stream(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        max_cost: Decimal | str | int,
        options: Mapping[str, Any],
    ) -> RunResult | None:
        guard = CtrlCGuard(self._run_going, self._ask_stop_run)
        result: RunResult | None = None
        self._wrap = WordWrap(self._emit, self.console.width) if self.cost.shares_terminal else None
        items = self.app.run_stream(feature, messages, max_cost=max_cost, **options)
        try:
            with guard:
                open_line = False  # a step's text went out without a final line break
                try:
                    for item in items:
                        if isinstance(item, Delta):
                            if item.text:
                                self.cost.clear_pending()
                                self._write(item.text)
                                open_line = not item.text.endswith("\n")
                        elif isinstance(item, StepLanded | RunDone):
                            if open_line and not self.cost.shares_terminal:
                                self._emit("\n")  # each step's text ends its own line
                            open_line = False
                            if isinstance(item, RunDone):
                                result = item.result
                except KeyboardInterrupt:
                    if not guard.stopped:
                        raise
                    _close(items)  # cancels the step in flight, if any; the run ends "cancelled"
                    self.cost.break_line()
                    return None
                finally:
                    _close(items)
            self.cost.break_line()
        finally:
            self._wrap = None
        return result

    def _run_going(self) -> bool:
        """Paid work the run would lose: a step in flight, or a run between its steps."""
        return self.app.in_flight() or self.cost.run_active

    def _ask_stop_run(self) -> bool:
        self.cost.break_line()
        tr = self.tr
        if not interactive():
            sys.stderr.write("\n" + tr("run.guard.no_terminal") + "\n")
            sys.stderr.flush()
            return True
        run = self.cost.current_run
        if run is None or self.app.in_flight():
            feature = run.feature if run is not None else self.cost.current_feature or "?"
            step = run.step(tr) if run is not None else "?"
            question = tr("run.guard.step", feature=feature, step=step)
        else:
            question = tr("run.guard.tool", feature=run.feature, spent=usd(run.spent, tr))
        stop = ask_question(tr, question)
        if not stop:
            self.cost.reshow_pending()
        return stop

    def _write(self, text: str) -> None:
        text = clean(text)
        if self._wrap is not None:
            self._wrap.feed(text)
        else:
            self._emit(text)

    def _flush_wrap(self) -> None:
        if self._wrap is not None:
            self._wrap.flush()

    def _emit(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
        self.cost.wrote(text)

    def _ask_stop(self) -> bool:
        self.cost.break_line()
        stop = ask_to_stop(self.tr, self.cost.current_feature)
        if not stop:
            self.cost.reshow_pending()
        return stop

    def error(self, error: BaseException) -> None:
        """Show an error in plain, localized words."""
        provider = self.app.provider or self.provider
        self.prompt.note(
            describe_error(error, self.tr, app_id=self.app.app_id, provider=provider), style="red"
        )


def _close(items: Any) -> None:
    """Close a generator now (not when it is collected): a step in flight is cancelled here."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


def _same_terminal(out: TextIO, console: Console) -> bool:
    try:
        return bool(out.isatty()) and console.is_terminal
    except (AttributeError, ValueError, OSError):
        return False


__all__ = [
    "CostLine",
    "CtrlCGuard",
    "RunView",
    "Terminal",
    "ask_question",
    "ask_to_stop",
    "guard",
    "stopped_text",
]
