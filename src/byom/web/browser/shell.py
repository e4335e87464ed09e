"""The bridge between the page's UI components (``kit.js``) and the byom core, in Pyodide.

:func:`start` builds one :class:`Shell` for the page: the CPython :class:`byom.app.App` with the
browser's store, vault and ``fetch`` transport injected (so connection, catalog, model choice,
allowances, history and export are the very same code as in the terminal), plus the async call
path the page needs. The page calls the shell's methods through Pyodide; every answer is a JSON
string, every failure a stable error ``code`` that the UI words in the user's language.

What crosses to JavaScript: figures, model names, error codes, and the reply text for the page
to show (for an agent feature, also what its ``describe`` / ``report`` hooks say about the run).
Never the key: JavaScript hands the key in once and never gets it back.

An agent feature (:meth:`byom.web.app.WebApp.agent`) runs through ``App.arun_stream``: the same
loop, ceiling and ledger as in CPython. The shell tracks each run from its events so that the
cost surface can group the run's steps under one row and the leave guard stays up from the
first step until ``RunFinished`` — also while the app's tools run between steps, when no request
is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from byom.app import App, app_id_for, clears_key
from byom.core.errors import (
    BudgetExceeded,
    ByomError,
    Cancelled,
    InvalidAmount,
    InvalidRequest,
    NotConnected,
    OutOfCredits,
    RateLimited,
    RunCeilingReached,
)
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
from byom.core.ledger import Allowance, Period, period_start
from byom.core.money import format_money, from_pico, parse_amount
from byom.core.run import RunDone, RunResult
from byom.core.secret import Secret, clean_key
from byom.core.store import COUNTING_STATES
from byom.core.tools import Tool, tools_of
from byom.core.usage import Delta, Done, ToolCall
from byom.providers import make_adapter
from byom.providers.base import origin_of
from byom.transport import SendFailed
from byom.web.app import AgentRun, RunLimits, WebApp, WebFeature
from byom.web.browser.store import BrowserStore
from byom.web.browser.transport import FetchTransport, PageBuiltinTransport, check_origin
from byom.web.browser.vault import BrowserVault


def _money(value: Decimal | None) -> dict[str, str | None]:
    return {
        "exact": None if value is None else format(value, "f"),
        "text": format_money(value) if value is not None else None,
    }


def guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Whatever goes wrong inside, the page gets a plain error code — never a traceback (a
    traceback could reach the console, and the console must never hold anything sensitive)."""
    import functools
    import inspect

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except ByomError as exc:
                return json.dumps(_error(exc))
            except Exception:
                return json.dumps({"ok": False, "code": "byom_error"})

        return run_async

    @functools.wraps(method)
    def run_sync(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ByomError as exc:
            return json.dumps(_error(exc))
        except Exception:
            return json.dumps({"ok": False, "code": "byom_error"})

    return run_sync


def _error(exc: BaseException) -> dict[str, Any]:
    """A failure as the page sees it: a stable code and, for some, figures. Never payloads."""
    if not isinstance(exc, ByomError):
        return {"ok": False, "code": "byom_error"}
    out: dict[str, Any] = {"ok": False, "code": exc.code, "status": exc.status}
    if isinstance(exc, BudgetExceeded):
        out["figures"] = {
            "period": exc.period,
            "allowance": _money(exc.allowance),
            "spent": _money(exc.spent),
            "estimate": _money(exc.estimate),
        }
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        out["retry_after"] = exc.retry_after
    if isinstance(exc, OutOfCredits):
        out["limit_source"] = exc.limit_source
    if isinstance(exc, RunCeilingReached):
        out["figures"] = {
            "ceiling": _money(exc.ceiling),
            "spent": _money(exc.spent),
            "estimate": _money(exc.estimate),
        }
    return out


def _in_page(tool: Tool) -> Tool:
    """``tool`` with a sync function made a coroutine function. The asyncio loop runs a sync
    tool in a worker thread; a page has none (Pyodide cannot start threads), so in the browser
    a sync tool runs on the page's own loop, between steps, as a plain call."""
    function = tool.function
    if function is None or inspect.iscoroutinefunction(function):
        return tool

    @functools.wraps(function)
    async def call(**arguments: Any) -> Any:
        value = function(**arguments)
        if inspect.isawaitable(value):
            value = await value
        return value

    return Tool(tool.name, tool.description, tool.parameters, call)


@dataclass
class _RunView:
    """What the page is told about one run, kept from its events: figures only."""

    feature: str
    run_id: str | None = None
    max_steps: int = 0
    max_cost: Decimal = Decimal(0)
    steps: int = 0
    #: Known cost of the run's settled steps (what history holds for them).
    cost: Decimal = Decimal(0)
    #: What the run counts against its ceiling and the allowance (estimates included).
    counted: Decimal = Decimal(0)
    unreconciled: int = 0
    stopped: str | None = None
    model: str | None = None
    #: The last refusal of a step (its figures say why the run could not go on).
    refusal: ByomError | None = None
    calls: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "feature": self.feature,
            "steps": self.steps,
            "max_steps": self.max_steps,
            "cost": _money(self.cost),
            "counted": _money(self.counted),
            "max_cost": _money(self.max_cost),
            "unreconciled": self.unreconciled,
            "stopped": self.stopped,
            "model": self.model,
        }


