"""The audit run: one page in a fresh browser context, driven through the app's own UI.

Order of events (each step feeds one or more checks; a step that cannot happen leaves its checks
``could-not-check`` with the reason, and the run goes on):

1. Load the page; read its CSP (check 1).
2. Use a feature (or the connect control) to reach the key input, recording the visible text of
   every screen on the way (check 7). Type the canary key; leave "remember" as it is; fill a
   generous allowance; finish the wizard. Run the feature with the canary prompt.
3. Leave guard: a paid run held by a slow first byte; probe ``beforeunload`` during and after
   (check 8).
4. Failure path: a stubbed 500 (check 5).
5. Budget: calibrate an allowance that admits one run but not two, then start two runs at once
   while the first is held by a slow first byte; count what reaches the stub (check 6).
6. Scan every browser store for the canary key, reload, scan again (check 3).
7. Connect again, this time opting in to "remember" when the app offers it; a stubbed 403 must
   leave the key in place, a stubbed 401 must clear it everywhere and ask to reconnect (check 9;
   the 401 is also a failure path for check 5).
8. From the recorded requests, console and scripts: egress (4), logging (5), third-party scripts
   (2), max_tokens on every model request (11); then the integration document (10), judged by
   the template of the constitution version it pins.

"Run the feature" is, when ``byom-audit.toml`` declares a journey (:mod:`byom.audit.journey`),
replaying its steps: to reach the key input, after connecting, and for every paid run of every
check (both tabs of the budget check included). After connecting only the connect wizard (the
dialog that held the key input, or ``selectors.close_wizard``) is closed; any other dialog is the
app's, and a feature inside it counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import json
import re
import tempfile
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

from byom.audit import js
from byom.audit._parts import BOOT_SECONDS, Outcome, _clip, _first_line, _plain
from byom.audit.budget import BudgetCheck
from byom.audit.canary import Canary, make_key, make_prompt, mask
from byom.audit.config import AuditConfig, ConfigError, find_config, load_config
from byom.audit.csp import evaluate as evaluate_csp
from byom.audit.csp import split_header
from byom.audit.csp_evidence import describe as describe_csp
from byom.audit.declared import declared_origins_finding
from byom.audit.driver import Driver
from byom.audit.journey import Journey, JourneyFailed
from byom.audit.key_checks import KeyChecks
from byom.audit.leave_guard import LeaveGuardCheck
from byom.audit.max_tokens import judge_all, unknown_models
from byom.audit.model import FAIL, PASS, UNCHECKED, AuditReport, CheckResult
from byom.audit.network import KNOWN_PROVIDERS, Network, Recorded, normalise_origin, origin_of
from byom.audit.words import WIZARD_TOPICS, normalise, topic_patterns
from byom.web.serve import Site

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright
    from playwright.async_api import Response as PwResponse

    from byom.sim import Simulator

T = TypeVar("T")

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


class AuditCannotRun(Exception):
    """The audit itself cannot go on (the page does not load, the browser is missing…)."""


@dataclass(slots=True)
class AuditOptions:
    """What to audit and how. ``target`` is a URL or a directory of static files."""

    target: str
    chromium: str = DEFAULT_CHROMIUM
    config: AuditConfig | None = None
    config_path: Path | None = None
    provider_origins: tuple[str, ...] = ()
    timeout: float = 180.0
    screenshot_dir: Path | None = None
    headless: bool = True


# ---------------------------------------------------------------------------- shared browser


class AuditBrowser:
    """One Chromium for one or many audits; Playwright runs on its own event-loop thread.

    ``with AuditBrowser() as browser: run_audit(target, browser=browser)`` — the tests share one
    for the whole session.
    """

    def __init__(self, chromium: str = DEFAULT_CHROMIUM, *, headless: bool = True) -> None:
        self.chromium = chromium
        self.headless = headless
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pw: Playwright | None = None
        self._browser: Browser | None = None

    def start(self) -> AuditBrowser:
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="byom-audit", daemon=True)
        self._thread.start()
        try:
            self.run(self._launch())
        except BaseException:
            self.close()
            raise
        return self

    async def _launch(self) -> None:
        from playwright.async_api import async_playwright

        if not Path(self.chromium).exists():
            raise AuditCannotRun(f"no browser at {self.chromium} (use --chromium PATH)")
        self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(
            executable_path=self.chromium, headless=self.headless, args=list(CHROMIUM_ARGS)
        )

    @property
    def browser(self) -> Browser:
        if self._browser is None:
            raise RuntimeError("the browser is not running; call start()")
        return self._browser

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            raise RuntimeError("the browser is not running; call start()")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _shutdown(self) -> None:
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await self._browser.close()
        if self._pw is not None:
            with contextlib.suppress(Exception):
                await self._pw.stop()
        self._browser = None
        self._pw = None

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> AuditBrowser:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_audit(
    target: str,
    *,
    chromium: str = DEFAULT_CHROMIUM,
    config: AuditConfig | None = None,
    config_path: Path | None = None,
    provider_origins: tuple[str, ...] = (),
    timeout: float = 180.0,
    screenshot_dir: Path | None = None,
    browser: AuditBrowser | None = None,
) -> AuditReport:
    """Audit ``target`` (a URL or a directory) and return the report; never raises for a
    problem of the audited app — an audit that cannot run has ``report.error`` set."""
    options = AuditOptions(
        target=target,
        chromium=chromium,
        config=config,
        config_path=config_path,
        provider_origins=provider_origins,
        timeout=timeout,
        screenshot_dir=screenshot_dir,
    )
    owned = browser is None
    report = _new_report(target)
    try:
        if browser is None:
            browser = AuditBrowser(chromium).start()
    except Exception as exc:
        report.error = f"the browser did not start: {_first_line(exc)}"
        report.fill_unreached("could not check: the audit could not run")
        return report
    try:
        return browser.run(_Audit(options, browser.browser, report).run())
    finally:
        if owned:
            browser.close()


def run_audits(
    options: Sequence[AuditOptions], *, browser: AuditBrowser, concurrency: int = 2
) -> list[AuditReport]:
    """Audit several targets at once in one browser (each in its own context, with its own
    simulator and site server); the reports come back in the order of ``options``."""

    async def all_of() -> list[AuditReport]:
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(item: AuditOptions) -> AuditReport:
            async with gate:
                return await _Audit(item, browser.browser, _new_report(item.target)).run()

        return list(await asyncio.gather(*(one(item) for item in options)))

    return browser.run(all_of())


def _new_report(target: str) -> AuditReport:
    from byom import __version__

    return AuditReport(
        target=target,
        started_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        version=__version__,
    )


# ---------------------------------------------------------------------------- the run


@dataclass(slots=True)
class ConsoleEntry:
    type: str
    text: str
    args: list[str]
    from_app: bool
    phase: str
    url: str


class _Audit(LeaveGuardCheck, BudgetCheck, KeyChecks):
    def __init__(self, options: AuditOptions, browser: Browser, report: AuditReport) -> None:
        self.options = options
        self.browser = browser
        self.report = report
        self.config = AuditConfig()
        self.key: Canary = make_key()
        self.prompt: Canary = make_prompt()
        self.site: Site | None = None
        self.sim: Simulator | None = None
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self.net: Network | None = None
        self.console: list[ConsoleEntry] = []
        self.page_errors: list[tuple[str, str]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._pages: set[int] = set()
        self.script_sizes: dict[str, int] = {}
        self.shots = 0
        self.shot_dir: Path | None = None
        self.url = ""
        self.site_origin = ""
        self.providers: set[str] = set()
        self.spent_before_reset = Decimal(0)
        self.remember_default: bool | None = None
        self.remember_found = False
        self.feature_input_found = False
        self.step = "start"
        self.connect_started = 0
        self.loaded = False
        self.step_times: list[tuple[str, float]] = []
        self._finalised = False
        self.journey: Journey | None = None
        self.wizard_sig: dict[str, Any] | None = None
        self.wizard_allowance = False  # an allowance field was shown while connecting
        self.journey_failures: list[JourneyFailed] = []
        self.wizard_amount: str | None = None  # the allowance to type in the wizard, if set
        self.pending_outcome: Outcome | None = None  # a run the app resumed after reconnecting
        self.allowance_after_connect: bool | None = None  # None: not tried yet
        self.one_run_per_tab = False  # the feature control is disabled while a run is in flight
        self._spare: asyncio.Task[Page | None] | None = None  # a second tab, loading

    # ------------------------------------------------------------------ helpers

    @property
    def driver(self) -> Driver:
        assert self.page is not None
        return Driver(self.page, self.config)

    @property
    def network(self) -> Network:
        assert self.net is not None
        return self.net

    def masked(self, text: str) -> str:
        return mask(text, self.key, self.prompt)

    def journey_failure_evidence(self, check: CheckResult, exc: JourneyFailed) -> None:
        """A failed journey step as evidence: which step, what it looked for (masked), and the
        screenshot taken when it failed."""
        check.add("note", self.masked(str(exc)))
        if exc.taken.screenshot:
            check.add(
                "screenshot",
                f"when journey step {exc.taken.step.number} failed",
                path=exc.taken.screenshot,
            )

    def phase(self, name: str) -> None:
        now = time.monotonic()
        if self.step_times:
            last, since = self.step_times[-1]
            self.step_times[-1] = (last, now - since)
        self.step_times.append((name, now))
        self.step = name
        if self.net is not None:
            self.net.phase = name

    async def screenshot(self, name: str) -> str | None:
        if self.page is None or self.shot_dir is None:
            return None
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
        path = self.shot_dir / f"{self.shots:02d}-{slug}.png"
        try:
            await self.page.screenshot(path=str(path), timeout=5000)
        except Exception:
            return None
        return str(path)

    async def shot_evidence(self, result: CheckResult, name: str, summary: str) -> None:
        path = await self.screenshot(name)
        if path is not None:
            result.add("screenshot", summary, path=path)

    def sim_spent(self) -> Decimal:
        assert self.sim is not None
        total = self.spent_before_reset
        for gen in self.sim.generations():
            cost = gen.get("cost")
            if isinstance(cost, str):
                with contextlib.suppress(InvalidOperation):
                    total += Decimal(cost)
        return total

    def clear_faults(self) -> None:
        """Drop faults no request took (a refused run leaves its fault queued)."""
        assert self.sim is not None
        if not self.sim.faults():
            return
        self.spent_before_reset = self.sim_spent()
        self.sim.reset()
        self.sim.config(generation_delay=0.05)

    async def guarded(self, check_id: str, step: Callable[[], Awaitable[None]]) -> None:
        """Run a step; an unexpected error leaves its check could-not-check, with the error."""
        try:
            await step()
        except (AuditCannotRun, asyncio.CancelledError, TimeoutError):
            raise
        except Exception as exc:
            result = self.report.check(check_id)
            if result.status != FAIL:
                result.set(UNCHECKED, f"could not check: {self.masked(_first_line(exc))}")
            await self.shot_evidence(result, f"error-{check_id}", "the page when the step failed")

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> AuditReport:
        started = time.monotonic()
        try:
            await self._setup()
            await asyncio.wait_for(self._main(), timeout=self.options.timeout)
        except TimeoutError:
            self.report.error = (
                f"the audit timed out after {self.options.timeout:g} s (during: {self.step})"
            )
        except AuditCannotRun as exc:
            self.report.error = str(exc)
        except ConfigError as exc:
            self.report.error = f"configuration: {exc}"
        except Exception as exc:
            self.report.error = f"the audit failed unexpectedly: {_first_line(exc)}"
        finally:
            with contextlib.suppress(Exception):
                await self._finalise_after_error()
            await self._teardown()
            self.report.duration_s = time.monotonic() - started
            self.phase("end")
            self.report.timings = {name: round(t, 2) for name, t in self.step_times[:-1]}
        reason = "could not check: the audit could not run"
        if self.report.error:
            reason = f"could not check: {self.report.error}"
        self.report.fill_unreached(reason)
        return self.report

    async def _setup(self) -> None:
        from byom.sim import Simulator

        target = self.options.target
        config = self.options.config
        config_path = self.options.config_path
        if "://" in target:
            self.url = target
        else:
            root = Path(target).expanduser()
            if not root.is_dir():
                raise AuditCannotRun(f"{target} is neither a URL nor a directory")
            if config is None and config_path is None:
                config_path = find_config(root.resolve())
            self.site = Site(root, repeated="all")
            self.url = self.site.start().base_url
        if config is None and config_path is not None:
            config = load_config(config_path)
        if config is None and "://" in target:
            config = _remote_config(target)
        self.config = config or AuditConfig()
        self.report.config_file = self.config.source
        if not self.config.path.startswith("/") and "://" not in target:
            self.config.path = "/" + self.config.path
        if "://" not in target:
            self.url = self.url + self.config.path
        self.key = make_key(self.config.key_prefix)
        self.prompt = make_prompt(self.config.feature_text)
        self.report.url = self.url
        self.site_origin = origin_of(self.url)
        self.providers = {
            normalise_origin(o)
            for o in (
                *KNOWN_PROVIDERS,
                *self.config.provider_origins,
                *self.options.provider_origins,
            )
        }
        self.providers.discard(self.site_origin)
        shot_dir = self.options.screenshot_dir
        if shot_dir is None:
            shot_dir = Path(tempfile.mkdtemp(prefix="byom-audit-"))
        shot_dir.mkdir(parents=True, exist_ok=True)
        self.shot_dir = shot_dir
        self.report.screenshot_dir = str(shot_dir)
        self.sim = Simulator(
            generation_delay=0.05, extra_models=[m.sim_entry() for m in self.config.models]
        ).start()
        self.net = Network(
            providers=self.providers,
            site_origin=self.site_origin,
            pass_through={normalise_origin(o) for o in self.config.pass_through},
            sim_base=self.sim.base_url,
        )

    async def _teardown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.context is not None:
            with contextlib.suppress(Exception):
                await self.context.close()
        if self.sim is not None:
            self.sim.stop()
        if self.site is not None:
            self.site.stop()

    # ------------------------------------------------------------------ events

    def _on_page(self, page: Page) -> None:
        if id(page) in self._pages:
            return
        self._pages.add(id(page))
        page.on("pageerror", lambda err: self.page_errors.append((self.step, _error_text(err))))
        page.on("dialog", self._on_dialog)
        page.on("response", self._on_response)

    def _on_dialog(self, dialog: Any) -> None:
        task = asyncio.get_running_loop().create_task(_answer_dialog(dialog))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_response(self, response: PwResponse) -> None:
        if response.request.resource_type != "script":
            return
        task = asyncio.get_running_loop().create_task(self._script_size(response))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _script_size(self, response: PwResponse) -> None:
        with contextlib.suppress(Exception):
            self.script_sizes[response.url] = len(await response.body())

    def _on_console(self, msg: ConsoleMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._record_console(msg, self.step))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record_console(self, msg: ConsoleMessage, step: str) -> None:
        args: list[str] = []
        for handle in msg.args:
            try:
                value = await asyncio.wait_for(handle.evaluate(_SERIALISE_ARG), timeout=2)
                args.append(str(value))
            except Exception:
                args.append(str(handle))
        location = msg.location or {}
        self.console.append(
            ConsoleEntry(
                msg.type, msg.text, args, bool(msg.args), step, str(location.get("url", ""))
            )
        )

    async def _drain(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    # ------------------------------------------------------------------ main

    async def _main(self) -> None:
        self.context = await self.browser.new_context(
            locale=self.config.locale,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
            accept_downloads=False,
        )
        await self.context.add_init_script(script=js.INIT_SCRIPT)
        await self.context.route("**/*", self.network.handle)
        self.context.on("console", self._on_console)
        self.context.on("page", self._on_page)
        self.page = await self.context.new_page()
        self._on_page(self.page)
        if self.config.journey:
            self.journey = Journey(
                steps=list(self.config.journey),
                prompt=self.prompt.value,
                timeout=self.config.wizard_timeout,
                shot=self.screenshot,
                quiet=lambda: self.driver.wait_quiet(ms=min(self.config.quiet_ms, 100), timeout=3),
                close_dialogs=self._close_app_dialogs,
                dialog_open=self.driver_dialog_open,
                stop=self._asks_for_key,
            )

        self.phase("load")
        try:
            response = await self.page.goto(self.url, wait_until="load", timeout=30_000)
        except Exception as exc:
            raise AuditCannotRun(f"the page did not load: {_first_line(exc)}") from None
        if response is None or response.status >= 400:
            status = response.status if response is not None else "no response"
            raise AuditCannotRun(f"the page did not load: {self.url} answered {status}")
        self.loaded = True
        await self._ready()
        await self._prepare()
        await self.guarded("csp", lambda: self._check_csp(response))

        connected = False
        self.phase("first connect")
        reached = await self._reach_key(record_wizard=True)
        wizard = self.report.check("wizard")
        if reached != "key":
            reason = (
                "could not check: no key input found"
                if reached is None
                else "could not check: a feature ran without asking for a key"
            )
            if reached is None and self.journey is not None and self.journey.failures:
                step = self.journey.failures[-1].taken.step
                reason += (
                    f" (journey step {step.number}, {step.describe()}, failed: it looked for "
                    f"{step.looked_for()})"
                )
            for cid in ("key-persistence", "egress", "logging", "budget", "leave-guard"):
                self.report.check(cid).set(UNCHECKED, reason)
            self.report.check("key-rejected").set(UNCHECKED, reason)
            if wizard.status == UNCHECKED and wizard.summary.startswith("not reached"):
                wizard.set(UNCHECKED, reason)
            await self.shot_evidence(
                wizard, "no-key-input", "the page where no key input was found"
            )
        else:
            connected = await self._connect(remember=False)

        if connected:
            await self.guarded("egress", self._first_run)
            await self.guarded("leave-guard", self._leave_guard)
            await self.guarded("logging", self._failure_500)
            await self.guarded("budget", self._budget)
            spare = await self._take_spare()  # loaded for a pair that did not need it
            if spare is not None:
                await spare.close()
            await self.guarded("key-persistence", self._persistence)
            await self.guarded("key-rejected", self._key_rejected)
        await self._finalise()

    async def _finalise(self) -> None:
        self.phase("report")
        await self._drain()
        self._check_egress()
        self._check_logging()
        self._check_max_tokens()
        self._journey_to_report()
        await self.guarded("scripts", self._check_scripts)
        await self.guarded("integration-doc", self._check_doc)
        self._finalised = True

    async def _finalise_after_error(self) -> None:
        """After an error or a timeout: still judge what was recorded."""
        if self._finalised or self.net is None or not self.loaded:
            return
        with contextlib.suppress(Exception):
            await self._drain()
        self._check_egress()
        self._check_logging()
        with contextlib.suppress(Exception):
            self._check_max_tokens()
        self._journey_to_report()
        with contextlib.suppress(Exception):
            await self._check_doc()

    async def _ready(self) -> None:
        assert self.page is not None
        selector = self.config.ready
        if selector:
            deadline = time.monotonic() + max(self.config.wizard_timeout, BOOT_SECONDS)
            while time.monotonic() < deadline:
                if await self.page.evaluate(js.READY, selector):
                    return
                await asyncio.sleep(0.1)
            raise AuditCannotRun(f"the app never became ready ({selector!r} did not appear)")
        await self.driver.wait_quiet(timeout=5)

    async def _prepare(self) -> None:
        """Click the configured ``app.prepare`` selectors, in order (e.g. open a sample)."""
        assert self.page is not None
        for selector in self.config.prepare:
            try:
                await self.page.locator(selector).first.click(
                    timeout=max(self.config.wizard_timeout, BOOT_SECONDS) * 1000
                )
            except Exception as exc:
                raise AuditCannotRun(
                    f"app.prepare: could not click {selector!r}: {_first_line(exc)}"
                ) from None
            await self.driver.wait_quiet(timeout=5)

    # ------------------------------------------------------------------ check 1: CSP

    async def _check_csp(self, response: PwResponse) -> None:
        assert self.page is not None
        result = self.report.check("csp")
        policies: list[tuple[str, str]] = []
        report_only: list[str] = []
        for header in await response.headers_array():
            name = header["name"].lower()
            if name == "content-security-policy":
                policies += [("header", p) for p in split_header(header["value"])]
                result.add("header", f"Content-Security-Policy: {header['value']}")
            elif name == "content-security-policy-report-only":
                report_only.append(header["value"])
        for text in await self.page.evaluate(js.META_CSP):
            policies.append(("meta", text))
            result.add("header", f'<meta http-equiv="Content-Security-Policy" content="{text}">')
        for text in report_only:
            result.add("note", f"report-only policy ignored (it enforces nothing): {text}")
        verdict = evaluate_csp(
            policies, page_origin=self.site_origin, provider_origins=self.providers
        )
        declared = declared_origins_finding(policies, await self._byom_config())
        if declared is not None:
            verdict.findings.append(declared)
        source = describe_csp(policies)
        for line in source.lines():
            result.add("note", line)
        for finding in verdict.findings:
            mark = "ok" if finding.ok else "FAILS"
            result.add("note", f"{finding.requirement}: {mark} — {finding.reason}")
        for concession in verdict.concessions:
            result.add("note", f"concession: {concession}")
        unjustified = self._unjustified_worker_blob(verdict.concessions)
        if unjustified is not None:
            result.add("note", unjustified)
        if verdict.ok and unjustified is None:
            summary = "strict policy"
            if verdict.concessions:
                summary += f"; concessions: {'; '.join(verdict.concessions)}"
            result.set(PASS, summary)
        else:
            failed = [f.requirement for f in verdict.findings if not f.ok]
            reasons = [f.reason for f in verdict.findings if not f.ok]
            if unjustified is not None:
                failed.append("worker-src blob: justified")
                reasons.append(unjustified)
            where = (
                "; the policy is only a <meta> (frame-ancestors cannot work there)"
                if source.delivered_by == "meta"
                else ""
            )
            result.set(FAIL, f"{', '.join(failed)}: {'; '.join(reasons)}{where}")

    async def _byom_config(self) -> dict[str, Any] | None:
        """A byom-built page's ``byom/config.json`` (what its app declared), or ``None``."""
        assert self.page is not None
        try:
            text = await self.page.evaluate(js.BYOM_CONFIG)
            data = json.loads(text) if isinstance(text, str) else None
        except Exception:  # the page went away, or its config is not JSON: not a byom page
            return None
        return data if isinstance(data, dict) else None

    def _unjustified_worker_blob(self, concessions: list[str]) -> str | None:
        """``worker-src blob:`` (the built-in model's WebAssembly runtime starts its workers
        from blob URLs) is advisory when the integration document justifies it — names
        ``worker-src blob:`` — and a failure otherwise. ``None``: nothing to object to."""
        if not any(c.endswith("worker-src blob:") for c in concessions):
            return None
        try:
            text = self._find_doc()[0]
        except Exception:
            text = None
        if text is not None and "worker-src blob:" in text:
            return None
        return (
            "worker-src blob: is not justified in the integration document (BYOM-INTEGRATION.md "
            "must name it and say why, e.g. the built-in model's runtime)"
        )

    # ------------------------------------------------------------------ reaching the key input

    async def _reach_key(self, *, record_wizard: bool, prefer_connect: bool = False) -> str | None:
        """Open the wizard and walk its onboarding screens to the key input.

        ``prefer_connect``: try a connect control before a feature (so that no run is resumed
        after connecting). Returns ``"key"`` (the key input is visible), ``"ran"`` (a feature
        ran without asking for a key: the app is already connected) or ``None``."""
        assert self.page is not None
        driver = self.driver
        wizard = self.report.check("wizard")
        snapshots: list[dict[str, Any]] = []
        before = len(self.network.log)
        how = ""
        if await driver.dialog_open():
            how = "the wizard was already open"
        elif not await driver.key_visible():
            if self.config.selector("open_wizard"):
                if not await driver.open_connect_control():
                    wizard.add("note", "the configured open_wizard control was not found")
                    return None
                how = "clicked the configured open_wizard control"
            elif prefer_connect and await driver.open_connect_control():
                how = "clicked a connect control"
            elif self.journey is not None:
                if not await self._journey_to_key():
                    wizard.add("note", "the journey did not lead to a key input")
                    for exc in self.journey.failures[-1:]:
                        self.journey_failure_evidence(wizard, exc)
                    return None
                how = "followed the journey until the app asked for a key"
            else:
                features = await self._find_features()
                if features.get("first") is not None:
                    filled = await driver.fill_feature_input(self.prompt.value)
                    self.feature_input_found = self.feature_input_found or filled
                    if not await driver.click("feature"):
                        return None
                    how = f"used the feature {features['first'].get('text')!r}"
                elif await driver.open_connect_control():
                    how = "clicked a connect control"
                else:
                    wizard.add("note", "no feature control and no connect control found")
                    return None
        else:
            how = "the key input was visible on the page"
        if record_wizard:
            wizard.add("note", f"reached the wizard: {how}")

        deadline = time.monotonic() + self.config.wizard_timeout
        last_blocks: list[dict[str, Any]] | None = None
        while time.monotonic() < deadline:
            if await driver.key_visible():
                break
            if self.network.chat(before):
                return "ran"
            if await driver.dialog_open():
                await driver.wait_quiet(timeout=3)
                if await driver.key_visible():
                    break
                snap = await self._snapshot(stop_at_key=False)
                if snap["items"] != last_blocks:
                    last_blocks = snap["items"]
                    if record_wizard:
                        snap["screenshot"] = await self.screenshot(
                            f"wizard-screen-{len(snapshots) + 1}"
                        )
                    snapshots.append(snap)
                await self._wizard_allowance()
                if await driver.next_screen() or await driver.dialog_connect():
                    await driver.wait_quiet(timeout=3)
                    continue
            await asyncio.sleep(0.1)
        else:
            if record_wizard:
                await self.shot_evidence(wizard, "no-key-input", "no key input appeared")
            return None
        await driver.wait_quiet(timeout=3)
        final = await self._snapshot(stop_at_key=True)
        if record_wizard:
            final["screenshot"] = await self.screenshot("wizard-key-screen")
        snapshots.append(final)
        if record_wizard:
            self._judge_wizard(snapshots)
        return "key"

    async def _find_features(self) -> dict[str, Any]:
        """The feature controls; waits while a booting app has not rendered them yet."""
        deadline = time.monotonic() + min(self.config.wizard_timeout, 10)
        while True:
            found = await self.driver.find_features()
            if found.get("first") is not None or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.2)

    async def _snapshot(self, *, stop_at_key: bool) -> dict[str, Any]:
        patterns = topic_patterns(self.config.words)
        snap: dict[str, Any] = await self.driver.evaluate(
            js.SNAPSHOT, {"stopAtKey": stop_at_key, "topics": patterns}
        )
        return snap

    def _judge_wizard(self, snapshots: list[dict[str, Any]]) -> None:
        result = self.report.check("wizard")
        patterns = {
            topic: [re.compile(p, re.I) for p in pats]
            for topic, pats in topic_patterns(self.config.words).items()
        }

        def matches(topic: str, item: dict[str, Any]) -> bool:
            wants_link = bool(WIZARD_TOPICS[topic]["link"])
            if wants_link != (item["kind"] == "link"):
                return False
            text = normalise(f"{item['text']} {item.get('href') or ''}")
            return any(r.search(text) for r in patterns[topic])

        def describe(item: dict[str, Any], index: int) -> str:
            if item["kind"] == "link":
                return f"screen {index}: link “{_clip(item['text'])}” → {item['href']}"
            return f"screen {index}: “{_clip(item['text'])}”"

        found: dict[str, tuple[int, str]] = {}
        hidden: dict[str, str] = {}
        position = 0
        for index, snap in enumerate(snapshots, start=1):
            if snap.get("screenshot"):
                where = "the key screen" if index == len(snapshots) else f"screen {index}"
                result.add("screenshot", f"wizard, {where}", path=snap["screenshot"])
            for item in snap["items"]:
                position += 1
                for topic in WIZARD_TOPICS:
                    if topic not in found and matches(topic, item):
                        found[topic] = (position, describe(item, index))
            for item in snap["hidden"]:
                for topic in WIZARD_TOPICS:
                    if topic not in hidden and matches(topic, item):
                        hidden[topic] = describe(item, index)
        missing = []
        for topic, spec in WIZARD_TOPICS.items():
            if topic in found:
                result.add("text", f"{spec['title']}: {found[topic][1]}")
                continue
            missing.append(str(spec["title"]))
            kind = "visible link" if spec["link"] else "visible text"
            result.add("note", f"{spec['title']}: no {kind} before the key input")
            if topic in hidden:
                result.add(
                    "text",
                    f"{spec['title']}: present but not visible (collapsed, hidden, clipped or "
                    f"off-screen), so it does not count — {hidden[topic]}",
                )
        order = sorted(found, key=lambda t: found[t][0])
        expected = [t for t in WIZARD_TOPICS if t in found]
        if order != expected:
            result.add("note", f"order differs from R5.2: {', '.join(order)}")
        if missing:
            result.set(FAIL, "missing before the key input: " + "; ".join(missing))
        else:
            result.set(
                PASS, f"all four topics visible before the key input ({len(snapshots)} screen(s))"
            )

    # ------------------------------------------------------------------ connecting

    async def _connect(
        self, *, remember: bool, allowance: str | None = None, primary: bool = True
    ) -> bool:
        """Type the canary key and finish the wizard; True once the wizard is gone.

        ``allowance`` is typed into an allowance field of the wizard (default: a roomy one);
        ``primary=False`` (a second tab) leaves the checks alone when it fails."""
        driver = self.driver
        persistence = self.report.check("key-persistence")
        before = len(self.network.log)
        self.connect_started = before
        remember_done = allowance_done = False

        async def fields() -> None:
            nonlocal remember_done, allowance_done
            if not remember_done:
                rem = await driver.find_field("remember", "checkbox")
                if rem is not None:
                    remember_done = True
                    self.remember_found = True
                    if self.remember_default is None:
                        self.remember_default = bool(rem.get("checked"))
                        state = "ticked" if rem.get("checked") else "unticked"
                        persistence.add(
                            "note", f"remember control {rem.get('text')!r} is {state} by default"
                        )
                    if remember:
                        await driver.set_checkbox("remember", True)
            if not allowance_done:
                field_ = await driver.find_field("allowance", "text")
                if field_ is not None:
                    allowance_done = True
                    self.wizard_allowance = True
                    amount = allowance or _plain(
                        self.sim_spent() + Decimal(self.config.connect_allowance)
                    )
                    await driver.fill_allowance(amount)

        await fields()
        self.wizard_sig = await driver.mark_wizard()
        await self.page_fill_key()
        await driver.submit_key()
        entered = True
        for _ in range(8):
            await self._settle_connect(before, entered)
            entered = False
            key_shown = await driver.key_visible()
            if not key_shown and not await driver.wizard_open(self.wizard_sig):
                break
            await fields()
            if key_shown and not self._key_reached_provider(before):
                break  # the key screen did not move on: connecting failed
            if not await driver.finish_button():
                if key_shown:
                    break
                # only the connect wizard is closed: any other dialog is the app's (its
                # feature may open as a dialog right after connecting)
                await driver.page.keyboard.press("Escape")
        await driver.wait_quiet(timeout=3)
        connected = not await driver.key_visible() and not await driver.wizard_open(self.wizard_sig)
        if not connected and primary:
            for cid in ("key-persistence", "egress", "budget", "leave-guard", "key-rejected"):
                result = self.report.check(cid)
                if result.status == UNCHECKED:
                    result.set(UNCHECKED, "could not check: the wizard did not complete")
            await self.shot_evidence(
                persistence, "wizard-stuck", "the wizard after the canary key was entered"
            )
        return connected

    async def _wizard_allowance(self) -> None:
        """An allowance field on a wizard screen before the key: fill it (R5.3 puts it there)."""
        field_ = await self.driver.find_field("allowance", "text")
        if field_ is not None:
            self.wizard_allowance = True
            amount = self.wizard_amount or _plain(
                self.sim_spent() + Decimal(self.config.connect_allowance)
            )
            await self.driver.fill_allowance(amount)

    async def page_fill_key(self) -> None:
        assert self.page is not None
        await self.page.locator('[data-byom-audit="key"]').first.fill(self.key.value, timeout=5000)

    async def _settle_connect(self, before: int, entered: bool) -> None:
        """After a wizard action: until the key screen is left or the key reached the provider
        (then the provider call is done), and the page is still."""
        driver = self.driver
        deadline = time.monotonic() + (15 if entered else 5)
        while time.monotonic() < deadline:
            if self._key_reached_provider(before) and self.network.provider_idle():
                break
            if not entered or not await driver.key_visible():
                break
            await asyncio.sleep(0.05)
        await self._wait_provider_idle(10)
        await driver.wait_quiet(timeout=5)

    def _key_reached_provider(self, since: int) -> bool:
        return any(
            r.disposition == "provider" and self.key.found_in(r.haystack())
            for r in self.network.log[since:]
        )

    async def _wait_provider_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.network.provider_idle() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------ feature runs

    async def _run_feature(self, *, which: str = "feature", fill: bool = True) -> Outcome:
        driver = self.driver
        before = len(self.network.log)
        count0, _ = await driver.quiet_state()
        if self.journey is not None:
            try:
                await self.journey.run(self._page())
            except JourneyFailed as exc:
                return await self._journey_failed(exc)
            return await self._await_outcome(before, count0=count0)
        if fill and await driver.fill_feature_input(self.prompt.value):
            self.feature_input_found = True
        found = await driver.find_features()
        if found.get("first") is None or not await driver.click(which):
            return Outcome("no-control")
        return await self._await_outcome(before, count0=count0)

    def _page(self) -> Page:
        assert self.page is not None
        return self.page

    async def _asks_for_key(self) -> bool:
        return await self.driver.key_visible()

    async def driver_dialog_open(self) -> bool:
        return await self.driver.dialog_open()

    async def _close_app_dialogs(self) -> None:
        """Close what a finished run left open (an answer in a dialog) before the next use."""
        await self.driver.close_dialogs()

    async def _journey_failed(self, exc: JourneyFailed) -> Outcome:
        """A step failed: the key screen it met (the app asked for the key) or a failure the
        report names, with the step, what it looked for and the screenshot."""
        if await self.driver.key_visible():
            return Outcome("wizard")
        self.journey_failures.append(exc)
        return Outcome("journey-failed")

    async def _journey_to_key(self) -> bool:
        """Follow the journey until the app shows a key input (using a feature opens the
        wizard, R5.1)."""
        assert self.journey is not None
        return await self.journey.until(self._page(), self.driver.key_visible)

    async def _send_journey(self, timeout: float | None = None, *, whole: bool = False) -> bool:
        """The journey's sending step on the current page, after its earlier steps when
        ``whole`` (else they are done already). False when a step failed; a failure without a
        ``timeout`` is kept for the report."""
        assert self.journey is not None
        try:
            if whole:
                await self.journey.before_request(self._page())
            await self.journey.send(self._page(), timeout=timeout)
        except JourneyFailed as exc:
            if timeout is None:
                self.journey_failures.append(exc)
            return False
        return True

    async def _start_feature(self, *, timeout: float | None = None) -> bool:
        """Start one paid run without waiting for it: the journey's steps (all of them), or
        the feature control. False when it could not be started."""
        if self.journey is not None:
            return await self._send_journey(timeout, whole=True)
        await self.driver.fill_feature_input(self.prompt.value)
        return await self.driver.click_feature(timeout=timeout if timeout is not None else 5.0)

    async def _set_allowance(self, value: str) -> str | None:
        """Set the allowance after connecting; where the app shows its allowance field only
        while connecting (R5.3), connect again with ``value`` typed into it."""
        if self.journey is not None and await self.driver.dialog_open():
            await self._close_app_dialogs()
        how = None
        if self.allowance_after_connect is not False or not self.wizard_allowance:
            how = await self.driver.set_allowance(value)
            # once it worked it is there; never found, it is only in the wizard
            self.allowance_after_connect = bool(self.allowance_after_connect) or how is not None
        if how is None and self.wizard_allowance:
            how = await self._reconnect_with_allowance(value)
        return how

    async def _reconnect_with_allowance(self, value: str) -> str | None:
        """Reload (the key was in memory), reach the wizard — by a connect control where there
        is one, so no run is resumed — and connect with ``value`` as the allowance. A run the
        app resumes anyway is kept as ``pending_outcome`` for the trial that asked."""
        assert self.page is not None
        await self.page.reload(wait_until="load", timeout=30_000)
        await self._ready()
        await self._prepare()
        self.wizard_amount = value
        try:
            reached = await self._reach_key(record_wizard=False, prefer_connect=True)
            if reached != "key":
                return None
            if not await self._connect(remember=False, allowance=value, primary=False):
                return None
        finally:
            self.wizard_amount = None
        resumed = await self._resumed_run()
        if resumed.kind == "admitted":
            self.pending_outcome = resumed
        return f"connected again with {value} in the wizard's allowance field"

    async def _await_outcome(
        self,
        before: int,
        *,
        min_wait: float = 0.6,
        no_request: float = 3.0,
        count0: int | None = None,
    ) -> Outcome:
        driver = self.driver
        if count0 is None:
            count0, _ = await driver.quiet_state()
        start = time.monotonic()
        quiet = self.config.quiet_ms / 1000
        while True:
            await asyncio.sleep(0.05)
            elapsed = time.monotonic() - start
            new = self.network.chat(before)
            if new:
                if all(r.done for r in new) and self.network.provider_idle():
                    await driver.wait_quiet(timeout=5)
                    if all(r.done for r in self.network.chat(before)):
                        return Outcome("admitted", self.network.chat(before))
            else:
                count, idle = await driver.quiet_state()
                if elapsed >= min_wait and await driver.key_visible():
                    return Outcome("wizard")
                if elapsed >= min_wait and idle / 1000 >= quiet and await driver.dialog_open():
                    return Outcome("dialog")
                if elapsed >= min_wait and count > count0 and idle / 1000 >= quiet:
                    return Outcome("refused")
                if elapsed >= no_request:
                    return Outcome("none")
            if elapsed > 60:
                return Outcome("timeout", new)

    async def _first_run(self) -> None:
        """After connecting: the pending run (apps resume it) or a fresh one, with the canary
        prompt; it shows the key and the prompt reaching the provider."""
        self.phase("first run")
        egress = self.report.check("egress")
        outcome = await self._resumed_run()
        if outcome.kind != "admitted":
            outcome = await self._run_feature()
        if outcome.kind != "admitted":
            egress.add("note", f"the first feature run was not sent ({outcome.kind})")
        for exc in self.journey_failures[:1]:
            self.journey_failure_evidence(egress, exc)
        await self.shot_evidence(egress, "after-first-run", "the app after the first feature run")

    async def _resumed_run(self) -> Outcome:
        """The run an app resumes once the wizard closes (if it does): done or awaited."""
        sent = self.network.chat(self.connect_started)
        if sent and all(r.done for r in sent):
            await self.driver.wait_quiet(timeout=3)
            return Outcome("admitted", sent)
        return await self._await_outcome(self.connect_started, no_request=1.5)

    # ------------------------------------------------------------------ check 5: a 500

    async def _run_stubbed(self, status: int) -> tuple[Outcome, bool]:
        """Run the feature once with the simulator answering ``status``; and whether that
        answer reached the app (a run the app did not send leaves nothing to judge)."""
        assert self.sim is not None
        self.sim.push_faults([{"status": status}])
        outcome = await self._run_feature()
        self.clear_faults()
        return outcome, status in outcome.statuses

    async def _failure_500(self) -> None:
        self.phase("failure 500")
        outcome, reached = await self._run_stubbed(500)
        if not reached:
            self.report.check("logging").add(
                "note", f"the stubbed 500 did not reach the app ({outcome.kind})"
            )

    # ------------------------------------------------------------------ check 4: egress

    def _check_egress(self) -> None:
        result = self.report.check("egress")
        self.report.requests = [
            {**r.to_dict(), "url": self.masked(r.url)[:300]} for r in self.network.log[:1000]
        ]
        if result.status == FAIL:
            return
        violations = 0
        key_providers: set[str] = set()
        prompt_seen = False
        for req in self.network.log:
            hay = req.haystack()
            for canary in (self.key, self.prompt):
                needle = canary.found_in(hay)
                if needle is None:
                    continue
                if req.disposition == "provider":
                    if canary is self.key:
                        key_providers.add(req.origin)
                    elif req.is_chat:
                        prompt_seen = True
                    continue
                violations += 1
                where = req.where(needle)
                result.add(
                    "request",
                    f"canary {canary.label} sent to {req.origin or req.url} ({req.disposition}) "
                    f"in the {where}: {req.method} {self.masked(req.url)[:200]}",
                    {
                        **req.to_dict(),
                        "url": self.masked(req.url),
                        "found_in": where,
                        "excerpt": canary.excerpt(hay),
                    },
                )
        for entry in self.console:
            if entry.from_app:
                continue
            for canary in (self.key, self.prompt):
                if canary.found_in(entry.text):
                    result.add(
                        "note",
                        f"an attempt blocked by the browser (CSP) carried the canary "
                        f"{canary.label}: {self.masked(entry.text)[:200]}",
                    )
        for disposition, label in (
            ("blocked", "blocked by the audit, never sent"),
            ("pass-through", "let through by the configuration"),
        ):
            counts: dict[str, int] = {}
            for req in self.network.log:
                if req.disposition == disposition:
                    origin = req.origin or req.url[:60]
                    counts[origin] = counts.get(origin, 0) + 1
            if counts:
                listed = ", ".join(f"{o} ({n})" for o, n in sorted(counts.items()))
                result.add("note", f"requests to other origins ({label}): {listed}")
        if key_providers:
            result.add("note", f"the key went to: {', '.join(sorted(key_providers))}")
        for model in self._unknown_models():
            text = (
                f"the app asked for the model {model!r}, which the simulator does not list, "
                "and got a 400: add it under [providers] models in byom-audit.toml"
            )
            result.add("note", text)
            if text not in self.report.notes:
                self.report.notes.append(text)
        if len(key_providers) > 1:
            violations += 1
            result.add("note", "the key was sent to more than one provider origin")
        if violations:
            result.set(FAIL, "the canary left for an origin that is not the provider")
        elif not key_providers:
            if result.status == UNCHECKED and result.summary.startswith("could not check"):
                return
            result.set(UNCHECKED, "could not check: the key never reached the provider")
        elif not prompt_seen:
            result.set(
                UNCHECKED,
                "could not check the prompt: no run carried the canary prompt (name the input "
                "with selectors.feature_input); the key went only to the provider",
            )
        else:
            result.set(
                PASS,
                f"the key and the prompt went only to {', '.join(sorted(key_providers))} "
                f"({len(self.network.log)} requests recorded)",
            )

    # ------------------------------------------------------------------ check 5: logging

    def _check_logging(self) -> None:
        result = self.report.check("logging")
        leaks = 0
        for entry in self.console:
            if not entry.from_app:
                continue
            for canary in (self.key, self.prompt):
                text = next((t for t in (entry.text, *entry.args) if canary.found_in(t)), None)
                if text is not None:
                    leaks += 1
                    result.add(
                        "console",
                        f"console.{entry.type} during {entry.phase}: {canary.excerpt(text)}",
                        {"type": entry.type, "phase": entry.phase, "source": entry.url},
                    )
        for step, text in self.page_errors:
            for canary in (self.key, self.prompt):
                if canary.found_in(text):
                    leaks += 1
                    result.add("console", f"uncaught error during {step}: {canary.excerpt(text)}")
        for step, text in self.page_errors[:5]:
            result.add("note", f"uncaught error during {step}: {_clip(self.masked(text), 300)}")
        statuses = {r.status for r in self.network.chat() if r.status is not None}
        app_messages = sum(1 for e in self.console if e.from_app)
        result.add(
            "note",
            f"{app_messages} console message(s) from the app, {len(self.page_errors)} uncaught "
            f"error(s); failure paths exercised: "
            + (", ".join(str(s) for s in sorted(statuses & {401, 500})) or "none"),
        )
        if leaks:
            result.set(FAIL, f"{leaks} console message(s) carry the canary key or prompt")
            return
        if result.status == UNCHECKED and result.summary.startswith("could not check"):
            return
        missing = [str(s) for s in (401, 500) if s not in statuses]
        if not any(self.key.found_in(r.haystack()) for r in self.network.chat()):
            result.set(UNCHECKED, "could not check: no feature run used the key")
        elif missing:
            result.set(
                UNCHECKED,
                f"could not check the failure path: the stubbed {', '.join(missing)} did not "
                "reach the app; nothing leaked on the paths that ran",
            )
        else:
            result.set(
                PASS, "no console message carries the key or the prompt (401 and 500 included)"
            )

    # ------------------------------------------------------------------ check 11: max_tokens

    def _catalog(self) -> dict[str, Any]:
        assert self.sim is not None
        try:
            url = self.sim.openrouter_base + "/models"
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback)
                catalog: dict[str, Any] = json.load(resp)
        except Exception:
            return {"data": []}
        return catalog

    def _unknown_models(self) -> list[str]:
        """Models the app asked for that the simulator does not list (each answered 400)."""
        return unknown_models(self.network.chat(), self._catalog())

    def _check_max_tokens(self) -> None:
        requests = [r for r in self.network.chat() if r.body]
        catalog = self._catalog() if requests else {"data": []}
        judge_all(self.report.check("max-tokens"), requests, catalog, self.masked)

    def _journey_to_report(self) -> None:
        if self.journey is None:
            return
        self.report.journey = [self._masked_step(t.to_dict()) for t in self.journey.taken]
        self.report.journey_replays = self.journey.replays
        for exc in [*self.journey.failures, *self.journey_failures][:1]:
            taken = exc.taken
            text = self.masked(str(exc))
            if text in self.report.notes:
                continue
            self.report.notes.append(text)
            if not any(t.step.number == taken.step.number and not t.ok for t in self.journey.taken):
                self.report.journey.append(self._masked_step(taken.to_dict()))

    def _masked_step(self, step: dict[str, Any]) -> dict[str, Any]:
        if isinstance(step.get("error"), str):
            step["error"] = self.masked(step["error"])
        return step

    # ------------------------------------------------------------------ check 2: scripts

    async def _check_scripts(self) -> None:
        assert self.page is not None
        result = self.report.check("scripts")
        dom: list[dict[str, Any]] = []
        with contextlib.suppress(Exception):
            dom = await self.page.evaluate(js.DOM_SCRIPTS)
        integrity = {s["src"]: s.get("integrity") for s in dom if s.get("src")}
        seen: dict[str, Recorded] = {}
        for req in self.network.log:
            if req.resource_type == "script" and req.url not in seen:
                seen[req.url] = req
        for src in integrity:
            if src not in seen and not src.startswith(("data:", "blob:")):
                seen[src] = Recorded(
                    0, src, "GET", "script", {}, "", origin_of(src), "unknown", "", 0
                )
        problems: list[str] = []
        third_party = 0
        for url, req in seen.items():
            origin = req.origin
            first_party = origin == self.site_origin
            size = self.script_sizes.get(url)
            sri = integrity.get(url)
            label = "first-party" if first_party else "third-party"
            text = f"{label} {url} — " + (f"{size:,} bytes" if size is not None else "size unknown")
            if not first_party:
                third_party += 1
                text += f"; SRI {'yes' if sri else 'no'}"
                reason = self.config.justified_scripts.get(origin)
                text += f"; justified: {reason}" if reason else "; not justified in byom-audit.toml"
                if req.disposition == "blocked":
                    text += "; blocked by the audit (not fetched)"
                if not sri:
                    problems.append(f"{url} has no SRI")
                if not reason:
                    problems.append(f"{origin} is not justified")
            elif req.disposition == "site":
                text += "; SRI " + ("yes" if sri else "no (not needed for first-party)")
            result.add("script", text, {"url": url, "size": size, "sri": sri, "origin": origin})
        inline = [s for s in dom if s.get("inline")]
        data_types = ("application/ld+json", "application/json", "importmap", "speculationrules")
        code_inline = [s for s in inline if s.get("type", "").lower() not in data_types]
        for script in inline:
            kind = "data block" if script not in code_inline else "inline script"
            result.add(
                "script",
                f"{kind} ({script.get('type')}), {script.get('length')} characters",
                script,
            )
        if problems:
            result.set(FAIL, "; ".join(problems))
        else:
            result.set(
                PASS,
                f"{len(seen)} script(s), {third_party} third-party, {len(code_inline)} inline",
            )

    # ------------------------------------------------------------------ check 10: document

    async def _check_doc(self) -> None:
        from byom.integration import check_document, judged_by

        result = self.report.check("integration-doc")
        text, where, tried = self._find_doc()
        if text is None:
            result.set(FAIL, "BYOM-INTEGRATION.md not found (looked at: " + ", ".join(tried) + ")")
            return
        problems = check_document(text)
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity != "error"]
        result.add("note", f"found at {where}")
        template, own = judged_by(text)
        result.add(
            "note",
            f"judged by the constitution's {template.version} template"
            + ("" if own else " (the newest known: the document pins no known version)")
            + f", read from {template.source}",
        )
        for problem in problems:
            line = f" (line {problem.line})" if problem.line else ""
            result.add("note", f"{problem.severity}: {problem.message}{line}", problem.to_dict())
        if errors:
            result.set(FAIL, f"incomplete: {len(errors)} problem(s), e.g. {errors[0].message}")
        else:
            extra = f" ({len(warnings)} warning(s))" if warnings else ""
            result.set(PASS, f"found at {where} and complete{extra}")

    def _find_doc(self) -> tuple[str | None, str, list[str]]:
        name = "BYOM-INTEGRATION.md"
        tried: list[str] = []
        candidates: list[str] = []
        configured = self.config.integration
        if configured:
            if "://" in configured:
                candidates.append(configured)
            elif self.config.source:
                candidates.append(str(Path(self.config.source).parent / configured))
            else:
                candidates.append(configured)
        if self.site is not None:
            root = self.site.root
            candidates += [str(folder / name) for folder in (root, root / "docs", root.parent)]
            candidates.append(str(root.parent / "docs" / name))
        else:
            parts = urlsplit(self.url)
            candidates += [urljoin(self.url, name), f"{parts.scheme}://{parts.netloc}/{name}"]
        for candidate in dict.fromkeys(candidates):
            tried.append(candidate)
            if "://" in candidate:
                text = _fetch_text(candidate)
                if text is not None:
                    return text, candidate, tried
            elif Path(candidate).is_file():
                return Path(candidate).read_text(encoding="utf-8"), candidate, tried
        return None, "", tried


