"""The one call path (DESIGN.md): estimate → reserve → request → result → commit → history → events.

Sans-I/O in the h11 manner: :meth:`CallPath.begin` admits a call and hands back a :class:`Call`
holding the :class:`~byom.providers.base.HttpRequest` to send; the shell sends it with whatever
transport it has (httpx, browser fetch) and feeds what comes back into the ``Call``. Every surface
uses this path; none re-implements a piece of it.

Money rules enforced here:

* a refused request is recorded and reported, and never reaches a transport;
* a provider error response (4xx/5xx) generated nothing, so the reservation is released;
* anything that may have been charged without usage coming back (a cut stream, a timeout after
  sending, a cancelled stream, an unreadable 200) leaves the reservation **unreconciled**: the
  estimate keeps counting until the real cost is known (pitfall 3);
* a known cost is committed exactly, as reported by the provider or computed from real tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from byom.core.catalog import Model
from byom.core.errors import (
    BudgetExceeded,
    ByomError,
    Cancelled,
    Interrupted,
    InvalidRequest,
    ProviderUnavailable,
)
from byom.core.estimate import (
    CharEstimator,
    Estimate,
    Estimator,
    StrictEstimator,
    validate_messages,
)
from byom.core.events import EventBus, Failed, InFlight, Landed, Pending, Refused
from byom.core.features import Feature
from byom.core.ledger import Ledger
from byom.core.money import to_pico
from byom.core.secret import Secret
from byom.core.store import CallRecord, LedgerRow, Outcome
from byom.core.usage import ChatResult, CostSource, Delta, GenerationInfo, Reply, Usage

if TYPE_CHECKING:
    from byom.providers.base import Adapter, HttpRequest, StreamDecoder

#: ``max_tokens`` byom sends when the app gives none: output is always bounded (pitfall 1).
DEFAULT_MAX_TOKENS = 1024
MAX_MAX_TOKENS = 1_000_000


@dataclass(slots=True)
class Connection:
    """The provider the user connected: an adapter (one origin) and the key for it."""

    adapter: Adapter
    key: Secret | None

    @property
    def provider(self) -> str:
        return self.adapter.name


def cost_of(
    adapter: Adapter, model: Model, usage: Usage, reported: Decimal | None
) -> tuple[Decimal | None, CostSource]:
    """The real cost of a completed request and where the figure comes from (R4.1, R4.2)."""
    if reported is not None and adapter.reports_cost:
        return reported, "provider"
    if model.price is None:
        return None, "unknown"
    cost = model.price.cost(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
    return cost, ("free" if model.price.is_free else "computed")


class CallPath:
    """Admits calls for one app and settles them. Thread-safe; shared by sync and async shells."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        bus: EventBus | None = None,
        in_flight: InFlight | None = None,
        clock: Callable[[], float],
        estimator: Estimator | None = None,
        strict_estimator: Estimator | None = None,
    ) -> None:
        self.ledger = ledger
        self.store = ledger.store
        self.bus = bus if bus is not None else EventBus()
        # Not ``or``: an empty InFlight is falsy by design.
        self.in_flight = in_flight if in_flight is not None else InFlight()
        self.clock = clock
        self.estimator: Estimator = estimator or CharEstimator()
        self.strict_estimator: Estimator = strict_estimator or StrictEstimator()

    def begin(
        self,
        connection: Connection,
        feature: Feature,
        model: Model,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int | None,
        stream: bool,
        params: Mapping[str, Any] | None = None,
    ) -> Call:
        """Estimate, check-and-reserve atomically, and build the request.

        Raises :class:`BudgetExceeded` (recorded as refused, nothing sent) or
        :class:`InvalidRequest` / :class:`NotConnected` before anything is reserved.
        """
        checked = validate_messages(messages)
        if max_tokens is None:
            max_tokens = DEFAULT_MAX_TOKENS
        if (
            isinstance(max_tokens, bool)
            or not isinstance(max_tokens, int)
            or not (0 < max_tokens <= MAX_MAX_TOKENS)
        ):
            raise InvalidRequest("max_tokens must be a positive whole number.")
        allowances = self.ledger.allowances()
        strict = any(a.strict for a in allowances)
        estimator = self.strict_estimator if strict else self.estimator
        estimate = Estimate.of(estimator.input_tokens(checked), max_tokens, model.guard_price)
        request = connection.adapter.chat_request(
            connection.key,
            model=model.id,
            messages=checked,
            max_tokens=max_tokens,
            stream=stream,
            params=params or {},
            max_price=model.guard_price if strict else None,
        )
        call_id = uuid.uuid4().hex
        started = self.clock()
        try:
            row = self.ledger.reserve(
                estimate.amount,
                reservation_id=call_id,
                feature=feature.name,
                model=model.id,
                provider=connection.provider,
                allowances=allowances,
            )
        except BudgetExceeded as exc:
            self.store.add_record(
                CallRecord(
                    id=call_id,
                    app_id=self.ledger.app_id,
                    feature=feature.name,
                    provider=connection.provider,
                    model=model.id,
                    outcome="refused",
                    started_at=started,
                    ended_at=started,
                    error_code=exc.code,
                )
            )
            self.bus.emit(Refused(call_id, feature.name, connection.provider, model.id, exc))
            raise
        self.in_flight.add(call_id)
        self.bus.emit(Pending(call_id, feature.name, connection.provider, model.id, started))
        return Call(self, connection, feature, model, estimate, row, request, started)


