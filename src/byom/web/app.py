"""Declaring a browser app's model features in Python.

An app's Python module creates one :class:`WebApp` named ``app`` and declares each model-powered
feature with the category it needs (never a concrete model) and a function that turns the page's
inputs into chat messages::

    from byom.web import WebApp

    app = WebApp("Reader", app_id="byom-reader")

    @app.feature("summarize", "worker", "Summarize the document", max_tokens=500)
    def summarize(inputs):
        return [{"role": "user", "content": "Summarize:\\n\\n" + inputs["text"]}]

The page calls ``BYOM.run("summarize", {text})``; the shell asks the function for the messages and
runs them through the core's call path (budget check, origin-locked send, real cost, history).
The function runs in the user's browser and sees only what the page passed; it must not log it.

An *agent* feature runs several steps: the model calls the app's tools (Python functions, run in
the page) and answers when it has what it needs — ``App.arun_stream`` under a cost ceiling the
feature declares::

    @app.agent("research", "worker", "Research the document", max_cost="0.05", max_steps=6)
    def research(inputs):
        doc = Document(inputs["text"])
        return AgentRun(messages=[...], tools=[doc.search, doc.read])

The page calls ``BYOM.run("research", {...}, {onStep})`` the same way; it may lower the ceiling
or the step limit for one run, never raise them. This module is plain Python so apps can test
their prompt builders and tools under CPython.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from byom.core.errors import InvalidRequest
from byom.core.features import Category, Feature
from byom.core.money import parse_amount

if TYPE_CHECKING:
    from byom.core.run import RunResult
    from byom.core.usage import ToolCall

Messages = Sequence[Mapping[str, Any]]
Builder = Callable[[Mapping[str, Any]], Any]

#: Most steps an agent feature may declare (the core allows more; a page feature needs fewer).
MAX_AGENT_STEPS = 50


@dataclass(frozen=True, slots=True)
class AgentRun:
    """One use of an agent feature, as its builder returns it.

    ``messages`` start the conversation; ``tools`` are what the model may call (plain functions
    — sync or async, their schema from hints and docstring —, :class:`~byom.core.tools.Tool`
    objects, or schema dicts with a function). Two optional hooks feed the page, never history
    or logs: ``describe(call)`` gives plain data about one tool call for the page to show
    ("searched for …"), ``report(result)`` gives plain data about the finished run (the
    sections an answer cites). Both run in the user's browser; what they return is shown to the
    user who asked, and must be JSON-able."""

    messages: Messages = field(repr=False)
    tools: Sequence[Any] = field(default=(), repr=False)
    describe: Callable[[ToolCall], Mapping[str, Any] | None] | None = field(
        default=None, repr=False
    )
    report: Callable[[RunResult], Mapping[str, Any]] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class RunLimits:
    """An agent feature's declared ceiling: most steps, most cost (USD) per run."""

    max_steps: int
    max_cost: Decimal

    def lowered(self, max_cost: Any = None, max_steps: Any = None) -> RunLimits:
        """These limits, lowered by what a page asked for one run (never raised). A value the
        page sent that is not an amount or a whole number is refused, not ignored."""
        cost = self.max_cost
        if max_cost is not None:
            if isinstance(max_cost, float | bool):
                raise InvalidRequest("A run's ceiling is an amount such as 0.02.")
            cost = min(cost, parse_amount(str(max_cost)))
        steps = self.max_steps
        if max_steps is not None:
            if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
                raise InvalidRequest("A run's step limit is a whole number of at least 1.")
            steps = min(steps, max_steps)
        return RunLimits(steps, cost)


@dataclass(frozen=True, slots=True)
class WebFeature:
    feature: Feature
    build: Builder
    max_tokens: int
    #: Set for an agent feature (declared with :meth:`WebApp.agent`).
    run: RunLimits | None = None
    #: How many characters of the last user message the built-in model reads in the page
    #: (``None``: the shell's default). It is small and slow; the page says which part it read.
    builtin_input: int | None = None


