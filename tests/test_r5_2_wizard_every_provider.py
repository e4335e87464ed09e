"""R5.2 for every provider a page can offer (issue 12, part 2), in Chromium against ``byom sim``.

One Reader site declares all six providers (``openrouter``, ``openai``, ``anthropic``,
``gemini``, ``ollama``, ``compatible``) and is built as a test build whose providers are all
served by the simulator (``build_site(..., sim_providers=...)``). Each provider's path through
the wizard is walked: its own guide (what a key is, where to get one, where to set a limit, with
the provider's links), its own key check (the shape first, in the page, nothing sent; then the
real check at the simulated provider), and for the key providers a feature run to its answer.
Ollama's path is walked with the simulated Ollama refusing the page's origin, as a real Ollama
does when ``OLLAMA_ORIGINS`` does not name it: the wizard shows the exact instruction for the
user's system with the page's origin filled in. The compatible server's path refuses an address
off this machine before anything is sent.

Screenshots (en, nl) of every provider's key screen and of the Ollama instruction: in
``BYOM_SCREENSHOT_DIR`` when set (``docs/screenshots``), else a temporary folder::

    BYOM_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest tests/test_r5_2_wizard_every_provider.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from _web_support import READER, Tab, browser, new_context, sim, web_sim
from byom.sim import Simulator
from byom.web.build import build_site
from byom.web.serve import Site

pytestmark = pytest.mark.browser
_FIXTURES = (browser, sim, web_sim)  # imported for pytest

EVERY = ["openrouter", "openai", "anthropic", "gemini", "ollama", "compatible"]
LOCALES = ["en-US", "nl-NL"]
KEYS = {
    "openrouter": "sk-or-v1-every-provider-0123456789abcdef",
    "openai": "sk-proj-every-provider-0123456789abcdef",
    "anthropic": "sk-ant-api03-every-provider-0123456789abcdef",
    "gemini": "AIzaSyEveryProvider0123456789abcdefghij",
}
#: A key of another provider, pasted in the wrong place, and who it belongs to.
WRONG = {
    "openrouter": ("openai", "OpenAI"),
    "openai": ("anthropic", "Anthropic"),
    "anthropic": ("openai", "OpenAI"),
    "gemini": ("openrouter", "OpenRouter"),
}
#: The provider's own key check: the request the wizard makes with the key.
CHECK = {
    "openrouter": "/api/v1/key",
    "openai": "/v1/models",
    "anthropic": "/v1/models",
    "gemini": "/v1beta/models",
}
LINKS = {
    "openrouter": ("https://openrouter.ai/keys", "https://openrouter.ai/settings/keys"),
    "openai": (
        "https://platform.openai.com/api-keys",
        "https://platform.openai.com/settings/organization/limits",
    ),
    "anthropic": (
        "https://console.anthropic.com/settings/keys",
        "https://console.anthropic.com/settings/limits",
    ),
    "gemini": (
        "https://aistudio.google.com/apikey",
        "https://console.cloud.google.com/billing/budgets",
    ),
    "ollama": (
        "https://ollama.com/download",
        "https://github.com/ollama/ollama/blob/main/docs/faq.md",
    ),
}
#: Words of each provider's own guide, per language (what the user reads for that provider).
GUIDE_WORDS = {
    "openrouter": {"en": "credit limit at OpenRouter", "nl": "kredietlimiet bij OpenRouter"},
    "openai": {"en": "OpenAI sets no limit per key", "nl": "OpenAI kent geen limiet per sleutel"},
    "anthropic": {"en": "Settings → Limits", "nl": "Settings → Limits"},
    "gemini": {"en": "Google AI Studio", "nl": "Google AI Studio"},
    "ollama": {"en": "OLLAMA_ORIGINS", "nl": "OLLAMA_ORIGINS"},
    "compatible": {"en": "never leave your device", "nl": "verlaten je apparaat niet"},
}
KEY_OK = {"en": "The key works.", "nl": "De sleutel werkt."}
SERVER_OK = {"en": "the server answers this page", "nl": "de server antwoordt deze pagina"}


@pytest.fixture(scope="module")
def every_site(web_sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("every-app") / "reader"
    shutil.copytree(READER, root, ignore=shutil.ignore_patterns("__pycache__"))
    toml = (root / "byom-app.toml").read_text()
    declared = f"providers = {json.dumps(list(EVERY))}"
    toml = re.sub(r"(?m)^providers = .*$", lambda _: declared, toml)
    assert declared in toml  # the Reader's own list is replaced, whatever it is
    (root / "byom-app.toml").write_text(toml)
    out = root.parent / "dist"
    build_site(root, out, sim_providers=web_sim.base_url)
    site = Site(out).start()
    yield site
    site.stop()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("BYOM_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def open_wizard(tab: Tab) -> None:
    tab.open().ready()
    tab.open_sample(1)
    tab.page.click("[data-testid=tool-summarize]")
    tab.poll("!!document.querySelector('[data-testid=wizard]')")


def choose(tab: Tab, kind: str) -> None:
    """Step 1 → step 2, then the provider's radio."""
    tab.page.click("[data-testid=wizard-next]")
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '2'")
    tab.page.click(f"[data-testid=wizard-provider] [data-option={kind}]")
    tab.poll("(k) => document.querySelector('.byom-option-body')?.dataset.kind === k", arg=kind)