@dataclass(eq=False)
class Call:
    """One admitted call. Feed it what the transport got; it settles the ledger exactly once."""

    path: CallPath
    connection: Connection
    feature: Feature
    model: Model
    estimate: Estimate
    row: LedgerRow
    request: HttpRequest
    started_at: float
    _decoder: StreamDecoder | None = field(default=None, repr=False)
    _settled: bool = False

    @property
    def call_id(self) -> str:
        return self.row.id

    # -- completion ---------------------------------------------------------------------------

    def complete(self, status: int, headers: Mapping[str, str], body: bytes) -> Reply:
        """Settle a non-streamed response. Returns the reply or raises the mapped error."""
        if status < 200 or status >= 300:
            raise self.fail(self.connection.adapter.error_for(status, headers, body), sent=False)
        try:
            result = self.connection.adapter.parse_response(status, headers, body)
        except ByomError as exc:
            # A 200 we cannot read may have been charged: keep counting the estimate.
            raise self.fail(exc, sent=True) from None
        return self._land(result)

    def open_stream(self) -> None:
        """Start decoding a 2xx streamed body."""
        self._decoder = self.connection.adapter.stream_decoder()

    def reject(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        """A non-2xx status at the start of a stream: the error to raise (nothing charged)."""
        return self.fail(self.connection.adapter.error_for(status, headers, body), sent=False)

    def feed(self, data: bytes) -> list[Delta]:
        """Decode streamed bytes into deltas; a mid-stream error settles and raises."""
        assert self._decoder is not None, "open_stream() first"
        try:
            return self._decoder.feed(data)
        except ByomError as exc:
            raise self._fail_stream(exc) from None

    def finish_stream(self) -> Reply:
        """The stream body ended. Usage present → landed; cut before the provider's end marker
        without usage → :class:`Interrupted` (the estimate stays counted)."""
        assert self._decoder is not None, "open_stream() first"
        try:
            result = self._decoder.close()
        except ByomError as exc:
            raise self._fail_stream(exc) from None
        if result.usage is None and not self._decoder.complete:
            raise self.fail(Interrupted(), sent=True, generation_id=result.generation_id)
        return self._land(result)

    def _fail_stream(self, exc: ByomError) -> ByomError:
        assert self._decoder is not None
        partial = self._decoder.partial
        if partial.usage is not None:
            cost, source = cost_of(self.connection.adapter, self.model, partial.usage, partial.cost)
            return self._settle_failure(exc, partial, cost, source)
        return self.fail(exc, sent=True, generation_id=partial.generation_id)

    def abort(self, error: ByomError | None = None) -> ByomError:
        """The caller stopped the call after sending (cancel, timeout, lost connection)."""
        generation_id = self._decoder.generation_id if self._decoder is not None else None
        return self.fail(error or Cancelled(), sent=True, generation_id=generation_id)

    # -- settlement ---------------------------------------------------------------------------

    def _land(self, result: ChatResult) -> Reply:
        adapter = self.connection.adapter
        ledger = self.path.ledger
        now = self.path.clock()
        if result.usage is None:
            # The provider answered but did not say what it used: count the estimate (fail closed).
            cost: Decimal | None = None
            source: CostSource = "unreconciled"
            usage = Usage()
        else:
            usage = result.usage
            cost, source = cost_of(adapter, self.model, usage, result.cost)
        outcome: Outcome = "ok"
        if source == "unreconciled":
            outcome = "unreconciled"
        elif result.finish_reason in ("length", "max_tokens"):
            outcome = "truncated"
        failed = result.finish_reason == "error"
        with self.path.store.atomic():
            if self._settled:
                raise InvalidRequest("This call is already settled.")
            self._settled = True
            if source == "unreconciled":
                ledger.leave_unreconciled(self.row, result.generation_id)
            elif cost is None:  # tokens known, price unknown: count them at the fallback rate
                fallback = self.model.guard_price.cost(
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                )
                self.path.store.update_ledger_row(
                    self.row.id,
                    state="committed",
                    counted_pico=to_pico(fallback),
                    generation_id=result.generation_id,
                )
            else:
                ledger.commit(self.row.id, cost, result.generation_id)
            self.path.store.add_record(
                self._record(
                    "failed" if failed else outcome,
                    now,
                    usage,
                    cost,
                    source,
                    result.generation_id,
                    result.finish_reason,
                    ProviderUnavailable.code if failed else None,
                )
            )
        self.path.in_flight.discard(self.row.id)
        if failed:
            error = ProviderUnavailable(
                "The model stopped with an error before finishing. What it used was charged."
            )
            self.path.bus.emit(self._failed(error, unreconciled=False, cost=cost, now=now))
            raise error
        self.path.bus.emit(
            Landed(
                self.row.id,
                self.feature.name,
                self.connection.provider,
                self.model.id,
                cost,
                source,
                usage,
                result.finish_reason,
                now,
            )
        )
        return Reply(
            text=result.text,
            reasoning=result.reasoning,
            cost=cost,
            cost_source=source,
            usage=usage,
            generation_id=result.generation_id,
            finish_reason=result.finish_reason,
            model=self.model.id,
            provider=self.connection.provider,
            feature=self.feature.name,
            call_id=self.row.id,
        )

    def fail(self, error: ByomError, *, sent: bool, generation_id: str | None = None) -> ByomError:
        """Settle a failed call and return ``error`` for the caller to raise.

        ``sent=False``: the provider generated nothing (an error status, or no connection) —
        the reservation is released. ``sent=True``: it may have been charged — the reservation
        stays counted as unreconciled.
        """
        now = self.path.clock()
        with self.path.store.atomic():
            if self._settled:
                return error
            self._settled = True
            if sent:
                self.path.ledger.leave_unreconciled(self.row, generation_id)
            else:
                self.path.ledger.release(self.row.id)
            self.path.store.add_record(
                self._record(
                    "unreconciled" if sent else "failed",
                    now,
                    Usage(),
                    None,
                    "unreconciled" if sent else None,
                    generation_id,
                    None,
                    error.code,
                )
            )
        self.path.in_flight.discard(self.row.id)
        self.path.bus.emit(self._failed(error, unreconciled=sent, cost=None, now=now))
        return error

    def _settle_failure(
        self, error: ByomError, partial: ChatResult, cost: Decimal | None, source: CostSource
    ) -> ByomError:
        now = self.path.clock()
        usage = partial.usage or Usage()
        with self.path.store.atomic():
            if self._settled:
                return error
            self._settled = True
            if cost is None:
                self.path.ledger.leave_unreconciled(self.row, partial.generation_id)
            else:
                self.path.ledger.commit(self.row.id, cost, partial.generation_id)
            self.path.store.add_record(
                self._record(
                    "failed",
                    now,
                    usage,
                    cost,
                    source,
                    partial.generation_id,
                    partial.finish_reason,
                    error.code,
                )
            )
        self.path.in_flight.discard(self.row.id)
        self.path.bus.emit(self._failed(error, unreconciled=cost is None, cost=cost, now=now))
        return error

    def _record(
        self,
        outcome: Outcome,
        now: float,
        usage: Usage,
        cost: Decimal | None,
        source: CostSource | None,
        generation_id: str | None,
        finish_reason: str | None,
        error_code: str | None,
    ) -> CallRecord:
        return CallRecord(
            id=self.row.id,
            app_id=self.path.ledger.app_id,
            feature=self.feature.name,
            provider=self.connection.provider,
            model=self.model.id,
            outcome=outcome,
            started_at=self.started_at,
            ended_at=now,
            usage=usage,
            cost=cost,
            cost_source=source,
            error_code=error_code,
            generation_id=generation_id,
            finish_reason=finish_reason,
        )

    def _failed(
        self, error: ByomError, *, unreconciled: bool, cost: Decimal | None, now: float
    ) -> Failed:
        return Failed(
            self.row.id,
            self.feature.name,
            self.connection.provider,
            self.model.id,
            error,
            unreconciled,
            cost,
            now,
        )


def apply_generation(path: CallPath, row: LedgerRow, info: GenerationInfo) -> CallRecord:
    """Reconcile an unreconciled reservation with the provider's after-the-fact figures."""
    with path.store.atomic():
        path.ledger.commit(row.id, info.cost, info.generation_id)
        record = path.store.get_record(path.ledger.app_id, row.id)
        if record is None:  # e.g. the process died before recording: history gets the figures now
            record = CallRecord(
                id=row.id,
                app_id=row.app_id,
                feature=row.feature,
                provider=row.provider,
                model=row.model,
                outcome="ok",
                started_at=row.created_at,
            )
        updated = replace(
            record,
            outcome="ok",
            usage=info.usage,
            cost=info.cost,
            cost_source="provider",
            generation_id=info.generation_id,
            finish_reason=info.finish_reason or record.finish_reason,
        )
        path.store.update_record(updated)
        return updated
