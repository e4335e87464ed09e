"""The bridge between the page's UI components (``kit.js``) and the byom core, in Pyodide.

:func:`start` builds one :class:`Shell` for the page: the CPython :class:`byom.app.App` with the
browser's store, vault and ``fetch`` transport injected (so connection, catalog, model choice,
allowances, history and export are the very same code as in the terminal), plus the async call
path the page needs. The page calls the shell's methods through Pyodide; every answer is a JSON
string, every failure a stable error ``code`` that the UI words in the user's language.

What crosses to JavaScript: figures, model names, error codes, and the reply text for the page
to show. Never the key: JavaScript hands the key in once and never gets it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
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
)
from byom.core.events import Event, Failed, Landed, Pending, Refused
from byom.core.ledger import Allowance
from byom.core.money import format_usd, parse_amount
from byom.core.secret import Secret, clean_key
from byom.core.usage import Done
from byom.providers import make_adapter
from byom.providers.base import origin_of
from byom.transport import SendFailed
from byom.web.app import WebApp
from byom.web.browser.store import BrowserStore
from byom.web.browser.transport import FetchTransport, check_origin
from byom.web.browser.vault import BrowserVault


def _money(value: Decimal | None) -> dict[str, str | None]:
    return {
        "exact": None if value is None else format(value, "f"),
        "text": format_usd(value) if value is not None else None,
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
    return out


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
        )
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._session_cost = Decimal(0)
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
        for option in self.providers.values():
            if origin_of(option["base_url"]) == origin:
                return option
        return None

    def _on_event(self, event: Event) -> None:
        data: dict[str, Any] = {
            "type": type(event).__name__.lower(),
            "call_id": event.call_id,
            "feature": event.feature,
            "provider": event.provider,
            "model": event.model,
        }
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
        data["in_flight"] = self.app.in_flight_count()
        data["session_cost"] = _money(self._session_cost)
        try:
            self._emit(json.dumps(data))
        except Exception:  # the UI failing must not break the money path
            return

    async def _persist(self) -> None:
        await self.store.flush_exclusive()

    # -- state for the UI ---------------------------------------------------------------------

    def in_flight(self) -> bool:
        """The leave guard's predicate (R4.5): the core's own in-flight state."""
        try:
            return self.app.in_flight()
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
            {"amount": _money(a.amount), "period": a.period, "spent": _money(app.spent(a.period))}
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
                "features": [
                    {"name": f.name, "category": f.category, "description": f.description}
                    for f in app.features.values()
                ],
                "categories": categories,
                "allowances": allowances,
                "unreconciled": unreconciled,
                "session_cost": _money(self._session_cost),
                "in_flight": app.in_flight_count(),
            }
        )

    # -- connecting ---------------------------------------------------------------------------

    def _adapter(self, option_id: str) -> Any:
        option = self.providers.get(option_id)
        if option is None:
            raise InvalidRequest("Unknown provider option.")
        return make_adapter(option["provider"], option["base_url"])

    @guarded
    async def connect(self, option_id: str, key: str) -> str:
        """Connect with a pasted key (held in memory) and validate it with the provider."""
        try:
            option = self.providers.get(option_id)
            if option is None:
                raise InvalidRequest("Unknown provider option.")
            secret = clean_key(key)  # copy-paste leftovers go; the rest must fit a header
            del key
        except (ValueError, TypeError, ByomError) as exc:
            return json.dumps(_error(exc if isinstance(exc, ByomError) else NotConnected()))
        return await self._connect_secret(option, secret)

    async def _connect_secret(self, option: dict[str, Any], secret: Secret) -> str:
        self.app.forget_key()
        try:
            self.app.connect(option["provider"], secret, base_url=option["base_url"])
            info = await self._validate()
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
        """Re-read storage (another tab may have added history)."""
        async with self.store.exclusive():
            pass

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
                }
            )
        days = {day: _money(cost) for day, cost in self.app.totals("day").items()}
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
    async def run(self, run_id: str, feature: str, inputs_json: str, on_delta: Any) -> str:
        """Run one model feature, streaming; the result (or error code) as JSON."""
        task = asyncio.ensure_future(self._run(feature, inputs_json, on_delta))
        self._tasks[run_id] = task
        try:
            return await task
        except asyncio.CancelledError:
            return json.dumps(_error(Cancelled()))
        finally:
            self._tasks.pop(run_id, None)

    def cancel(self, run_id: str) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()

    async def _run(self, feature: str, inputs_json: str, on_delta: Any) -> str:
        """The App's own streamed call path; the shell only forwards deltas to the page."""
        app = self.app
        try:
            inputs = json.loads(inputs_json)
            if not isinstance(inputs, Mapping):
                raise InvalidRequest()
            messages, max_tokens = self.web.messages(feature, inputs)
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
    shell = Shell(web, store, vault, config["providers"], host.emit, app_id_pinned=pinned)
    await store.flush_exclusive()
    return shell