class WebApp:
    """An app's name, id and model-powered features."""

    def __init__(self, name: str, *, app_id: str | None = None) -> None:
        from byom.identity import app_id_for

        self.name = name
        self.app_id = app_id or app_id_for(name)
        self._features: dict[str, WebFeature] = {}

    def feature(
        self,
        name: str,
        category: Category = "worker",
        description: str = "",
        *,
        max_tokens: int = 800,
        builtin_input: int | None = None,
    ) -> Callable[[Builder], Builder]:
        """Declare a feature; decorates the function that builds its messages.

        ``builtin_input``: how many characters of the text (the last user message) the
        built-in model reads when the user runs this feature on it in the page (default: the
        shell's ``BUILTIN_INPUT_CHARS``). The builder's ``inputs["builtin"]`` is ``True`` when
        that small, slow model answers (set by the shell, never taken from the page): every
        token of instruction delays its first word, so give it a short one."""
        if builtin_input is not None and (
            isinstance(builtin_input, bool)
            or not isinstance(builtin_input, int)
            or builtin_input < 1
        ):
            raise InvalidRequest("builtin_input must be a whole number of characters.")
        return self._declare(name, category, description, max_tokens, None, builtin_input)

    def agent(
        self,
        name: str,
        category: Category = "worker",
        description: str = "",
        *,
        max_cost: Decimal | str,
        max_steps: int = 6,
        max_tokens: int = 800,
    ) -> Callable[[Builder], Builder]:
        """Declare an agent feature; decorates the function that returns its :class:`AgentRun`.

        ``max_cost`` (USD; a ``Decimal`` or a string, never a float) caps what one run may
        count — each step is reserved against it and the user's allowance before it is sent —
        and ``max_steps`` how many model requests one run may make; ``max_tokens`` bounds each
        step's output. The page states these to the user (``BYOM.featureInfo(name)``)."""
        if isinstance(max_cost, float):
            raise InvalidRequest("max_cost is money: give a Decimal or a string, not a float.")
        ceiling = parse_amount(max_cost)
        if ceiling <= 0:
            raise InvalidRequest("An agent feature needs a ceiling above zero.")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int):
            raise InvalidRequest("max_steps must be a whole number.")
        if not 1 <= max_steps <= MAX_AGENT_STEPS:
            raise InvalidRequest(f"max_steps must be between 1 and {MAX_AGENT_STEPS}.")
        limits = RunLimits(max_steps, ceiling)
        return self._declare(name, category, description, max_tokens, limits)

    def _declare(
        self,
        name: str,
        category: Category,
        description: str,
        max_tokens: int,
        run: RunLimits | None,
        builtin_input: int | None = None,
    ) -> Callable[[Builder], Builder]:
        declared = Feature(name, category, description)
        if name in self._features:
            raise InvalidRequest(f"Feature {name!r} is declared twice.")

        def decorate(build: Builder) -> Builder:
            self._features[name] = WebFeature(declared, build, max_tokens, run, builtin_input)
            return build

        return decorate

    @property
    def features(self) -> list[Feature]:
        return [f.feature for f in self._features.values()]

    def get(self, name: str) -> WebFeature:
        try:
            return self._features[name]
        except KeyError:
            raise InvalidRequest(f"This app has no feature named {name[:64]!r}.") from None

    def is_agent(self, name: str) -> bool:
        declared = self._features.get(name)
        return declared is not None and declared.run is not None

    def messages(self, name: str, inputs: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """The messages and ``max_tokens`` for one use of a feature."""
        declared = self.get(name)
        if declared.run is not None:
            raise InvalidRequest(f"{name[:64]!r} is an agent feature: start it with start_run.")
        built = [dict(m) for m in declared.build(inputs)]
        if not built:
            raise InvalidRequest("A feature produced no messages.")
        return built, declared.max_tokens

    def start_run(self, name: str, inputs: Mapping[str, Any]) -> tuple[AgentRun, WebFeature]:
        """The :class:`AgentRun` for one use of an agent feature, and its declaration."""
        declared = self.get(name)
        if declared.run is None:
            raise InvalidRequest(f"{name[:64]!r} is not an agent feature.")
        built = declared.build(inputs)
        if not isinstance(built, AgentRun):
            raise InvalidRequest("An agent feature's function must return an AgentRun.")
        if not built.messages:
            raise InvalidRequest("A feature produced no messages.")
        messages = [dict(m) for m in built.messages]
        return AgentRun(messages, tuple(built.tools), built.describe, built.report), declared
