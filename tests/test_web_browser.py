"""The browser kit's acceptance, in Debian Chromium against ``byom sim`` (issue 5).

One built Reader site (a demo build: the simulator is a provider option), one simulator, one
browser per session; each test opens fresh browser contexts (fresh storage).
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from _web_support import (
    CANARY_KEY,
    CANARY_PROMPT,
    Tab,
    browser,
    new_context,
    sim,
    web_sim,
    web_site,
)
from conftest import wait_until

pytestmark = pytest.mark.browser
_FIXTURES = (browser, sim, web_sim, web_site)  # imported for pytest

CHAT = "/api/v1/chat/completions"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def storage_dump(tab: Tab) -> str:
    """Everything the page's origin keeps: local/session storage, IndexedDB, cookies, caches."""
    dump = tab.ev(
        """async () => {
        const out = {local: {}, session: {}, idb: {}, caches: {}};
        for (const [k, v] of Object.entries(localStorage)) out.local[k] = v;
        for (const [k, v] of Object.entries(sessionStorage)) out.session[k] = v;
        for (const info of await indexedDB.databases()) {
          const db = await new Promise((res, rej) => {
            const r = indexedDB.open(info.name);
            r.onsuccess = () => res(r.result);
            r.onerror = () => rej(r.error);
          });
          for (const name of db.objectStoreNames) {
            out.idb[info.name + '/' + name] = await new Promise((res) => {
              const q = db.transaction(name).objectStore(name).getAll();
              q.onsuccess = () => res(q.result);
            });
          }
          db.close();
        }
        for (const name of await caches.keys()) {
          const cache = await caches.open(name);
          out.caches[name] = [];
          for (const req of await cache.keys()) {
            const r = await cache.match(req);
            out.caches[name].push(req.url + ' ' + await r.text());
          }
        }
        out.cookie = document.cookie;
        return JSON.stringify(out);
    }"""
    )
    cookies = json.dumps(tab.context.cookies())
    return dump + cookies


def summarize_inputs() -> dict[str, Any]:
    return {"title": "Canary", "text": CANARY_PROMPT + " " + "word " * 200, "lang": "en"}


# ---------------------------------------------------------------------------------------------


def test_r5_1_free_core_works_without_key_and_stays_on_its_origin(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open()
    assert tab.visible("[data-testid=welcome]")
    tab.open_sample(0)
    assert tab.visible("[data-testid=document]")
    outline = tab.page.locator("[data-testid=outline] a")
    assert outline.count() >= 4
    assert "min read" in tab.page.inner_text("[data-testid=reading-time]")
    tab.page.fill("[data-testid=search]", "key")
    tab.poll("document.querySelectorAll('#doc mark').length > 0")
    assert " of " in tab.page.inner_text("[data-testid=search-count]")
    tab.page.click("[data-testid=add-bookmark]")
    assert tab.page.locator("[data-testid=bookmark]").count() == 1
    tab.ready()  # Python loads in the background, from the same origin only
    time.sleep(0.3)
    assert {origin(r.url) for r in tab.requests} == {origin(web_site.url)}
    assert not any(sim.counts().values())
    assert tab.csp_violations() == []
    # Bookmarks persist per document.
    tab.open()
    tab.open_sample(0)
    assert tab.page.locator("[data-testid=bookmark]").count() == 1
    context.close()


@pytest.mark.parametrize(
    ("locale", "first_heading"),
    [("en-US", "What connecting does"), ("nl-NL", "Wat koppelen doet")],
)
def test_r5_2_wizard_screens_visible_in_order(browser, web_site, sim, locale, first_heading):
    context = new_context(browser, locale=locale)
    tab = Tab(context, web_site).open().ready()
    tab.open_sample(1)
    assert not tab.page.locator("[data-testid=wizard]").count(), "no wizard before a model feature"
    tab.page.click("[data-testid=tool-summarize]")
    tab.poll("!!document.querySelector('[data-testid=wizard]')")
    order = ["wizard-what", "wizard-key-what", "wizard-limit", "wizard-threat"]
    tops = []
    for testid in order:
        section = tab.page.locator(f"[data-testid={testid}]")
        section.scroll_into_view_if_needed()
        assert section.is_visible(), testid
        assert section.locator("p").first.is_visible()
        tops.append(
            section.bounding_box()["y"]
            + tab.ev("document.querySelector('.byom-wizard-body').scrollTop")
        )
    assert tops == sorted(tops)
    assert first_heading in tab.page.inner_text("[data-testid=wizard-what]")
    links = tab.page.locator("[data-testid=wizard-key-what] a, [data-testid=wizard-limit] a")
    # the Reader offers five providers: a key page and a limit page for each of the four that
    # take a key (Ollama's lines have its own words)
    count = links.count()
    assert count >= 8 and all(links.nth(i).is_visible() for i in range(count))
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(count)]
    for host in ("openrouter.ai", "platform.openai.com", "console.anthropic.com", "aistudio"):
        assert any(host in href for href in hrefs), host
    tab.page.click("[data-testid=wizard-next]")
    key_input = tab.page.locator("[data-testid=wizard-key-input]")
    assert key_input.is_visible() and key_input.get_attribute("type") == "password"
    assert tab.visible("[data-testid=wizard-pkce]")
    tab.page.fill("[data-testid=wizard-key-input]", CANARY_KEY)
    tab.page.click("[data-testid=wizard-validate]")
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
    # R5.3 order: validation result, persistence (off), model in the category, allowance.
    order3 = [
        "wizard-key-result",
        "wizard-remember-section",
        "wizard-model-section",
        "wizard-allowance",
    ]
    tops3 = []
    for testid in order3:
        section = tab.page.locator(f"[data-testid={testid}]")
        section.scroll_into_view_if_needed()
        assert section.is_visible(), testid
        tops3.append(
            section.bounding_box()["y"]
            + tab.ev("document.querySelector('.byom-wizard-body').scrollTop")
        )
    assert tops3 == sorted(tops3)
    assert not tab.page.is_checked("[data-testid=wizard-remember]")
    models = tab.page.locator("[data-testid=wizard-model] option").all_inner_texts()
    assert models and not any("Sonnet" in m for m in models), (
        "only worker models for a worker feature"
    )
    assert tab.page.locator(".byom-lede").is_visible()
    assert tab.csp_violations() == []
    context.close()


