"""Every screen of the reference app, desktop and a 390-px phone, English and Dutch.

Doubles as a visual smoke test (each screen is reached, nothing violates the CSP). The committed
images in ``docs/screenshots/`` are made with::

    BYOM_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest tests/test_web_screenshots.py

The research screens (an agent run: steps, sources, the grouped cost row, a stop reason) are
made for English and Dutch on the desktop and English on the phone; ``-k research`` makes only
those.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from _web_support import CANARY_KEY, Tab, browser, new_context, sim, web_sim, web_site
from conftest import wait_until

pytestmark = pytest.mark.browser
_FIXTURES = (browser, sim, web_sim, web_site)  # imported for pytest
CHAT = "/api/v1/chat/completions"

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.mark.parametrize("locale", ["en-US", "nl-NL"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_every_screen(browser, web_site, sim, locale, device, tmp_path):
    out = Path(os.environ.get("BYOM_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    lang = locale[:2]
    context = new_context(browser, locale=locale, **VIEWPORTS[device])
    tab = Tab(context, web_site)
    page = tab.page
    shots: list[str] = []

    def shot(name: str, number: int | None = None) -> None:
        """A screen in the walk's order; ``number`` for one added later (issue 13: 15-16)."""
        if number is None:
            number = sum(1 for s in shots if int(s.split("-")[2]) < 15) + 1
        path = out / f"{lang}-{device}-{number:02d}-{name}.png"
        page.screenshot(path=str(path))
        shots.append(path.name)

    tab.open().ready()
    shot("welcome")
    tab.open_sample(0)
    shot("document")
    page.fill("[data-testid=search]", "key")
    tab.poll("document.querySelectorAll('#doc mark').length > 0")
    page.wait_for_timeout(300)
    shot("search")
    page.fill("[data-testid=search]", "")
    page.evaluate("window.scrollTo(0, 0)")
    if device == "phone":
        page.locator("[data-testid=tool-summarize]").scroll_into_view_if_needed()
    page.click("[data-testid=tool-summarize]")
    tab.poll("!!document.querySelector('[data-testid=wizard]')")
    page.wait_for_timeout(200)
    shot("wizard-1-before-you-connect")
    page.click("[data-testid=wizard-next]")
    # A key of another provider's shape is caught before anything is sent (issue 13).
    page.fill("[data-testid=wizard-key-input]", "sk-proj-0123456789abcdefghij")
    page.click("[data-testid=wizard-validate]")
    tab.poll("document.querySelector('[data-testid=wizard-message]').dataset.code")
    extra = [("wizard-2-key-shape", 15)]
    shot(*extra[0])
    page.fill("[data-testid=wizard-key-input]", CANARY_KEY)
    tab.ev(
        "() => { const m = document.querySelector('[data-testid=wizard-message]');"
        " m.textContent = ''; m.className = 'byom-msg'; delete m.dataset.code; }"
    )
    shot("wizard-2-your-key")
    page.click("[data-testid=wizard-validate]")
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
    shot("wizard-3-model-and-allowance")
    page.fill("[data-testid=wizard-amount]", "2,00" if lang == "nl" else "2.00")
    sim.config(stream_delay=0.5)
    page.click("[data-testid=wizard-finish]")
    tab.poll("document.querySelector('[data-testid=cost-row][data-state=pending]')")
    tab.poll("document.querySelector('[data-testid=result-body]').textContent.length > 40")
    shot("cost-pending")
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    sim.config(stream_delay=0)
    page.wait_for_timeout(200)
    shot("cost-landed")
    page.fill("[data-testid=ask-input]", "What should I set at the provider?")
    page.click("[data-testid=tool-ask]")
    tab.poll("document.querySelectorAll('[data-testid=cost-row][data-state=landed]').length == 2")
    tab.ev("() => BYOM._setAllowance('0.0001', 'day')")
    page.click("[data-testid=tool-critique]")
    tab.poll("document.querySelector('[data-testid=result-foot]').dataset.code")
    page.locator("[data-testid=result-foot]").scroll_into_view_if_needed()
    shot("error-over-allowance")
    tab.ev("() => BYOM._setAllowance('2', 'day')")
    page.click("[data-testid=byom-chip]")
    tab.poll("document.querySelectorAll('[data-testid=history-row]').length >= 2")
    page.wait_for_timeout(200)
    shot("connection-panel")
    page.locator("[data-testid=panel-history]").scroll_into_view_if_needed()
    shot("connection-panel-history")
    page.click("[data-testid=history-delete]")
    tab.poll("!!document.querySelector('[data-testid=confirm-delete]')")
    shot("history-delete-confirm", 16)
    page.click("[data-testid=confirm-delete-no]")
    tab.poll("!document.querySelector('[data-testid=confirm-delete]')")
    assert tab.csp_violations() == []
    assert not tab.errors
    assert len(shots) == 13
    context.close()


