"""Events for surfaces, and the one source of truth for "paid work in flight" (R4.5, pitfall 13).

Every call emits ``Pending`` when it is admitted and sent, then exactly one of ``Landed``
(real cost and usage), ``Refused`` (never sent) or ``Failed`` (sent, then failed; ``unreconciled``
says whether its estimate still counts). A budget refusal emits only ``Refused``. Surfaces — the
terminal status line, the web cost panel, the leave guard — all read these and :class:`InFlight`.

A run (``App.run``) adds ``RunStarted``, then for each step that step's call events (carrying the
``run_id``) and a ``StepLanded`` with the run's running total, then one ``RunFinished``. A
listener that knows only the call events can ignore the run ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from byom.core.errors import ByomError
from byom.core.usage import CostSource, Usage

log = logging.getLogger("byom")


@dataclass(frozen=True, slots=True)
class Pending:
    call_id: str
    feature: str
    provider: str
    model: str
    started_at: float
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class Landed:
    call_id: str
    feature: str
    provider: str
    model: str
    cost: Decimal | None
    cost_source: CostSource
    usage: Usage
    finish_reason: str | None
    ended_at: float
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    call_id: str
    feature: str
    provider: str
    model: str
    error: ByomError
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    call_id: str
    feature: str
    provider: str
    model: str
    error: ByomError
    unreconciled: bool
    cost: Decimal | None
    ended_at: float
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunStarted:
    """A run (``App.run``) began. ``max_cost`` is its ceiling."""

    run_id: str
    feature: str
    max_steps: int
    max_cost: Decimal
    started_at: float


@dataclass(frozen=True, slots=True)
class StepLanded:
    """A step of a run settled: ``step`` counts from 1; ``cost`` is the step's known cost
    (``None`` when it is unreconciled), ``run_cost`` what the run counts so far against its
    ceiling; ``tools`` the names of the tools the model asked for (never their arguments)."""

    run_id: str
    step: int
    call_id: str
    cost: Decimal | None
    run_cost: Decimal
    max_cost: Decimal
    tools: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunFinished:
    """A run ended. ``stopped`` is why (see :class:`byom.runs.RunResult`)."""

    run_id: str
    feature: str
    stopped: str
    steps: int
    cost: Decimal
    ended_at: float


Event = Pending | Landed | Refused | Failed | RunStarted | StepLanded | RunFinished
Listener = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out to listeners. A listener that raises is logged and skipped."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns a function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @property
    def listening(self) -> bool:
        """Whether anyone listens: a caller may skip building an event nobody receives (and
        any store read only that event needs)."""
        return bool(self._listeners)

    def emit(self, event: Event) -> None:
        if not self._listeners:  # nobody listens: nothing to copy or call
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a surface bug must not break the money path
                log.warning("a byom event listener failed on %s", type(event).__name__)


class InFlight:
    """The set of paid calls admitted and not yet finished, in this process."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, call_id: str) -> None:
        with self._lock:
            self._ids.add(call_id)

    def discard(self, call_id: str) -> None:
        with self._lock:
            self._ids.discard(call_id)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
