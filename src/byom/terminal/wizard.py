"""The connection wizard (R5.1–R5.4), screen by screen, each fitting an 80×24 terminal.

First time, in this order (R5.2, R5.3):

1. what connecting does and who pays;
2. what an API key is and where to get one (a concrete link);
3. setting a spend limit at the provider (a link);
4. the honest threat model;
5. the key — typed hidden, or fetched through the browser with OAuth PKCE (R5.4);
6. validation with the provider (OpenRouter ``GET /key``), showing the key's own limit;
7. "remember on this device?" — No by default, saying what Yes means;
8. the model, within the feature's category, with prices per million tokens and context;
9. the allowance — fails closed on bad input, reads ``2,50`` in Dutch.

After a 401 (the key is stale) the wizard comes back with steps 5–7 only.

Each provider kind has its own path (:func:`first_steps`): OpenAI and Anthropic the same nine
screens with their own links and limits; a local server (Ollama, an OpenAI-compatible one) a
screen on how to start it and which address is asked instead of the key screens (Ollama asks no
key at all; a compatible server's key is optional). Every screen names the provider actually
asked — "the server at http://127.0.0.1:… (standing in for OpenRouter)" when it is not the
provider's own address — and the key check says what it learned and what it could not: a key's
limit where the provider reports one (OpenRouter), else only that the key was accepted for a
listing of models. A key's *shape* is checked before anything is sent
(:func:`byom.core.keyshape.check_key_shape`).

A user who comes back after choosing not to remember the key — model and allowance still
saved — sees only the key screen, with a one-line reminder of who pays and where the key goes
(``?`` shows the full explanation), and then goes (:data:`RETURNING`).

The wizard runs only when an app's model feature is used (R5.1) and only on a terminal: without
one it says how to connect instead of waiting on a prompt nobody can answer. Nothing is persisted
unless the user says Yes at step 7; cancelling leaves the app unconnected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from byom.core.errors import ByomError, InvalidAmount, InvalidBaseUrl, InvalidRequest, KeyRejected
from byom.core.keyshape import PREFIXES, check_key_shape
from byom.core.ledger import PERIODS, Period
from byom.core.money import parse_amount
from byom.core.secret import Secret
from byom.core.usage import KeyInfo
from byom.locales import Messages
from byom.providers import make_adapter
from byom.providers.base import Adapter
from byom.providers.registry import PROVIDERS
from byom.terminal._console import Cancel, Prompter, block, clean, interactive
from byom.terminal._format import (
    allowance_text,
    allowances_text,
    catalog_note,
    context,
    model_prices,
    usd,
)
from byom.terminal.errors import describe_error
from byom.terminal.pkce import Opener, browser_key, open_browser

if TYPE_CHECKING:
    from rich.console import Console

    from byom.app import App
    from byom.providers.registry import ProviderKind

FIRST_TIME: tuple[str, ...] = (
    "intro",
    "key_info",
    "limit",
    "threat",
    "key",
    "check",
    "remember",
    "model",
    "allowance",
)
RECONNECT: tuple[str, ...] = ("key", "check", "remember")
#: A return visit of a user who did not remember the key: the key, its check, then go.
RETURNING: tuple[str, ...] = ("key", "check")
#: First-time paths of the providers that are not a key-holding service.
LOCAL_STEPS: dict[str, tuple[str, ...]] = {
    "ollama": ("intro", "server", "check", "model"),
    "compatible": (
        "intro",
        "server",
        "threat",
        "key",
        "check",
        "remember",
        "model",
        "allowance",
    ),
}
#: Where each paid provider lets a user cap spending (shown when byom cannot read the limit).
LIMIT_URLS: dict[str, str] = {
    "openrouter": "https://openrouter.ai/settings/keys",
    "openai": "https://platform.openai.com/settings/organization/limits",
    "anthropic": "https://console.anthropic.com/settings/limits",
    "gemini": "https://console.cloud.google.com/billing",
}
#: Message variants shared by the paid providers whose texts differ only in the name.
_GROUP: dict[str, str] = {"openai": "paid", "anthropic": "paid", "gemini": "paid"}


def first_steps(provider: str) -> tuple[str, ...]:
    """The first-time screens for a provider kind, in order."""
    return LOCAL_STEPS.get(provider, FIRST_TIME)


#: Rows of the model table; more would push the screen past 24 lines.
MODEL_ROWS = 9
_PERIOD_CHOICES: dict[str, Period] = {"": "month", "1": "month", "2": "day", "3": "total"}
_PERIOD_CHOICES["4"] = "session"


class _Nav(Enum):
    NEXT = "next"
    BACK = "back"
    AGAIN = "again"
    KEY = "key"


def _saved_connection(app: App) -> dict[str, Any]:
    text = app.store.get_setting(app.app_id, "connection")
    if not text:
        return {}
    try:
        saved = json.loads(text)
    except ValueError:
        return {}
    return saved if isinstance(saved, dict) else {}


def saved_base_url(app: App, provider: str | None = None) -> str | None:
    """The provider address the app connected to last (so a wizard reconnects there); with
    ``provider``, only when that connection was to the same provider kind."""
    saved = _saved_connection(app)
    if provider is not None and saved.get("provider", "openrouter") != provider:
        return None
    value = saved.get("base_url")
    return value if isinstance(value, str) else None


def returning(app: App, provider: str, feature: str) -> bool:
    """True for a return visit: this app connected to ``provider`` before and kept the model
    for ``feature`` and an allowance, but not the key (the user chose not to remember it)."""
    if _saved_connection(app).get("provider") != provider:
        return False
    if not app.store.get_setting(app.app_id, f"model:{provider}:{feature}"):
        return False
    return bool(app.allowances())


def check_key(
    adapter: Adapter, key: Secret, *, transport_factory: Callable[[str], Any] | None = None
) -> KeyInfo:
    """Ask the provider about a key *before* it replaces anything in the app: a rejected key
    must not clear a working one that is already remembered."""
    request = adapter.key_info_request(key)
    if request is None:
        return KeyInfo()
    response = _send_once(adapter, request, transport_factory)
    return adapter.parse_key_info(response.status, response.headers, response.body)


def _send_once(
    adapter: Adapter, request: Any, transport_factory: Callable[[str], Any] | None
) -> Any:
    """Send one request to ``adapter``'s origin on a transport of its own (closed after), and
    return the response; a failure to send raises byom's own error for it."""
    from byom.transport import SendFailed

    if transport_factory is not None:
        transport = transport_factory(adapter.origin)
    else:
        from byom.transport.httpx_transport import HttpxTransport

        transport = HttpxTransport(adapter.origin, timeout=30.0)
    try:
        return transport.send(request)
    except SendFailed as failure:
        raise failure.error from None
    finally:
        transport.close()


