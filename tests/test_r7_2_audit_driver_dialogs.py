"""Issue 11, items 3 and 5, on small pages in a real browser: dialogs are the app's, and the
word lists match normalised Dutch and English labels.

- A feature control inside an app's dialog counts; under a modal dialog only that dialog's
  controls can be used; the connect wizard's controls never count as features.
- After connecting only the connect wizard (the dialog that held the key input) is "still open";
  a dialog the app opens afterwards (its feature) is not mistaken for it.
- "Bevestig sleutel" submits a key; "model-toegang" is a settings and a connect control.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

from byom.audit import AuditBrowser, AuditConfig  # noqa: E402
from byom.audit import words as w  # noqa: E402
from byom.audit.driver import Driver  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    raise RuntimeError("Chromium is not installed at /usr/bin/chromium: run `make browser`")


@pytest.fixture(scope="module")
def browser() -> Iterator[AuditBrowser]:
    with AuditBrowser(CHROMIUM) as running:
        yield running


def on_page(browser: AuditBrowser, html: str, script: Any) -> Any:
    async def go() -> Any:
        page = await browser.browser.new_page()
        try:
            await page.set_content(html)
            return await script(page, Driver(page, AuditConfig()))
        finally:
            await page.close()

    return browser.run(go())


PAGE = """<!doctype html><html lang="nl"><body>
<button id="filters">Filters</button>
<dialog id="quiz"><h2>Boek op maat</h2><textarea id="wens"></textarea>
  <button id="ask">Vraag advies</button></dialog>
<dialog id="wizard"><h2>Koppelen</h2><input type="password" id="key">
  <button id="confirm">Vat samen</button></dialog>
</body></html>"""


def test_r7_2_feature_inside_an_app_dialog_counts(browser: AuditBrowser) -> None:
    async def script(page: Any, driver: Driver) -> tuple[Any, Any, Any]:
        before = await driver.find_features()
        await page.evaluate("document.getElementById('quiz').showModal()")
        inside = await driver.find_features()
        await page.evaluate("document.getElementById('quiz').close()")
        await page.evaluate("document.getElementById('wizard').show()")
        await driver.find_key()
        await driver.mark_wizard()
        wizard = await driver.find_features()
        return before, inside, wizard

    before, inside, wizard = on_page(browser, PAGE, script)
    assert before["first"] is None  # the feature is in a closed dialog
    assert inside["first"] is not None and "Vraag advies" in inside["first"]["text"]
    assert wizard["first"] is None  # "Vat samen" in the connect wizard is never a feature


def test_r7_2_only_the_connect_wizard_counts_as_the_wizard(browser: AuditBrowser) -> None:
    async def script(page: Any, driver: Driver) -> list[bool]:
        await page.evaluate("document.getElementById('wizard').showModal()")
        await driver.find_key()
        sig = await driver.mark_wizard()
        states = [await driver.wizard_open(sig)]
        await page.evaluate("document.getElementById('wizard').close()")
        await page.evaluate("document.getElementById('quiz').showModal()")
        states += [await driver.wizard_open(sig), await driver.dialog_open()]
        return states

    assert on_page(browser, PAGE, script) == [True, False, True]


def test_r7_1_controls_match_normalised_words(browser: AuditBrowser) -> None:
    html = """<!doctype html><html lang="nl"><body>
    <button id="toegang">model-toegang</button>
    <dialog open><form><input type="password" id="k" aria-label="API-sleutel">
    <button type="button" id="b">Bevestig sleutel</button></form></dialog></body></html>"""

    async def script(page: Any, driver: Driver) -> tuple[Any, Any, Any]:
        await driver.find_key()
        submit = await driver.evaluate("() => document.querySelector('[data-byom-audit=key]').id")
        found = await driver.submit_key()
        connect = await driver.find_button(
            "open", None, w.CONNECT_WORDS.pattern, scope="page", outside_dialogs=True
        )
        return submit, found, connect

    key, submitted, connect = on_page(browser, html, script)
    assert key == "k"
    assert submitted == "clicked 'Bevestig sleutel'"
    assert connect is not None and connect["text"] == "model-toegang"
    assert w.SETTINGS_WORDS.search("model toegang")
