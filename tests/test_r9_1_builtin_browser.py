"""R9.1 / R9.2 (issue 17) — the built-in model in headless Chromium: the Reader built with
``builtin = true`` runs SmolLM2-135M-Instruct in the page with wllama (WebAssembly).

What is shown, with real generations (tiny ``max_tokens``; waits on events, never on speed):

* nothing of the runtime or the model is requested on page load, nor when the wizard opens;
* the wizard's first choice is the built-in model; picking it downloads the model with a visible
  progress bar; a feature then answers with non-empty text, the runtime's own token counts, at
  $0.00 (cost source ``free``), and every request of the page goes to the page's own origin;
* a second visit (same browser profile) restores the connection and loads the model from OPFS:
  no model part is requested again;
* ``finish_reason`` is ``"length"`` exactly at ``max_tokens``, with the runtime's counts;
* a cancelled generation stops: the runtime delivers at most one token after the abort, lets go
  of the request, and the next request runs;
* a provider call (the simulator) still works under the site's COOP/COEP isolation.

Screenshots (English, Dutch, a 390x844 phone): the wizard's first screen, the download
progress, a built-in summary with its "$0.00 · N tokens" line. ``BYOM_SCREENSHOT_DIR`` keeps them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from _web_support import READER, Tab, browser, new_context, sim, web_sim
from byom.builtin.models import builtin_model_path
from byom.sim import Simulator
from byom.web.build import build_site
from byom.web.serve import Site

pytestmark = [pytest.mark.browser, pytest.mark.builtin, pytest.mark.slow]
_FIXTURES = (browser, sim, web_sim)  # imported for pytest

NOTE = (
    "The town library will close for two weeks in March while the roof is repaired. "
    "Books can be returned at the town hall during that time."
)
#: Generous: the runtime reads ~10 tokens a second on a busy 2-core machine.
SLOW = 600.0


def _require_model() -> None:
    if builtin_model_path() is None:
        reason = "the built-in model's wheel is not installed (make builtin)"
        if os.environ.get("BYOM_REQUIRE_BUILTIN", "") not in ("", "0"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def builtin_site(web_sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _require_model()
    out = tmp_path_factory.mktemp("reader-builtin") / "dist"
    build_site(READER, out, demo_sim=web_sim.base_url, builtin=True)
    with Site(out) as site:
        yield site


def _runtime_requests(tab: Tab) -> list[str]:
    paths = [urlsplit(r.url).path for r in tab.requests]
    return [p for p in paths if p.startswith("/builtin/") or p.endswith("/builtin.js")]


def _foreign(tab: Tab, site: Site) -> list[str]:
    own = urlsplit(site.url).netloc
    return [r.url for r in tab.requests if urlsplit(r.url).netloc not in (own, "")]


def _use_builtin(tab: Tab) -> None:
    """In the open wizard: the built-in choice on the first screen, then download and start."""
    tab.poll("!!document.querySelector('[data-testid=wizard]')")
    assert tab.visible("[data-testid=wizard-builtin-choice]")
    tab.page.click("[data-testid=wizard-builtin]")
    tab.poll("!!document.querySelector('[data-testid=wizard-builtin-start]')")
    assert tab.visible("[data-testid=wizard-builtin-section]")
    tab.page.click("[data-testid=wizard-builtin-start]")


def _run(tab: Tab, feature: str, inputs: dict[str, Any], slot: str = "r") -> None:
    tab.ev(
        "([f, i, s]) => { window.__runs = window.__runs || {}; window.__deltas = [];"
        " BYOM.run(f, i, {onDelta: d => window.__deltas.push(d)})"
        ".then(r => { window.__runs[s] = r; }); }",
        [feature, inputs, slot],
    )


def _direct(tab: Tab, body: dict[str, Any]) -> Any:
    """A request straight to the page's responder (what the Python transport calls)."""
    return tab.ev(
        """async (body) => {
          const r = await byomBuiltin.fetch('http://builtin.invalid/v1/chat/completions',
            {method: 'POST', body: new TextEncoder().encode(JSON.stringify(body)),
             signal: new AbortController().signal});
          return {status: r.status, text: await r.text()};
        }""",
        body,
    )