#: The run view of the agent run the current task drives (events are emitted in its context).
_CURRENT_RUN: contextvars.ContextVar[_RunView | None] = contextvars.ContextVar(
    "byom_current_run", default=None
)


#: How much of a feature's input the built-in model reads in the page (characters of the last
#: user message). It reads ~10 tokens a second on a 2-core CPU (one thread): 300 characters of
#: English are ~70 tokens, so with a short instruction the first word comes within ~10 s of the
#: press (``benchmarks/builtin.py``); the page says which part it read.
BUILTIN_INPUT_CHARS = 300
#: The input a feature's builder finds set to ``True`` when the built-in model will answer
#: (``False`` otherwise, whatever the page sent): a builder can then give a shorter instruction.
BUILTIN_INPUT_KEY = "builtin"
#: Most tokens the built-in model writes for one feature in the page (~7 tokens a second).
BUILTIN_MAX_TOKENS = 256


class PageBuiltin:
    """The built-in model as the page runs it (:class:`byom.app.BuiltinHost`): the site's model,
    described in ``byom/config.json``, answered by the WebAssembly runtime of ``builtin.js``."""

    def __init__(self, config: Mapping[str, Any] | None) -> None:
        self.config = config

    def catalog(self, model_path: str | None) -> Any:
        from byom.core.catalog import Catalog, Model
        from byom.core.errors import BuiltinUnavailable
        from byom.providers.builtin import FREE

        if self.config is None or model_path is not None:
            raise BuiltinUnavailable("model")
        model = self.config["model"]
        entry = Model(
            id=str(model["id"]),
            name=str(model["name"]),
            category="worker",
            context_length=int(model["context_length"]),
            price=FREE,
            provider="builtin",
            size_bytes=int(model["size"]),
        )
        return Catalog((entry,), source="builtin")

    def transport(self, model_path: str | None) -> PageBuiltinTransport:
        from byom.providers.builtin import ORIGIN

        return PageBuiltinTransport(ORIGIN)


def bound_for_builtin(
    messages: list[Mapping[str, Any]], limit: int = BUILTIN_INPUT_CHARS
) -> tuple[list[Mapping[str, Any]], dict[str, int] | None]:
    """The messages with the last user message cut to ``limit`` characters, and what was kept
    (``{"kept": n, "of": total}``), or ``None`` when nothing was cut."""
    out = list(messages)
    for index in range(len(out) - 1, -1, -1):
        message = out[index]
        content = message.get("content")
        if message.get("role") != "user" or not isinstance(content, str):
            continue
        if len(content) <= limit:
            return out, None
        out[index] = {**message, "content": content[:limit]}
        return out, {"kept": limit, "of": len(content)}
    return out, None


