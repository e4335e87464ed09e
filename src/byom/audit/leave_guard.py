"""Check 8, the leave guard: while a paid request is in flight the page must warn before it is
left (``beforeunload``), and stop warning once the result is written."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from byom.audit import js
from byom.audit.model import FAIL, PASS, UNCHECKED

#: The leave-guard check holds its paid request at the simulator until it has probed the page,
#: then releases it: the probe never races the request, however busy the machine.
GUARD_HOLD_SECONDS = 600
#: How long the page may take to set its leave warning while the request is held, and to drop it
#: once the request finished. Only a page that never does reaches them; a slow machine does not.
GUARD_SET_SECONDS = 10.0
GUARD_SETTLE_SECONDS = 20.0


class LeaveGuardCheck:
    """The leave-guard check.

    Mixed into the audit run (:class:`byom.audit.engine._Audit`), whose state it reads and
    sets."""

    # ------------------------------------------------------------------ check 8: leave guard

    async def _beforeunload_listeners(self) -> int | None:
        assert self.context is not None and self.page is not None
        try:
            cdp = await self.context.new_cdp_session(self.page)
            win = await cdp.send("Runtime.evaluate", {"expression": "window"})
            res = await cdp.send(
                "DOMDebugger.getEventListeners", {"objectId": win["result"]["objectId"]}
            )
            await cdp.detach()
        except Exception:
            return None
        return sum(1 for item in res.get("listeners", []) if item.get("type") == "beforeunload")

    async def _probe_leave(self, wanted: Callable[[Any], bool], seconds: float) -> Any:
        """Probe ``beforeunload`` until ``wanted(probe)`` holds or ``seconds`` pass; the last
        probe either way (the check judges it)."""
        assert self.page is not None
        deadline = time.monotonic() + seconds
        while True:
            probe = await self.page.evaluate(js.BEFOREUNLOAD_PROBE)
            if wanted(probe) or time.monotonic() >= deadline:
                return probe
            await asyncio.sleep(0.1)

    async def _leave_guard(self) -> None:
        assert self.sim is not None and self.page is not None
        self.phase("leave guard")
        result = self.report.check("leave-guard")
        self.sim.push_faults([{"kind": "slow_first_byte", "seconds": GUARD_HOLD_SECONDS}])
        before = len(self.network.log)
        if not await self._start_feature():
            self.clear_faults()
            result.set(UNCHECKED, "could not check: no feature control to start a paid run")
            return
        deadline = time.monotonic() + GUARD_SET_SECONDS
        while not self.network.chat(before) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        sent = self.network.chat(before)
        if not sent:
            self.clear_faults()
            result.set(UNCHECKED, "could not check: the feature sent no request")
            return
        # The request is held at the simulator: probe until the page guards leaving (or it
        # never does), then let the request go on.
        during = await self._probe_leave(_prevents, GUARD_SET_SECONDS)
        in_flight = not sent[0].done
        listeners = await self._beforeunload_listeners()
        await self.shot_evidence(
            result, "leave-guard-during", "while the paid request is in flight"
        )
        if self.journey is None:
            # a page that allows one run at a time will need a second tab for the budget
            # check: learn it now, while a run is in flight, so that tab can load meanwhile
            running = await self.driver.find_features()
            self.one_run_per_tab = running.get("first") is None or not running.get("enabled")
        self.sim.release()
        outcome = await self._await_outcome(before)
        after = await self._probe_leave(lambda probe: not _prevents(probe), GUARD_SETTLE_SECONDS)
        listeners_after = await self._beforeunload_listeners()
        req = sent[0]
        result.add("request", f"paid request in flight: POST {req.url}", req.to_dict())
        result.add(
            "note",
            f"during the request: beforeunload {_probe_text(during)}"
            + (f" ({listeners} listener(s) registered)" if listeners is not None else ""),
            during,
        )
        result.add(
            "note",
            f"after it ({outcome.kind}): beforeunload {_probe_text(after)}"
            + (
                f" ({listeners_after} listener(s) registered)"
                if listeners_after is not None
                else ""
            ),
            after,
        )
        if not in_flight:
            result.set(UNCHECKED, "could not check: the request was not in flight when probed")
        elif not _prevents(during):
            result.set(FAIL, "no beforeunload handler prevents leaving during a paid request")
        elif _prevents(after):
            result.set(FAIL, "the leave warning stays on after the paid request finished")
        else:
            result.set(PASS, "leaving is guarded during the paid request and free after it")


def _probe_text(probe: dict[str, Any]) -> str:
    return "prevents leaving" if _prevents(probe) else "does not prevent leaving"


def _prevents(probe: dict[str, Any]) -> bool:
    return bool(probe.get("prevented")) or bool(probe.get("returnValue"))


__all__ = ["LeaveGuardCheck"]
