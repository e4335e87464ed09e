"""Checks 3 and 9, the key itself: where the page keeps it (every browser store scanned for the
canary, before and after a reload), and what a 403 and a 401 do to it (only a 401 clears it)."""

from __future__ import annotations

import asyncio
from typing import Any

from byom.audit import js
from byom.audit._parts import Outcome, _clip
from byom.audit.model import FAIL, PASS, UNCHECKED, CheckResult


class KeyChecks:
    """The persistence and key-rejection checks.

    Mixed into the audit run (:class:`byom.audit.engine._Audit`), whose state it reads and
    sets."""

    # ------------------------------------------------------------------ check 3: persistence

    async def _scan(self) -> dict[str, Any]:
        assert self.page is not None and self.context is not None
        needles = {"key": list(self.key.needles)}
        found: dict[str, Any] = await self.page.evaluate(js.STORAGE_SCAN, {"needles": needles})
        for cookie in await self.context.cookies():
            found["inventory"]["cookies"] = found["inventory"].get("cookies", 0) + 1
            text = f"{cookie['name']}={cookie['value']}"
            if self.key.found_in(text):
                found["hits"].append(
                    {
                        "canary": "key",
                        "area": "cookies",
                        "where": f"cookie for {cookie['domain']}",
                        "entry": cookie["name"],
                        "part": "value",
                        "excerpt": text[:200],
                        "size": len(cookie["value"]),
                    }
                )
        return found

    def _storage_evidence(self, result: CheckResult, scan: dict[str, Any], when: str) -> None:
        inv = scan["inventory"]
        counts = ", ".join(
            f"{k} {v}" for k, v in inv.items() if k != "errors" and isinstance(v, int)
        )
        result.add("note", f"{when}: scanned {counts}", {"inventory": inv})
        for hit in scan["hits"]:
            where = (
                hit["area"] if hit["where"] == hit["area"] else f"{hit['area']} ({hit['where']})"
            )
            result.add(
                "storage",
                f"{when}: canary key in {where}, entry "
                f"{self.masked(hit['entry'])!r}: {self.masked(hit['excerpt'])}",
                {k: self.masked(str(v)) for k, v in hit.items()},
            )

    async def _persistence(self) -> None:
        assert self.page is not None
        self.phase("persistence")
        result = self.report.check("key-persistence")
        first = await self._scan()
        self._storage_evidence(result, first, "before reload")
        await self.page.reload(wait_until="load", timeout=30_000)
        await self._ready()
        await self._prepare()
        await self.driver.wait_quiet(timeout=3)
        second = await self._scan()
        self._storage_evidence(result, second, "after reload")
        hits = first["hits"] + second["hits"]
        if hits:
            where = sorted(
                {
                    h["area"] if h["where"] == h["area"] else f"{h['area']} ({h['where']})"
                    for h in hits
                }
            )
            extra = " — the remember control was ticked by default" if self.remember_default else ""
            result.set(FAIL, f"the key was persisted without opting in: {', '.join(where)}{extra}")
            await self.shot_evidence(result, "persisted-key", "the app after the reload")
        else:
            result.set(PASS, "no trace of the key in any browser store, before or after a reload")

    # ------------------------------------------------------------------ check 9: 401 / 403

    async def _carries_key(self, outcome: Outcome) -> bool:
        return any(self.key.found_in(r.haystack()) for r in outcome.requests)

    async def _key_rejected(self) -> None:
        assert self.sim is not None
        self.phase("reconnect")
        result = self.report.check("key-rejected")
        driver = self.driver
        reached = await self._reach_key(record_wizard=False)
        if reached == "key":
            if not await self._connect(remember=True):
                result.set(UNCHECKED, "could not check: connecting a second time failed")
                return
            opted = "with 'remember' ticked" if self.remember_found else "(no remember control)"
            result.add("note", f"connected again {opted}")
            outcome = await self._resumed_run()
            if outcome.kind != "admitted":
                await self._run_feature()
        elif reached == "ran":
            result.add("note", "after the reload the app ran a feature without asking for a key")
        else:
            result.set(UNCHECKED, "could not check: the key input could not be reached again")
            return
        persisted = bool((await self._scan())["hits"])
        if self.remember_found:
            result.add(
                "note",
                "after opting in, the key is "
                + ("in browser storage" if persisted else "not found in browser storage"),
            )

        problems: list[str] = []
        # 403: not a bad key (pitfall 7)
        self.phase("403")
        got403, reached = await self._run_stubbed(403)
        if not reached:
            result.set(
                UNCHECKED, f"could not check: the stubbed 403 did not reach the app ({got403.kind})"
            )
            return
        result.add("request", "stubbed 403 answered", got403.requests[-1].to_dict())
        if persisted and not (await self._scan())["hits"]:
            problems.append("a 403 removed the remembered key from browser storage")
        asked_after_403 = await driver.key_visible()
        if asked_after_403:
            await driver.close_dialogs()
        next_run = await self._run_feature()
        if next_run.kind == "wizard" or asked_after_403:
            problems.append("a 403 made the app forget the key (it asked for the key again)")
            await self.shot_evidence(result, "after-403", "the app after a 403")
            if await self._reach_key(record_wizard=False) != "key" or not await self._connect(
                remember=True
            ):
                result.set(FAIL, "; ".join(problems))
                return
            await self._resumed_run()
        elif next_run.kind == "admitted" and await self._carries_key(next_run):
            result.add("note", "after the 403 the next run still used the key")
        else:
            result.add("note", f"after the 403 the next run was {next_run.kind}")

        # 401: the key is stale
        self.phase("401")
        before = len(self.network.log)
        got401, reached = await self._run_stubbed(401)
        if not reached:
            result.set(
                UNCHECKED, f"could not check: the stubbed 401 did not reach the app ({got401.kind})"
            )
            return
        await asyncio.sleep(0.5)
        await driver.wait_quiet(timeout=3)
        retries = [r for r in self.network.chat(before)[1:] if self.key.found_in(r.haystack())]
        if retries:
            problems.append(
                f"after the 401 the key was sent again {len(retries)} time(s) (silent retry)"
            )
        asked = await driver.key_visible()
        text = None if asked else await driver.reconnect_text()
        await self.shot_evidence(result, "after-401", "the app after a 401")
        if asked:
            result.add("note", "after the 401 the app shows the key input (asks to reconnect)")
        elif text:
            result.add("text", f"after the 401 the app says: “{_clip(text)}”")
        else:
            problems.append("after the 401 the app did not ask to reconnect")
        scan = await self._scan()
        self._storage_evidence(result, scan, "after the 401")
        if scan["hits"]:
            problems.append("after the 401 the key is still in browser storage")
        await driver.close_dialogs()
        again = await self._run_feature()
        if again.kind == "admitted" and await self._carries_key(again):
            problems.append("after the 401 the app still sent the key (not cleared from memory)")
        else:
            result.add("note", f"after the 401 the next run did not send the key ({again.kind})")
        await driver.close_dialogs()
        if problems:
            result.set(FAIL, "; ".join(problems))
        else:
            result.set(PASS, "a 403 kept the key; a 401 cleared it and asked to reconnect")


__all__ = ["KeyChecks"]
