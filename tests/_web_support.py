"""Shared fixtures for the browser-kit tests: one built Reader site, one simulator, one site
server and one Chromium per session. Import the fixtures into a test module to use them.

Chromium is Debian's (``/usr/bin/chromium``) driven by Playwright. Under the site's strict CSP,
``wait_for_function`` (which evaluates a string) is blocked, so tests poll with ``evaluate``.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from byom.sim import Simulator
from byom.web.build import build_site
from byom.web.serve import Site

REPO = Path(__file__).resolve().parents[1]
READER = REPO / "examples" / "reader"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

CANARY_KEY = "sk-or-v1-CANARYKEY-web-5d1e9b7c3a"
CANARY_PROMPT = "CANARY-PROMPT-web-a7c2 the secret harbour plan"

#: Installed before any page script: records CSP violations and console-free evidence.
INIT_SCRIPT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


# Fixtures imported into several modules are registered once per module; these share one
# instance across all of them (reference-counted, closed when the last user finishes).
_SHARED: dict[str, list[Any]] = {}


def _shared(key: str, start: Any, stop: Any) -> Iterator[Any]:
    entry = _SHARED.get(key)
    if entry is None:
        entry = _SHARED[key] = [start(), 0]
    entry[1] += 1
    try:
        yield entry[0]
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            del _SHARED[key]
            stop(entry[0])


@pytest.fixture(scope="session")
def web_sim() -> Iterator[Simulator]:
    yield from _shared("sim", lambda: Simulator().start(), lambda sim: sim.stop())


@pytest.fixture(scope="session")
def web_site(web_sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    def start() -> Site:
        out = tmp_path_factory.mktemp("reader-site") / "dist"
        build_site(READER, out, demo_sim=web_sim.base_url)
        return Site(out).start()

    yield from _shared("site", start, lambda site: site.stop())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, closed when the module ends: Playwright's sync API keeps
    an asyncio loop running in the main thread while it is open, and a test module that runs
    later and calls ``asyncio.run`` (the agent and async tests) must not find it there."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is not installed: `make test` installs it (apt-get chromium)")
    from playwright.sync_api import sync_playwright

    def start() -> tuple[Any, Any]:
        manager = sync_playwright()
        playwright = manager.start()
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        return manager, chromium

    def stop(pair: tuple[Any, Any]) -> None:
        pair[1].close()
        pair[0].__exit__(None, None, None)

    for pair in _shared("browser", start, stop):
        yield pair[1]


@pytest.fixture
def sim(web_sim: Simulator) -> Simulator:
    web_sim.reset()
    return web_sim


class Tab:
    """A page with everything it did recorded: console, requests, page errors."""

    def __init__(self, context: Any, site: Site) -> None:
        self.context = context
        self.site = site
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[Any] = []
        self.crashed = False
        self._query = ""
        self.page = self._new_page()

    def _new_page(self) -> Any:
        page = self.context.new_page()
        page.on("console", lambda m: self.console.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r))
        page.on("crash", lambda _: setattr(self, "crashed", True))
        return page

    def open(self, query: str = "") -> Tab:
        self._query = query
        self.page.goto(self.site.url + query)
        return self

    def ev(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def poll(self, expression: str, timeout: float = 90.0, arg: Any = None) -> Any:
        """Evaluate ``expression`` until it is truthy. The deadline only turns a hang into a
        failure: it is far longer than a busy machine needs (never a speed assertion)."""
        end = time.monotonic() + timeout
        while True:
            value = self.page.evaluate(expression, arg)
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for: {expression}")
            time.sleep(0.05)

    def ready(self) -> Tab:
        """Wait until the page's Python is up.

        A renderer that crashes while the page starts (seen in one CI run of the whole suite,
        three tabs of one module among ~40 starts: Chromium's "Target crashed", nothing in the
        page's console; the same commit passed on its next run) gets one new tab for the same
        address, with a warning in the test report; a second crash fails the test. Nothing after
        the start is retried."""
        try:
            state = self.poll("document.documentElement.dataset.byomReady || ''", timeout=180)
        except Exception as exc:  # playwright's Error; imported lazily, like playwright itself
            if not (self.crashed or "Target crashed" in str(exc)):
                raise
            warnings.warn(
                "Chromium's renderer crashed while the page started; opened it again once",
                stacklevel=2,
            )
            self.crashed = False
            self.requests.clear()
            self.page = self._new_page()
            self.page.goto(self.site.url + self._query)
            state = self.poll("document.documentElement.dataset.byomReady || ''", timeout=180)
        assert state == "1", "Python did not start in the page"
        return self

    def visible(self, selector: str) -> bool:
        return self.page.locator(selector).first.is_visible()

    def csp_violations(self) -> list[str]:
        return self.ev("window.__csp")

    def open_sample(self, index: int = 0) -> None:
        self.page.locator("[data-testid=sample]").nth(index).click()
        self.poll("!document.getElementById('doc').hidden")

    def open_text(self, title: str, text: str) -> None:
        self.ev("([t, x]) => Reader.openDocument(t, x, false)", [title, text])
        self.poll("!document.getElementById('doc').hidden")

    def connect(self, key: str = CANARY_KEY, *, remember: bool = False, amount: str = "5") -> None:
        """Walk the wizard (opened by a model feature) with a pasted key."""
        page = self.page
        self.poll("!!document.querySelector('[data-testid=wizard]')")
        page.click("[data-testid=wizard-next]")
        page.fill("[data-testid=wizard-key-input]", key)
        page.click("[data-testid=wizard-validate]")
        self.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
        if remember:
            page.check("[data-testid=wizard-remember]")
        page.fill("[data-testid=wizard-amount]", amount)
        page.select_option("[data-testid=wizard-period]", "total")
        page.click("[data-testid=wizard-finish]")
        self.poll("!document.querySelector('[data-testid=wizard]')")

    def start_run(self, feature: str, inputs: dict[str, Any], slot: str = "r") -> None:
        """Start ``BYOM.run`` without waiting; the result lands in ``window.__runs[slot]``."""
        self.ev(
            "([f, i, s]) => { window.__runs = window.__runs || {};"
            " BYOM.run(f, i).then(r => { window.__runs[s] = r; }); }",
            [feature, inputs, slot],
        )

    def result(self, slot: str = "r", timeout: float = 90.0) -> dict[str, Any]:
        return self.poll(
            "(s) => window.__runs && window.__runs[s] ? JSON.stringify(window.__runs[s]) : ''",
            timeout=timeout,
            arg=slot,
        ) and json.loads(self.ev("(s) => JSON.stringify(window.__runs[s])", slot))

    def shell_status(self) -> dict[str, Any]:
        return json.loads(self.ev("() => JSON.stringify(BYOM._status())"))


def new_context(browser: Any, locale: str = "en-US", **kwargs: Any) -> Any:
    context = browser.new_context(locale=locale, **kwargs)
    context.add_init_script(INIT_SCRIPT)
    return context
