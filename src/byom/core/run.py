"""A run: the agent loop's bookkeeping, with a cost ceiling that holds (R3.5, invariant 6).

A run sends the conversation, runs the tools the model asks for, sends their results back, and
repeats until the model answers, ``max_steps`` steps were taken, or the next step could take the
run past ``max_cost``. The ceiling is not checked after the fact: before every step, that step's
worst case is reserved in the same ledger transaction as the app's allowances
(:meth:`byom.core.ledger.Ledger.reserve` with a :class:`~byom.core.ledger.RunLimit`), so the
run's committed steps + its step in flight + this estimate never exceed ``max_cost`` — across
threads, tasks, processes and browser tabs. In strict mode every estimate is a true upper bound
of what the provider can charge, so what a run is charged never exceeds ``max_cost``, whatever
the model does.

This module holds what every loop (sync, asyncio, streamed; CPython and the browser) shares and
does no I/O: :class:`RunState` keeps the conversation and decides what happens after each step;
the loops in :mod:`byom.runs` send and run the tools. Tool arguments and results are content:
they travel only to the provider and back, never into history, events or logs.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from byom.core.boundary import clean
from byom.core.errors import (
    BudgetExceeded,
    ByomError,
    Cancelled,
    InvalidRequest,
    RunCeilingReached,
)
from byom.core.estimate import PartsCache
from byom.core.ledger import RunLimit
from byom.core.money import parse_amount, to_pico
from byom.core.output import fits
from byom.core.secret import Secret
from byom.core.tools import Tool, assistant_message, tool_message, tools_of
from byom.core.usage import Reply, ToolCall

Stopped = Literal["done", "max_steps", "max_cost", "allowance", "cancelled", "error"]
#: Most steps a run may be given.
MAX_STEPS = 1000
#: Longest tool result byom sends back to the model (longer ones are cut, and say so).
MAX_RESULT_CHARS = 100_000
#: Longest error text from a tool that goes back to the model.
MAX_ERROR_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a run ended with.

    ``stopped``: ``"done"`` (the model answered), ``"max_steps"``, ``"max_cost"`` (the next step
    could have passed the ceiling: not sent), ``"allowance"`` (the user's allowance would not
    cover it: not sent), ``"cancelled"`` or ``"error"`` (``error`` says which). ``text`` and
    ``data`` are the last reply's; ``cost`` is the known cost of the steps taken and ``counted``
    what the run counts against its ceiling and the allowance (known costs plus the estimates of
    steps whose cost is not known yet). ``messages`` is the whole conversation, to continue it.
    ``repr`` leaves out every piece of content.
    """

    run_id: str
    stopped: Stopped
    steps: int
    cost: Decimal
    counted: Decimal
    max_cost: Decimal
    text: str = field(default="", repr=False)
    data: Any = field(default=None, repr=False)
    replies: tuple[Reply, ...] = field(default=(), repr=False)
    messages: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    error: ByomError | None = None
    #: The tool calls the run ran, in order (a call beside the final structured answer is not
    #: run: the answer ends the run).
    tool_calls: tuple[ToolCall, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class RunDone:
    """The last item of :meth:`byom.App.run_stream`."""

    result: RunResult


@dataclass(frozen=True, slots=True)
class ToolResult:
    """One tool call's outcome, as sent back to the model (``repr`` leaves the content out)."""

    call: ToolCall
    content: str = field(repr=False)
    failed: bool = False


class RunState:
    """One run's conversation and counters. Not thread-safe: one loop drives it."""

    def __init__(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Any],
        max_steps: int,
        max_cost: Decimal | str | int,
        on_tool_error: Literal["report", "abort"] = "report",
    ) -> None:
        if isinstance(max_cost, float):
            raise InvalidRequest("max_cost is money: give a Decimal or a string, not a float.")
        ceiling = parse_amount(max_cost)
        if isinstance(max_steps, bool) or not isinstance(max_steps, int):
            raise InvalidRequest("max_steps must be a whole number.")
        if not 1 <= max_steps <= MAX_STEPS:
            raise InvalidRequest(f"max_steps must be between 1 and {MAX_STEPS}.")
        if on_tool_error not in ("report", "abort"):
            raise InvalidRequest('on_tool_error is "report" or "abort".')
        if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
            raise InvalidRequest("messages must be a list of messages.")
        self.feature = feature
        self.run_id = uuid.uuid4().hex
        self.tools: dict[str, Tool] = {tool.name: tool for tool in tools_of(list(tools))}
        self.max_steps = max_steps
        self.max_cost = ceiling
        self.on_tool_error = on_tool_error
        # The run's own deep copies: nothing the app holds (nor a tool it runs) can change a
        # message once sent, so the estimate's split of each message is kept across steps.
        try:
            self.messages: list[Mapping[str, Any]] = [copy.deepcopy(dict(m)) for m in messages]
            parts: PartsCache | None = PartsCache()
        except Exception:  # not copyable: shallow copies, split again at every step
            self.messages = [dict(m) for m in messages]
            parts = None
        self.limit = RunLimit(self.run_id, to_pico(ceiling), parts)
        self.replies: list[Reply] = []
        self.calls_run: list[ToolCall] = []
        self.cost = Decimal(0)
        self.stopped: Stopped | None = None
        self.error: ByomError | None = None

    @property
    def steps(self) -> int:
        return len(self.replies)

    @property
    def tool_specs(self) -> list[dict[str, Any]]:
        return [tool.spec for tool in self.tools.values()]

    def next_step(self) -> bool:
        """Whether another step may be sent (else ``stopped`` says why)."""
        if self.stopped is not None:
            return False
        if self.steps >= self.max_steps:
            self.stopped = "max_steps"
            return False
        return True

    def refused(self, error: ByomError) -> None:
        """A step could not be taken: why the run stops. The error is kept clean, as if it had
        left the public API (no chain, no traceback: its frames hold the conversation)."""
        error = clean(error) or error
        if isinstance(error, RunCeilingReached):
            self.stopped = "max_cost"
        elif isinstance(error, BudgetExceeded):
            self.stopped = "allowance"
            self.error = error
        elif isinstance(error, Cancelled):
            self.stopped = "cancelled"
        else:
            self.stopped = "error"
            self.error = error

    def landed(self, reply: Reply) -> list[ToolCall]:
        """A step settled. Returns the tool calls to run now (none: the run is done)."""
        self.replies.append(reply)
        if reply.cost is not None:
            self.cost += reply.cost
        if not reply.tool_calls or reply.data is not None:
            # A plain answer, or the structured output asked for (its own forced tool call on
            # providers without native schemas may come beside other calls): done.
            self.stopped = "done"
            return []
        self.messages.append(assistant_message(reply.text, reply.tool_calls))
        self.calls_run.extend(reply.tool_calls)
        return list(reply.tool_calls)

    def tool_for(self, call: ToolCall) -> Tool:
        return self.tools[call.name]  # the core let through only calls of offered tools

    def check_arguments(self, call: ToolCall) -> str | None:
        """Why ``call``'s arguments cannot be passed to its function (``None``: they can)."""
        tool = self.tool_for(call)
        if tool.function is None:
            return f"Error: byom has no function to run for the tool {call.name}."
        if not fits(dict(call.arguments), tool.parameters):
            return f"Error: the arguments do not fit the parameters of {call.name}."
        return None

    def tool_done(self, result: ToolResult) -> None:
        """Record a tool's result; with ``on_tool_error="abort"`` a failure stops the run."""
        self.messages.append(tool_message(result.call, result.content))
        if result.failed and self.on_tool_error == "abort":
            from byom.core.errors import ToolFailed

            self.stopped = "error"
            self.error = ToolFailed(result.call.name)

    def result(self, counted: Decimal) -> RunResult:
        last = self.replies[-1] if self.replies else None
        return RunResult(
            run_id=self.run_id,
            stopped=self.stopped or "error",
            steps=self.steps,
            cost=self.cost,
            counted=counted,
            max_cost=self.max_cost,
            text=last.text if last is not None else "",
            data=last.data if last is not None else None,
            replies=tuple(self.replies),
            messages=tuple(self.messages),
            error=self.error,
            tool_calls=tuple(self.calls_run),
        )


def result_content(value: Any) -> str:
    """A tool's return value as the text sent back to the model: text as it is, anything else
    as JSON (``str()`` for what JSON cannot hold); cut at ``MAX_RESULT_CHARS``."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            text = str(value)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + " [cut by byom]"
    return text


def error_content(tool: str, exc: BaseException, key: Secret | None) -> str:
    """The text a failed tool sends back to the model: its exception type and message, with
    the connected key taken out should it appear (it never goes anywhere, not even to the
    provider it belongs to), cut at ``MAX_ERROR_CHARS``."""
    try:
        message = str(exc)
    except Exception:
        message = ""
    text = f"Error: the tool {tool} failed: {type(exc).__name__}" + (
        f": {message}" if message else ""
    )
    if key is not None:
        secret = key.reveal()
        if secret and secret in text:
            text = text.replace(secret, "[key removed]")
    return text[:MAX_ERROR_CHARS]


__all__ = [
    "MAX_STEPS",
    "RunDone",
    "RunResult",
    "RunState",
    "Stopped",
    "ToolResult",
    "error_content",
    "result_content",
]
