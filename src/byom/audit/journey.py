"""Journeys: the declared steps that bring an app's feature to its paid request (R7.2).

Real apps hide their model features behind flows — a filter panel, a questionnaire in a dialog,
a "next" that stays disabled until a question is answered. One click cannot reach them, so
``byom-audit.toml`` may declare the way, as an array of tables run in order after connecting::

    [[journey]]
    click = "CSS"          # click the first visible match
    [[journey]]
    fill = "CSS"
    text = "{prompt}"      # {prompt} becomes the audit's canary prompt; other text is typed as is
    [[journey]]
    select = "CSS"
    value = "option value"
    [[journey]]
    press = "Enter"        # a key, on the focused element
    [[journey]]
    wait = "CSS"           # until a visible match exists (timeout: timing.wizard_timeout)
    [[journey]]
    click = "CSS"
    request = true         # this step makes the app send the paid request

The audit replays the journey for every check that needs a paid request (both tabs of the
budget check included). The step marked ``request`` (else the last step) is the one that sends:
the checks that must hold the request (leave guard, budget) run the steps before it first.

Resuming: when a dialog of the app is open as a replay starts (the app reopened its feature
after connecting, or still shows the last answer), the replay starts at the first step whose
target is visible inside that dialog; if there is none the dialog is closed first, and the
journey starts from its first step.

A step that fails raises :class:`JourneyFailed` naming the step, what it looked for and a
screenshot of the page at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

Action = Literal["click", "fill", "select", "press", "wait"]
ACTIONS: tuple[Action, ...] = ("click", "fill", "select", "press", "wait")
PROMPT = "{prompt}"


@dataclass(frozen=True, slots=True)
class JourneyStep:
    """One declared step. ``target`` is a CSS selector, or the key name for ``press``."""

    number: int  # 1-based, as the user counts them in the file
    action: Action
    target: str
    text: str | None = None  # fill
    value: str | None = None  # select
    request: bool = False

    def describe(self) -> str:
        """The step as the report shows it (the canary prompt never appears: ``{prompt}``)."""
        if self.action == "fill":
            return f"fill {self.target!r} with {self.text!r}"
        if self.action == "select":
            return f"select {self.value!r} in {self.target!r}"
        if self.action == "press":
            return f"press {self.target}"
        if self.action == "wait":
            return f"wait for {self.target!r}"
        return f"click {self.target!r}" + (" (sends the paid request)" if self.request else "")

    def looked_for(self) -> str:
        if self.action == "press":
            return f"the key {self.target} on the focused element"
        return f"a visible match for {self.target!r}"


def parse_journey(value: Any) -> list[JourneyStep]:
    """``[[journey]]`` tables → steps; raises ``ValueError`` naming the step and the key."""
    if not isinstance(value, list):
        raise ValueError("journey must be an array of tables ([[journey]])")
    steps: list[JourneyStep] = []
    for number, item in enumerate(value, start=1):
        where = f"journey step {number}"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where} must be a table")
        actions = [a for a in ACTIONS if a in item]
        if len(actions) != 1:
            raise ValueError(f"{where} needs exactly one of {', '.join(ACTIONS)}")
        action = actions[0]
        allowed = {action, "request"} | ({"text"} if action == "fill" else set())
        allowed |= {"value"} if action == "select" else set()
        unknown = set(item) - allowed
        if unknown:
            raise ValueError(f"unknown key(s) in {where} ({action}): {', '.join(sorted(unknown))}")
        target = item[action]
        if not isinstance(target, str) or not target.strip():
            raise ValueError(f"{where}: {action} must be a non-empty string")
        text = item.get("text")
        value_ = item.get("value")
        if action == "fill" and not isinstance(text, str):
            raise ValueError(f'{where}: fill needs text = "…" ("{PROMPT}" for the prompt)')
        if action == "select" and not isinstance(value_, str):
            raise ValueError(f'{where}: select needs value = "option value"')
        request = item.get("request", False)
        if not isinstance(request, bool):
            raise ValueError(f"{where}: request must be true or false")
        steps.append(JourneyStep(number, action, target, text, value_, request))
    if sum(1 for s in steps if s.request) > 1:
        raise ValueError("only one journey step may have request = true")
    return steps


def request_index(steps: Sequence[JourneyStep]) -> int:
    """The index of the step that sends the paid request (the marked one, else the last)."""
    for index, step in enumerate(steps):
        if step.request:
            return index
    return len(steps) - 1


@dataclass(slots=True)
class StepTaken:
    """A step as one replay ran it, for the report."""

    step: JourneyStep
    ok: bool
    seconds: float
    screenshot: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step.number,
            "action": self.step.action,
            "target": self.step.target,
            "description": self.step.describe(),
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
        }
        if self.step.request:
            out["request"] = True
        if self.screenshot:
            out["screenshot"] = self.screenshot
        if self.error:
            out["error"] = self.error
        return out


class JourneyFailed(Exception):
    """A step could not be done: which step, what it looked for, and a screenshot."""

    def __init__(self, taken: StepTaken) -> None:
        self.taken = taken
        step = taken.step
        super().__init__(
            f"journey step {step.number} ({step.describe()}) failed: it looked for "
            f"{step.looked_for()}" + (f" — {taken.error}" if taken.error else "")
        )


Shot = Callable[[str], Awaitable[str | None]]


@dataclass(slots=True)
class Journey:
    """Replays declared steps on a page.

    ``prompt`` is the canary prompt typed for ``{prompt}``; ``timeout`` (seconds) bounds each
    step; ``shot(name)`` saves a screenshot and returns its path (``None``: no screenshots)."""

    steps: list[JourneyStep]
    prompt: str
    timeout: float
    shot: Shot
    quiet: Callable[[], Awaitable[object]]
    close_dialogs: Callable[[], Awaitable[None]]
    dialog_open: Callable[[], Awaitable[bool]]
    #: checked while a step waits: when it holds (the app asked for the key again) the step
    #: fails at once instead of waiting out its timeout
    stop: Callable[[], Awaitable[bool]] | None = None
    taken: list[StepTaken] = field(default_factory=list)  # the first full replay, with shots
    failures: list[JourneyFailed] = field(default_factory=list)  # on the way to the key input
    replays: int = 0

    @property
    def request_at(self) -> int:
        return request_index(self.steps)

    async def before_request(self, page: Page, *, record: bool = False) -> None:
        """Run every step before the one that sends (resuming in an open dialog)."""
        self.replays += 1
        start = await self._resume_at(page)
        await self._run(page, start, self.request_at, record)

    async def send(self, page: Page, *, record: bool = False, timeout: float | None = None) -> None:
        """Run the sending step and any after it (``timeout``: seconds per step, when shorter
        than the journey's — a second send that may be refused)."""
        await self._run(page, self.request_at, len(self.steps), record, timeout)

    async def until(self, page: Page, done: Callable[[], Awaitable[bool]]) -> bool:
        """Run steps from the first until ``done()`` holds (checked before each step and after
        the last): how the audit reaches an app's key input, since using the feature opens the
        wizard. A step that fails ends the walk; the answer is ``done()`` then."""
        for index in range(len(self.steps)):
            if await done():
                return True
            try:
                await self._run(page, index, index + 1, False, min(self.timeout, 5.0))
            except JourneyFailed as exc:
                if await done():
                    return True
                self.failures.append(exc)
                return False
        return await done()

    async def run(self, page: Page, *, record: bool = False) -> None:
        """The whole journey: bring the feature to its request and send it."""
        record = record or not self.taken
        await self.before_request(page, record=record)
        await self.send(page, record=record)

    async def _resume_at(self, page: Page) -> int:
        if not await self.dialog_open():
            return 0
        for index, step in enumerate(self.steps[: self.request_at + 1]):
            if step.action == "press":
                continue
            if await page.evaluate(_IN_OPEN_DIALOG, step.target):
                return index
        await self.close_dialogs()
        return 0

    async def _run(
        self, page: Page, start: int, end: int, record: bool, timeout: float | None = None
    ) -> None:
        if start < end:
            # a tab in the background gets no animation frames, and Playwright waits for a
            # stable element before it clicks: bring the tab forward first
            await page.bring_to_front()
        for step in self.steps[start:end]:
            began = time.monotonic()
            try:
                await self._do(page, step, timeout if timeout is not None else self.timeout)
            except Exception as exc:
                taken = StepTaken(
                    step,
                    False,
                    time.monotonic() - began,
                    await self.shot(f"journey-step-{step.number}-failed"),
                    _first_line(exc),
                )
                if record:
                    self.taken.append(taken)
                raise JourneyFailed(taken) from None
            if step.action != "press":
                await self.quiet()
            if record:
                path = await self.shot(f"journey-step-{step.number}")
                self.taken.append(StepTaken(step, True, time.monotonic() - began, path))

    def _visible(self, page: Page, selector: str) -> Locator:
        return page.locator(f"{selector} >> visible=true").first

    async def _do(self, page: Page, step: JourneyStep, timeout: float) -> None:
        if step.action == "press":
            await page.keyboard.press(step.target)
            return
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                await self._attempt(page, step, max(0.05, min(1.0, left)))
                return
            except Exception:
                if left <= 1.0:
                    raise RuntimeError(f"none visible and usable within {timeout:g} s") from None
            if self.stop is not None and await self.stop():
                raise RuntimeError("the app asked for a key instead")

    async def _attempt(self, page: Page, step: JourneyStep, timeout: float) -> None:
        ms = timeout * 1000
        if step.action == "press":
            await page.keyboard.press(step.target)
        elif step.action == "wait":
            await self._visible(page, step.target).wait_for(state="visible", timeout=ms)
        elif step.action == "click":
            await self._visible(page, step.target).click(timeout=ms)
        elif step.action == "fill":
            assert step.text is not None
            text = step.text.replace(PROMPT, self.prompt)
            await self._visible(page, step.target).fill(text, timeout=ms)
        else:
            assert step.value is not None
            await self._visible(page, step.target).select_option(step.value, timeout=ms)


_IN_OPEN_DIALOG = """(sel) => {
  const DIALOGS = 'dialog[open], [role=dialog], [role=alertdialog], [aria-modal=true]';
  let all;
  try { all = [...document.querySelectorAll(sel)]; } catch (e) { return false; }
  return all.some(el => {
    const d = el.closest(DIALOGS);
    if (!d || !el.checkVisibility || !el.checkVisibility({visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width >= 2 && r.height >= 2;
  });
}"""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
