"""The agent loops behind :meth:`byom.App.run`, :meth:`~byom.App.arun` and
:meth:`~byom.App.run_stream`: send a step, run the tools the model asked for, send their
results, until the model answers or the run's ceiling, step limit or the user's allowance stops
it. The bookkeeping and the guarantee live in :mod:`byom.core.run`; this module only drives the
App's own call path (every step is an ordinary guarded call with its own history row and
``run_id``) and runs the app's tools — sync ones in the loop's thread (in a worker thread under
asyncio), async ones awaited.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from byom.core.errors import ByomError, InvalidRequest, NotConnected
from byom.core.events import RunFinished, RunStarted, StepLanded
from byom.core.output import OutputSchema
from byom.core.run import (
    RunDone,
    RunResult,
    RunState,
    ToolResult,
    error_content,
    result_content,
)
from byom.core.tools import Tool, is_native
from byom.core.usage import Delta, Done, Reply, ToolCall

if TYPE_CHECKING:
    from byom.app import App

RunItem = Delta | ToolCall | StepLanded | RunDone

#: Errors that mean the run was set up wrong: raised, not turned into ``stopped="error"``.
_SETUP_ERRORS = (InvalidRequest, NotConnected)


class _Run:
    """One run of one App: the state plus what every loop needs from the App."""

    def __init__(
        self,
        app: App,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Any],
        max_steps: int,
        max_cost: Any,
        max_tokens: int | None,
        schema: Any,
        on_tool_error: Literal["report", "abort"],
        params: Mapping[str, Any],
    ) -> None:
        app.feature(feature)  # an unknown feature fails before anything starts
        app._require()  # so does a missing connection
        self.app = app
        if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
            raise InvalidRequest("tools must be a list.")
        native = [dict(t) for t in tools if is_native(t)]  # run at the provider, not here
        own = [Tool.of(t) for t in tools if not is_native(t)]
        for tool in own:
            if tool.function is None:
                raise InvalidRequest(f"The tool {tool.name} has no function for the run to call.")
        self.state = RunState(
            feature,
            messages,
            tools=own,
            max_steps=max_steps,
            max_cost=max_cost,
            on_tool_error=on_tool_error,
        )
        self.max_tokens = max_tokens
        self.output = None if schema is None else OutputSchema.of(schema)
        for name in ("tools", "stream", "max_tokens", "schema"):
            if name in params:
                raise InvalidRequest(f"{name} is an argument of run(), not a request field.")
        self.params = dict(params)
        if own or native:
            self.params["tools"] = self.state.tool_specs + native

    @property
    def step_args(
        self,
    ) -> tuple[str, list[Mapping[str, Any]], int | None, dict[str, Any], OutputSchema | None]:
        state = self.state
        return (state.feature, state.messages, self.max_tokens, self.params, self.output)

    def _counted(self) -> Decimal:
        """What the run counts so far, from the ledger (unreconciled estimates included)."""
        return self.state.limit.spent(self.app.ledger.store, self.app.ledger.app_id)

    def started(self) -> None:
        state = self.state
        self.app.events.emit(
            RunStarted(
                state.run_id, state.feature, state.max_steps, state.max_cost, self.app._clock()
            )
        )

    def step_landed(self, reply: Reply) -> list[ToolCall]:
        """Record a landed step; tell the listeners, if any (see :meth:`landed_event`)."""
        calls = self.state.landed(reply)
        if self.app.events.listening:  # else nobody needs the run's count read from the ledger
            self.app.events.emit(self._landed_event(reply, calls))
        return calls

    def landed_event(self, reply: Reply) -> tuple[list[ToolCall], StepLanded]:
        """Record a landed step and return its event too (a streamed run yields it)."""
        calls = self.state.landed(reply)
        event = self._landed_event(reply, calls)
        self.app.events.emit(event)
        return calls, event

    def _landed_event(self, reply: Reply, calls: Sequence[ToolCall]) -> StepLanded:
        state = self.state
        return StepLanded(
            state.run_id,
            state.steps,
            reply.call_id,
            reply.cost,
            self._counted(),
            state.max_cost,
            tuple(call.name for call in calls),
        )

    def refused(self, error: ByomError) -> None:
        if isinstance(error, _SETUP_ERRORS) and self.state.steps == 0:
            self.state.stopped = "error"  # RunFinished says "error", not "cancelled"
            raise error
        self.state.refused(error)

    def finished(self, stopped: str | None = None) -> RunResult:
        state = self.state
        if stopped is not None and state.stopped is None:
            state.stopped = stopped  # type: ignore[assignment]
        result = state.result(self._counted())
        self.app.events.emit(
            RunFinished(
                state.run_id,
                state.feature,
                result.stopped,
                result.steps,
                result.counted,
                self.app._clock(),
            )
        )
        return result

    def _key(self) -> Any:
        connection = self.app._connection
        return connection.key if connection is not None else None

    def precheck(self, call: ToolCall) -> tuple[Any, ToolResult | None]:
        problem = self.state.check_arguments(call)
        if problem is not None:
            return None, ToolResult(call, problem, failed=True)
        return self.state.tool_for(call).function, None

    def failed(self, call: ToolCall, exc: Exception) -> ToolResult:
        return ToolResult(call, error_content(call.name, exc, self._key()), failed=True)

    def run_tool(self, call: ToolCall) -> ToolResult:
        function, problem = self.precheck(call)
        if problem is not None:
            return problem
        try:
            value = function(**call.arguments)
            if inspect.isawaitable(value):
                value = _await(value)
        except Exception as exc:
            return self.failed(call, exc)
        return ToolResult(call, result_content(value))

    async def arun_tool(self, call: ToolCall) -> ToolResult:
        function, problem = self.precheck(call)
        if problem is not None:
            return problem
        try:
            if inspect.iscoroutinefunction(function):
                value = await function(**call.arguments)
            else:
                value = await asyncio.to_thread(function, **call.arguments)
                if inspect.isawaitable(value):
                    value = await value
        except Exception as exc:
            return self.failed(call, exc)
        return ToolResult(call, result_content(value))

    def record(self, results: Sequence[ToolResult]) -> None:
        for result in results:
            self.state.tool_done(result)
            if self.state.stopped is not None:
                return


def _await(value: Any) -> Any:
    """An async tool called from the sync loop: run it to completion on a private loop."""

    async def wait() -> Any:
        return await value

    return asyncio.run(wait())


def run(app: App, feature: str, messages: Sequence[Mapping[str, Any]], **options: Any) -> RunResult:
    """The sync loop (see :meth:`byom.App.run`)."""
    current = _Run(app, feature, messages, **options)
    current.started()
    state = current.state
    try:
        while state.next_step():
            try:
                reply = app._chat(*current.step_args, run=state.limit)
            except ByomError as error:
                current.refused(error)
                break
            calls = current.step_landed(reply)
            current.record([current.run_tool(call) for call in calls])
    except BaseException:  # KeyboardInterrupt: the step in flight settled as cancelled
        current.finished("cancelled")
        raise
    return current.finished()


async def arun(
    app: App, feature: str, messages: Sequence[Mapping[str, Any]], **options: Any
) -> RunResult:
    """The asyncio loop (see :meth:`byom.App.arun`). Parallel tool calls run concurrently."""
    current = _Run(app, feature, messages, **options)
    current.started()
    state = current.state
    try:
        while state.next_step():
            try:
                reply = await app._achat(*current.step_args, run=state.limit)
            except ByomError as error:
                current.refused(error)
                break
            calls = current.step_landed(reply)
            results = await asyncio.gather(*(current.arun_tool(call) for call in calls))
            current.record(results)
    except BaseException:  # task cancelled: the step in flight settled as cancelled
        current.finished("cancelled")
        raise
    return current.finished()


def run_stream(
    app: App, feature: str, messages: Sequence[Mapping[str, Any]], **options: Any
) -> Iterator[RunItem]:
    """The streamed loop (see :meth:`byom.App.run_stream`)."""
    current = _Run(app, feature, messages, **options)
    current.started()
    state = current.state
    try:
        while state.next_step():
            reply = None
            try:
                inner = app._stream(*current.step_args, run=state.limit)
                try:
                    for item in inner:
                        if isinstance(item, Done):
                            reply = item.reply
                        else:
                            yield item
                finally:
                    inner.close()  # closed early: the step in flight is cancelled now
            except ByomError as error:
                current.refused(error)
                break
            assert reply is not None
            calls, landed = current.landed_event(reply)
            yield from calls
            yield landed
            current.record([current.run_tool(call) for call in calls])
    except BaseException:  # closed early (GeneratorExit) or interrupted
        current.finished("cancelled")
        raise
    yield RunDone(current.finished())


async def arun_stream(
    app: App, feature: str, messages: Sequence[Mapping[str, Any]], **options: Any
) -> AsyncGenerator[RunItem, None]:
    """The streamed asyncio loop (see :meth:`byom.App.arun_stream`)."""
    current = _Run(app, feature, messages, **options)
    current.started()
    state = current.state
    try:
        while state.next_step():
            reply = None
            try:
                inner = app._astream(*current.step_args, run=state.limit)
                try:
                    async for item in inner:
                        if isinstance(item, Done):
                            reply = item.reply
                        else:
                            yield item
                finally:
                    await inner.aclose()
            except ByomError as error:
                current.refused(error)
                break
            assert reply is not None
            calls, landed = current.landed_event(reply)
            for call in calls:
                yield call
            yield landed
            current.record(await asyncio.gather(*(current.arun_tool(c) for c in calls)))
    except BaseException:
        current.finished("cancelled")
        raise
    yield RunDone(current.finished())


__all__ = ["RunItem", "arun", "arun_stream", "run", "run_stream"]
