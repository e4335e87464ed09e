"""``byom.App``: the CPython shell around the core's call path.

It wires the pure core to real I/O: an httpx transport locked to the connected provider's
origin, the SQLite store in the user data directory, and the key vault. All money and security
decisions stay in the core; this module only moves bytes and keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from byom.app_models import AppModels
from byom.core.boundary import public_class
from byom.core.call import Call, CallPath, Connection, apply_generation
from byom.core.catalog import Catalog, Model
from byom.core.catalog_data import BUNDLED_CATEGORIES
from byom.core.errors import (
    AppIdTaken,
    ByomError,
    Cancelled,
    InvalidRequest,
    KeyRejected,
    NotConnected,
    StoreUnavailable,
)
from byom.core.estimate import Estimator
from byom.core.events import Event, EventBus, InFlight
from byom.core.features import Feature
from byom.core.ledger import Allowance, Ledger, Period, RunLimit, SettingsChanged, period_start
from byom.core.money import parse_amount
from byom.core.output import OutputSchema
from byom.core.run import RunResult
from byom.core.secret import Secret, clean_key
from byom.core.store import CallRecord, LedgerRow, Store
from byom.core.usage import Delta, Done, KeyInfo, Reply, StreamItem
from byom.core.vault import Vault
from byom.history_export import SupportsWrite, write_records
from byom.identity import app_id_for, claim_app_id
from byom.providers import make_adapter
from byom.providers.base import Adapter, HttpRequest, origin_of
from byom.providers.registry import ProviderKind

if TYPE_CHECKING:
    from byom.runs import RunItem

log = logging.getLogger("byom")

#: How often a call is prepared again when the settings keep changing under it.
_PREPARE_ATTEMPTS = 50


class BuiltinHost(Protocol):
    """Where the built-in model runs when it is not in this process (issue 17): the browser
    shell passes one whose models are the site's and whose transport is the page's WebAssembly
    runtime. Without it, the built-in model runs here (:mod:`byom.builtin`)."""

    def catalog(self, model_path: str | None) -> Catalog:
        """The models a ``builtin`` connection can run."""
        ...

    def transport(self, model_path: str | None) -> Any:
        """A transport answering the reserved origin ``http://builtin.invalid``."""
        ...