def test_r2_key_in_memory_only_and_sent_only_to_provider(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    tab.open_text("Canary", CANARY_PROMPT + "\n\n" + "A paragraph of words. " * 40)
    tab.page.click("[data-testid=tool-summarize]")
    tab.connect(CANARY_KEY)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    assert "Cost" in tab.page.inner_text("[data-testid=result-foot]")
    assert sim.counts().get(CHAT) == 1
    dump = storage_dump(tab)
    assert "sk-or-v1" not in dump and CANARY_KEY not in dump
    assert "CANARY" not in dump.replace("Canary", ""), "no key and no prompt in storage"
    # Every request carrying the key went to the provider origin only.
    provider = origin(sim.base_url)
    carrying = [
        r for r in tab.requests if CANARY_KEY in json.dumps(r.headers) + (r.post_data or "")
    ]
    assert carrying and {origin(r.url) for r in carrying} == {provider}
    assert {origin(r.url) for r in tab.requests} <= {origin(web_site.url), provider}
    assert not any(CANARY_KEY in m or "CANARY-PROMPT" in m for m in tab.console + tab.errors)
    assert tab.csp_violations() == []
    assert tab.shell_status()["key_where"] == ["memory"]
    # A reload forgets the key: the user has to connect again.
    tab.open().ready()
    assert tab.shell_status()["connected"] is False
    context.close()


def test_r2_2_opt_in_remembers_and_restores_and_clear_removes(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    tab.open_sample(0)
    tab.page.click("[data-testid=tool-summarize]")
    tab.connect(CANARY_KEY, remember=True)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    assert CANARY_KEY in storage_dump(tab)
    tab.open().ready()
    status = tab.shell_status()
    assert status["connected"] is True and "browser" in status["key_where"]
    # Clear the key from the connection panel: gone from memory and storage.
    tab.page.click("[data-testid=open-panel]")
    tab.poll("!!document.querySelector('[data-testid=panel-clear]')")
    tab.page.click("[data-testid=panel-clear]")
    tab.poll("!BYOM._status().connected")
    assert CANARY_KEY not in storage_dump(tab)
    assert tab.csp_violations() == []
    context.close()


def _allowance_for_one(tab: Tab, inputs: dict[str, Any]) -> Decimal:
    """An allowance that admits exactly one more request with ``inputs``: what already counts
    plus 1.5 × the worst-case estimate (both read from a refusal at $0)."""
    tab.ev("() => BYOM._setAllowance('0', 'total')")
    tab.start_run("summarize", inputs, "probe")
    refused = tab.result("probe")
    assert refused["code"] == "budget_exceeded"
    figures = refused["figures"]
    spent = Decimal(figures["spent"]["exact"])
    return spent + Decimal(figures["estimate"]["exact"]) * Decimal("1.5")


def _refuse_one_then_release(sim, runs: list[tuple[Tab, str]]) -> None:
    """With every stream held at the simulator: wait until one run has its result (refused)
    and the other has reached the simulator, then let that one finish."""
    wait_until(
        lambda: any(tab.ev("(s) => !!(window.__runs && window.__runs[s])", s) for tab, s in runs),
        "one run to be refused while the other is held",
    )
    wait_until(lambda: sim.counts().get(CHAT) == 1, "the admitted run to reach the simulator")
    sim.config(stream_hold_after=None)
    sim.release()


def test_r3_5_concurrent_requests_one_tab(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    tab.open_sample(0)
    tab.page.click("[data-testid=tool-summarize]")
    tab.connect(CANARY_KEY)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    inputs = summarize_inputs()
    allowance = _allowance_for_one(tab, inputs)
    sim.reset()
    sim.config(stream_hold_after=0)  # the admitted run stays in flight until released
    tab.ev("(a) => BYOM._setAllowance(a, 'total')", format(allowance, "f"))
    tab.start_run("summarize", inputs, "a")
    tab.start_run("summarize", inputs, "b")
    _refuse_one_then_release(sim, [(tab, "a"), (tab, "b")])
    a, b = tab.result("a"), tab.result("b")
    assert sorted([a.get("code", "ok"), b.get("code", "ok")]) == ["budget_exceeded", "ok"]
    assert sim.counts().get(CHAT) == 1
    assert tab.csp_violations() == []
    context.close()


def test_r3_5_concurrent_requests_two_tabs(browser, web_site, sim):
    context = new_context(browser)
    first = Tab(context, web_site).open().ready()
    first.open_sample(0)
    first.page.click("[data-testid=tool-summarize]")
    first.connect(CANARY_KEY, remember=True)  # so the second tab is connected too
    first.poll("document.querySelector('[data-testid=result-foot]').textContent")
    inputs = summarize_inputs()
    allowance = _allowance_for_one(first, inputs)
    second = Tab(context, web_site).open().ready()
    assert second.shell_status()["connected"] is True
    sim.reset()
    sim.config(stream_hold_after=0)  # the admitted run stays in flight until released
    first.ev("(a) => BYOM._setAllowance(a, 'total')", format(allowance, "f"))
    first.start_run("summarize", inputs, "a")
    second.start_run("summarize", inputs, "b")
    _refuse_one_then_release(sim, [(first, "a"), (second, "b")])
    a, b = first.result("a"), second.result("b")
    assert sorted([a.get("code", "ok"), b.get("code", "ok")]) == ["budget_exceeded", "ok"]
    assert sim.counts().get(CHAT) == 1
    assert first.csp_violations() == [] and second.csp_violations() == []
    context.close()


def test_r4_1_cost_pending_then_exact_and_leave_guard(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    tab.open_sample(1)
    assert tab.ev("BYOM.leaveGuard()") is False
    tab.page.click("[data-testid=tool-summarize]")
    tab.connect(CANARY_KEY)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    sent = sim.counts().get(CHAT, 0)
    sim.config(stream_hold_after=1)  # in flight until released, however slow the machine
    tab.page.click("[data-testid=tool-critique]")
    tab.poll("document.querySelector('[data-testid=cost-row][data-state=pending]')")
    assert tab.ev("BYOM.leaveGuard()") is True, "paid work in flight"
    row = tab.page.locator("[data-testid=cost-row]").first
    assert row.is_visible() and row.locator(".byom-pending").is_visible()
    assert tab.page.locator("[data-testid=cost-surface] header button").is_disabled()
    wait_until(lambda: sim.counts().get(CHAT, 0) == sent + 1, "the request to reach the sim")
    sim.config(stream_hold_after=None)
    sim.release()
    tab.poll("document.querySelector('[data-testid=cost-row]').dataset.state === 'landed'")
    # The guard holds until the page has written the result (just after the cost lands).
    tab.poll("BYOM.leaveGuard() === false")
    generations = sim.generations()
    shown = tab.page.locator("[data-testid=cost-row]").first.locator("[data-testid=cost-value]")
    assert Decimal(shown.get_attribute("value")) == Decimal(str(generations[-1]["cost"]))
    assert tab.page.locator("[data-testid=cost-row]").count() == 2, "one row per request"
    total = Decimal(tab.page.get_attribute("[data-testid=cost-total]", "value"))
    assert len(generations) == 2
    assert total == sum(Decimal(str(g["cost"])) for g in generations), "running total, exact"
    # History persists across a reload.
    tab.open().ready()
    tab.page.click("[data-testid=open-panel]")
    tab.poll("document.querySelectorAll('[data-testid=history-row]').length >= 2")
    assert tab.page.locator("[data-testid=history-chart]").is_visible()
    assert tab.csp_violations() == []
    context.close()


def test_r2_6_401_clears_key_and_reopens_wizard_403_keeps_it(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    tab.open_sample(0)
    tab.page.click("[data-testid=tool-summarize]")
    tab.connect(CANARY_KEY, remember=True)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    sim.push_faults([{"status": 403}])
    tab.start_run("summarize", summarize_inputs(), "flagged")
    assert tab.result("flagged")["code"] == "moderation_flagged"
    assert tab.shell_status()["connected"] is True
    assert CANARY_KEY in storage_dump(tab)
    sim.push_faults([{"status": 401}])
    tab.start_run("summarize", summarize_inputs(), "stale")
    assert tab.result("stale")["code"] == "key_rejected"
    assert tab.shell_status()["connected"] is False
    assert CANARY_KEY not in storage_dump(tab)
    tab.poll("!!document.querySelector('[data-testid=wizard]')")
    assert tab.visible("[data-testid=wizard-key-input]")
    assert tab.csp_violations() == []
    context.close()


def test_csp_detector_sees_a_violation(browser, web_site, sim):
    """The violation listener works: an off-list fetch from the page is reported (so the
    zero-violation assertions above cannot pass silently)."""
    context = new_context(browser)
    tab = Tab(context, web_site).open()
    tab.ev("() => fetch('http://127.0.0.1:9/x').catch(() => null)")
    tab.poll("window.__csp.length > 0")
    assert "connect-src" in tab.csp_violations()[0]
    context.close()


def test_pkce_connects_without_copy_paste(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    tab.open_sample(0)
    tab.page.click("[data-testid=tool-summarize]")
    tab.poll("!!document.querySelector('[data-testid=wizard]')")
    tab.page.click("[data-testid=wizard-next]")
    tab.page.click("[data-testid=wizard-pkce]")
    tab.ready()  # back from the provider's authorize page with ?code=
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
    assert tab.shell_status()["connected"] is True
    assert "code=" not in tab.page.url
    counts = sim.counts()
    assert counts.get("/auth") == 1 and counts.get("/api/v1/auth/keys") == 1
    assert tab.visible("[data-testid=document]"), "the open document survived the redirect"
    dump = storage_dump(tab)
    assert "sk-or-v1-sim" not in dump and "verifier" not in dump
    assert tab.csp_violations() == []
    context.close()


def test_r3_4_cut_stream_counts_estimate_and_export_has_figures_only(browser, web_site, sim):
    context = new_context(browser, accept_downloads=True)
    tab = Tab(context, web_site).open().ready()
    tab.open_text("Canary", CANARY_PROMPT + "\n\n" + "Some words here. " * 30)
    tab.page.click("[data-testid=tool-summarize]")
    tab.connect(CANARY_KEY)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    sim.push_faults([{"kind": "cut_before_usage"}])
    tab.page.click("[data-testid=tool-summarize]")
    tab.poll("document.querySelector('[data-testid=result-foot]').dataset.code === 'interrupted'")
    assert tab.page.locator("[data-testid=cost-row][data-state=failed]").is_visible()
    tab.page.click("[data-testid=open-panel]")
    tab.poll("document.querySelectorAll('[data-testid=history-row]').length >= 2")
    assert tab.page.get_by_text("Stop counting").is_visible()
    with tab.page.expect_download() as info:
        tab.page.click("[data-testid=export-csv]")
    exported = Path(info.value.path()).read_text()
    assert exported.startswith("id,feature,provider,model,outcome")
    assert "unreconciled" in exported and "summarize" in exported
    assert CANARY_KEY not in exported and "CANARY-PROMPT" not in exported
    tab.page.get_by_text("Stop counting").click()
    tab.poll("!BYOM._status().unreconciled.length")
    assert not any(CANARY_KEY in m or "CANARY-PROMPT" in m for m in tab.console + tab.errors)
    assert tab.csp_violations() == []
    context.close()
