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
from typing import TYPE_CHECKING, Any, cast

from byom.core.catalog import FALLBACK_PRICE, FALLBACK_TOOL_FEE, Model
from byom.core.errors import (
    BadOutput,
    BadResponse,
    BudgetExceeded,
    ByomError,
    Cancelled,
    ContextTooLong,
    Interrupted,
    InvalidRequest,
    ProviderUnavailable,
    RunCeilingReached,
    StoreUnavailable,
    UnboundedInput,
)
from byom.core.estimate import (
    CharEstimator,
    Estimate,
    Estimator,
    MessageParts,
    StrictEstimator,
    request_input_tokens,
    validate_messages,
)
from byom.core.events import EventBus, Failed, InFlight, Landed, Pending, Refused
from byom.core.features import Feature
from byom.core.ledger import Ledger, RunLimit, SettingsChanged
from byom.core.money import to_pico
from byom.core.output import OutputSchema
from byom.core.secret import Secret
from byom.core.store import UNRECONCILED, CallRecord, LedgerRow, Outcome, not_unreconciled
from byom.core.tools import check_tool_params, checked_calls, function_names
from byom.core.usage import (
    TRUNCATED_FINISH,
    ChatResult,
    CostSource,
    Delta,
    GenerationInfo,
    Reply,
    ToolCall,
    Usage,
    safe_label,
)

if TYPE_CHECKING:
    from byom.providers.base import Adapter, HttpRequest, StreamDecoder

#: ``max_tokens`` byom sends when the app gives none: output is always bounded (pitfall 1).
DEFAULT_MAX_TOKENS = 1024
MAX_MAX_TOKENS = 1_000_000
#: How often a call is prepared again when the settings keep changing under it.
_PREPARE_ATTEMPTS = 50


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
    """The real cost of a completed request and where the figure comes from (R4.1, R4.2).

    A computed cost includes the per-use fees of server-side tools (web searches) at the price
    list's rate; a fee the list does not know makes the cost ``unknown`` — never a figure that
    leaves it out."""
    if reported is not None and adapter.reports_cost:
        return reported, "provider"
    if model.price is None or not model.price.covers(
        web_search_requests=usage.web_search_requests,
        unpriced_tool_requests=usage.unpriced_tool_requests,
    ):
        return None, "unknown"
    cost = model.price.cost(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        web_search_requests=usage.web_search_requests,
    )
    free = model.price.is_free and usage.web_search_requests == 0
    return cost, ("free" if free else "computed")


def never_bills(adapter: Adapter) -> bool:
    """Whether ``adapter``'s provider can never charge for a request: an adapter says so with a
    class attribute ``never_bills = True`` (only the built-in model, which runs in this
    process). Such a call that fails after it was sent settles at $0 rather than staying
    unreconciled: there is no bill to wait for. Absent or anything but ``True``: it may bill."""
    return getattr(adapter, "never_bills", False) is True


def unknown_cost_counted(model: Model, usage: Usage) -> Decimal:
    """What a reply with real tokens but an unknown cost counts against the allowance: its
    tokens at the model's guard price — the over-estimating fallback whenever a server-side
    tool fee is unknown, since a known token price says nothing about that fee — plus an
    over-estimating fee for every server-side tool use."""
    known_fees = model.price is not None and model.price.covers(
        web_search_requests=usage.web_search_requests,
        unpriced_tool_requests=usage.unpriced_tool_requests,
    )
    price = model.guard_price if known_fees or model.price is None else FALLBACK_PRICE
    tokens = price.cost(
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
    )
    uses = usage.web_search_requests + usage.unpriced_tool_requests
    return tokens + uses * FALLBACK_TOOL_FEE


