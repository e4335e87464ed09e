"""Every screen of the reference app, desktop and a 390-px phone, English and Dutch.

Doubles as a visual smoke test (each screen is reached, nothing violates the CSP). The committed
images in ``docs/screenshots/`` are made with::

    BYOM_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest tests/test_web_screenshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from _web_support import CANARY_KEY, Tab, browser, new_context, sim, web_sim, web_site

pytestmark = pytest.mark.browser
_FIXTURES = (browser, sim, web_sim, web_site)  # imported for pytest

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

    def shot(name: str) -> None:
        path = out / f"{lang}-{device}-{len(shots) + 1:02d}-{name}.png"
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
    page.fill("[data-testid=wizard-key-input]", CANARY_KEY)
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
    assert tab.csp_violations() == []
    assert not tab.errors
    assert len(shots) == 11
    context.close()