def default_data_dir() -> Path:
    """``$BYOM_DATA_DIR``, else the platform's user data directory for byom."""
    env = os.environ.get("BYOM_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("byom", appauthor=False))


def clears_key(error: ByomError) -> bool:
    """Whether ``error`` means the key is stale, so every copy is cleared (R2.6, pitfall 22).

    Only a :class:`~byom.core.errors.KeyRejected` that an adapter made from an HTTP error
    *status* (a 401; a provider that signals a bad key otherwise documents its status plus
    structured code in its adapter) — never an error met inside a 2xx body or stream, and never
    words in a body."""
    return (
        isinstance(error, KeyRejected)
        and error.status is not None
        and not 200 <= error.status < 300
    )


@public_class
class App(AppModels):
    """A BYOM app: its features, the user's connection, allowance and history.

    Nothing touches the network until a model feature is used; nothing is sent anywhere but
    the connected provider's origin.
    """

    def __init__(
        self,
        name: str,
        features: Iterable[Feature] = (),
        *,
        data_dir: str | os.PathLike[str] | None = None,
        store: Store | None = None,
        app_id: str | None = None,
        timeout: float | None = None,
        estimator: Estimator | None = None,
        clock: Callable[[], float] = time.time,
        vault: Vault | None = None,
        transport_factory: Callable[[str], Any] | None = None,
        async_transport_factory: Callable[[str], Any] | None = None,
        admission: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
        builtin: BuiltinHost | None = None,
    ) -> None:
        self.name = name
        self.app_id = app_id or app_id_for(name)
        self.features: dict[str, Feature] = {}
        for feature in features:
            if feature.name in self.features:
                raise InvalidRequest(f"Feature {feature.name!r} is declared twice.")
            self.features[feature.name] = feature
        self._data_dir = Path(data_dir) if data_dir is not None else None
        own_store = store is None
        if store is None:
            from byom.store.sqlite import SQLiteStore

            store = SQLiteStore(self.data_dir)
        self.store = store
        # Before the key vault or the ledger is touched: never open another app's data (R4.4).
        try:
            claim_app_id(
                store, self.app_id, name, enforce=app_id is None, features=self.features.values()
            )
        except AppIdTaken:
            if own_store:
                with contextlib.suppress(Exception):
                    store.close()  # type: ignore[attr-defined]
            raise
        if vault is None:
            from byom.store.vault import KeyVault

            vault = KeyVault(self.data_dir, self.app_id)
        self.vault = vault
        owner = f"pid:{os.getpid()}"
        self._transport_factory = transport_factory
        self._async_transport_factory = async_transport_factory
        # Where the built-in model runs when not in this process (the page's WebAssembly runtime).
        self._builtin = builtin
        # Held around check-and-reserve in achat/astream, on top of the store's own atomic()
        # (the browser passes a Web Lock shared by all tabs, which cannot be taken synchronously).
        self._admission = admission or contextlib.nullcontext
        self._clock = clock
        self.ledger = Ledger(store, self.app_id, owner=owner, clock=clock)
        self.events = EventBus()
        self._in_flight = InFlight()
        self.calls = CallPath(
            self.ledger,
            bus=self.events,
            in_flight=self._in_flight,
            clock=clock,
            estimator=estimator,
        )
        self._timeout = timeout
        self._connection: Connection | None = None
        # (settings version, adapter, catalog, feature -> model) for the call path.
        self._call_cache: tuple[int, Adapter, Catalog, dict[str, Model]] | None = None
        self._transports: dict[str, Any] = {}
        self._atransports: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        if self.features:
            self._save_declaration()
        self._restore_connection()

    def _save_declaration(self) -> None:
        """Record the app's name and features so the ``byom`` CLI can manage it by id."""
        declaration = json.dumps(
            {
                "name": self.name,
                "features": [
                    {"name": f.name, "category": f.category, "description": f.description}
                    for f in self.features.values()
                ],
            },
            sort_keys=True,
        )
        if self.store.get_setting(self.app_id, "declaration") != declaration:
            self.store.set_setting(self.app_id, "declaration", declaration)

    @classmethod
    def load(
        cls, app_id: str, *, data_dir: str | os.PathLike[str] | None = None, **kwargs: Any
    ) -> App:
        """Open an app by id from the data directory, with the features it declared when it
        last ran (used by the ``byom`` CLI). Raises :class:`InvalidRequest` for an unknown id."""
        from byom.store.sqlite import SQLiteStore

        store = kwargs.pop("store", None) or SQLiteStore(
            Path(data_dir) if data_dir is not None else default_data_dir()
        )
        text = store.get_setting(app_id, "declaration")
        if text is None:
            raise InvalidRequest(f"No app with id {app_id[:64]!r} has run on this device.")
        saved = json.loads(text)
        features = [
            Feature(f["name"], f["category"], f.get("description", "")) for f in saved["features"]
        ]
        return cls(saved["name"], features, data_dir=data_dir, store=store, app_id=app_id, **kwargs)

    @property
    def data_dir(self) -> Path:
        """Where this app's store and opted-in key file live (``data_dir=``, ``$BYOM_DATA_DIR``,
        else the platform's user data directory)."""
        if self._data_dir is None:
            self._data_dir = default_data_dir()
        return self._data_dir

    # -- connection -----------------------------------------------------------------------------

    def connect(
        self,
        provider: ProviderKind = "openrouter",
        key: str | Secret | None = None,
        *,
        remember: bool = False,
        base_url: str | None = None,
        allow_plain_file: bool = False,
        **options: Any,
    ) -> None:
        """Connect the user's provider. The key is held in memory unless ``remember=True``.

        ``remember=True`` stores it in the OS keyring; where none exists it raises
        :class:`~byom.errors.KeyStorageUnavailable` unless ``allow_plain_file=True`` records the
        user's consent to a file readable only by them. Makes no network request.

        The key is cleaned of what a copy-paste adds (surrounding whitespace, invisible
        characters); one that still cannot be sent as an HTTP header raises
        :class:`~byom.errors.InvalidKey`, and a ``base_url`` that cannot be an http(s) address
        raises :class:`~byom.errors.InvalidBaseUrl` — in plain words, the key in neither.

        ``connect("builtin")`` runs the model built into byom on this device (no key, no
        network, free; ``model_path=`` names another GGUF file); without its runtime or model it
        raises :class:`~byom.errors.BuiltinUnavailable`, whose words say how to install them.
        """
        if "model_path" in options and isinstance(options["model_path"], os.PathLike):
            options["model_path"] = os.fspath(options["model_path"])  # saved with the connection
        adapter = _adapter(provider, base_url, options, self._builtin)
        secret = clean_key(key) if key is not None and adapter.needs_key else None
        del key
        # -- key-less providers (issue 3) --------------------------------------------------------
        if not adapter.needs_key:
            secret = None  # e.g. Ollama: a key is never held, stored or sent
        elif secret is None:
            secret = self.vault.get(adapter.origin)
            if secret is None and not _key_optional(adapter):
                raise NotConnected("A key is needed to connect to this provider.")
        # -----------------------------------------------------------------------------------------
        with self._lock:
            self._connection = Connection(adapter, secret)
        self.store.set_setting(
            self.app_id,
            "connection",
            json.dumps(
                {
                    "provider": provider,
                    "base_url": adapter.base_url,
                    "options": _plain_options(options),
                    "with_key": secret is not None,
                }
            ),
        )
        if secret is not None and adapter.needs_key:
            self.vault.put(adapter.origin, secret, remember=remember, allow_file=allow_plain_file)
        log.info("connected app %s to %s", self.app_id, provider)

    def _restore_connection(self) -> None:
        """Reconnect from a remembered key, when the user opted in earlier. No network."""
        text = self.store.get_setting(self.app_id, "connection")
        if not text:
            return
        try:
            saved = json.loads(text)
            adapter = _adapter(
                saved["provider"], saved.get("base_url"), saved.get("options", {}), self._builtin
            )
        except (ValueError, KeyError, TypeError, ByomError):
            return
        key = self.vault.get(adapter.origin) if adapter.needs_key else None
        keyless_ok = _key_optional(adapter) and not saved.get("with_key", True)
        if adapter.needs_key and key is None and not keyless_ok:
            return
        self._connection = Connection(adapter, key)

    @property
    def connected(self) -> bool:
        return self._connection is not None

    @property
    def provider(self) -> ProviderKind | None:
        """The connected provider kind, or ``None``."""
        return cast("ProviderKind", self._connection.provider) if self._connection else None

    @property
    def adapter(self) -> Adapter:
        return self._require().adapter

    def _require(self) -> Connection:
        connection = self._connection
        if connection is None:
            raise NotConnected()
        return connection

    def forget_key(self) -> None:
        """Remove the key from memory and from every store it was persisted to."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            self.vault.forget(connection.adapter.origin)
        else:
            self.vault.forget()
        self._close_transports()
        log.info("key forgotten for app %s", self.app_id)

    def rotate_key(
        self, key: str | Secret, *, remember: bool = False, allow_plain_file: bool = False
    ) -> None:
        """Replace the key: every copy of the old one is removed first. A new key that cannot
        be a key raises :class:`~byom.errors.InvalidKey` before anything is removed."""
        connection = self._require()
        secret = clean_key(key)
        del key
        self.vault.forget(connection.adapter.origin)
        with self._lock:
            self._connection = Connection(connection.adapter, secret)
        self.vault.put(
            connection.adapter.origin, secret, remember=remember, allow_file=allow_plain_file
        )

    def key_location(self) -> list[str]:
        """Where copies of the current key are held: ``memory``, ``keyring``, ``file``."""
        connection = self._connection
        return list(self.vault.where(connection.adapter.origin)) if connection else []

    def _on_key_rejected(self, connection: Connection) -> None:
        """The provider's "bad key" answer (401; Gemini: 400 + ``API_KEY_INVALID``): the key is
        stale. Clear every copy; the user must reconnect (R2.6)."""
        with self._lock:
            if self._connection is connection:
                self._connection = None
        self.vault.forget(connection.adapter.origin)
        log.warning("the provider rejected the key for app %s; it was cleared", self.app_id)

    def _adapter_for(self, provider: str) -> Adapter:
        if self._connection is not None and self._connection.provider == provider:
            return self._connection.adapter
        return _adapter(provider, None, {}, self._builtin)

    # -- allowance ------------------------------------------------------------------------------

    def set_allowance(
        self, amount: Decimal | str | int | None, period: Period = "session", strict: bool = False
    ) -> Allowance | None:
        """Set the ceiling for a period (``None`` removes it). Bad input raises
        :class:`~byom.errors.InvalidAmount` and leaves the old allowance in force (fail closed)."""
        if amount is None:
            self.ledger.set_allowance(None, period)
            return None
        allowance = Allowance(parse_amount(amount), period, strict)
        self.ledger.set_allowance(allowance)
        return allowance

    def allowances(self) -> list[Allowance]:
        return self.ledger.allowances()

    def spent(self, period: Period = "session") -> Decimal:
        """What counts against the allowance in the period: real cost of finished requests plus
        the reservations of in-flight and unreconciled ones.

        Periods mean the same in :meth:`spent`, :meth:`totals` and :meth:`set_allowance`, and
        each defaults to ``"session"``: the calls made through *this* ``App`` object since it
        was created (a new ``App`` starts a new session at 0). ``"day"`` and ``"month"`` are the
        current local calendar day and month, ``"total"`` everything on this device, from every
        process of the app. :meth:`totals` sums the known costs in history; ``spent`` also
        counts what is still reserved or unreconciled, which is what the allowance checks."""
        return self.ledger.spent(period)

    def in_flight(self) -> bool:
        """True while paid work is in flight: the single source for every leave guard."""
        return bool(self._in_flight)

    def in_flight_count(self) -> int:
        """How many paid calls are in flight (same source as :meth:`in_flight`)."""
        return len(self._in_flight)

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Receive Pending / Landed / Refused / Failed events; returns an unsubscribe function."""
        return self.events.subscribe(listener)

    # -- calls ----------------------------------------------------------------------------------

    def _begin(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int | None,
        stream: bool,
        params: Mapping[str, Any],
        output: OutputSchema | None = None,
        run: RunLimit | None = None,
    ) -> tuple[Call, Connection]:
        wanted = self.feature(feature)
        connection = self._require()
        for _ in range(_PREPARE_ATTEMPTS):
            _, version = self.ledger.prepared()
            model = self._model_for_call(feature, connection, version)
            if model.category is not None and model.category != wanted.category:
                raise InvalidRequest(f"{model.id} is not a {wanted.category} model.")
            try:
                call = self.calls.begin(
                    connection,
                    wanted,
                    model,
                    messages,
                    max_tokens=max_tokens,
                    stream=stream,
                    params=params,
                    based_on=version,
                    output=output,
                    run=run,
                )
            except SettingsChanged:
                continue  # a setting changed (here or in another process): prepare again
            return call, connection
        raise StoreUnavailable()  # the settings never held still: admit nothing (fail closed)

    def _settled(self, connection: Connection, error: ByomError) -> ByomError:
        if error.provider is None:
            error.provider = connection.provider  # whose words these are (user_message)
        if clears_key(error):
            self._on_key_rejected(connection)
        return error

    def chat(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int | None = None,
        schema: Any = None,
        **params: Any,
    ) -> Reply:
        """Run a feature: guard the budget, call the provider, record the real cost.

        ``tools`` (functions, :class:`~byom.core.tools.Tool` objects or OpenAI-style schema
        dicts), ``tool_choice`` and ``parallel_tool_calls`` work on every provider kind; the
        calls the model asks for come back in ``Reply.tool_calls`` (to run a whole tool loop
        under a cost ceiling, use :meth:`run`). ``schema`` (a JSON Schema dict, or a class with
        ``model_json_schema()`` such as a pydantic model) asks for structured output: the parsed
        value is ``Reply.data``; output that does not fit raises
        :class:`~byom.core.errors.BadOutput` (code ``bad_output``), and the call still costs
        what it cost."""
        return self._chat(feature, messages, max_tokens, params, _output(schema))

    def _chat(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int | None,
        params: Mapping[str, Any],
        output: OutputSchema | None = None,
        run: RunLimit | None = None,
    ) -> Reply:
        from byom.transport import SendFailed

        call, connection = self._begin(feature, messages, max_tokens, False, params, output, run)
        try:
            response = self._transport(connection).send(call.request)
        except SendFailed as failure:
            raise self._settled(connection, call.fail(failure.error, sent=failure.sent)) from None
        except BaseException:
            call.abort(Cancelled())
            raise
        try:
            return call.complete(response.status, response.headers, response.body)
        except ByomError as error:
            raise self._settled(connection, error) from None

    def stream(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int | None = None,
        schema: Any = None,
        **params: Any,
    ) -> Iterator[StreamItem]:
        """Stream a feature's reply: :class:`Delta` items, then one :class:`Done` with the cost.

        The budget check runs when iteration starts. Closing the iterator early cancels the
        request; its reservation stays counted until reconciled. Tool calls and structured
        output (see :meth:`chat`) arrive whole, in ``Done.reply``: a stream cut while the
        model was writing a tool call's arguments is unreconciled, never half a tool call.
        """
        yield from self._stream(feature, messages, max_tokens, params, _output(schema))

    def _stream(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int | None,
        params: Mapping[str, Any],
        output: OutputSchema | None = None,
        run: RunLimit | None = None,
    ) -> Generator[StreamItem, None, None]:
        from byom.transport import SendFailed

        call, connection = self._begin(feature, messages, max_tokens, True, params, output, run)
        try:
            with self._transport(connection).stream(call.request) as response:
                if response.status < 200 or response.status >= 300:
                    raise self._settled(
                        connection, call.reject(response.status, response.headers, response.read())
                    )
                call.open_stream()
                for chunk in response.iter_bytes():
                    yield from call.feed(chunk)
            yield Done(call.finish_stream())
        except SendFailed as failure:
            raise self._settled(connection, _failed_stream(call, failure)) from None
        except ByomError as error:
            raise self._settled(connection, error) from None
        except BaseException:  # GeneratorExit, KeyboardInterrupt: cancelled by the caller
            call.abort(Cancelled())
            raise

    async def achat(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int | None = None,
        schema: Any = None,
        **params: Any,
    ) -> Reply:
        """``chat`` for asyncio. Cancelling the task cancels the request."""
        return await self._achat(feature, messages, max_tokens, params, _output(schema))

    async def _achat(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int | None,
        params: Mapping[str, Any],
        output: OutputSchema | None = None,
        run: RunLimit | None = None,
    ) -> Reply:
        from byom.transport import SendFailed

        async with self._admission():
            call, connection = self._begin(
                feature, messages, max_tokens, False, params, output, run
            )
        try:
            response = await self._atransport(connection).send(call.request)
        except SendFailed as failure:
            raise self._settled(connection, call.fail(failure.error, sent=failure.sent)) from None
        except BaseException:
            call.abort(Cancelled())
            raise
        try:
            return call.complete(response.status, response.headers, response.body)
        except ByomError as error:
            raise self._settled(connection, error) from None

    async def astream(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int | None = None,
        schema: Any = None,
        **params: Any,
    ) -> AsyncIterator[StreamItem]:
        """``stream`` for asyncio."""
        inner = self._astream(feature, messages, max_tokens, params, _output(schema))
        try:
            async for item in inner:
                yield item
        finally:
            await inner.aclose()

    async def _astream(
        self,
        feature: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int | None,
        params: Mapping[str, Any],
        output: OutputSchema | None = None,
        run: RunLimit | None = None,
    ) -> AsyncGenerator[StreamItem, None]:
        from byom.transport import SendFailed

        async with self._admission():
            call, connection = self._begin(feature, messages, max_tokens, True, params, output, run)
        try:
            async with self._atransport(connection).stream(call.request) as response:
                if response.status < 200 or response.status >= 300:
                    raise self._settled(
                        connection,
                        call.reject(response.status, response.headers, await response.read()),
                    )
                call.open_stream()
                async for chunk in response.aiter_bytes():
                    for delta in call.feed(chunk):
                        yield delta
            yield Done(call.finish_stream())
        except SendFailed as failure:
            raise self._settled(connection, _failed_stream(call, failure)) from None
        except ByomError as error:
            raise self._settled(connection, error) from None
        except BaseException:
            call.abort(Cancelled())
            raise

    # -- runs: the agent loop with a ceiling ------------------------------------------------------

    def run(
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
    ) -> RunResult:
        """Run an agent feature: call the model, run the tools it asks for, send the results
        back, until it answers — under a cost ceiling that holds.

        ``tools`` are plain functions (sync or async; the schema comes from their type hints and
        docstring), :class:`~byom.core.tools.Tool` objects or OpenAI-style schema dicts with a
        function. Before every step byom reserves that step's worst case and sends it only if
        the run's earlier steps + this estimate stay within ``max_cost`` **and** the user's
        allowance holds, both in one ledger transaction (across threads, tasks, processes and
        tabs). In strict mode, what the run is charged never exceeds ``max_cost``.

        A run that cannot afford its next step stops and returns what it has:
        ``result.stopped`` is ``"done"``, ``"max_steps"``, ``"max_cost"``, ``"allowance"``,
        ``"cancelled"`` or ``"error"`` (``result.error`` says which) — no exception out of the
        middle of the loop; a mistake in the call itself (unknown feature, not connected, a bad
        argument) raises before the first step. A tool that raises: its error text (with the
        key removed, should it appear) goes back to the model as the tool's result, or with
        ``on_tool_error="abort"`` the run stops (``tool_failed``). Every step is its own history
        row with the run's id (``app.totals(by="run")``); tool arguments and results are
        content and are never stored. ``max_tokens`` bounds each step's output; ``schema``
        asks for structured output in the final answer (``result.data``).
        """
        from byom import runs

        return runs.run(self, feature, messages, **_run_options(locals(), params))

    async def arun(
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
    ) -> RunResult:
        """:meth:`run` for asyncio: async tools are awaited, sync ones run in a worker thread,
        and the calls of one step run concurrently. Cancelling the task cancels the step in
        flight (its estimate counts as unreconciled) and stops the run."""
        from byom import runs

        return await runs.arun(self, feature, messages, **_run_options(locals(), params))

    def run_stream(
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
    ) -> Iterator[RunItem]:
        """:meth:`run`, yielding as it goes: text :class:`Delta` items, each step's
        :class:`~byom.core.usage.ToolCall` objects when the step lands, a
        :class:`~byom.core.events.StepLanded` per step (``step 3 · $0.0012 so far``), and last
        a :class:`~byom.core.run.RunDone` with the result. Closing the iterator early cancels
        the step in flight (unreconciled) and ends the run as ``"cancelled"``."""
        from byom import runs

        yield from runs.run_stream(self, feature, messages, **_run_options(locals(), params))

    async def arun_stream(
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
    ) -> AsyncIterator[RunItem]:
        """:meth:`run_stream` for asyncio."""
        from byom import runs

        inner = runs.arun_stream(self, feature, messages, **_run_options(locals(), params))
        try:
            async for item in inner:
                yield item
        finally:
            await inner.aclose()

    def text(self, feature: str, messages: Sequence[Mapping[str, Any]], **kwargs: Any) -> str:
        """Convenience: the reply text of :meth:`chat`."""
        return self.chat(feature, messages, **kwargs).text

    # -- provider side: key check, reconciliation ----------------------------------------------

    def validate_key(self) -> KeyInfo:
        """Ask the provider about the key (OpenRouter ``GET /key``): proves it works and reports
        its own limit. A 401 clears the key like any other 401."""
        connection = self._require()
        request = connection.adapter.key_info_request(connection.key)
        if request is None:
            return KeyInfo()
        return self._key_info(connection, self._send(connection, request))

    async def avalidate_key(self) -> KeyInfo:
        """:meth:`validate_key` for asyncio (and the browser)."""
        connection = self._require()
        request = connection.adapter.key_info_request(connection.key)
        if request is None:
            return KeyInfo()
        return self._key_info(connection, await self._asend(connection, request))

    def _key_info(self, connection: Connection, response: Any) -> KeyInfo:
        try:
            return connection.adapter.parse_key_info(
                response.status, response.headers, response.body
            )
        except ByomError as error:
            raise self._settled(connection, error) from None

    def unreconciled(self) -> list[LedgerRow]:
        """Requests that were sent but whose cost never came back; their estimates count."""
        return self.ledger.unreconciled()

    def reconcile(self, *, attempts: int = 6, delay: float = 0.5) -> list[CallRecord]:
        """Ask the provider for the real cost of unreconciled requests (OpenRouter
        ``/generation``), retrying while it answers 404. Returns the reconciled records."""
        connection = self._require()
        pending = [r for r in self.unreconciled() if r.generation_id]
        done: list[CallRecord] = []
        wait = delay
        for attempt in range(attempts):
            still: list[LedgerRow] = []
            for row in pending:
                request = connection.adapter.generation_request(
                    connection.key, row.generation_id or ""
                )
                if request is None:
                    continue
                response = self._send(connection, request)
                try:
                    info = connection.adapter.parse_generation(response.status, response.body)
                except ByomError as error:
                    raise self._settled(connection, error) from None
                if info is None:
                    still.append(row)
                else:
                    done.append(apply_generation(self.calls, row, info))
            pending = still
            if not pending or attempt == attempts - 1:
                break
            time.sleep(wait)
            wait = min(wait * 2, 8.0)
        return done

    def clear_unreconciled(self, call_id: str) -> None:
        """Stop counting one unreconciled request (the user's explicit choice). Only an
        unreconciled request of this app can be cleared; any other id (unknown, committed,
        in flight, already cleared, another app's) raises :class:`~byom.errors.InvalidRequest`
        and changes nothing."""
        self.ledger.clear_unreconciled(call_id)

    # -- history (R4.4) -------------------------------------------------------------------------

    def history(
        self,
        *,
        since: float | None = None,
        feature: str | None = None,
        model: str | None = None,
        limit: int | None = None,
    ) -> list[CallRecord]:
        return self.store.records(
            self.app_id, since=since, feature=feature, model=model, limit=limit
        )

    def totals(
        self, by: Literal["day", "feature", "model", "run"] = "day", period: Period = "session"
    ) -> dict[str, Decimal]:
        """Known cost per day (local), feature, model or run (``app.run``; keyed by run id),
        from history. By run, calls that were not a step of a run are left out.

        ``period`` is read as in :meth:`spent` and defaults, like it, to ``"session"``: the
        calls made through this ``App`` object. ``period="total"`` covers the whole history on
        this device (what ``byom history`` shows); ``"day"`` and ``"month"`` the current local
        calendar day and month."""
        session = period == "session"
        since = self.ledger.session_started if session else period_start(period, self._clock())
        from_sums = getattr(self.store, "history_totals", None)  # the SQLite store's running sums
        if callable(from_sums) and not session:
            found: dict[str, Decimal] | None = from_sums(self.app_id, by, since)
            if found is not None:
                return found
        totals: dict[str, Decimal] = {}
        for record in self.history(since=since):
            if record.cost is None or (by == "run" and record.run_id is None):
                continue
            if session and not self.ledger.in_session(record.id):
                continue  # another process's call, or a reconciled one from an earlier session
            if by == "run":
                key = str(record.run_id)
            elif by == "day":
                key = datetime.fromtimestamp(record.started_at).astimezone().date().isoformat()
            elif by == "feature":
                key = record.feature
            else:
                key = record.model
            totals[key] = totals.get(key, Decimal(0)) + record.cost
        return dict(sorted(totals.items()))

    def delete_history(self, *, before: float | None = None) -> int:
        """Delete history rows. The ledger is untouched: spend still counts against the
        allowance (deleting history never resets it)."""
        return self.store.delete_records(self.app_id, before=before)

    def iter_history(self, *, since: float | None = None) -> Iterator[CallRecord]:
        """History records newest first, read from the store a batch at a time."""
        stream = getattr(self.store, "iter_records", None)
        if callable(stream):
            yield from stream(self.app_id, since=since)
        else:
            yield from self.history(since=since)

    def write_history(self, file: SupportsWrite, fmt: Literal["csv", "json"] = "csv") -> int:
        """Write history as CSV or JSON text to ``file`` (anything with ``write(str)``) as it is
        read, so a long history is never held in memory whole. The same text as
        :meth:`export_history`; returns the number of records written."""
        return write_records(self.iter_history(), file, fmt)

    def export_history(self, fmt: Literal["csv", "json"] = "csv") -> str:
        """History as CSV or JSON text: figures only, costs as exact decimal strings. (For a
        long history, :meth:`write_history` writes it to a file without holding it all.)"""
        out = io.StringIO()
        self.write_history(out, fmt)
        return out.getvalue()

    # -- transports -----------------------------------------------------------------------------

    def _transport(self, connection: Connection) -> Any:
        origin = _transport_key(connection.adapter)
        transport = self._transports.get(origin)
        if transport is None:
            with self._lock:
                transport = self._transports.get(origin)
                if transport is None:
                    if connection.adapter.name == "builtin" and self._builtin is not None:
                        transport = self._builtin.transport(
                            getattr(connection.adapter, "model_path", None)
                        )
                    elif connection.adapter.name == "builtin":
                        from byom.builtin.transport import BuiltinTransport

                        transport = BuiltinTransport(
                            connection.adapter.origin,
                            model_path=getattr(connection.adapter, "model_path", None),
                        )
                    elif self._transport_factory is not None:
                        transport = self._transport_factory(origin)
                    else:
                        from byom.transport.httpx_transport import HttpxTransport

                        kwargs: dict[str, Any] = (
                            {} if self._timeout is None else {"timeout": self._timeout}
                        )
                        transport = HttpxTransport(origin, **kwargs)
                    self._transports[origin] = transport
        return transport

    def _atransport(self, connection: Connection) -> Any:
        """One async client per event loop (httpx async clients are bound to their loop)."""
        loop_id = id(asyncio.get_running_loop())
        per_loop = self._atransports.setdefault(loop_id, {})
        origin = _transport_key(connection.adapter)
        transport = per_loop.get(origin)
        if transport is None:
            if connection.adapter.name == "builtin" and self._builtin is not None:
                transport = self._builtin.transport(getattr(connection.adapter, "model_path", None))
            elif connection.adapter.name == "builtin":
                from byom.builtin.transport import AsyncBuiltinTransport

                transport = AsyncBuiltinTransport(
                    connection.adapter.origin,
                    model_path=getattr(connection.adapter, "model_path", None),
                )
            elif self._async_transport_factory is not None:
                transport = self._async_transport_factory(origin)
            else:
                from byom.transport.httpx_transport import AsyncHttpxTransport

                kwargs: dict[str, Any] = {} if self._timeout is None else {"timeout": self._timeout}
                transport = AsyncHttpxTransport(origin, **kwargs)
            per_loop[origin] = transport
        return transport

    def send_raw(self, request: HttpRequest) -> Any:
        """Send an adapter-built request through the origin-locked transport (used by surfaces,
        e.g. the PKCE exchange). Refuses other origins like every other path."""
        connection = self._require()
        if origin_of(request.url) != connection.adapter.origin:
            from byom.core.errors import EgressBlocked

            raise EgressBlocked()
        return self._send(connection, request)

    def _send(self, connection: Connection, request: HttpRequest) -> Any:
        """Send a request that is not a paid call (key check, model list, reconciliation):
        transport failures surface as byom errors."""
        from byom.transport import SendFailed

        try:
            return self._transport(connection).send(request)
        except SendFailed as failure:
            raise failure.error from None

    async def _asend(self, connection: Connection, request: HttpRequest) -> Any:
        """:meth:`_send` for asyncio (and the browser)."""
        from byom.transport import SendFailed

        try:
            return await self._atransport(connection).send(request)
        except SendFailed as failure:
            raise failure.error from None

    def _close_transports(self) -> None:
        with self._lock:
            transports, self._transports = self._transports, {}
        for transport in transports.values():
            transport.close()

    def close(self) -> None:
        """Close network clients and the store connection."""
        self._close_transports()
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"App({self.name!r}, provider={self.provider!r})"


def _adapter(
    provider: str,
    base_url: str | None,
    options: Mapping[str, Any],
    builtin: BuiltinHost | None = None,
) -> Adapter:
    """Build an adapter; providers whose model lists carry no prices get the bundled snapshot
    (read here, in the shell: adapters do no I/O). The built-in model gets the models installed
    on this device (:class:`~byom.errors.BuiltinUnavailable` when there are none)."""
    from byom.catalogs import SNAPSHOTS

    options = dict(options)
    if provider in SNAPSHOTS and "prices" not in options:
        from byom.catalogs import bundled

        options["prices"] = bundled(provider)
    if provider == "compatible" and base_url and "prices" not in options:
        from byom.catalogs import bundled_host
        from byom.providers.base import check_base_url, origin_of

        known = bundled_host(origin_of(check_base_url(base_url)))
        if known is not None:  # a known host (Mistral, DeepSeek, Groq, xAI): its price list
            options["prices"] = known
    if provider == "builtin" and "models" not in options:
        model_path = options.get("model_path")
        path = model_path if isinstance(model_path, str) else None
        if builtin is not None:
            options["models"] = builtin.catalog(path)
        else:
            from byom.builtin.models import installed_catalog

            options["models"] = installed_catalog(path)
    return make_adapter(provider, base_url, **options)


def _transport_key(adapter: Adapter) -> str:
    """Transports are kept per origin; the built-in model's also per model file."""
    if adapter.name == "builtin":
        return f"{adapter.origin}#{getattr(adapter, 'model_path', None) or ''}"
    return adapter.origin


def _run_options(arguments: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    names = ("max_cost", "tools", "max_steps", "max_tokens", "schema", "on_tool_error")
    return {**{name: arguments[name] for name in names}, "params": params}


def _output(schema: Any) -> OutputSchema | None:
    return None if schema is None else OutputSchema.of(schema)


def _failed_stream(call: Call, failure: Any) -> ByomError:
    """Settle a stream whose transport failed: after sending, keep the generation id so the
    cost can be reconciled; before sending, release."""
    if failure.sent:
        return call.abort(failure.error)
    return call.fail(failure.error, sent=False)


def _key_optional(adapter: Adapter) -> bool:
    """Whether the adapter works without a key (an OpenAI-compatible local server). Issue 3."""
    return getattr(adapter, "key_optional", False) is True


def _plain_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Adapter options that can be saved with the connection (e.g. ``stream_usage=False``), so a
    restored connection behaves like the one the user made. Issue 3."""
    return {k: v for k, v in options.items() if isinstance(v, (str, int, float, bool))}


__all__ = ["BUNDLED_CATEGORIES", "App", "Delta", "Done", "app_id_for", "default_data_dir"]