#: No single request is believed to cost more than this (and it keeps picodollar sums in int64).
MAX_BELIEVABLE_COST = Decimal(1_000_000)
#: Far above any listed price ($0.01 a token is $10,000 per million): beyond it, a figure is absurd.
ABSURD_PRICE_PER_TOKEN = Decimal("0.01")
#: Room for per-request and per-image fees on top of the token bound.
ABSURD_REQUEST_MARGIN = Decimal(10)
#: A provider label holding this many characters of the key or the request is an echo.
_ECHO_RUN = 12


def _mapped(error_for: Callable[..., ByomError], *args: Any) -> ByomError:
    """The adapter's error for an error status. An adapter that fails on a hostile body still
    yields a plain ``bad_response`` (nothing was generated: the reservation is released)."""
    try:
        return error_for(*args)
    except Exception:
        return BadResponse()


def _parsed(parse: Callable[..., Any], *args: Any) -> Any:
    """Call a parser on provider bytes; its ``ByomError`` — or, for a hostile body that trips an
    adapter bug, a plain ``bad_response`` — is *returned*, so that the caller raises it from its
    own frame and the parser's frames (which hold the raw body) are not kept in a traceback."""
    try:
        return parse(*args)
    except ByomError as error:
        error.__traceback__ = None
        error.__context__ = None
        return error
    except Exception:
        return BadResponse()