def list_models(
    adapter: Adapter,
    key: Secret | None,
    *,
    transport_factory: Callable[[str], Any] | None = None,
) -> int:
    """Ask the provider for its model list (with the key, when there is one) and return how
    many models it lists. A local server answering at all is what this proves; a 401 raises
    :class:`~byom.errors.KeyRejected` as everywhere else."""
    request = adapter.models_request(key)
    if request is None:
        return 0
    response = _send_once(adapter, request, transport_factory)
    if response.status != 200:
        raise adapter.error_for(response.status, response.headers, response.body)
    return len(list(adapter.parse_models(response.body)))


def asked_text(tr: Messages, provider: str, adapter: Adapter) -> str:
    """Who is actually asked, in words: the provider by name at its own address; a local
    server with its address; any other address as "the server at … (standing in for …)"."""
    name = tr(f"provider.name.{provider}")
    if provider in LOCAL_STEPS:
        return tr("wizard.asked.local", provider=name, address=adapter.origin)
    try:
        own = make_adapter(provider, None).base_url
    except ByomError:
        own = None
    if adapter.base_url == own:
        return name
    return tr("wizard.asked.at", address=adapter.origin, provider=name)


def shape_text(tr: Messages, provider: str, typed: str, *, app: str) -> str | None:
    """What is wrong with the shape of a key for ``provider`` (:func:`check_key_shape`), in
    the user's words — naming providers and prefixes, never the key — or None."""
    shape = check_key_shape(provider, typed)
    if shape is None:
        return None
    other = shape.other or ""
    name = tr(f"provider.name.{provider}")
    return tr(
        f"wizard.key.shape.{shape.problem}",
        app=app,
        provider=name,
        prefix=shape.prefix or PREFIXES.get(provider, ""),
        other=tr(f"provider.name.{other}") if other else "",
        other_prefix=PREFIXES.get(other, ""),
    )


