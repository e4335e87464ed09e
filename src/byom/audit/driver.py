"""Driving an unknown BYOM web app: find its key input, wizard steps, feature and allowance
controls, and use them like a person would (Playwright clicks and typing).

Detection, when ``byom-audit.toml`` does not name a selector (see :mod:`byom.audit.js` for the
visibility rules and :mod:`byom.audit.words` for the word lists):

key input
    a visible ``input[type=password]``, an ``autocomplete`` hint mentioning a password, or a
    text field whose label / placeholder / name says key, API key, sleutel, token or secret.
feature control
    a visible, enabled button outside any dialog that is marked ``data-byom-feature`` /
    ``data-feature`` or whose text names a model feature (summarise, explain, ask, translate,
    vat samen, leg uit …), never a connect / settings / close control; its input is the
    nearest visible ``textarea`` (else a text input).
opening the wizard
    ``open_wizard`` if configured; else using the feature (R5.1: the wizard appears when a
    model-powered feature is used); else a "connect" control.
onboarding screens
    while the key input is not visible, a continue / next / verder / volgende button in the
    open dialog.
after the key
    a connect / check / save button next to the key input (never a "connect with OpenRouter"
    OAuth button), else Enter; then, until the wizard closes: the remember checkbox (left as it
    is, or ticked when asked), the allowance field (filled), a save / finish / continue button.
allowance after connecting
    an allowance / budget / amount field, if needed after opening the connection panel
    (a connected / settings / allowance control); saved with the nearest save / set button or
    Enter; the panel closed with Escape or a close button.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from byom.audit import js, words
from byom.audit.config import AuditConfig

if TYPE_CHECKING:
    from playwright.async_api import Page


def marked(tag: str) -> str:
    return f'[data-byom-audit="{tag}"]'


class Driver:
    """Find and use an app's controls on one page."""

    def __init__(self, page: Page, config: AuditConfig) -> None:
        self.page = page
        self.config = config

    # ------------------------------------------------------------------ low level

    async def evaluate(self, script: str, arg: Any = None) -> Any:
        return await self.page.evaluate(script, arg)

    async def quiet_state(self) -> tuple[int, float]:
        try:
            count, idle = await self.page.evaluate(js.QUIET)
        except Exception:
            return (0, 1e9)
        return int(count), float(idle)

    async def wait_quiet(self, ms: int | None = None, timeout: float = 5.0) -> bool:
        """Until the DOM has not changed for ``ms`` (default: config ``quiet_ms``)."""
        need = (ms if ms is not None else self.config.quiet_ms) / 1000
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, idle = await self.quiet_state()
            if idle / 1000 >= need:
                return True
            await asyncio.sleep(0.05)
        return False

    async def click(self, tag: str, timeout: float = 5.0) -> bool:
        try:
            await self.page.locator(marked(tag)).first.click(timeout=timeout * 1000)
        except Exception:
            return False
        return True

    # ------------------------------------------------------------------ finding

    async def find_key(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self.evaluate(
            js.FIND_KEY,
            {"selector": self.config.selector("key_input"), "keyWords": words.KEY_LABEL.pattern},
        )
        return found

    async def key_visible(self) -> bool:
        if await self.find_key() is None:
            return False
        return bool(await self.evaluate(js.VISIBLE_KEY))

    async def find_features(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.evaluate(
            js.FIND_FEATURES,
            {
                "selector": self.config.selector("run_feature"),
                "feature": words.FEATURE_WORDS.pattern,
                "not": words.NOT_A_FEATURE.pattern,
            },
        )
        return found

    async def find_feature_input(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self.evaluate(
            js.FIND_FEATURE_INPUT, {"selector": self.config.selector("feature_input")}
        )
        return found

    async def find_button(
        self,
        tag: str,
        config_key: str | None,
        pattern: str,
        *,
        exclude: str | None = None,
        scope: str = "dialog",
        outside_dialogs: bool = False,
    ) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self.evaluate(
            js.FIND_BUTTON,
            {
                "selector": self.config.selector(config_key) if config_key else None,
                "words": pattern,
                "not": exclude,
                "tag": tag,
                "scope": scope,
                "outsideDialogs": outside_dialogs,
            },
        )
        return found

    async def find_field(self, tag: str, kind: str) -> dict[str, Any] | None:
        config_key = "remember" if kind == "checkbox" else "allowance"
        pattern = (words.REMEMBER_WORDS if kind == "checkbox" else words.ALLOWANCE_WORDS).pattern
        found: dict[str, Any] | None = await self.evaluate(
            js.FIND_FIELD,
            {
                "selector": self.config.selector(config_key),
                "words": pattern,
                "tag": tag,
                "kind": kind,
            },
        )
        return found

    async def dialog_open(self) -> bool:
        try:
            return bool(await self.evaluate(js.DIALOG_OPEN))
        except Exception:
            return False

    async def mark_wizard(self) -> dict[str, Any] | None:
        """Mark the dialog that holds the key input as the connect wizard; its signature."""
        try:
            sig: dict[str, Any] | None = await self.evaluate(
                js.MARK_WIZARD, {"close": self.config.selector("close_wizard")}
            )
        except Exception:
            return None
        return sig

    async def wizard_open(self, sig: dict[str, Any] | None) -> bool:
        """Whether the connect wizard (not any other dialog of the app) is still open."""
        try:
            return bool(
                await self.evaluate(
                    js.WIZARD_OPEN, {"sig": sig, "close": self.config.selector("close_wizard")}
                )
            )
        except Exception:
            return False

    async def reconnect_text(self) -> str | None:
        text: str | None = await self.evaluate(
            js.RECONNECT_TEXT,
            {"selector": self.config.selector("reconnect"), "words": words.RECONNECT_WORDS.pattern},
        )
        return text

    # ------------------------------------------------------------------ actions

    async def fill_feature_input(self, text: str) -> bool:
        if await self.find_feature_input() is None:
            return False
        try:
            await self.page.locator(marked("feature-input")).first.fill(text, timeout=3000)
        except Exception:
            return False
        return True

    async def click_feature(self, which: str = "feature", timeout: float = 5.0) -> bool:
        found = await self.find_features()
        if found.get("first") is None:
            return False
        return await self.click(which, timeout)

    async def open_connect_control(self) -> bool:
        """Click ``open_wizard`` (config) or a connect-like control outside dialogs."""
        found = await self.find_button(
            "open-wizard",
            "open_wizard",
            words.CONNECT_WORDS.pattern,
            exclude=words.NOT_SUBMIT.pattern,
            scope="page",
            outside_dialogs=True,
        )
        if found is None:
            return False
        return await self.click("open-wizard")

    async def next_screen(self) -> bool:
        found = await self.find_button("wizard-next", "wizard_next", words.NEXT_WORDS.pattern)
        if found is None:
            return False
        return await self.click("wizard-next")

    async def dialog_connect(self) -> bool:
        """A connect control inside an open dialog (a connection panel that leads on to the
        wizard)."""
        found = await self.find_button(
            "dialog-connect", None, words.CONNECT_WORDS.pattern, exclude=words.NOT_SUBMIT.pattern
        )
        if found is None:
            return False
        return await self.click("dialog-connect")

    async def submit_key(self) -> str:
        """Click the key's submit control, or press Enter; returns what was done."""
        found = await self.evaluate(
            js.FIND_KEY_SUBMIT,
            {
                "selector": self.config.selector("key_submit"),
                "words": words.SUBMIT_WORDS.pattern,
                "not": words.NOT_SUBMIT.pattern,
            },
        )
        if found is not None and await self.click("key-submit"):
            return f"clicked {found.get('text') or 'the submit button'!r}"
        await self.page.locator(marked("key")).first.press("Enter")
        return "pressed Enter in the key input"

    async def set_checkbox(self, tag: str, checked: bool) -> bool:
        locator = self.page.locator(marked(tag)).first
        try:
            if checked:
                await locator.check(timeout=3000, force=True)
            else:
                await locator.uncheck(timeout=3000, force=True)
        except Exception:
            try:
                await self.page.evaluate(
                    "([sel, on]) => { const e = document.querySelector(sel);"
                    " if (e && e.checked !== on) e.click(); }",
                    [marked(tag), checked],
                )
            except Exception:
                return False
        return True

    async def fill_allowance(self, value: str) -> bool:
        try:
            locator = self.page.locator(marked("allowance")).first
            await locator.fill(value, timeout=3000)
            await locator.dispatch_event("change")
        except Exception:
            return False
        return True

    async def finish_button(self) -> bool:
        found = await self.find_button(
            "wizard-finish",
            "wizard_finish",
            words.SUBMIT_WORDS.pattern,
            exclude=words.NOT_SUBMIT.pattern,
        )
        if found is None:
            return False
        return await self.click("wizard-finish")

    async def close_dialogs(self) -> None:
        """Close an open wizard or panel: configured close, Escape, then a close button."""
        for _ in range(3):
            if not await self.dialog_open():
                return
            for key in ("close_wizard", "close_settings"):
                sel = self.config.selector(key)
                if not sel:
                    continue
                with contextlib.suppress(Exception):
                    for locator in await self.page.locator(sel).all():
                        if await locator.is_visible():
                            await locator.click(timeout=1000)
                            break
            if not await self.dialog_open():
                return
            await self.page.keyboard.press("Escape")
            await asyncio.sleep(0.1)
            if not await self.dialog_open():
                return
            found = await self.find_button("close", None, words.CLOSE_WORDS.pattern)
            if found is not None:
                await self.click("close", 1.0)
            await asyncio.sleep(0.1)

    async def set_allowance(self, value: str) -> str | None:
        """Type ``value`` into the allowance field after connecting; returns how, or None."""
        how = []
        field = await self.find_field("allowance", "text")
        if field is None:
            opened = await self.find_button(
                "open-settings",
                "open_settings",
                words.SETTINGS_WORDS.pattern,
                exclude=words.NOT_SUBMIT.pattern + "|" + words.FEATURE_WORDS.pattern,
                scope="page",
                outside_dialogs=True,
            )
            if opened is None or not await self.click("open-settings"):
                return None
            how.append(f"opened {opened.get('text')!r}")
            for _ in range(50):
                field = await self.find_field("allowance", "text")
                if field is not None:
                    break
                await asyncio.sleep(0.1)
            if field is None:
                await self.close_dialogs()
                return None
        if not await self.fill_allowance(value):
            return None
        how.append(f"typed {value} into {field.get('text') or 'the allowance field'!r}")
        save = await self.evaluate(
            js.FIND_NEAR_ALLOWANCE,
            {
                "selector": self.config.selector("allowance_save"),
                "words": words.SAVE_WORDS.pattern,
                "not": words.NOT_SUBMIT.pattern,
            },
        )
        if save is not None and await self.click("allowance-save"):
            how.append(f"clicked {save.get('text')!r}")
        else:
            await self.page.locator(marked("allowance")).first.press("Enter")
            how.append("pressed Enter")
        await self.wait_quiet(ms=150, timeout=3)
        if self.config.selector("close_settings") or await self.dialog_open():
            await self.close_dialogs()
            await self.wait_quiet(ms=150, timeout=3)
        return "; ".join(how)