def echoes(label: str, body: bytes) -> bool:
    """Whether ``body`` holds a run of :data:`_ECHO_RUN` consecutive characters of ``label``, a
    safe label (see :func:`~byom.core.usage.safe_label`): one search of the body per run."""
    data = label.encode()
    return any(
        data[start : start + _ECHO_RUN] in body for start in range(len(data) - _ECHO_RUN + 1)
    )


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
        based_on: int | None = None,
        output: OutputSchema | None = None,
        run: RunLimit | None = None,
    ) -> Call:
        """Estimate, check-and-reserve atomically, and build the request.

        ``params`` may offer ``tools`` (callables, :class:`~byom.core.tools.Tool` objects or
        OpenAI-style schema dicts: all become the one shape adapters translate), ``tool_choice``
        and ``parallel_tool_calls``. ``output`` asks for structured output (``Reply.data``).
        ``run`` makes the call a step of a run: its ceiling is checked in the same transaction
        as the allowances (:meth:`Ledger.reserve`).

        The allowances come from memory (:meth:`Ledger.prepared`); if the settings changed
        before the reservation, the call is prepared again with the ones in force. A caller
        that derived ``model`` from settings passes the settings version it used as
        ``based_on``; a change then raises :class:`~byom.core.ledger.SettingsChanged` for it
        to derive the model again.

        The estimate covers everything the provider bills (R8.5): the messages' text, their
        structure (tool calls, tool results, non-text parts), ``params`` (tools, schemas, …) and
        images, bounded by ``model.image_tokens`` (see :mod:`byom.core.estimate`).

        Raises :class:`BudgetExceeded` or, in strict mode, :class:`UnboundedInput` for input it
        cannot bound (both recorded as refused, nothing reserved or sent), or
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
        request_params = self.request_params(params, output)
        # A run's messages are its own and never change once sent: split each only once.
        parts = run.parts.of(messages) if run is not None and run.parts is not None else None
        for _ in range(_PREPARE_ATTEMPTS):
            try:
                return self._begin(
                    connection,
                    feature,
                    model,
                    checked,
                    max_tokens=max_tokens,
                    stream=stream,
                    params=request_params,
                    based_on=based_on,
                    output=output,
                    run=run,
                    parts=parts,
                )
            except SettingsChanged:
                if based_on is not None:
                    raise
        raise StoreUnavailable()  # the settings never held still: admit nothing (fail closed)

    @staticmethod
    def request_params(
        params: Mapping[str, Any] | None, output: OutputSchema | None
    ) -> dict[str, Any]:
        """The request fields as adapters get them: tools normalised, the output schema added."""
        checked = check_tool_params(params or {})
        if output is not None:
            if "response_format" in checked:
                raise InvalidRequest("Give either schema= or response_format, not both.")
            names = function_names(checked.get("tools", ()))
            if output.name in names:
                raise InvalidRequest(f"A tool is named {output.name}, like the output schema.")
            checked["response_format"] = output.response_format()
        return checked

    def _begin(
        self,
        connection: Connection,
        feature: Feature,
        model: Model,
        checked: list[dict[str, Any]],
        *,
        max_tokens: int,
        stream: bool,
        params: Mapping[str, Any],
        based_on: int | None,
        output: OutputSchema | None,
        run: RunLimit | None,
        parts: Sequence[MessageParts] | None = None,
    ) -> Call:
        allowances, version = self.ledger.prepared()
        strict = any(a.strict for a in allowances)
        estimator = self.strict_estimator if strict else self.estimator
        call_id = uuid.uuid4().hex
        started = self.clock()
        run_id = run.run_id if run is not None else None

        def refuse(exc: ByomError) -> None:
            """Record and report a refused request (nothing reserved, nothing sent)."""
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
                    run_id=run_id,
                )
            )
            self.bus.emit(
                Refused(call_id, feature.name, connection.provider, model.id, exc, run_id)
            )

        image_tokens = model.image_tokens
        if image_tokens is None and model.price is not None and model.price.is_free:
            image_tokens = 0  # a free (e.g. local) model: an image costs nothing, so it is bounded
        try:
            input_tokens = request_input_tokens(
                estimator, checked, params, strict=strict, image_tokens=image_tokens, parts=parts
            )
        except UnboundedInput as exc:
            if not self.ledger.current(version):  # strict only by a setting since changed
                raise SettingsChanged() from None
            refuse(exc)
            raise
        too_long = self._too_long(
            model, checked, params, input_tokens, max_tokens, strict=strict, parts=parts
        )
        if too_long is not None:
            refuse(too_long)
            raise too_long
        estimate = Estimate.of(input_tokens, max_tokens, model.guard_price)
        request = connection.adapter.chat_request(
            connection.key,
            model=model.id,
            messages=checked,
            max_tokens=max_tokens,
            stream=stream,
            params=params,
            max_price=model.guard_price if strict else None,
        )
        try:
            row = self.ledger.reserve(
                estimate.amount,
                reservation_id=call_id,
                feature=feature.name,
                model=model.id,
                provider=connection.provider,
                allowances=allowances,
                based_on=based_on,
                run=run,
            )
        except (BudgetExceeded, RunCeilingReached) as exc:
            refuse(exc)
            raise
        self.in_flight.add(call_id)
        call = Call(
            self,
            connection,
            feature,
            model,
            estimate,
            row,
            request,
            started,
            output=output,
            offered=function_names(params.get("tools", ())),
        )
        try:
            if self.bus.listening:  # nobody listens: no event to build
                self.bus.emit(
                    Pending(call_id, feature.name, connection.provider, model.id, started, run_id)
                )
        except BaseException:
            # Interrupted (Ctrl-C in a listener, a cancelled task) after the reservation and
            # before anything was sent: release it and record the cancellation, so it neither
            # keeps counting nor stays in flight until the next start.
            call.fail(Cancelled(), sent=False)
            raise
        return call

    def _too_long(
        self,
        model: Model,
        checked: list[dict[str, Any]],
        params: Mapping[str, Any],
        input_tokens: int,
        max_tokens: int,
        *,
        strict: bool,
        parts: Sequence[MessageParts] | None = None,
    ) -> ContextTooLong | None:
        """The refusal for a request that cannot fit the model's listed context window (input
        estimate + ``max_tokens``), or ``None``. Sent anyway, the provider would refuse it — or
        charge for it (pitfall: a 1.17 M-token request to a 128 k model was charged). Judged by
        the realistic estimate in both modes: strict mode's byte bound is for money, and would
        refuse requests that fit."""
        context = model.context_length
        if not isinstance(context, int) or isinstance(context, bool) or context <= 0:
            return None  # unknown (or not a count): nothing to judge by
        if strict:
            input_tokens = request_input_tokens(
                self.estimator, checked, params, strict=False, image_tokens=0, parts=parts
            )
        needed = input_tokens + max_tokens
        if needed <= context:
            return None
        return ContextTooLong(
            f"This request needs about {needed:,} tokens (its input, estimated, plus the "
            f"{max_tokens:,} it may write), and the model takes at most {context:,}. Shorten "
            "the input, lower max_tokens, or choose a model with a larger context. It was not "
            "sent."
        )


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
    #: The structured output asked for, if any.
    output: OutputSchema | None = None
    #: Names of the tools offered (a call to any other is ``bad_output``).
    offered: frozenset[str] = frozenset()
    _decoder: StreamDecoder | None = field(default=None, repr=False)
    _settled: bool = False

    @property
    def call_id(self) -> str:
        return self.row.id

    @property
    def run_id(self) -> str | None:
        return self.row.run_id

    # -- completion ---------------------------------------------------------------------------

    def complete(self, status: int, headers: Mapping[str, str], body: bytes) -> Reply:
        """Settle a non-streamed response. Returns the reply or raises the mapped error."""
        if status < 200 or status >= 300:
            error = _mapped(self.connection.adapter.error_for, status, headers, body)
            raise self.fail(error, sent=False)
        result = _parsed(self.connection.adapter.parse_response, status, headers, body)
        del body  # a raw provider body is not kept in this frame's locals
        if isinstance(result, ByomError):
            # A 200 we cannot read may have been charged: keep counting the estimate.
            raise self.fail(result, sent=True)
        return self._land(result)

    def open_stream(self) -> None:
        """Start decoding a 2xx streamed body."""
        self._decoder = self.connection.adapter.stream_decoder()

    def reject(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        """A non-2xx status at the start of a stream: the error to raise (nothing charged)."""
        error = _mapped(self.connection.adapter.error_for, status, headers, body)
        return self.fail(error, sent=False)

    def feed(self, data: bytes) -> list[Delta]:
        """Decode streamed bytes into deltas; a mid-stream error settles and raises."""
        assert self._decoder is not None, "open_stream() first"
        deltas = _parsed(self._decoder.feed, data)
        del data
        if isinstance(deltas, ByomError):
            raise self._fail_stream(deltas)
        return cast(list[Delta], deltas)

    def finish_stream(self) -> Reply:
        """The stream body ended. Usage present → landed; cut before the provider's end marker
        without usage → :class:`Interrupted` (the estimate stays counted)."""
        assert self._decoder is not None, "open_stream() first"
        result = _parsed(self._decoder.close)
        if isinstance(result, ByomError):
            raise self._fail_stream(result)
        if result.usage is None and not self._decoder.complete:
            raise self.fail(Interrupted(), sent=True, generation_id=result.generation_id)
        return self._land(result)

    def _fail_stream(self, exc: ByomError) -> ByomError:
        assert self._decoder is not None
        partial = self._decoder.partial
        if partial.usage is not None:
            cost, source = cost_of(self.connection.adapter, self.model, partial.usage, partial.cost)
            if cost is None or self._believable(cost, partial.usage):
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
            if cost is not None and not self._believable(cost, usage):
                raise self.fail(
                    BadResponse(
                        "The provider reported a cost this request could not have had. Its "
                        "estimate counts against your allowance until it is reconciled."
                    ),
                    sent=True,
                    generation_id=result.generation_id,
                )
        generation_id = self._label(result.generation_id)
        finish_reason = self._label(result.finish_reason)
        calls, data, bad = self._content(result)
        if calls and finish_reason in (None, "stop"):
            finish_reason = "tool_calls"
        outcome: Outcome = "ok"
        if source == "unreconciled":
            outcome = "unreconciled"
        elif finish_reason in TRUNCATED_FINISH:
            outcome = "truncated"
        failed = finish_reason == "error"
        error_code = ProviderUnavailable.code if failed else None
        if bad is not None and not failed:
            error_code = bad.code
        try:
            with self.path.store.atomic():
                if self._settled:
                    raise InvalidRequest("This call is already settled.")
                self._settled = True
                if source == "unreconciled":
                    ledger.leave_unreconciled(self.row, generation_id)
                elif cost is None:  # tokens known, price unknown: count them at the fallback rate
                    fallback = unknown_cost_counted(self.model, usage)
                    self.path.store.update_ledger_row(
                        self.row.id,
                        state="committed",
                        counted_pico=to_pico(fallback),
                        generation_id=generation_id,
                    )
                else:
                    ledger.commit(self.row.id, cost, generation_id)
                self.path.store.add_record(
                    self._record(
                        "failed" if error_code is not None else outcome,
                        now,
                        usage,
                        cost,
                        source,
                        generation_id,
                        finish_reason,
                        error_code,
                    )
                )
        finally:  # whatever happens, this call is no longer in flight (R4.5)
            self.path.in_flight.discard(self.row.id)
        if failed or bad is not None:
            error: ByomError = (
                ProviderUnavailable(
                    "The model stopped with an error before finishing. What it used was charged."
                )
                if failed
                else cast(BadOutput, bad)
            )
            self.path.bus.emit(
                self._failed(error, unreconciled=source == "unreconciled", cost=cost, now=now)
            )
            raise error
        if self.path.bus.listening:  # nobody listens: no event to build
            self.path.bus.emit(
                Landed(
                    self.row.id,
                    self.feature.name,
                    self.connection.provider,
                    self.model.id,
                    cost,
                    source,
                    usage,
                    finish_reason,
                    now,
                    self.row.run_id,
                )
            )
        return Reply(
            text=result.text,
            reasoning=result.reasoning,
            cost=cost,
            cost_source=source,
            usage=usage,
            generation_id=generation_id,
            finish_reason=finish_reason,
            model=self.model.id,
            provider=self.connection.provider,
            feature=self.feature.name,
            call_id=self.row.id,
            tool_calls=calls,
            data=data,
            run_id=self.row.run_id,
            refusal=result.refusal if finish_reason == "refusal" else "",
        )

    def _content(self, result: ChatResult) -> tuple[tuple[ToolCall, ...], Any, BadOutput | None]:
        """The reply's checked tool calls and structured value, or the :class:`BadOutput` that
        makes the whole reply unusable (never half a tool call, never unchecked data)."""
        raw = result.tool_calls
        data: Any = None
        if result.finish_reason == "refusal" and not raw:
            return (), None, None  # a refusal is no structured answer; Reply.refused says so
        try:
            if self.output is not None:
                data, raw = self.output.parse(result.text, raw)
            return checked_calls(raw, offered=self.offered), data, None
        except BadOutput as error:
            error.__context__ = None
            return (), None, error

    def fail(self, error: ByomError, *, sent: bool, generation_id: str | None = None) -> ByomError:
        """Settle a failed call and return ``error`` for the caller to raise.

        ``sent=False``: the provider generated nothing (an error status, or no connection) —
        the reservation is released. ``sent=True``: it may have been charged — the reservation
        stays counted as unreconciled; unless the provider :func:`never_bills`, when the call
        is recorded as failed at $0 (a cancelled built-in answer).
        """
        now = self.path.clock()
        generation_id = self._label(generation_id)
        free = sent and never_bills(self.connection.adapter)
        unreconciled = sent and not free
        cost = Decimal(0) if free else None
        try:
            with self.path.store.atomic():
                if self._settled:
                    return error
                self._settled = True
                if unreconciled:
                    self.path.ledger.leave_unreconciled(self.row, generation_id)
                elif free:
                    self.path.ledger.commit(self.row.id, Decimal(0), generation_id)
                else:
                    self.path.ledger.release(self.row.id)
                self.path.store.add_record(
                    self._record(
                        "unreconciled" if unreconciled else "failed",
                        now,
                        Usage(),
                        cost,
                        "unreconciled" if unreconciled else ("free" if free else None),
                        generation_id,
                        None,
                        error.code,
                    )
                )
        finally:
            self.path.in_flight.discard(self.row.id)
        self.path.bus.emit(self._failed(error, unreconciled=unreconciled, cost=cost, now=now))
        return error

    def _settle_failure(
        self, error: ByomError, partial: ChatResult, cost: Decimal | None, source: CostSource
    ) -> ByomError:
        now = self.path.clock()
        usage = partial.usage or Usage()
        generation_id = self._label(partial.generation_id)
        try:
            with self.path.store.atomic():
                if self._settled:
                    return error
                self._settled = True
                if cost is None:
                    self.path.ledger.leave_unreconciled(self.row, generation_id)
                else:
                    self.path.ledger.commit(self.row.id, cost, generation_id)
                self.path.store.add_record(
                    self._record(
                        "failed",
                        now,
                        usage,
                        cost,
                        source,
                        generation_id,
                        self._label(partial.finish_reason),
                        error.code,
                    )
                )
        finally:
            self.path.in_flight.discard(self.row.id)
        self.path.bus.emit(self._failed(error, unreconciled=cost is None, cost=cost, now=now))
        return error

    def _believable(self, cost: Decimal, usage: Usage) -> bool:
        """Whether a reported or computed cost is one this request could have had (R3.4).

        Not finite, negative, beyond ``MAX_BELIEVABLE_COST``, or more than
        ``ABSURD_PRICE_PER_TOKEN`` per token of whichever is larger — the reported tokens or the
        reserved bound — plus a fixed per-request margin: a hostile or broken provider, never a
        real charge. Such a reply is a ``bad_response`` and the estimate keeps counting.
        """
        if not cost.is_finite() or cost < 0 or cost > MAX_BELIEVABLE_COST:
            return False
        tokens = max(
            usage.prompt_tokens + usage.completion_tokens,
            self.estimate.input_tokens + self.estimate.output_tokens,
        )
        return cost <= tokens * ABSURD_PRICE_PER_TOKEN + ABSURD_REQUEST_MARGIN

    def _label(self, value: str | None) -> str | None:
        """A provider label (generation id, finish reason) as byom may store it: a safe label
        (see :func:`~byom.core.usage.safe_label`) that does not echo the key or the request —
        one holding a 12-character run of either is dropped (R2.5, R4.3)."""
        label = safe_label(value)
        if label is None:
            return None
        if len(label) < _ECHO_RUN:  # too short to hold a run of anything
            return label
        if echoes(label, self.request.body or b""):
            return None
        key = self.connection.key  # revealed only inside the test, never kept in a local
        for start in range(len(label) - _ECHO_RUN + 1):
            if key is not None and label[start : start + _ECHO_RUN] in key.reveal():
                return None
        return label

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
            run_id=self.row.run_id,
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
            self.row.run_id,
        )


def apply_generation(path: CallPath, row: LedgerRow, info: GenerationInfo) -> CallRecord:
    """Reconcile an unreconciled reservation with the provider's after-the-fact figures.

    Applies only to a row of this app that is still unreconciled; anything else (cleared or
    reconciled meanwhile, another app's row) raises :class:`InvalidRequest`, nothing changed."""
    with path.store.atomic():
        if not path.store.transition_ledger_row(
            path.ledger.app_id,
            row.id,
            expect=UNRECONCILED,
            state="committed",
            counted_pico=to_pico(info.cost),
            generation_id=info.generation_id,
        ):
            raise not_unreconciled(row.id)
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