def key_file_path(app: App) -> Path:
    """Where the consented plain key file of :class:`byom.store.vault.KeyVault` lives."""
    return Path(app.data_dir) / "keys" / f"{app.app_id}.json"


def display_path(path: Path) -> str:
    """A path as a person reads it: ``~/…`` under the home folder."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except (ValueError, RuntimeError, OSError):
        return str(path)


def where_text(app: App, tr: Messages) -> str:
    places = app.key_location()
    if app.connected and not places:  # Ollama, or a server that needs no key
        return tr("where.keyless")
    if "keyring" in places:
        return tr("where.keyring")
    if "file" in places:
        return tr("where.file")
    if places:
        return tr("where.memory", app=app.name)
    return tr("where.none")


class Wizard:
    """One run of the wizard for one feature of an app. ``run()`` returns True when connected.

    ``provider`` defaults to the kind the app is (or was last) connected to, else OpenRouter.
    ``opener`` opens the authorize page (default: the system browser, ``$BROWSER`` honoured);
    ``transport_factory`` builds the origin-locked transport for the key check and the PKCE
    exchange (default: httpx).
    """

    def __init__(
        self,
        app: App,
        feature: str,
        *,
        tr: Messages,
        console: Console,
        provider: ProviderKind | None = None,
        base_url: str | None = None,
        reconnect: bool = False,
        steps: tuple[str, ...] | None = None,
        opener: Opener | None = None,
        pkce_timeout: float = 300.0,
        transport_factory: Callable[[str], Any] | None = None,
        then_run: bool = True,
    ) -> None:
        self.app = app
        self.feature = app.feature(feature)
        self.tr = tr
        self.console = console
        self.prompt = Prompter(console, tr)
        # The kind asked for, else the one the app is (or was last) connected to.
        saved = _saved_connection(app).get("provider")
        if provider is None:
            provider = app.provider or (saved if saved in PROVIDERS else None) or "openrouter"
        self.provider: ProviderKind = provider
        self.adapter = make_adapter(provider, base_url or saved_base_url(app, provider))
        self.returning = (
            steps is None and not reconnect and returning(app, provider, self.feature.name)
        )
        if steps is None:
            steps = (
                RECONNECT if reconnect else RETURNING if self.returning else first_steps(provider)
            )
        self.steps = steps
        self.reconnect = reconnect
        self.opener = opener or open_browser
        self.pkce_timeout = pkce_timeout
        self.transport_factory = transport_factory
        self.then_run = then_run
        self._secret: Secret | None = None
        self._info: KeyInfo | None = None
        self._connected_here = False

    # -- the provider, in words -----------------------------------------------------------------

    @property
    def local(self) -> bool:
        """A server the user runs (or chose) themselves rather than a key-holding service."""
        return self.provider in LOCAL_STEPS

    def _address(self) -> str:
        return self.adapter.origin

    def _asked(self) -> str:
        return asked_text(self.tr, self.provider, self.adapter)

    def _t(self, key: str, **values: Any) -> str:
        """The text of ``key`` for this provider kind: ``key.<kind>``, else ``key.<group>``,
        else ``key``; the provider's name, the address asked and its limit page are always
        available as ``{provider}``, ``{asked}``, ``{address}`` and ``{limit_url}``."""
        tr = self.tr
        for candidate in (f"{key}.{self.provider}", f"{key}.{_GROUP.get(self.provider, '-')}"):
            if tr.has(candidate):
                key = candidate
                break
        values.setdefault("app", self.app.name)
        values.setdefault("provider", tr(f"provider.name.{self.provider}"))
        values.setdefault("asked", self._asked())
        values.setdefault("address", self._address())
        values.setdefault("limit_url", LIMIT_URLS.get(self.provider, ""))
        return tr(key, **values)

    # -- the flow -------------------------------------------------------------------------------

    def run(self) -> bool:
        if not interactive():
            self.prompt.note(self.tr("wizard.no_tty", app_id=self.app.app_id))
            return False
        index = 0
        try:
            while index < len(self.steps):
                step = self.steps[index]
                nav = getattr(self, f"_step_{step}")()
                if nav is _Nav.BACK:
                    index = max(0, index - 1)
                elif nav is _Nav.KEY:
                    index = self.steps.index("key")
                elif nav is _Nav.NEXT:
                    index += 1
            if not self.returning:
                self._done()
        except Cancel:
            if self._connected_here:
                self.app.forget_key()
            self._secret = None
            if self.console.is_terminal:
                self.console.clear()
            self.prompt.note(self.tr("wizard.cancelled"))
            return False
        finally:
            self._secret = None
        return True

    # -- single screens, for the connection panel ------------------------------------------------

    def choose_model(self) -> bool:
        """Only the model screen; False when cancelled."""
        return self._single(self._step_model)

    def choose_allowance(self) -> bool:
        """Only the allowance screen; False when cancelled."""
        return self._single(self._step_allowance)

    def rotate(self) -> bool:
        """Replace the key: a new key (typed or by browser), checked, then every copy of the old
        one removed and the new one held (remembered only if the user says so)."""
        return self.run()

    def _single(self, step: Callable[[], _Nav]) -> bool:
        if not interactive():
            self.prompt.note(self.tr("wizard.no_tty", app_id=self.app.app_id))
            return False
        try:
            while step() is _Nav.AGAIN:
                pass
        except Cancel:
            return False
        return True

    # -- screens --------------------------------------------------------------------------------

    def _screen(self, step: str, title: str) -> None:
        from rich.text import Text

        console = self.console
        if console.is_terminal:
            console.clear()
        else:
            console.print()
        if step in self.steps:
            header = self.tr(
                "wizard.step",
                app=self.app.name,
                n=self.steps.index(step) + 1,
                total=len(self.steps),
            )
            console.print(Text(header, style="dim"))
        console.print(Text(title, style="bold"))
        console.print()

    def _feature_label(self) -> str:
        if self.feature.description:
            return self.tr(
                "wizard.feature_label",
                feature=self.feature.name,
                description=self.feature.description,
            )
        return self.tr("wizard.feature_label_plain", feature=self.feature.name)

    def _first(self, step: str) -> bool:
        return step not in self.steps or self.steps.index(step) == 0

    def _nav(self, step: str) -> _Nav:
        first = self._first(step)
        answer = self.prompt.ask(self.tr("wizard.nav.first" if first else "wizard.nav") + " › ")
        answer = answer.lower()
        if answer == "q":
            raise Cancel()
        if answer == "b" and not first:
            return _Nav.BACK
        return _Nav.NEXT

    def _info_screen(self, step: str, body: str) -> _Nav:
        self._screen(step, self._t(f"wizard.{step}.title"))
        self.console.print(block(body))
        self.console.print()
        return self._nav(step)

    def _step_intro(self) -> _Nav:
        return self._info_screen(
            "intro", self._t("wizard.intro.body", feature=self._feature_label())
        )

    def _step_key_info(self) -> _Nav:
        key_step = self.steps.index("key") + 1 if "key" in self.steps else 5
        return self._info_screen("key_info", self._t("wizard.key_info.body", key_step=key_step))

    def _step_limit(self) -> _Nav:
        return self._info_screen("limit", self._t("wizard.limit.body"))

    def _step_threat(self) -> _Nav:
        return self._info_screen("threat", self._t("wizard.threat.body"))

    def _explain(self) -> None:
        """The full explanation, on a return visit (``?`` at the key): the first-time screens
        before the key, without step numbers."""
        for step in first_steps(self.provider):
            if step == "key":
                return
            if step in ("intro", "key_info", "limit", "threat"):
                getattr(self, f"_step_{step}")()

    def _step_server(self) -> _Nav:
        """A local server: how to start it and which address is asked; another may be typed."""
        tr = self.tr
        while True:
            self._screen("server", self._t("wizard.server.title"))
            self.console.print(block(self._t("wizard.server.body", address=self.adapter.base_url)))
            self.console.print()
            first = self._first("server")
            self.prompt.note(tr("wizard.nav.first" if first else "wizard.nav"), style="dim")
            answer = self.prompt.ask(
                self._t("wizard.server.address", address=self.adapter.base_url)
            )
            if answer.lower() == "q":
                raise Cancel()
            if answer.lower() == "b" and not first:
                return _Nav.BACK
            if not answer:
                return _Nav.NEXT
            try:
                self.adapter = make_adapter(self.provider, answer)
            except (InvalidBaseUrl, InvalidRequest):
                self.prompt.note(tr("wizard.server.bad_address"), style="yellow")
                self.prompt.pause(tr("prompt.enter"))
                continue
            return _Nav.NEXT

    def _step_key(self) -> _Nav:
        from rich.table import Table
        from rich.text import Text

        tr = self.tr
        can_browse = hasattr(self.adapter, "authorize_url")
        first = self._first("key")
        while True:
            if self.returning:
                self._screen("key", self._t("wizard.return.title"))
                self.prompt.note(self._t("wizard.return.body"))
                self.prompt.note(tr("wizard.return.explain"), style="dim")
                self.console.print()
            else:
                self._screen("key", tr("wizard.key.title"))
            if self.reconnect:
                self.prompt.note(self._t("wizard.key.reconnect"), style="yellow")
                self.console.print()
            choice = "1"
            if can_browse:
                self.console.print(tr("wizard.key.body"))
                options = Table.grid(padding=(0, 2))
                options.add_column(no_wrap=True, style="bold")
                options.add_column()
                options.add_row(" 1", tr("wizard.key.option_paste"))
                options.add_row(" 2", tr("wizard.key.option_browser"))
                self.console.print(options)
                self.console.print()
                nav = tr("wizard.nav.first" if first else "wizard.nav")
                self.console.print(Text(nav.split(" · ", 1)[1], style="dim"))
                choice = self.prompt.ask(tr("wizard.key.choice")).lower()
            if choice == "q":
                raise Cancel()
            if choice == "b" and not first:
                return _Nav.BACK
            if choice == "?" and self.returning:
                self._explain()
                continue
            if choice in ("", "1"):
                optional = self.provider == "compatible"
                typed = self.prompt.secret(
                    tr("wizard.key.prompt.optional" if optional else "wizard.key.prompt")
                )
                if typed.strip() == "?" and self.returning:
                    self._explain()
                    continue
                problem = self._shape_problem(typed)
                if problem is not None:
                    del typed
                    self.prompt.note(problem, style="yellow")
                    self.prompt.pause(tr("prompt.enter"))
                    continue
                try:
                    self._secret = Secret(typed.strip()) if typed.strip() else None
                except ValueError:
                    self.prompt.note(tr("wizard.key.empty"), style="yellow")
                    self.prompt.pause(tr("prompt.enter"))
                    continue
                finally:
                    del typed
                return _Nav.NEXT
            if choice == "2" and can_browse:
                if self._browser():
                    return _Nav.NEXT
                continue
            self.prompt.note(tr("prompt.invalid_choice"), style="yellow")
            self.prompt.pause(tr("prompt.enter"))

    def _shape_problem(self, typed: str) -> str | None:
        """What is wrong with the shape of a typed key, in words (never the key), or None."""
        return shape_text(self.tr, self.provider, typed, app=self.app.name)

    def _browser(self) -> bool:
        from rich.text import Text

        tr = self.tr
        console = self.console
        console.print()

        def show_url(url: str) -> None:
            self.prompt.note(tr("wizard.pkce.opening", app=self.app.name))
            self.prompt.note(tr("wizard.pkce.url"), style="dim")
            console.print(Text(url, style="underline"), soft_wrap=True)
            console.print()
            self.prompt.note(tr("wizard.pkce.waiting"))

        try:
            self._secret = browser_key(
                self.adapter,  # type: ignore[arg-type]
                opener=self.opener,
                show_url=show_url,
                page_title=tr("wizard.pkce.page_title"),
                page_ok=tr("wizard.pkce.page_body"),
                page_error=tr("wizard.pkce.page_error"),
                timeout=self.pkce_timeout,
                transport_factory=self.transport_factory,
            )
        except KeyboardInterrupt:
            console.print()
            return False
        except ByomError as error:
            reason = describe_error(error, tr, app_id=self.app.app_id, provider=self.provider)
            self.prompt.note(tr("wizard.pkce.failed", reason=reason), style="red")
            try:
                self.prompt.pause(tr("prompt.enter"))
            except Cancel:
                pass
            return False
        self.prompt.note(tr("wizard.pkce.received", app=self.app.name), style="green")
        self.prompt.pause(tr("prompt.enter"))
        return True

    def _step_check(self) -> _Nav:
        """Ask the provider, and say what was learned — and what was not — naming who was
        asked. A local server (or a provider with no key endpoint) is asked for its model list:
        that it answers, with how many models, is what is learned."""
        tr = self.tr
        listing = self.local or self.adapter.key_info_request(self._secret) is None
        self._screen(
            "check", self._t("wizard.check.title.local" if self.local else "wizard.check.title")
        )
        self.prompt.note(self._t("wizard.check.asking.list" if listing else "wizard.check.asking"))
        try:
            if listing:
                count = list_models(
                    self.adapter, self._secret, transport_factory=self.transport_factory
                )
                info = KeyInfo()
            else:
                assert self._secret is not None
                info = check_key(
                    self.adapter, self._secret, transport_factory=self.transport_factory
                )
        except KeyRejected:
            self._secret = None
            self.prompt.note(self._t("wizard.check.rejected"), style="red")
            if self.prompt.yes_no(tr("wizard.check.retry"), default=True):
                return _Nav.KEY if "key" in self.steps else _Nav.AGAIN
            raise Cancel() from None
        except ByomError as error:
            reason = describe_error(error, tr, app_id=self.app.app_id, provider=self.provider)
            self.prompt.note(tr("wizard.check.failed", reason=reason), style="red")
            if self.local:
                self.prompt.note(self._t("wizard.check.server_hint"), style="yellow")
            if self.prompt.yes_no(tr("wizard.check.retry"), default=True):
                return _Nav.AGAIN
            raise Cancel() from None
        self._info = info
        if listing:
            self.prompt.note(self._t("wizard.check.server_ok", count=count), style="green")
            if self.adapter.needs_key:
                key_line = "server_key" if self._secret is not None else "server_no_key"
                self.prompt.note(tr(f"wizard.check.{key_line}"))
        elif self.provider == "openrouter":
            self._openrouter_findings(info)
        else:  # OpenAI, Anthropic: a 200 on a model listing proves the key; nothing else
            self.prompt.note(self._t("wizard.check.ok.listed"), style="green")
            self.console.print()
            self.prompt.note(self._t("wizard.check.unchecked"), style="yellow")
        if "remember" not in self.steps:  # Ollama, a return visit: connect now (in memory)
            self._connect(remember=False, allow_file=False)
        if self.returning:
            return _Nav.NEXT
        self.console.print()
        self.prompt.pause(tr("prompt.enter"))
        return _Nav.NEXT

    def _openrouter_findings(self, info: KeyInfo) -> None:
        """OpenRouter's ``GET /key`` reports the key's own limit, usage and tier: show them."""
        tr = self.tr
        self.prompt.note(self._t("wizard.check.ok"), style="green")
        self.console.print()
        if info.limit is not None:
            remaining = (
                tr("price.unknown")
                if info.limit_remaining is None
                else usd(info.limit_remaining, tr)
            )
            self.prompt.note(
                tr("wizard.check.limit", limit=usd(info.limit, tr), remaining=remaining)
            )
        else:
            self.prompt.note(tr("wizard.check.no_limit"), style="yellow")
        if info.usage is not None:
            self.prompt.note(tr("wizard.check.usage", usage=usd(info.usage, tr)))
        if info.is_free_tier:
            self.prompt.note(tr("wizard.check.free_tier"), style="yellow")

    def _step_remember(self) -> _Nav:
        from byom.store.vault import keyring_available

        tr = self.tr
        app = self.app
        if self._secret is None:  # a server that needs no key: nothing to remember
            self._connect(remember=False, allow_file=False)
            return _Nav.NEXT
        self._screen("remember", tr("wizard.remember.title"))
        has_keyring = keyring_available()
        if has_keyring:
            yes = tr("wizard.remember.yes_keyring", app=app.name)
        else:
            yes = tr("wizard.remember.yes_file", path=display_path(key_file_path(app)))
        text = "\n\n".join(
            [
                tr("wizard.remember.no", app=app.name),
                yes,
                tr("wizard.remember.forget", app_id=app.app_id),
            ]
        )
        self.console.print(block(text))
        self.console.print()
        remember = self.prompt.yes_no(tr("wizard.remember.question"), default=False)
        self._connect(remember=remember, allow_file=remember and not has_keyring)
        return _Nav.NEXT

    def _connect(self, *, remember: bool, allow_file: bool) -> None:
        from byom.core.errors import KeyStorageUnavailable

        secret = self._secret
        assert secret is not None or not self.adapter.needs_key or self.provider == "compatible"
        # A new key replaces every copy of an earlier one for this provider (as rotate does).
        self.app.vault.forget(self.adapter.origin)
        try:
            self.app.connect(
                self.provider,
                key=secret,
                remember=remember,
                base_url=self.adapter.base_url,
                allow_plain_file=allow_file,
            )
        except KeyStorageUnavailable as error:
            self.prompt.note(describe_error(error, self.tr, provider=self.provider), style="yellow")
            self.prompt.pause(self.tr("prompt.enter"))
        self._connected_here = self.app.connected
        self._secret = None

    def _step_model(self) -> _Nav:
        from rich.text import Text

        tr = self.tr
        app = self.app
        feature = self.feature
        try:
            app.refresh_models()
            offline = False
        except ByomError:
            offline = True
        catalog = app.catalog
        models = app.models(feature.category)
        # A local server's models have no category until the user gives one: offer them, and
        # the one chosen becomes a model of the feature's category.
        unassigned = [] if models else [m for m in app.models() if m.category is None]
        models = models or unassigned
        category = tr(f"category.{feature.category}")
        while True:
            title_feature = tr("wizard.feature_label_plain", feature=feature.name)
            self._screen("model", tr("wizard.model.title", feature=title_feature))
            self.console.print(
                block(
                    tr(
                        "wizard.model.body",
                        feature=self._feature_label(),
                        category=category,
                        category_text=tr(f"category.{feature.category}.text"),
                    )
                )
            )
            self.console.print()
            if not models:
                self.prompt.note(tr("wizard.model.none", category=category), style="yellow")
                self.prompt.pause(tr("prompt.enter"))
                return _Nav.NEXT
            try:
                current = app.model_for(feature.name)
            except ByomError:
                current = models[0]
            self.console.print(self._model_table(models[:MODEL_ROWS], current.id))
            if len(models) > MODEL_ROWS:
                self.prompt.note(
                    tr("wizard.model.more", count=len(models) - MODEL_ROWS, app_id=app.app_id),
                    style="dim",
                )
            self.console.print(
                Text(catalog_note(catalog, tr, offline=offline, provider=app.provider), style="dim")
            )
            if unassigned:
                self.prompt.note(tr("wizard.model.unassigned", category=category), style="dim")
            ids = [m.id for m in models]
            default = str(ids.index(current.id) + 1) if current.id in ids else current.id
            answer = self.prompt.ask(tr("wizard.model.prompt", default=default))
            if answer.lower() == "q":
                raise Cancel()
            chosen = self._pick(answer or default, models)
            if chosen is None:
                self.prompt.note(tr("wizard.model.unknown", category=category), style="yellow")
                self.prompt.pause(tr("prompt.enter"))
                continue
            try:
                if unassigned:
                    app.add_model(chosen, feature.category)
                app.choose_model(feature.name, chosen)
            except ByomError:
                self.prompt.note(tr("wizard.model.unknown", category=category), style="yellow")
                self.prompt.pause(tr("prompt.enter"))
                continue
            return _Nav.NEXT

    @staticmethod
    def _pick(answer: str, models: list[Any]) -> str | None:
        if answer.isdigit():
            index = int(answer) - 1
            return models[index].id if 0 <= index < len(models) else None
        return answer if any(m.id == answer for m in models) else None

    def _model_table(self, models: list[Any], current: str) -> Any:
        from rich import box
        from rich.table import Table

        tr = self.tr
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1))
        table.add_column(tr("column.number"), justify="right", no_wrap=True)
        table.add_column(tr("column.model"), overflow="ellipsis", no_wrap=True, max_width=38)
        table.add_column(tr("column.in"), justify="right", no_wrap=True)
        table.add_column(tr("column.out"), justify="right", no_wrap=True)
        table.add_column(tr("column.context"), justify="right", no_wrap=True)
        table.add_column("", no_wrap=True)
        for number, model in enumerate(models, start=1):
            price_in, price_out = model_prices(model, tr)
            mark = tr("wizard.model.current") if model.id == current else ""
            table.add_row(
                str(number),
                clean(model.name),
                price_in,
                price_out,
                context(model.context_length),
                mark,
                style="bold" if mark else None,
            )
        return table

    def _step_allowance(self) -> _Nav:
        tr = self.tr
        app = self.app
        self._screen("allowance", tr("wizard.allowance.title"))
        self.console.print(block(self._t("wizard.allowance.body")))
        self.console.print()
        current = app.allowances()
        if current:
            self.prompt.note(tr("wizard.allowance.current", allowance=allowances_text(current, tr)))
        while True:
            text = self.prompt.ask(tr("wizard.allowance.amount"))
            if not text:
                if current:
                    return _Nav.NEXT
                self.prompt.note(tr("wizard.allowance.required"), style="yellow")
                continue
            if text.lower() == "q":
                raise Cancel()
            if text.lower() in tr.words("answer.none"):
                for allowance in current:
                    app.set_allowance(None, allowance.period)
                return _Nav.NEXT
            try:
                amount = parse_amount(text, decimal_comma=tr.decimal_comma)
            except InvalidAmount:
                self.prompt.note(tr("wizard.allowance.invalid"), style="red")
                continue
            period = self._ask_period()
            app.set_allowance(amount, period)
            return _Nav.NEXT

    def _ask_period(self) -> Period:
        while True:
            answer = self.prompt.ask(self.tr("wizard.allowance.period")).lower()
            if answer in _PERIOD_CHOICES:
                return _PERIOD_CHOICES[answer]
            if answer in PERIODS:
                return answer  # type: ignore[return-value]
            self.prompt.note(self.tr("prompt.invalid_choice"), style="yellow")

    def _done(self) -> None:
        from rich.text import Text

        tr = self.tr
        app = self.app
        console = self.console
        if console.is_terminal:
            console.clear()
        else:
            console.print()
        console.print(Text(tr("wizard.done.title"), style="bold green"))
        console.print()
        lines = [self._t("wizard.done.connected")]
        try:
            model = app.model_for(self.feature.name)
            lines.append(
                tr("wizard.done.model", feature=self._feature_label(), model=clean(model.name))
            )
        except ByomError:
            pass
        if "allowance" in self.steps:
            allowances = app.allowances()
            lines.append(tr("wizard.done.allowance", allowance=allowances_text(allowances, tr)))
        lines.append(tr("wizard.done.key", where=where_text(app, tr)))
        console.print(block("\n".join(lines)))
        console.print()
        console.print(tr("wizard.done.later"))
        console.print(Text("  " + tr("wizard.done.commands", app_id=app.app_id), style="bold"))
        console.print()
        prompt = (
            tr("wizard.done.run", feature=self._feature_label())
            if self.then_run
            else tr("wizard.done.ok")
        )
        try:
            self.prompt.pause(prompt)
        except Cancel:  # connected already: Ctrl-C here does not undo it
            pass


__all__ = [
    "FIRST_TIME",
    "RECONNECT",
    "RETURNING",
    "Wizard",
    "allowance_text",
    "asked_text",
    "check_key",
    "first_steps",
    "list_models",
    "saved_base_url",
    "shape_text",
    "where_text",
]