def guide_of(tab: Tab, kind: str, lang: str) -> None:
    """The provider's own guide is visible, in the page's language, with its links."""
    guide = tab.page.locator("[data-testid=wizard-option-guide]")
    assert guide.is_visible() and guide.get_attribute("data-provider") == kind
    assert GUIDE_WORDS[kind][lang] in guide.inner_text()
    hrefs = tab.ev(
        "() => [...document.querySelectorAll('[data-testid=wizard-option-guide] a')]"
        ".map(a => a.href)"
    )
    if kind in LINKS:
        assert list(LINKS[kind]) == hrefs
        links = guide.locator("a")
        assert all(links.nth(i).is_visible() for i in range(links.count()))
    else:
        assert hrefs == []  # a server of your own: no account, no provider page


def message(tab: Tab) -> dict[str, Any]:
    code = tab.poll("document.querySelector('[data-testid=wizard-message]')?.dataset.code || ''")
    msg = tab.page.locator("[data-testid=wizard-message]")
    assert msg.is_visible()
    return {"code": code, "text": msg.inner_text()}


def shot(
    tab: Tab, out: Path, lang: str, name: str, *, top: bool = False, device: str = "desktop"
) -> None:
    """A picture of the page; ``top``: the wizard's body scrolled to its start first."""
    if top:
        tab.ev("() => { document.querySelector('.byom-wizard-body').scrollTop = 0; }")
    tab.page.wait_for_timeout(150)  # let the last layout settle (the picture only)
    tab.page.screenshot(path=str(out / f"{lang}-{device}-{name}.png"))