def test_r9_2_nothing_of_the_runtime_loads_with_the_page(browser, builtin_site):
    context = new_context(browser)
    tab = Tab(context, builtin_site).open().ready()
    tab.open_sample(0)
    assert tab.ev("crossOriginIsolated") is True
    tab.ev("() => { BYOM.openWizard('summarize'); }")
    tab.poll("!!document.querySelector('[data-testid=wizard]')")
    assert tab.visible("[data-testid=wizard-builtin-choice]")
    assert tab.ev("typeof window.byomBuiltin") == "undefined"
    assert tab.ev("document.documentElement.dataset.byomBuiltinEarly") is None
    assert _runtime_requests(tab) == []
    assert tab.csp_violations() == []
    context.close()


def _foot(tab: Tab) -> str:
    """The Reader's line under a finished answer (waits for it: an event, not a time)."""
    tab.poll(
        "document.getElementById('result-stop').hidden && "
        "document.getElementById('result-foot').textContent",
        SLOW,
    )
    foot = tab.page.locator("#result-foot")
    assert foot.is_visible()
    return foot.inner_text()


def test_r9_1_real_generation_in_the_page_then_from_disk_on_the_next_visit(browser, builtin_site):
    context = new_context(browser)
    tab = Tab(context, builtin_site).open().ready()
    tab.open_text("Library", NOTE)
    tab.page.click("[data-testid=tool-summarize]")  # the Reader's own button
    _use_builtin(tab)
    # the download's progress bar is shown (visible, not merely present) while it runs
    tab.poll("document.querySelector('.byom-builtin-progress')?.hidden === false")
    assert tab.visible("[data-testid=builtin-progress]")
    foot = _foot(tab)
    assert "$0.00" in foot and " tokens " in foot, foot
    assert tab.page.locator("#result-body").inner_text().strip()
    assert tab.shell_status()["option"] == "builtin"
    state = tab.ev("byomBuiltin.state()")
    assert state["fromCache"] is False and state["phase"] == "ready"
    assert _foreign(tab, builtin_site) == []  # no request to any other origin
    assert tab.csp_violations() == []
    parts = [p for p in _runtime_requests(tab) if "/model-" in p]
    assert len(parts) >= 2

    # a second visit: the connection is restored and, once the page is idle, the runtime starts
    # from this device (so the first press waits only for the reading), downloading nothing
    again = Tab(context, builtin_site).open().ready()
    assert again.shell_status()["option"] == "builtin"
    again.poll("document.documentElement.dataset.byomBuiltin === 'ready'", SLOW)
    assert again.ev("byomBuiltin.state().fromCache") is True
    # it started while Python booted: this browser's last connection here was the built-in model
    assert again.ev("document.documentElement.dataset.byomBuiltinEarly") == "1"
    assert again.ev("localStorage.getItem('byom-builtin-connected:byom-reader')") == "1"
    assert [p for p in _runtime_requests(again) if "/model-" in p] == []
    # the document opens and the Reader lets the model read its Summarize prompt ahead; the
    # press reuses that reading (the runtime reads at most a token or two more)
    again.open_text("Library", NOTE)
    again.page.click("[data-testid=tool-summarize]")
    _foot(again)
    assert again.ev("byomBuiltin.lastRequest().timings.prompt_n") <= 4
    assert again.ev("byomBuiltin.lastRequest().promptTokens") > 20  # counted whole all the same
    assert again.ev("byomBuiltin.state().readAhead") == 1
    assert again.ev("localStorage.getItem('byom-builtin-read-rate')")  # seconds a token, kept
    # a request the model has not read (another language): before its first word the page says
    # about how long the reading takes, at the speed this device measured
    again.ev(
        """() => { window.__seen = [];
          new MutationObserver(() => {
            const el = document.querySelector('[data-testid=builtin-status]');
            if (el && el.checkVisibility()) window.__seen.push(el.textContent);
          }).observe(document.body, {childList: true, subtree: true, characterData: true}); }"""
    )
    again.ev(
        "(i) => { window.__runs = {}; window.__deltas = [];"
        " BYOM.run('summarize', i, {onDelta: d => window.__deltas.push(d),"
        " onBuiltinProgress: el => document.body.appendChild(el)})"
        ".then(r => { window.__runs.r = r; }); }",
        {"title": "Library", "text": NOTE, "lang": "nl"},
    )
    result = again.result(timeout=SLOW)
    seen = again.ev("window.__seen")
    assert any(re.search(r"first words in about \d+ s", text) for text in seen), seen
    assert result["ok"], result
    assert result["text"].strip()
    assert result["cost"]["exact"] == "0" and result["cost_source"] == "free"
    prompt, completion = result["tokens"]
    assert prompt > 20 and completion > 0  # the runtime's counts, not an estimate
    assert result["model"] == "smollm2-135m-instruct"
    assert "".join(again.ev("window.__deltas")) == result["text"]  # streamed from the first token
    assert again.ev("byomBuiltin.state().fromCache") is True
    assert [p for p in _runtime_requests(again) if "/model-" in p] == []
    assert _foreign(again, builtin_site) == []

    # the copy on this device gone: a later visit starts nothing and downloads nothing until
    # the user presses a feature (then the download shows its progress, as on the first visit)
    again.ev("byomBuiltin.forget()")
    third = Tab(context, builtin_site).open().ready()
    third.poll("document.documentElement.dataset.byomBuiltinWarm === 'not_on_device'")
    assert third.ev("byomBuiltin.loaded()") is False
    assert [p for p in _runtime_requests(third) if "/model-" in p or "wllama" in p] == []
    context.close()


