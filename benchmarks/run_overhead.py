"""What a byom run adds per step over the same agent loop written by hand on raw httpx.

Against ``byom sim`` (in its own process) on loopback, configured so that every run takes 10
steps (9 tool-call turns, then an answer). Both loops send the same conversation, offer the same
tool, parse the tool calls, run the tool and send its result back; byom's also estimates,
reserves the step against the run ceiling and the allowance in one transaction, commits the real
cost and writes a history row per step. Runs alternate between the two loops so drift hits both
alike; the figure is the ratio of the medians, measured in the same run (absolute times vary
fourfold between machines and with load).

Goal (issue 14): the byom loop <= 1.2x the hand-written one. Printed, never asserted.
Usage: ``python benchmarks/run_overhead.py [--runs 40]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from decimal import Decimal
from typing import Any

import httpx
from call_overhead import KEY, count_store_work, start_sim

import byom

STEPS = 10
QUESTION = [{"role": "user", "content": "Find the note about the harbour and summarise it."}]


def search_notes(query: str) -> str:
    """Search the user's notes."""
    return f"note: the harbour {query[:10]}"


TOOL = byom.Tool.of(search_notes)


def hand_loop(client: httpx.Client, url: str) -> int:
    """The same loop, written by hand: no estimate, no ledger, no history."""
    messages: list[dict[str, Any]] = list(QUESTION)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    for step in range(1, STEPS + 1):
        body = {
            "model": "openai/gpt-4o-mini",
            "messages": messages,
            "max_tokens": 200,
            "stream": False,
            "tools": [TOOL.spec],
        }
        data = client.post(url, content=json.dumps(body), headers=headers).json()
        message = data["choices"][0]["message"]
        calls = message.get("tool_calls") or []
        if not calls:
            return step
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        for call in calls:
            arguments = json.loads(call["function"]["arguments"])
            result = search_notes(**arguments)
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    return STEPS


def store_work(app: byom.App, loop: Any, runs: int = 3) -> tuple[float, float]:
    """SQLite statements and transactions per step of a run (see ``call_overhead.store_work``)."""
    seen: list[str] = []
    conn = app.store._conn()  # type: ignore[attr-defined]  # this thread's connection
    conn.set_trace_callback(seen.append)
    steps = sum(loop() for _ in range(runs))
    conn.set_trace_callback(None)
    return count_store_work(seen, steps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    proc, base = start_sim()
    try:
        httpx.post(
            base + "/_sim/config",
            json={"tool_steps": STEPS - 1, "generation_delay": 0},
            timeout=10,
        ).raise_for_status()
        url = base + "/api/v1/chat/completions"
        hand_times: list[float] = []
        byom_times: list[float] = []
        with httpx.Client(trust_env=False) as client, tempfile.TemporaryDirectory() as tmp:
            app = byom.App("bench", [byom.Feature("summarize", "worker")], data_dir=tmp)
            app.connect("openrouter", key=KEY, base_url=base + "/api/v1")
            app.set_allowance(Decimal(1000), period="total")

            def byom_loop() -> int:
                result = app.run(
                    "summarize",
                    QUESTION,
                    tools=[TOOL],
                    max_steps=STEPS,
                    max_cost=Decimal(10),
                    max_tokens=200,
                )
                assert result.stopped == "done", result
                return result.steps

            for _ in range(3):  # warm both connection pools and caches
                assert hand_loop(client, url) == STEPS
                assert byom_loop() == STEPS
            statements, transactions = store_work(app, byom_loop)
            for _ in range(args.runs):
                t = time.perf_counter()
                hand_loop(client, url)
                hand_times.append(time.perf_counter() - t)
                t = time.perf_counter()
                byom_loop()
                byom_times.append(time.perf_counter() - t)
            app.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"store work per step   {statements:.1f} SQLite statements   "
        f"{transactions:.1f} transactions (check-and-reserve, settle-and-record)"
    )
    hand = statistics.median(hand_times)
    mine = statistics.median(byom_times)
    print(
        f"{STEPS}-step run   hand-written over httpx {hand * 1e3:.1f} ms "
        f"({hand / STEPS * 1e3:.2f} ms/step)   byom {mine * 1e3:.1f} ms "
        f"({mine / STEPS * 1e3:.2f} ms/step)   added {(mine - hand) / STEPS * 1e3:.2f} ms/step   "
        f"ratio {mine / hand:.2f} (goal <= 1.2)"
    )


if __name__ == "__main__":
    main()
