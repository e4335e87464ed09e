"""Check 6, the budget: calibrate an allowance that admits one run but not two, then start two
runs at once while the first is held by a slow first byte, and count what reaches the provider."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from byom.audit._parts import BOOT_SECONDS, _first_line, _plain
from byom.audit.model import FAIL, PASS, UNCHECKED, CheckResult

if TYPE_CHECKING:
    from playwright.async_api import Page


SLOW_SECONDS = 2.0  # a held request in the budget check


class BudgetCheck:
    """The budget check.

    Mixed into the audit run (:class:`byom.audit.engine._Audit`), whose state it reads and
    sets."""

    # ------------------------------------------------------------------ check 6: budget

    def _estimate_guess(self) -> Decimal | None:
        """A rough estimate of one run from its recorded request and the simulator's prices
        (``ceil(chars / 4)`` input tokens plus ``max_tokens``) — only where calibration starts."""
        assert self.sim is not None
        runs = [r for r in self.network.chat() if r.status == 200]
        if not runs:
            return None
        try:
            body = json.loads(runs[-1].body)
            model = body.get("model")
            max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
            chars = sum(len(json.dumps(m.get("content", ""))) for m in body.get("messages", []))
            url = self.sim.openrouter_base + "/models"
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback)
                catalog = json.load(resp)
            price = next(m["pricing"] for m in catalog["data"] if m["id"] == model)
            guess = Decimal(math.ceil(chars / 4) + 10) * Decimal(price["prompt"]) + Decimal(
                int(max_tokens)
            ) * Decimal(price["completion"])
        except Exception:
            return self._cost_of_last_run()
        return guess if guess > 0 else None

    def _cost_of_last_run(self) -> Decimal | None:
        """What the last admitted run really cost at the simulator: a floor for the app's own
        estimate (which adds the output it expects), where the request names no max_tokens."""
        assert self.sim is not None
        for gen in reversed(self.sim.generations()):
            cost = gen.get("cost")
            if isinstance(cost, str):
                with contextlib.suppress(InvalidOperation):
                    value = Decimal(cost)
                    if value > 0:
                        return value
        return None

    def _request_bounded(self) -> bool | None:
        """Whether the last admitted request named max_tokens (None: no request to read)."""
        runs = [r for r in self.network.chat() if r.status == 200]
        if not runs:
            return None
        try:
            body = json.loads(runs[-1].body)
        except ValueError:
            return None
        return isinstance(body, dict) and any(
            k in body for k in ("max_tokens", "max_completion_tokens")
        )

    async def _trial(self, amount: Decimal, result: CheckResult) -> bool | None:
        """Set allowance = spent + amount and run once: True admitted, False refused, None when
        the allowance could not be set."""
        spent = self.sim_spent()
        how = await self._set_allowance(_plain(spent + amount))
        if how is None:
            return None
        outcome = self.pending_outcome or await self._run_feature()
        self.pending_outcome = None
        admitted = outcome.kind == "admitted"
        result.add(
            "note",
            f"allowance {_plain(spent + amount)} (spent {_plain(spent)} + {_plain(amount)}): "
            + ("sent" if admitted else f"not sent ({outcome.kind})"),
        )
        if outcome.kind == "wizard":
            raise RuntimeError("the app asked for the key again during the budget check")
        return admitted

    async def _budget(self) -> None:
        assert self.sim is not None
        self.phase("budget")
        result = self.report.check("budget")
        driver = self.driver
        lo: Decimal | None = None
        hi: Decimal | None = None
        if self.one_run_per_tab and self._spare is None:
            # the pair of runs will need a second tab: let it load during the calibration
            self._spare = asyncio.get_running_loop().create_task(self._preload_tab(self._page()))
        fixed = self.config.budget_allowance
        if fixed is not None:
            hi = Decimal(fixed)
            result.add("note", f"allowance from byom-audit.toml: spent + {fixed}")
        else:
            guess = self._estimate_guess()
            step = Decimal("1.5") if guess else Decimal(4)
            if guess is not None and self._request_bounded() is False:
                step = Decimal(4)  # the app's estimate adds an output size we cannot see
            amount = guess * Decimal("1.2") if guess else Decimal("0.000001")
            if guess:
                result.add("note", f"calibrating around a rough estimate of {_plain(guess)} USD")
            for _ in range(18):
                admitted = await self._trial(amount, result)
                if admitted is None:
                    result.set(
                        UNCHECKED,
                        "could not check: no allowance field found after connecting (R5.5)",
                    )
                    return
                if admitted:
                    hi = amount
                else:
                    lo = amount
                # an allowance below twice one run's estimate is all the pair needs: every
                # further trial is one more replay of the feature
                if lo is not None and hi is not None and hi <= lo * Decimal("1.9"):
                    break
                if hi is None:
                    amount *= step
                    if amount > 1000:
                        break
                elif lo is None:
                    amount = hi / Decimal("1.5")
                    if amount < Decimal("1e-9"):
                        break
                else:
                    amount = (lo * hi).sqrt()
            if hi is None or lo is None or hi > lo * Decimal("1.9"):
                await self._restore_allowance()
                result.set(
                    UNCHECKED,
                    "could not check: no allowance admitted exactly one run "
                    f"(largest refused: {lo}, smallest admitted: {hi})",
                )
                return
            result.add("note", f"one run's estimate is between {_plain(lo)} and {_plain(hi)} USD")
        # the concurrent pair
        spent = self.sim_spent()
        allowance = spent + hi
        if await self._set_allowance(_plain(allowance)) is None:
            result.set(UNCHECKED, "could not check: the allowance could not be set")
            return
        if self.pending_outcome is not None:  # reconnecting resumed a run: set it again
            self.pending_outcome = None
            spent = self.sim_spent()
            allowance = spent + hi
            if await self._set_allowance(_plain(allowance)) is None:
                result.set(UNCHECKED, "could not check: the allowance could not be set")
                return
            self.pending_outcome = None
        if self.journey is not None:
            await self.journey.before_request(self._page())
        self.sim.push_faults([{"kind": "slow_first_byte", "seconds": SLOW_SECONDS}])
        before = len(self.network.log)
        if self.journey is not None:
            started = await self._send_journey()
        else:
            await driver.fill_feature_input(self.prompt.value)
            found = await driver.find_features()
            started = found.get("first") is not None and await driver.click("feature")
        if not started:
            self.clear_faults()
            result.set(UNCHECKED, "could not check: no feature control")
            return
        deadline = time.monotonic() + 5
        while not self.network.chat(before) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if not self.network.chat(before):
            self.clear_faults()
            await self._restore_allowance()
            result.set(UNCHECKED, "could not check: the first of the two runs was not sent")
            return
        how = "used a feature control twice"
        if self.journey is not None:
            how = "sent the journey's request twice"
            second = await self._send_journey(timeout=1.0)
        else:
            second = await driver.click_feature(timeout=1.0)
        if not second and self.journey is None:
            again = await driver.find_features()
            if again.get("second") is not None:
                second = await driver.click("feature2", timeout=1.0)
                how = "used two feature controls"
        second_page: Page | None = None
        first_page = self.page
        assert first_page is not None
        if not second:
            # The page allows one run at a time: the second run comes from a second tab, as
            # a user with two tabs open would start it (pitfall 6).
            await self._await_outcome(before)
            self.clear_faults()
            second_page = await self._second_tab(hi, result)
            if second_page is None:
                await self._restore_allowance()
                return
            how = "used the feature in two tabs"
            spent = self.sim_spent()
            allowance = spent + hi
            for page in (second_page, first_page):
                with self._on(page):
                    await page.bring_to_front()
                    if await self._set_allowance(_plain(allowance)) is None:
                        result.set(UNCHECKED, "could not check: the allowance could not be set")
                        await second_page.close()
                        return
                    if self.journey is not None:
                        await self.journey.before_request(page)
            self.sim.push_faults([{"kind": "slow_first_byte", "seconds": SLOW_SECONDS}])
            before = len(self.network.log)
            if self.journey is not None:
                await self._send_journey()
            else:
                await driver.fill_feature_input(self.prompt.value)
                await driver.click_feature()
            deadline = time.monotonic() + 5
            while not self.network.chat(before) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            with self._on(second_page):
                if self.journey is not None:
                    second = await self._send_journey(timeout=5.0)
                else:
                    await self.driver.fill_feature_input(self.prompt.value)
                    second = await self.driver.click_feature(timeout=2.0)
            if not self.network.chat(before) or not second:
                self.clear_faults()
                await second_page.close()
                await self._restore_allowance()
                result.set(UNCHECKED, "could not check: the runs in two tabs did not start")
                return
        first_done_at_second_click = self.network.chat(before)[0].done
        await asyncio.sleep(1.0)
        await self._await_outcome(before)
        sent = self.network.chat(before)
        self.clear_faults()
        if second_page is not None:
            await second_page.close()
        await self.shot_evidence(result, "budget-concurrent", "after the two concurrent runs")
        result.add(
            "note",
            f"allowance set to {_plain(allowance)} (spent {_plain(spent)} + {_plain(hi)}); {how} "
            f"while the first request was held for {SLOW_SECONDS} s",
        )
        if self.allowance_after_connect is False:
            result.add(
                "note",
                "the allowance field is shown only while connecting (R5.3): each allowance "
                "was set by connecting again with it",
            )
        for req in sent:
            result.add("request", f"reached the stub: POST {req.url} → {req.status}", req.to_dict())
        await self._restore_allowance()
        if first_done_at_second_click:
            result.set(UNCHECKED, "could not check: the first run finished before the second began")
        elif len(sent) <= 1:
            result.set(
                PASS, "the second of two concurrent over-budget runs was refused before its fetch"
            )
        else:
            result.set(
                FAIL,
                f"{len(sent)} concurrent runs reached the provider although the allowance "
                "admits one: in-flight requests are not counted",
            )

    @contextlib.contextmanager
    def _on(self, page: Page) -> Iterator[None]:
        """Drive ``page`` (a second tab) inside the block."""
        previous, self.page = self.page, page
        try:
            yield
        finally:
            self.page = previous

    async def _preload_tab(self, main: Page) -> Page | None:
        """A second tab of the app, loaded and booted (its ``ready`` / first ``prepare`` control
        showing) while the first tab (``main``, brought back to the front: a background tab gets
        no animation frames to click in) is still calibrating. Uses only its own page."""
        assert self.context is not None
        page = await self.context.new_page()
        with contextlib.suppress(Exception):
            await main.bring_to_front()
        try:
            await page.goto(self.url, wait_until="load", timeout=30_000)
            boot = max(self.config.wizard_timeout, BOOT_SECONDS) * 1000
            wanted = self.config.ready or (self.config.prepare[0] if self.config.prepare else None)
            if wanted:
                await page.locator(wanted).first.wait_for(state="visible", timeout=boot)
        except Exception:
            with contextlib.suppress(Exception):
                await page.close()
            return None
        return page

    async def _take_spare(self) -> Page | None:
        task, self._spare = self._spare, None
        if task is None:
            return None
        try:
            return await task
        except Exception:
            return None

    async def _second_tab(self, hi: Decimal, result: CheckResult) -> Page | None:
        """Open the app in a second tab (the one loaded during calibration, if any) and connect
        it with the canary key."""
        assert self.context is not None
        spare = await self._take_spare()
        page = spare or await self.context.new_page()
        with self._on(page):
            try:
                # a tab in the background runs its timers throttled: an app that boots a
                # runtime (Pyodide) would take far longer there
                await page.bring_to_front()
                if spare is None:
                    await page.goto(self.url, wait_until="load", timeout=30_000)
                await self._ready()
                await self._prepare()
                # a connect control, where there is one, connects without resuming a run
                reached = await self._reach_key(record_wizard=False, prefer_connect=True)
                amount = _plain(self.sim_spent() + hi)
                if reached == "key" and await self._connect(
                    remember=False, allowance=amount, primary=False
                ):
                    await self._resumed_run()
                elif reached != "ran":
                    raise RuntimeError("the second tab could not be connected")
            except Exception as exc:
                await page.close()
                result.set(
                    UNCHECKED,
                    "could not check: the app allows one run at a time in a tab, and a second "
                    f"tab could not be used ({self.masked(_first_line(exc))})",
                )
                return None
        result.add("note", "the feature control is disabled while a run is in flight")
        if spare is not None:
            result.add("note", "the second tab was loaded while the allowance was calibrated")
        return page

    async def _restore_allowance(self) -> None:
        await self._set_allowance(_plain(self.sim_spent() + Decimal(self.config.connect_allowance)))


__all__ = ["BudgetCheck"]