@pytest.mark.parametrize("locale", LOCALES)
def test_r5_2_step1_names_every_declared_provider(browser, every_site, sim, locale, shots):
    lang = locale[:2]
    context = new_context(browser, locale=locale, viewport={"width": 1280, "height": 900})
    tab = Tab(context, every_site)
    open_wizard(tab)
    key_links = tab.ev(
        "() => [...document.querySelectorAll('[data-testid=wizard-key-what] a')].map(a => a.href)"
    )
    limit_links = tab.ev(
        "() => [...document.querySelectorAll('[data-testid=wizard-limit] a')].map(a => a.href)"
    )
    assert key_links == [LINKS[k][0] for k in EVERY if k in LINKS]
    assert limit_links == [LINKS[k][1] for k in EVERY if k in LINKS]
    items = tab.page.locator("[data-testid=wizard-key-what] li")
    assert items.count() == len(EVERY) and all(items.nth(i).is_visible() for i in range(6))
    shot(tab, shots, lang, "20-wizard-1-every-provider")
    tab.page.click("[data-testid=wizard-next]")
    radios = tab.page.locator("[data-testid=wizard-provider] input[type=radio]")
    assert [radios.nth(i).get_attribute("value") for i in range(radios.count())] == EVERY
    assert all(radios.nth(i).is_visible() for i in range(6))
    # The choice is usable by keyboard: picking a provider redraws its part and keeps the focus
    # on the choice, so the arrow keys go on through the providers.
    tab.page.click("[data-testid=wizard-provider] [data-option=openai]")
    tab.poll("document.querySelector('.byom-option-body')?.dataset.kind === 'openai'")
    tab.page.keyboard.press("ArrowRight")
    tab.poll("document.querySelector('.byom-option-body')?.dataset.kind === 'anthropic'")
    focused = tab.ev("() => [document.activeElement.name, document.activeElement.value]")
    assert focused == ["byom-provider", "anthropic"]
    assert tab.csp_violations() == []
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["openrouter", "openai", "anthropic", "gemini"])
def test_r5_2_key_provider_path(browser, every_site, sim, kind, locale, shots):
    """Guide → a key of another provider caught in the page (nothing sent) → the provider's own
    key check → model and allowance → a feature answered through that provider's adapter."""
    lang = locale[:2]
    context = new_context(browser, locale=locale, viewport={"width": 1280, "height": 900})
    tab = Tab(context, every_site)
    open_wizard(tab)
    choose(tab, kind)
    guide_of(tab, kind, lang)
    number = f"2{1 + EVERY.index(kind)}"
    shot(tab, shots, lang, f"{number}-wizard-2-{kind}", top=True)
    key_input = tab.page.locator("[data-testid=wizard-key-input]")
    assert key_input.is_visible() and key_input.get_attribute("type") == "password"
    other, other_name = WRONG[kind]
    before = dict(sim.counts())
    tab.page.fill("[data-testid=wizard-key-input]", KEYS.get(other, "sk-proj-x0123456789abc"))
    tab.page.click("[data-testid=wizard-validate]")
    got = message(tab)
    assert got["code"] == "key_other_provider"
    assert other_name in got["text"]
    assert sim.counts() == before, "a key of the wrong shape must not be sent"
    shot(tab, shots, lang, f"{number}-wizard-2-{kind}-wrong-key")
    tab.page.fill("[data-testid=wizard-key-input]", KEYS[kind])
    tab.page.click("[data-testid=wizard-validate]")
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
    result = tab.page.locator("[data-testid=wizard-key-result]")
    assert result.is_visible() and KEY_OK[lang] in result.inner_text()
    assert sim.counts().get(CHECK[kind], 0) >= 1, sim.counts()
    assert tab.page.locator("[data-testid=wizard-model] option").count() > 0
    tab.page.fill("[data-testid=wizard-amount]", "5")
    tab.page.select_option("[data-testid=wizard-period]", "total")
    tab.page.click("[data-testid=wizard-finish]")
    tab.poll("!document.querySelector('[data-testid=wizard]')")
    assert tab.shell_status()["option"] == kind
    tab.start_run("summarize", {"title": "T", "text": "word " * 80, "lang": lang})
    res = tab.result()
    assert res["ok"], res
    sim_requests = [r for r in tab.requests if r.url.startswith(sim.base_url)]
    assert sim_requests and not any(KEYS[kind] in r.url for r in sim_requests), "key in a URL"
    if kind == "anthropic":  # Anthropic's opt-in for calls from a page, on every request
        assert all(
            r.headers.get("anthropic-dangerous-direct-browser-access") == "true"
            for r in sim_requests
            if r.method != "OPTIONS"
        )
    if kind == "gemini":  # the key in its header, never in the query
        assert any(r.headers.get("x-goog-api-key") == KEYS[kind] for r in sim_requests)
    assert tab.csp_violations() == []
    assert not [e for e in tab.errors], tab.errors
    context.close()


#: What the page pretends to run on: navigator.platform as each system's browsers report it.
PLATFORMS = {"linux": "Linux x86_64", "macos": "MacIntel", "windows": "Win32"}
#: The exact command each system's instruction must show (PAGE: the page's origin).
COMMANDS = {
    "linux": 'Environment="OLLAMA_ORIGINS=PAGE"',
    "macos": 'launchctl setenv OLLAMA_ORIGINS "PAGE"',
    "windows": 'setx OLLAMA_ORIGINS "PAGE"',
}