def test_r9_1_finish_reason_is_length_at_max_tokens_with_runtime_counts(browser, builtin_site):
    context = new_context(browser)
    tab = Tab(context, builtin_site).open().ready()
    tab.ev("() => { BYOM.openWizard('summarize'); }")
    _use_builtin(tab)
    tab.poll("!document.querySelector('[data-testid=wizard]')", timeout=SLOW)
    story = [{"role": "user", "content": "Write a long story about a dragon who bakes bread."}]
    whole = _direct(tab, {"model": "smollm2-135m-instruct", "messages": story, "max_tokens": 4})
    assert whole["status"] == 200
    body = json.loads(whole["text"])
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 4
    assert body["usage"]["prompt_tokens"] > 5
    assert body["choices"][0]["message"]["content"].strip()
    streamed = _direct(
        tab,
        {"model": "smollm2-135m-instruct", "messages": story, "max_tokens": 3, "stream": True},
    )
    events = [
        json.loads(line[6:]) for line in streamed["text"].splitlines() if line.startswith("data: {")
    ]
    assert streamed["text"].rstrip().endswith("data: [DONE]")
    finishes = [c["finish_reason"] for e in events for c in e["choices"] if c.get("finish_reason")]
    assert finishes == ["length"]
    usage = [e["usage"] for e in events if e.get("usage")]
    assert usage and usage[-1]["completion_tokens"] == 3
    context.close()