# ---------------------------------------------------------------------------- small helpers

_SERIALISE_ARG = """(x) => {
  try {
    if (typeof x === 'string') return x;
    if (x instanceof Error) return x.name + ': ' + x.message + '\\n' + (x.stack || '');
    const seen = new WeakSet();
    const text = JSON.stringify(x, (k, v) => {
      if (typeof v === 'bigint') return String(v);
      if (v instanceof Error) return v.name + ': ' + v.message;
      if (typeof v === 'object' && v !== null) { if (seen.has(v)) return '[cycle]'; seen.add(v); }
      return v;
    });
    return text === undefined ? String(x) : text;
  } catch (e) { try { return String(x); } catch (e2) { return ''; } }
}"""


def _error_text(err: Any) -> str:
    parts = [str(getattr(err, "name", "")), str(getattr(err, "message", err))]
    stack = getattr(err, "stack", None)
    if stack:
        parts.append(str(stack))
    return "\n".join(p for p in parts if p)


async def _answer_dialog(dialog: Any) -> None:
    with contextlib.suppress(Exception):
        if dialog.type == "beforeunload":
            await dialog.accept()
        else:
            await dialog.dismiss()


def _fetch_text(url: str) -> str | None:
    if not url.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (http(s) only)
            if resp.status != 200:
                return None
            data: bytes = resp.read(2_000_000)
    except Exception:
        return None
    text = data.decode("utf-8", errors="replace")
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        return None  # a single-page app answering every path with its index
    return text


def _remote_config(url: str) -> AuditConfig | None:
    from byom.audit.config import CONFIG_NAME, parse_config_text

    text = _fetch_text(urljoin(url, CONFIG_NAME))
    if text is None:
        return None
    try:
        return parse_config_text(text, urljoin(url, CONFIG_NAME))
    except ConfigError:
        return None
