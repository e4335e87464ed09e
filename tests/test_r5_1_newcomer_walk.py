"""Issue 13: a newcomer's first ten minutes in the Reader, scripted, in both languages and at
both widths (a 1280-px desktop and a 390-px phone).

Fresh storage (a new browser profile: the browser's data dir) → open the Reader → the free
features → Summarize → the wizard (cancelled once, then finished) → the answer with its cost →
the connection panel → the history → delete, with confirmation. At every step the test asserts
what a person sees: the thing is visible on screen, in their language.
"""

from __future__ import annotations

import pytest

from _web_support import Tab, browser, new_context, sim, web_sim, web_site

pytestmark = pytest.mark.browser
_FIXTURES = (browser, sim, web_sim, web_site)  # imported for pytest

CHAT = "/api/v1/chat/completions"
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
WORDS = {
    "en": {
        "welcome": "Read your own documents, privately.",
        "connect": "Connect a model",
        "connected": "Model connected",
        "wizard": "Connect your own model",
        "amount": "2.50",
        "min": "min read",
        "confirm": "does not reset your allowance",
        "empty": "No requests yet.",
    },
    "nl": {
        "welcome": "Lees je eigen documenten, privé.",
        "connect": "Koppel een model",
        "connected": "Model gekoppeld",
        "wizard": "Koppel je eigen model",
        "amount": "2,50",
        "min": "min lezen",
        "confirm": "zet je budget niet terug",
        "empty": "Nog geen verzoeken.",
    },
}

ON_SCREEN = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
    && r.top < innerHeight && r.left < innerWidth;
}"""


class Walk:
    """The newcomer's tab, with 'it is there and on screen' as the one kind of check."""

    def __init__(self, tab: Tab) -> None:
        self.tab = tab
        self.page = tab.page

    def sees(self, selector: str, text: str | None = None) -> str:
        locator = self.page.locator(selector).first
        locator.scroll_into_view_if_needed()
        self.tab.poll(ON_SCREEN, arg=selector)
        assert locator.is_visible(), selector
        shown = locator.inner_text()
        if text is not None:
            assert text in shown, (selector, text, shown)
        return shown

    def gone(self, selector: str) -> None:
        self.tab.poll("(s) => !document.querySelector(s)", arg=selector)

    def click(self, selector: str) -> None:
        self.sees(selector)
        self.page.click(selector)


@pytest.mark.parametrize("locale", ["en-US", "nl-NL"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_r5_1_newcomer_walk(browser, web_site, sim, locale, device):
    lang = locale[:2]
    words = WORDS[lang]
    context = new_context(browser, locale=locale, **DEVICES[device])
    tab = Tab(context, web_site).open()
    walk = Walk(tab)
    page = tab.page

    # A fresh browser: the Reader opens on its welcome, nothing connected.
    walk.sees("[data-testid=welcome] h1", words["welcome"])
    walk.sees("[data-testid=sample]")
    tab.ready()
    walk.sees("[data-testid=byom-chip]", words["connect"])

    # The free features: a document, its outline, reading time, search, a bookmark.
    page.locator("[data-testid=sample]").first.click()
    walk.sees("[data-testid=document] h2")
    walk.sees("[data-testid=reading-time]", words["min"])
    walk.sees("[data-testid=outline] a")
    page.evaluate("window.scrollTo(0, 0)")
    page.fill("[data-testid=search]", "key")
    tab.poll("document.querySelectorAll('#doc mark').length > 0")
    walk.sees("[data-testid=search-count]")
    walk.sees("#search-next")
    walk.click("[data-testid=add-bookmark]")
    walk.sees("[data-testid=bookmark]")
    page.fill("[data-testid=search]", "")
    assert sim.counts().get(CHAT, 0) == 0 and not any(sim.counts().values())

    # Summarize: on a phone the tools are reached with the button, not 2,000 px of scrolling.
    page.evaluate("window.scrollTo(0, 0)")
    if device == "phone":
        walk.click("[data-testid=jump-tools]")
        tab.poll(ON_SCREEN, arg="[data-testid=tool-summarize]")
    walk.click("[data-testid=tool-summarize]")
    walk.sees("[data-testid=wizard]", words["wizard"])
    assert not tab.visible("[data-testid=result]"), "no result card before anything is sent"

    # Cancel once: nothing connected, nothing allowed, nothing sent.
    walk.click("[data-testid=wizard-cancel]")
    walk.gone("[data-testid=wizard]")
    tab.poll("document.querySelector('[data-testid=byom-chip]').dataset.state === 'connect'")
    walk.sees("[data-testid=byom-chip]", words["connect"])
    assert sim.counts().get(CHAT, 0) == 0

    # Then finish: the simulated key, its check, the model and the allowance.
    walk.click("[data-testid=tool-summarize]")
    walk.sees("[data-testid=wizard-what]")
    walk.click("[data-testid=wizard-next]")
    walk.sees("[data-testid=wizard-key-input]")
    walk.click("[data-testid=wizard-sim-key]")
    walk.sees("[data-testid=wizard-message]")
    walk.click("[data-testid=wizard-validate]")
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
    walk.sees("[data-testid=wizard-key-result]")
    walk.sees("[data-testid=wizard-model]")
    page.fill("[data-testid=wizard-amount]", words["amount"])
    walk.click("[data-testid=wizard-finish]")
    walk.gone("[data-testid=wizard]")

    # The answer, with its cost, in view.
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent.indexOf('$') >= 0")
    walk.sees("[data-testid=result-body] p")
    walk.sees("[data-testid=result-foot]", "$")
    walk.sees("[data-testid=cost-row][data-state=landed] [data-testid=cost-value]")
    walk.sees("[data-testid=byom-chip]", words["connected"])
    assert sim.counts().get(CHAT, 0) == 1

    # The panel: what the allowance counts, made of its parts; the history with its cost.
    page.evaluate("window.scrollTo(0, 0)")
    walk.click("[data-testid=byom-chip]")
    walk.sees("[data-testid=panel]")
    walk.sees("[data-testid=panel-spent]", "2" + ("," if lang == "nl" else ".") + "50")
    walk.sees("[data-testid=spend-settled]")
    walk.sees("[data-testid=spend-counted]")
    walk.sees("[data-testid=history-row]")
    walk.sees("[data-testid=history-cost]", "$")

    # Delete, with confirmation: the dialog says the allowance stays.
    walk.click("[data-testid=history-delete]")
    walk.sees("[data-testid=confirm-delete]", words["confirm"])
    walk.click("[data-testid=confirm-delete-yes]")
    walk.gone("[data-testid=confirm-delete]")
    walk.gone("[data-testid=history-row]")
    walk.sees("[data-testid=panel-history]", words["empty"])
    walk.sees("[data-testid=panel-spent]", "2" + ("," if lang == "nl" else ".") + "50")
    assert tab.shell_status()["allowances"][0]["amount"]["exact"] == "2.50"

    assert tab.csp_violations() == []
    assert not tab.errors
    context.close()