class Shell:
    """One page's byom: the app, its providers, and the calls in flight."""

    def __init__(
        self,
        web: WebApp,
        store: BrowserStore,
        vault: BrowserVault,
        providers: list[dict[str, Any]],
        emit: Callable[[str], Any],
        *,
        app_id_pinned: bool = True,
        builtin: Mapping[str, Any] | None = None,
    ) -> None:
        self.web = web
        self.store = store
        self.vault = vault
        self.providers = {p["id"]: p for p in providers}
        self._emit = emit
        self._transports: dict[str, FetchTransport] = {}
        self.app = App(
            web.name,
            web.features,
            store=store,
            vault=vault,
            # An id derived from the name is checked against the name that claimed it, as in
            # CPython (R4.4): every app served from one origin shares its IndexedDB and
            # localStorage, namespaced by app id. A pinned id is used as given.
            app_id=web.app_id if app_id_pinned else None,
            transport_factory=self._transport_for,
            async_transport_factory=self._transport_for,
            # check-and-reserve under the cross-tab Web Lock, on a fresh view of storage
            admission=store.exclusive,
            # the built-in model runs in the page (builtin.js), never in this Python
            builtin=PageBuiltin(builtin),
        )
        #: The page's storage host (IndexedDB, Web Locks), for finding closed tabs' rows.
        self.host: Any = None
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._session_cost = Decimal(0)
        #: Runs started and not finished, by run id: paid work in flight for the leave guard.
        self._runs: dict[str, _RunView] = {}
        self.app.subscribe(self._on_event)

    # -- plumbing -----------------------------------------------------------------------------

    def _transport_for(self, origin: str) -> FetchTransport:
        transport = self._transports.get(origin)
        if transport is None:
            transport = self._transports[origin] = FetchTransport(origin)
        return transport

    def _option_for_connection(self) -> dict[str, Any] | None:
        if not self.app.connected:
            return None
        origin = self.app.adapter.origin
        kind = self.app.provider
        for option in self.providers.values():
            if option["provider"] == kind and origin_of(option["base_url"]) == origin:
                return option
        for option in self.providers.values():  # a loopback server at the address the user gave
            if option.get("loopback") and option["provider"] == kind:
                return option
        return None

    def _on_event(self, event: Event) -> None:
        if isinstance(event, RunStarted | StepLanded | RunFinished):
            data = self._on_run_event(event)
        else:
            data = self._on_call_event(event)
        data["in_flight"] = self.app.in_flight_count()
        data["runs"] = len(self._runs)
        data["session_cost"] = _money(self._session_cost)
        try:
            self._emit(json.dumps(data))
        except Exception:  # the UI failing must not break the money path
            return

    def _on_run_event(self, event: RunStarted | StepLanded | RunFinished) -> dict[str, Any]:
        data: dict[str, Any] = {"type": type(event).__name__.lower(), "run_id": event.run_id}
        if isinstance(event, RunStarted):
            view = _CURRENT_RUN.get()
            if view is None or view.run_id is not None:  # a run the page did not start
                view = _RunView(event.feature)
            view.run_id = event.run_id
            view.max_steps = event.max_steps
            view.max_cost = event.max_cost
            self._runs[event.run_id] = view
        else:
            view = self._runs.get(event.run_id) or _RunView("", run_id=event.run_id)
        if isinstance(event, StepLanded):
            view.steps = event.step
            view.counted = event.run_cost
            data.update(step=event.step, call_id=event.call_id, tools=list(event.tools))
        elif isinstance(event, RunFinished):
            view.steps = event.steps
            view.counted = event.cost
            view.stopped = event.stopped
            self._runs.pop(event.run_id, None)
        data.update(view.summary())
        return data

    def _on_call_event(self, event: Pending | Landed | Refused | Failed) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": type(event).__name__.lower(),
            "call_id": event.call_id,
            "feature": event.feature,
            "provider": event.provider,
            "model": event.model,
            "run_id": event.run_id,
        }
        view = self._runs.get(event.run_id) if event.run_id is not None else None
        if view is not None:
            view.model = event.model
            if isinstance(event, Pending):
                view.calls.append(event.call_id)
            elif isinstance(event, Landed | Failed) and event.cost is not None:
                view.cost += event.cost
            if isinstance(event, Failed) and event.unreconciled:
                view.unreconciled += 1
            if isinstance(event, Refused):
                view.refusal = event.error
            step = view.calls.index(event.call_id) + 1 if event.call_id in view.calls else None
            data["step"] = step or len(view.calls) + 1
        if isinstance(event, Pending):
            data["started_at"] = event.started_at
        elif isinstance(event, Landed):
            if event.cost is not None:
                self._session_cost += event.cost
            data.update(
                cost=_money(event.cost),
                cost_source=event.cost_source,
                usage={
                    "prompt": event.usage.prompt_tokens,
                    "completion": event.usage.completion_tokens,
                    "cached": event.usage.cached_tokens,
                    "reasoning": event.usage.reasoning_tokens,
                },
                finish_reason=event.finish_reason,
            )
        elif isinstance(event, Failed):
            if event.cost is not None:
                self._session_cost += event.cost
            data.update(
                error=_error(event.error), unreconciled=event.unreconciled, cost=_money(event.cost)
            )
        elif isinstance(event, Refused):
            data.update(error=_error(event.error))
        return data

    async def _persist(self) -> None:
        await self.store.flush_exclusive()

    # -- state for the UI ---------------------------------------------------------------------

    def in_flight(self) -> bool:
        """The leave guard's predicate (R4.5): the core's own in-flight state, or a run that
        has started and not finished (its next step is paid work, even while tools run)."""
        try:
            return bool(self._runs) or self.app.in_flight()
        except Exception:
            return True

    @guarded
    def status(self) -> str:
        app = self.app
        option = self._option_for_connection()
        categories: dict[str, Any] = {}
        for feature in app.features.values():
            if feature.category in categories:
                continue
            try:
                chosen = app.model_for(feature.name).id
            except ByomError:
                chosen = None
            categories[feature.category] = {
                "chosen": chosen,
                "models": [
                    {
                        "id": m.id,
                        "name": m.name,
                        "prompt_per_million": None
                        if m.price is None
                        else format(m.price.prompt * 1_000_000, "f"),
                        "completion_per_million": None
                        if m.price is None
                        else format(m.price.completion * 1_000_000, "f"),
                    }
                    for m in app.models(feature.category)
                ],
            }
        allowances = [
            {
                "amount": _money(a.amount),
                "period": a.period,
                "spent": _money(app.spent(a.period)),
                **self._spend_parts(a.period),
            }
            for a in app.allowances()
        ]
        unreconciled = [
            {
                "id": r.id,
                "feature": r.feature,
                "model": r.model,
                "estimate": _money(Decimal(r.estimate_pico) * Decimal("1e-12")),
            }
            for r in app.unreconciled()
        ]
        return json.dumps(
            {
                "connected": app.connected,
                "option": option["id"] if option else None,
                "key_where": app.key_location(),
                "features": [self._feature_info(f.name) for f in app.features.values()],
                "categories": categories,
                "allowances": allowances,
                "unreconciled": unreconciled,
                "session_cost": _money(self._session_cost),
                "in_flight": app.in_flight_count(),
                "runs": len(self._runs),
            }
        )

    def _spend_parts(self, period: Period) -> dict[str, Any]:
        """What counts against the allowance of ``period``, in parts that add up to it:
        ``settled`` (the real cost of finished requests), ``in_flight`` (the estimates of
        requests running now, in any tab) and ``unfinished`` (the estimates of requests cut
        off before their cost came back, which count until the user clears them)."""
        ledger = self.app.ledger
        start = period_start(period, ledger._clock(), ledger.tz)
        parts = {"committed": 0, "reserved": 0, "unreconciled": 0}
        for row in self.store.ledger_rows(self.app.app_id, COUNTING_STATES):
            if start is not None and row.created_at < start:
                continue
            if period == "session" and row.session_id != ledger.session_id:
                continue
            parts[row.state] = parts.get(row.state, 0) + row.counted_pico
        return {
            "settled": _money(from_pico(parts["committed"])),
            "in_flight": _money(from_pico(parts["reserved"])),
            "unfinished": _money(from_pico(parts["unreconciled"])),
        }

    async def recover_orphans(self) -> int:
        """Reservations of a tab that was closed mid-request become unfinished (unreconciled).

        Every tab holds the Web Lock ``byom-tab:<its id>`` for its life and writes its id as
        the owner of its reservations; a ``reserved`` row whose owner's lock nobody holds was
        left by a closed tab. Its estimate keeps counting (fail closed) but it is shown as
        unfinished, with the way to clear it, instead of "in flight" for ever."""
        query = getattr(self.host, "held", None)
        if query is None:
            return 0
        held = set(json.loads(await query()))
        moved = 0
        async with self.store.exclusive():
            for row in self.store.ledger_rows(self.app.app_id, frozenset({"reserved"})):
                if not row.owner.startswith("tab:") or row.owner == self.app.ledger.owner:
                    continue
                if "byom-tab:" + row.owner[4:] in held:
                    continue
                if self.store.transition_ledger_row(
                    self.app.app_id,
                    row.id,
                    expect=frozenset({"reserved"}),
                    state="unreconciled",
                    counted_pico=row.estimate_pico,
                    generation_id=row.generation_id,
                ):
                    moved += 1
        return moved

    def _feature_info(self, name: str) -> dict[str, Any]:
        feature = self.app.features[name]
        info: dict[str, Any] = {
            "name": feature.name,
            "category": feature.category,
            "description": feature.description,
            "run": None,
        }
        declared = self.web.get(name)
        if declared.run is not None:
            info["run"] = {
                "max_steps": declared.run.max_steps,
                "max_cost": _money(declared.run.max_cost),
            }
        return info

    # -- connecting ---------------------------------------------------------------------------

    def _adapter(self, option_id: str) -> Any:
        option = self.providers.get(option_id)
        if option is None:
            raise InvalidRequest("Unknown provider option.")
        return make_adapter(option["provider"], option["base_url"])

    @guarded
    def key_shape(self, option_id: str, key: str) -> str:
        """What is wrong with ``key``'s shape for the option's provider (``null`` when nothing
        is): the one rule, :func:`byom.core.keyshape.check_key_shape`, for the page to word
        before anything is sent. The answer never holds the key."""
        from byom.core.keyshape import check_key_shape

        option = self.providers.get(option_id)
        if option is None:
            return json.dumps({"ok": False, "code": "invalid_request"})
        shape = check_key_shape(option["provider"], key)
        del key
        if shape is None:
            return json.dumps(None)
        return json.dumps(
            {
                "problem": shape.problem,
                "provider": shape.provider,
                "other": shape.other,
                "prefix": shape.prefix,
            }
        )

    @guarded
    async def connect(self, option_id: str, key: str, base_url: str = "") -> str:
        """Connect with a pasted key (held in memory) and validate it with the provider.

        A provider that takes no key (Ollama) ignores ``key``; one whose key is optional (a
        compatible server) connects without one when ``key`` is empty. ``base_url`` is the
        address the user gave for a loopback-only option (a compatible server on this machine);
        anything but ``localhost`` / ``127.0.0.1`` is refused (``not_loopback``) before a
        request is made — the page's ``connect-src`` would block it anyway.
        """
        from byom.web.browser.loopback import is_loopback_url

        try:
            option = self.providers.get(option_id)
            if option is None:
                raise InvalidRequest("Unknown provider option.")
            if option.get("loopback"):
                address = base_url.strip() or option["base_url"]
                if not is_loopback_url(address):
                    return json.dumps({"ok": False, "code": "not_loopback"})
                option = {**option, "base_url": address}
            secret: Secret | None
            if option.get("keyless") or (option.get("key_optional") and not key.strip()):
                secret = None
            else:
                secret = clean_key(key)  # copy-paste leftovers go; the rest must fit a header
            del key
        except (ValueError, TypeError, ByomError) as exc:
            return json.dumps(_error(exc if isinstance(exc, ByomError) else NotConnected()))
        return await self._connect_secret(option, secret)

    async def _connect_secret(self, option: dict[str, Any], secret: Secret | None) -> str:
        self.app.forget_key()
        try:
            self.app.connect(
                option["provider"],
                secret,
                base_url=option["base_url"],
                **dict(option.get("options") or {}),
            )
            info = await self._validate()
            if self.app.adapter.key_info_request(secret) is None:
                # Nothing to check a key with (Ollama, a keyless server): the model list is the
                # check that the server answers this page at all (Ollama's OLLAMA_ORIGINS).
                await self.app.arefresh_models()
            else:
                await self._refresh_models()
        except ByomError as exc:
            self.app.forget_key()  # a key that could not be checked is not kept
            await self._persist()
            return json.dumps(_error(exc))
        await self._persist()
        return json.dumps({"ok": True, "key": info})

    async def _validate(self) -> dict[str, Any]:
        info = await self.app.avalidate_key()  # a 401 clears the key, like every 401
        return {
            "label": info.label,
            "limit": _money(info.limit),
            "limit_remaining": _money(info.limit_remaining),
            "usage": _money(info.usage),
            "is_free_tier": info.is_free_tier,
        }

    @guarded
    async def validate(self) -> str:
        try:
            return json.dumps({"ok": True, "key": await self._validate()})
        except ByomError as exc:
            await self._persist()
            return json.dumps(_error(exc))

    async def _refresh_models(self) -> None:
        """Fetch the provider's model list and cache it with its date (R1.4). Best effort:
        the bundled snapshot serves when the list cannot be had."""
        with contextlib.suppress(ByomError):
            await self.app.arefresh_models()

    @guarded
    async def connect_builtin(self) -> str:
        """Use the built-in model (no key). The page has loaded it (``byomBuiltin.load``)."""
        try:
            self.app.connect("builtin")
        except ByomError as exc:
            return json.dumps(_error(exc))
        await self._persist()
        return json.dumps({"ok": True})

    @guarded
    def pkce_begin(self, option_id: str, callback_url: str) -> str:
        """Start OpenRouter's PKCE flow: the authorize URL and the verifier to keep for the trip.

        The verifier is a one-time value, not a key; the page keeps it in ``sessionStorage`` for
        the redirect and deletes it on return.
        """
        from byom.providers.openrouter import pkce_pair

        adapter = self._adapter(option_id)
        verifier, challenge = pkce_pair()
        return json.dumps(
            {
                "url": adapter.authorize_url(callback_url, challenge),
                "verifier": verifier.reveal(),
            }
        )

    @guarded
    async def pkce_finish(self, option_id: str, code: str, verifier: str) -> str:
        """Exchange the returned code for a key at the provider, then connect with it."""
        try:
            option = self.providers[option_id]
            adapter = self._adapter(option_id)
            request = adapter.exchange_request(code, Secret(verifier))
            transport = self._transport_for(adapter.origin)
            check_origin(adapter.origin, request.url)
            response = await transport.send(request)
            secret = adapter.parse_exchange(response.status, response.headers, response.body)
        except SendFailed as failure:
            return json.dumps(_error(failure.error))
        except (KeyError, ValueError, ByomError) as exc:
            return json.dumps(_error(exc if isinstance(exc, ByomError) else InvalidRequest()))
        return await self._connect_secret(option, secret)

    @guarded
    async def remember(self, remember: bool) -> str:
        """Apply the persistence choice (R2.2): local storage only when ``remember``."""
        if self.app.connected:
            self.vault.remember(self.app.adapter.origin, bool(remember))
        return json.dumps({"ok": True, "key_where": self.app.key_location()})

    @guarded
    async def forget_key(self) -> str:
        """Remove the key from memory and from local storage (R2.3)."""
        self.app.forget_key()
        self.vault.forget()
        self.store.set_setting(self.app.app_id, "connection", None)
        await self._persist()
        return json.dumps({"ok": True})

    # -- settings -----------------------------------------------------------------------------

    @guarded
    async def choose_model(self, category: str, model_id: str) -> str:
        """Use ``model_id`` for every feature of ``category`` (it must be in that category)."""
        try:
            for feature in self.app.features.values():
                if feature.category == category:
                    self.app.choose_model(feature.name, model_id)
        except ByomError as exc:
            return json.dumps(_error(exc))
        await self._persist()
        return json.dumps({"ok": True})

    @guarded
    async def set_allowance(self, amount: str, period: str, decimal_comma: bool) -> str:
        """Set the allowance. Empty or unreadable input fails closed: the old one stays."""
        try:
            if amount is None or str(amount).strip().lower() in ("none", "no limit"):
                raise InvalidAmount()
            value = parse_amount(str(amount), decimal_comma=bool(decimal_comma))
            async with self.store.exclusive():
                for other in ("session", "day", "month", "total"):
                    self.app.ledger.set_allowance(None, other)  # type: ignore[arg-type]
                self.app.ledger.set_allowance(Allowance(value, period))  # type: ignore[arg-type]
        except ByomError as exc:
            return json.dumps(_error(exc))
        return json.dumps({"ok": True, "amount": _money(value), "period": period})

    @guarded
    async def clear_unreconciled(self, call_id: str) -> str:
        async with self.store.exclusive():
            self.app.clear_unreconciled(call_id)
        return json.dumps({"ok": True})

    # -- history ------------------------------------------------------------------------------

    @guarded
    async def reload(self) -> None:
        """Re-read storage (another tab may have added history, or closed mid-request)."""
        async with self.store.exclusive():
            pass
        with contextlib.suppress(Exception):  # best effort: the rows still count either way
            await self.recover_orphans()

    @guarded
    def history(self, limit: int = 200) -> str:
        rows = []
        for record in self.app.history(limit=limit):
            rows.append(
                {
                    "id": record.id,
                    "feature": record.feature,
                    "model": record.model,
                    "provider": record.provider,
                    "outcome": record.outcome,
                    "started_at": record.started_at,
                    "tokens": [record.usage.prompt_tokens, record.usage.completion_tokens],
                    "cost": _money(record.cost),
                    "cost_source": record.cost_source,
                    "error_code": record.error_code,
                    "run_id": record.run_id,
                }
            )
        days = {day: _money(cost) for day, cost in self.app.totals("day", period="total").items()}
        total = sum((r.cost for r in self.app.history() if r.cost is not None), Decimal(0))
        return json.dumps({"rows": rows, "days": days, "total": _money(total)})

    @guarded
    def export(self, fmt: str) -> str:
        return self.app.export_history("json" if fmt == "json" else "csv")

    @guarded
    async def delete_history(self) -> str:
        count = self.app.delete_history()
        await self._persist()
        return json.dumps({"ok": True, "deleted": count})

    # -- running a feature --------------------------------------------------------------------

    @guarded
    async def run(
        self,
        task_id: str,
        feature: str,
        inputs_json: str,
        on_delta: Any,
        on_step: Any = None,
        options_json: str | None = None,
    ) -> str:
        """Run one model feature, streaming; the result (or error code) as JSON.

        ``task_id`` is the page's handle for :meth:`cancel`. An agent feature runs its whole
        loop: ``on_step`` gets each settled step as JSON, and ``options_json`` may lower its
        ceiling or step limit (``{"max_cost": "0.01", "max_steps": 3}``)."""
        if self._beyond_builtin(feature):
            return json.dumps({"ok": False, "code": "builtin_too_small", "status": None})
        view: _RunView | None = None
        if self.web.is_agent(feature):
            view = _RunView(feature)
            coroutine = self._agent(view, inputs_json, on_delta, on_step, options_json)
        else:
            coroutine = self._run(feature, inputs_json, on_delta)
        task = asyncio.ensure_future(coroutine)
        self._tasks[task_id] = task
        try:
            return await task
        except asyncio.CancelledError:
            out = _error(Cancelled())
            if view is not None:
                out["run"] = view.summary()
            return json.dumps(out)
        finally:
            self._tasks.pop(task_id, None)

    def _on_device(self) -> bool:
        return self.app.connected and self.app.provider == "builtin"

    def _outgoing(
        self, feature: str, inputs_json: str
    ) -> tuple[list[Mapping[str, Any]], int, dict[str, int] | None]:
        """The messages and ``max_tokens`` of one use of a (non-agent) feature as they are sent,
        and what the built-in model was given of the text (``None``: all of it).

        The builder is told whether the built-in model answers (``inputs["builtin"]``, from the
        connection, never the page's word for it): that model reads ~10 tokens a second, so a
        short instruction matters. Its input is then bounded too. Raises ``ByomError``, or
        ``ValueError`` / ``TypeError`` for inputs that are not a JSON object."""
        on_device = self._on_device()
        inputs = json.loads(inputs_json)
        if not isinstance(inputs, Mapping):
            raise InvalidRequest()
        messages, max_tokens = self.web.messages(feature, {**inputs, BUILTIN_INPUT_KEY: on_device})
        read: dict[str, int] | None = None
        if on_device:  # small and slow: bound what it gets
            limit = self.web.get(feature).builtin_input or BUILTIN_INPUT_CHARS
            messages, read = bound_for_builtin(list(messages), limit)
            max_tokens = min(max_tokens, BUILTIN_MAX_TOKENS)
        return messages, max_tokens, read

    @guarded
    def builtin_prompt(self, feature: str, inputs_json: str) -> str:
        """The messages the built-in model would read for this use of ``feature``, so the page
        can let it read them ahead (``BYOM.prepare``): ``{"ok": true, "messages": [...]}``, or
        ``{"ok": false, "code": "not_on_device"}`` when the built-in model is not the connection
        or cannot run the feature. They go to the runtime in this page only (never over the
        network), and nothing is counted or recorded: reading ahead costs nothing and is not a
        call — the call is the request that follows, with its own history row."""
        if not self._on_device() or self._beyond_builtin(feature):  # agents included
            return json.dumps({"ok": False, "code": "not_on_device"})
        try:
            messages, _, _ = self._outgoing(feature, inputs_json)
        except (ValueError, TypeError):
            raise InvalidRequest() from None
        return json.dumps({"ok": True, "messages": list(messages)})

    def _beyond_builtin(self, feature: str) -> bool:
        """Whether the built-in model is connected and cannot run ``feature``: an agent
        feature (it cannot call tools) or a category it does not serve (e.g. ``frontier``).
        The page then says so and offers to connect a provider, before anything runs."""
        if not self._on_device():
            return False
        try:
            if self.web.is_agent(feature):
                return True
            category = self.app.features[feature].category
            return not list(self.app.models(category))
        except (KeyError, ByomError):
            return False

    def cancel(self, task_id: str) -> None:
        task = self._tasks.get(task_id)
        if task is not None:
            task.cancel()

    async def _agent(
        self,
        view: _RunView,
        inputs_json: str,
        on_delta: Any,
        on_step: Any,
        options_json: str | None,
    ) -> str:
        """An agent feature's run: ``App.arun_stream`` with the feature's tools and ceiling;
        the shell forwards text, steps and the finished run to the page."""
        _CURRENT_RUN.set(view)  # this task's context: RunStarted attaches the run to the view
        app = self.app
        try:
            inputs = json.loads(inputs_json)
            options = json.loads(options_json or "{}")
            if not isinstance(inputs, Mapping) or not isinstance(options, Mapping):
                raise InvalidRequest()
            spec, declared = self.web.start_run(view.feature, inputs)
            assert declared.run is not None
            limits = declared.run.lowered(options.get("max_cost"), options.get("max_steps"))
            tools = [_in_page(tool) for tool in tools_of(list(spec.tools))]
        except ByomError as exc:
            return json.dumps(_error(exc))
        except (ValueError, TypeError):
            return json.dumps(_error(InvalidRequest()))
        result: RunResult | None = None
        error: ByomError | None = None
        try:
            result = await self._drive(view, spec, declared, limits, tools, on_delta, on_step)
        except ByomError as exc:  # set up wrong (not connected, …): nothing was sent
            error = exc
        except asyncio.CancelledError:
            await self._persist()
            raise
        except Exception:  # a UI callback failed: the run was closed, its steps count
            error = Cancelled()
        finally:
            if view.run_id is not None:  # finished (RunFinished), or never will be: not in flight
                self._runs.pop(view.run_id, None)
        failure = error if error is not None else (result.error if result else None)
        if failure is not None and clears_key(failure):
            self.store.set_setting(app.app_id, "connection", None)
        await self._persist()
        if result is None:
            out = _error(error or Cancelled())
            out["run"] = view.summary()
            return json.dumps(out)
        return json.dumps(self._finished(view, spec.report, result))

    async def _drive(
        self,
        view: _RunView,
        spec: AgentRun,
        declared: WebFeature,
        limits: RunLimits,
        tools: list[Tool],
        on_delta: Any,
        on_step: Any,
    ) -> RunResult | None:
        """Iterate the run, forwarding text and settled steps; its result (``None``: none)."""
        result: RunResult | None = None
        calls: list[ToolCall] = []
        async with contextlib.aclosing(
            self.app.arun_stream(
                view.feature,
                spec.messages,
                tools=tools,
                max_steps=limits.max_steps,
                max_cost=limits.max_cost,
                max_tokens=declared.max_tokens,
            )
        ) as items:
            async for item in items:
                if isinstance(item, Delta):
                    if item.text:
                        on_delta(item.text)
                elif isinstance(item, ToolCall):
                    calls.append(item)
                elif isinstance(item, StepLanded):
                    if on_step is not None:
                        on_step(json.dumps(self._step(view, spec.describe, item, calls)))
                    calls = []
                elif isinstance(item, RunDone):
                    result = item.result
        return result

    def _step(
        self, view: _RunView, describe: Any, event: StepLanded, calls: list[ToolCall]
    ) -> dict[str, Any]:
        """One settled step for the page: figures, and what ``describe`` says of its calls."""
        details = []
        for call in calls:
            shown: Any = None
            if describe is not None:
                with contextlib.suppress(Exception):  # an app hook failing stays quiet
                    said = describe(call)
                    json.dumps(said)
                    shown = said
            details.append({"tool": call.name, "details": shown})
        return {
            "run_id": event.run_id,
            "step": event.step,
            "cost": _money(event.cost),
            "run_cost": _money(event.run_cost),
            "max_cost": _money(event.max_cost),
            "calls": details,
            "model": view.model,
        }

    def _finished(self, view: _RunView, report: Any, result: RunResult) -> dict[str, Any]:
        refusal = view.refusal if result.stopped in ("max_cost", "allowance") else None
        error = result.error or refusal
        shown: Any = None
        if report is not None:
            try:
                shown = report(result)
                json.dumps(shown)
            except Exception:  # an app hook failing costs the page its report, nothing else
                shown = None
        last = result.replies[-1] if result.replies else None
        return {
            "ok": True,
            "run": view.summary(),
            "stopped": result.stopped,
            "steps": result.steps,
            "text": result.text,
            "cost": _money(result.cost),
            "counted": _money(result.counted),
            "max_cost": _money(result.max_cost),
            "model": last.model if last is not None else view.model,
            "truncated": bool(last is not None and last.truncated),
            "error": _error(error) if error is not None else None,
            "report": shown,
        }

    async def _run(self, feature: str, inputs_json: str, on_delta: Any) -> str:
        """The App's own streamed call path; the shell only forwards deltas to the page."""
        app = self.app
        try:
            messages, max_tokens, read = self._outgoing(feature, inputs_json)
        except ByomError as exc:
            return json.dumps(_error(exc))
        except (ValueError, TypeError):
            return json.dumps(_error(InvalidRequest()))
        error: ByomError | None = None
        reply = None
        try:
            async with contextlib.aclosing(
                app.astream(feature, messages, max_tokens=max_tokens)
            ) as items:
                async for item in items:
                    if isinstance(item, Done):
                        reply = item.reply
                    elif item.text:
                        on_delta(item.text)
        except ByomError as exc:
            error = exc
        except asyncio.CancelledError:
            await self._persist()
            raise
        except Exception:  # a UI callback failed: the stream was closed, the call counts
            error = Cancelled()
        if error is not None and clears_key(error):
            self.store.set_setting(app.app_id, "connection", None)
        await self._persist()
        if error is not None:
            return json.dumps(_error(error))
        assert reply is not None
        return json.dumps(
            {
                "ok": True,
                "text": reply.text,
                "call_id": reply.call_id,
                "model": reply.model,
                "cost": _money(reply.cost),
                "cost_source": reply.cost_source,
                "finish_reason": reply.finish_reason,
                "truncated": reply.truncated,
                "tokens": [reply.usage.prompt_tokens, reply.usage.completion_tokens],
                "builtin_read": read,
            }
        )


async def start(web: WebApp, host: Any, config_json: str) -> Shell:
    """Build the page's shell: load storage, restore a remembered key, subscribe the UI."""
    import js

    config = json.loads(config_json)
    store = BrowserStore(host, web.app_id)
    await store.load()
    storage = js.localStorage
    vault = BrowserVault(storage, web.app_id)
    # Pinned: the id in byom-app.toml, or any WebApp(app_id=...) that is not the name's own id.
    pinned = config.get("app_id") == web.app_id or web.app_id != app_id_for(web.name)
    shell = Shell(
        web,
        store,
        vault,
        config["providers"],
        host.emit,
        app_id_pinned=pinned,
        builtin=config.get("builtin"),
    )
    shell.host = host
    tab = getattr(host, "tab_id", None)
    if tab:  # this tab's reservations name it; its lock says it is still open (recover_orphans)
        shell.app.ledger.owner = "tab:" + str(tab)
    await store.flush_exclusive()
    with contextlib.suppress(Exception):
        await shell.recover_orphans()
    return shell