#: Brings an element to the top: of the page (phone), or of the tools column, which scrolls on
#: its own beside the document (desktop).
SCROLL_TO = """(selector) => {
  const el = document.querySelector(selector);
  const tools = document.getElementById('tools');
  if (getComputedStyle(tools).position !== 'sticky') { el.scrollIntoView(); return; }
  const top = el.getBoundingClientRect().top - tools.getBoundingClientRect().top;
  tools.scrollTop += top - 12;
}"""

RESEARCH_QUESTION = {
    "en": "Where do I set the spend limit, and why does it matter?",
    "nl": "Waar stel ik de bestedingslimiet in, en waarom is die belangrijk?",
}


@pytest.mark.parametrize(
    ("locale", "device"),
    [("en-US", "desktop"), ("nl-NL", "desktop"), ("en-US", "phone")],
    ids=["en-desktop", "nl-desktop", "en-phone"],
)
def test_research_screens(browser, web_site, sim, locale, device, tmp_path):
    out = Path(os.environ.get("BYOM_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    lang = locale[:2]
    context = new_context(browser, locale=locale, **VIEWPORTS[device])
    tab = Tab(context, web_site)
    page = tab.page
    shots: list[str] = []

    def shot(number: int, name: str, focus: str) -> None:
        page.evaluate(SCROLL_TO, focus)
        page.wait_for_timeout(400)
        path = out / f"{lang}-{device}-{number:02d}-{name}.png"
        page.screenshot(path=str(path))
        shots.append(path.name)

    tab.open().ready()
    tab.open_sample(0)
    sim.config(tool_steps=4, stream_hold_after=0)  # every step waits at the simulator
    page.fill("[data-testid=research-input]", RESEARCH_QUESTION[lang])
    if device == "phone":
        page.locator("[data-testid=tool-research]").scroll_into_view_if_needed()
    page.click("[data-testid=tool-research]")
    tab.connect(CANARY_KEY, amount="2,00" if lang == "nl" else "2.00")
    for step in (1, 2, 3, 4):  # let steps 1-3 land one by one; step 4 stays in flight
        wait_until(lambda s=step: sim.counts().get(CHAT, 0) == s, f"step {step} sent")
        if step < 4:
            sim.release()
    tab.poll("document.querySelectorAll('[data-testid=result-step]').length === 3")
    tab.poll("document.querySelector('[data-testid=cost-run] [data-state=pending]')")
    shot(12, "research-running", "[data-testid=cost-surface]")
    sim.config(stream_hold_after=None)
    sim.release()
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    shot(13, "research-answer", "[data-testid=result]")  # with its sources below the answer
    # A run that stops before it answers says why, in plain words.
    tab.ev(
        "(q) => { window.__stopped = null;"
        " Reader.research(q, {maxSteps: 2}).then(r => { window.__stopped = r; }); }",
        RESEARCH_QUESTION[lang],
    )
    tab.poll("window.__stopped && window.__stopped.stopped === 'max_steps'")
    focus = "[data-testid=result-foot]" if device == "phone" else "[data-testid=result]"
    shot(14, "research-stopped", focus)
    assert tab.csp_violations() == []
    assert not tab.errors
    assert len(shots) == 3
    context.close()