@pytest.mark.parametrize(
    ("locale", "system"),
    [(locale, system) for locale in ("en-US", "nl-NL") for system in PLATFORMS],
)  # fmt: skip
def test_r5_2_ollama_path_shows_the_ollama_origins_instruction(
    browser, every_site, sim, locale, system, shots
):
    lang = locale[:2]
    page_origin = _origin(every_site.url)
    sim.config(ollama_origins=["https://another-page.example"])  # not this page
    context = new_context(browser, locale=locale, viewport={"width": 1280, "height": 1000})
    platform = PLATFORMS[system]
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'userAgentData', {get: () => undefined});"
        f"Object.defineProperty(Navigator.prototype, 'platform', {{get: () => '{platform}'}});"
    )
    tab = Tab(context, every_site)
    open_wizard(tab)
    choose(tab, "ollama")
    guide_of(tab, "ollama", lang)
    assert tab.page.locator("[data-testid=wizard-key-input]").count() == 0, "Ollama takes no key"
    if system == "linux":
        shot(tab, shots, lang, "25-wizard-2-ollama", top=True)
    tab.page.click("[data-testid=wizard-validate]")
    got = message(tab)
    assert got["code"] == "provider_unavailable"
    assert "localhost" not in got["text"] or "11434" in got["text"]
    help_box = tab.page.locator("[data-testid=wizard-ollama-origins]")
    tab.poll("!!document.querySelector('[data-testid=wizard-ollama-origins]')")
    help_box.scroll_into_view_if_needed()
    assert help_box.is_visible() and help_box.get_attribute("data-os") == system
    steps = help_box.locator(f"[data-testid=ollama-steps-{system}]").first
    assert steps.is_visible()
    command = COMMANDS[system].replace("PAGE", page_origin)
    assert command in steps.inner_text()
    assert page_origin in help_box.inner_text()
    shot(tab, shots, lang, f"26-wizard-2-ollama-origins-{system}")
    if system == "linux":  # the commands on a phone's width: they wrap, nothing is cut off
        tab.page.set_viewport_size({"width": 390, "height": 844})
        help_box.scroll_into_view_if_needed()
        assert help_box.is_visible()
        width = tab.ev(
            "() => { const b = document.querySelector('[data-testid=wizard-ollama-origins]');"
            " return [b.scrollWidth, b.clientWidth]; }"
        )
        assert width[0] <= width[1], "the instruction is wider than the phone"
        shot(tab, shots, lang, "26-wizard-2-ollama-origins-linux", device="phone")
        tab.page.set_viewport_size({"width": 1280, "height": 1000})
    # The user allows the page and restarts Ollama; the same button checks again.
    sim.config(ollama_origins=[page_origin])
    tab.page.click("[data-testid=wizard-validate]")
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
    result = tab.page.locator("[data-testid=wizard-key-result]")
    assert result.is_visible() and SERVER_OK[lang] in result.inner_text()
    assert tab.shell_status()["option"] == "ollama"
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_r5_2_compatible_path_is_loopback_only(browser, every_site, sim, locale, shots):
    lang = locale[:2]
    context = new_context(browser, locale=locale, viewport={"width": 1280, "height": 900})
    tab = Tab(context, every_site)
    open_wizard(tab)
    choose(tab, "compatible")
    guide_of(tab, "compatible", lang)
    url = tab.page.locator("[data-testid=wizard-url-input]")
    assert url.is_visible() and url.input_value() == sim.base_url_for("compatible")
    assert tab.visible("[data-testid=wizard-loopback-note]")
    shot(tab, shots, lang, "27-wizard-2-compatible", top=True)
    before = dict(sim.counts())
    requests_before = len(tab.requests)
    for address in ("http://192.168.1.20:8000/v1", "https://llm.example.com/v1"):
        url.fill(address)
        tab.page.click("[data-testid=wizard-validate]")
        got = message(tab)
        assert got["code"] == "not_loopback"
        assert "http://localhost:" in got["text"] and "http://127.0.0.1:" in got["text"]
    assert sim.counts() == before and len(tab.requests) == requests_before, "nothing was sent"
    shot(tab, shots, lang, "28-wizard-2-compatible-not-loopback")
    url.fill(sim.base_url_for("compatible"))
    tab.page.click("[data-testid=wizard-validate]")
    tab.poll("document.querySelector('[data-testid=wizard]')?.dataset.screen === '3'")
    result = tab.page.locator("[data-testid=wizard-key-result]")
    assert result.is_visible() and SERVER_OK[lang] in result.inner_text()
    assert sim.counts().get("/v1/models", 0) >= 1
    assert tab.shell_status()["option"] == "compatible"
    assert tab.csp_violations() == []
    context.close()