def test_r9_1_a_cancelled_generation_stops(browser, builtin_site):
    context = new_context(browser)
    tab = Tab(context, builtin_site).open().ready()
    tab.open_text("Library", NOTE)
    tab.ev("() => { BYOM.openWizard('summarize'); }")
    _use_builtin(tab)
    tab.poll("!document.querySelector('[data-testid=wizard]')", timeout=SLOW)
    # abort at the first word; record every word that still arrives
    tab.ev(
        """(text) => {
          const controller = new AbortController();
          window.__after = 0; window.__aborted = false;
          BYOM.run('ask', {title: 'Library', text: text, lang: 'en',
                           question: 'Tell a very long story about this library.'},
            {signal: controller.signal,
             onDelta: () => { if (window.__aborted) window.__after += 1;
                              else { window.__aborted = true; controller.abort(); } }})
            .then(r => { window.__cancelled = r; });
        }""",
        NOTE,
    )
    result = json.loads(tab.poll("window.__cancelled && JSON.stringify(window.__cancelled)", SLOW))
    assert result["ok"] is False and result["code"] == "cancelled"
    # nothing on the device can bill: the cost row says "stopped" at $0, never "cost unknown"
    row = "[data-testid=cost-row][data-state=failed]"
    tab.poll(f"!!document.querySelector('{row} [data-testid=cost-outcome]')")
    outcome = tab.page.locator(f"{row} [data-testid=cost-outcome]").first
    assert outcome.is_visible() and outcome.inner_text().strip() == "stopped"
    assert tab.page.locator(f"{row} [data-testid=cost-value]").first.get_attribute("value") == "0"
    # the runtime let go of the request (an event), having produced at most one more token
    tab.poll("byomBuiltin.lastRequest() && byomBuiltin.lastRequest().finished", SLOW)
    record = tab.ev("byomBuiltin.lastRequest()")
    assert record["aborted"] is True and record["afterAbort"] <= 1
    assert tab.ev("window.__after") == 0
    # and the runtime is free for the next request
    nxt = _direct(
        tab,
        {
            "model": "smollm2-135m-instruct",
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 2,
        },
    )
    assert json.loads(nxt["text"])["usage"]["completion_tokens"] == 2
    # a feature beyond the small model (a frontier one, an agent with tools) is refused
    # before anything runs, in words that offer to connect a provider
    before = tab.ev("JSON.stringify(byomBuiltin.lastRequest())")
    for feature in ("critique", "research"):
        tab.start_run(feature, {"title": "Library", "text": NOTE, "question": "Why?"}, feature)
        refused = tab.result(feature)
        assert refused["ok"] is False and refused["code"] == "builtin_too_small", refused
        assert "provider" in refused["message"]
    assert tab.ev("JSON.stringify(byomBuiltin.lastRequest())") == before  # nothing reached it
    # the connection panel says the built-in model is active and offers to switch
    tab.ev("() => { BYOM.openPanel(); }")
    tab.poll("!!document.querySelector('[data-testid=panel-connection]')")
    panel = tab.page.locator("[data-testid=panel-connection]")
    assert panel.is_visible() and panel.get_attribute("data-active") == "builtin"
    assert tab.visible("[data-testid=panel-switch]")
    context.close()


def test_r9_2_provider_call_works_under_coop_coep(browser, builtin_site, sim):
    context = new_context(browser)
    tab = Tab(context, builtin_site).open().ready()
    assert tab.ev("crossOriginIsolated") is True
    tab.open_text("Library", NOTE)
    tab.start_run("summarize", {"title": "Library", "text": NOTE, "lang": "en"})
    tab.connect()  # "Continue" on the first screen: the providers (the simulator first)
    result = tab.result(timeout=SLOW)
    assert result["ok"], result
    assert result["cost_source"] != "free" and result["cost"]["exact"] not in (None, "0")
    assert tab.shell_status()["option"] == "sim"
    assert _runtime_requests(tab) == []  # the built-in model was never loaded
    assert tab.csp_violations() == []
    # the panel lets the user switch to the built-in model at any time
    tab.ev("() => { BYOM.openPanel(); }")
    tab.poll("!!document.querySelector('[data-testid=panel-use-builtin]')")
    assert tab.visible("[data-testid=panel-use-builtin]")
    tab.page.click("[data-testid=panel-use-builtin]")
    tab.poll("!!document.querySelector('[data-testid=wizard-builtin-section]')")
    assert tab.visible("[data-testid=wizard-builtin-start]")
    context.close()


VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.mark.parametrize(
    ("locale", "device"), [("en-US", "desktop"), ("nl-NL", "desktop"), ("en-US", "phone")]
)
def test_r9_2_builtin_screens(browser, builtin_site, locale, device, tmp_path):
    out = Path(os.environ.get("BYOM_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    lang = locale[:2]
    context = new_context(browser, locale=locale, **VIEWPORTS[device])
    tab = Tab(context, builtin_site).open().ready()
    page = tab.page
    tab.open_sample(0)
    page.click("[data-testid=tool-summarize]")
    tab.poll("!!document.querySelector('[data-testid=wizard-builtin-choice]')")
    page.screenshot(path=str(out / f"{lang}-{device}-builtin-01-wizard.png"))
    # slow the download so its progress can be seen (DevTools network throttling)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": 4e6, "uploadThroughput": 4e6},
    )
    page.click("[data-testid=wizard-builtin]")
    page.click("[data-testid=wizard-builtin-start]")
    tab.poll(
        "Number(document.querySelector('[data-testid=builtin-progress]')?.value || 0) >= 20",
        SLOW,
    )
    assert tab.visible("[data-testid=builtin-progress]")
    page.screenshot(path=str(out / f"{lang}-{device}-builtin-02-download.png"))
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    foot = _foot(tab)
    assert "0,00" in foot or "0.00" in foot, foot
    assert "tokens" in foot
    page.locator("#result-foot").scroll_into_view_if_needed()
    page.screenshot(path=str(out / f"{lang}-{device}-builtin-03-summary.png"))
    # another document, pressed at once: the model is still reading it ahead, and the page says
    # about how long is left before the first word
    tab.open_text("Library", NOTE)
    page.click("[data-testid=tool-summarize]")
    tab.poll(
        "document.querySelector('.byom-builtin-progress')?.dataset.phase === 'reading' && "
        "/\\b\\d+ s\\b/.test(document.querySelector('[data-testid=builtin-status]').textContent)",
        SLOW,
    )
    assert tab.visible("[data-testid=builtin-status]")
    status = page.locator("[data-testid=builtin-status]").inner_text()
    assert re.search(r"\b\d+ s\b", status), status
    page.screenshot(path=str(out / f"{lang}-{device}-builtin-04-reading.png"))
    _foot(tab)
    assert tab.csp_violations() == []
    context.close()


def test_r9_1_a_runtime_that_never_starts_ends_in_a_plain_error(browser, builtin_site):
    """A refused wasm compile leaves wllama's loadModel() hanging for good (shared/spec): our
    own timeout around it ends the wait with a plain error, and the page stays usable."""
    context = new_context(browser)
    tab = Tab(context, builtin_site).open().ready()
    # the runtime's WebAssembly replaced by bytes that do not compile
    tab.page.route(
        "**/builtin/wllama-*/wllama.wasm",
        lambda route: route.fulfill(
            status=200, body=b"\x00asm\x01\x00\x00\x00garbage", content_type="application/wasm"
        ),
    )
    outcome = tab.ev(
        """async () => {
          const cfg = BYOM._config.builtin;
          await new Promise((resolve) => {
            const s = document.createElement('script');
            s.src = cfg.script; s.integrity = cfg.script_integrity; s.onload = resolve;
            document.head.appendChild(s);
          });
          byomBuiltin.configure(cfg);
          try { await byomBuiltin.load({timeoutMs: 20000}); return 'loaded'; }
          catch (e) { return e.byomCode + ': ' + e.message; }
        }"""
    )
    assert outcome in (
        "timeout: The built-in model did not start in this browser.",
        "load: The built-in model did not start in this browser.",
    ), outcome
    assert tab.ev("byomBuiltin.state().phase") == "failed"
    assert tab.ev("byomBuiltin.loaded()") is False
    context.close()
