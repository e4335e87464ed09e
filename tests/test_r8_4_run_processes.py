"""R8.4 / R3.5: runs across processes. Four processes, each with eight concurrent runs (asyncio
tasks), share one data directory whose strict total allowance is nearly used up: together they
never take the app past it, and no run passes its own ceiling — checked against what the
simulator charged, not what byom counted. Every step waits on an event (a child's line, its
exit), never on the machine being fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import byom
from byom.sim import Simulator
from conftest import CANARY_KEY

PROCESSES = 4
RUNS_PER_PROCESS = 8
ALLOWANCE = Decimal("0.02")
MAX_COST = Decimal("0.004")

CHILD = r"""
import asyncio, json, sys
from decimal import Decimal
import byom

data_dir, base, key, runs, max_cost = sys.argv[1:6]

def lookup(query: str) -> str:
    "Look a word up."
    return "found " + query

async def main():
    app = byom.App("Agents", [byom.Feature("summarize", "worker")], data_dir=data_dir)
    app.connect("openrouter", key=key, base_url=base)
    app.choose_model("summarize", "openai/gpt-4o-mini")
    print("ready", flush=True)
    sys.stdin.readline()  # the start signal: every process goes at once
    results = await asyncio.gather(*(
        app.arun("summarize", [{"role": "user", "content": f"question {i}"}], tools=[lookup],
                 max_steps=50, max_cost=Decimal(max_cost), max_tokens=300)
        for i in range(int(runs))
    ))
    for r in results:
        print(json.dumps({"stopped": r.stopped, "steps": r.steps, "counted": str(r.counted)}))
    app.close()

asyncio.run(main())
"""


def test_r8_4_four_processes_eight_runs_each_never_overshoot(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.config(tool_steps=1000, generation_delay=0, tool_argument_bytes=600)
    data_dir = tmp_path / "data"
    setup = byom.App("Agents", [byom.Feature("summarize", "worker")], data_dir=data_dir)
    setup.set_allowance(ALLOWANCE, period="total", strict=True)
    setup.close()
    mark = sim.mark()
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                str(data_dir),
                sim.openrouter_base,
                CANARY_KEY,
                str(RUNS_PER_PROCESS),
                str(MAX_COST),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err[-2000:]
        results.extend(json.loads(line) for line in out.splitlines() if line.startswith("{"))
    assert len(results) == PROCESSES * RUNS_PER_PROCESS
    charged = sim.charged(since=mark)
    assert charged <= ALLOWANCE
    assert all(Decimal(r["counted"]) <= MAX_COST for r in results)
    stopped = {r["stopped"] for r in results}
    assert "allowance" in stopped  # the allowance, not luck, ended runs
    assert sum(r["steps"] for r in results) > PROCESSES * RUNS_PER_PROCESS  # multi-step runs
    # Per run, from history (each step a row with its run id): what was charged fits the ceiling.
    check = byom.App("Agents", [byom.Feature("summarize", "worker")], data_dir=data_dir)
    per_run = check.totals(by="run", period="total")
    assert per_run and all(total <= MAX_COST for total in per_run.values())
    assert check.spent("total") <= ALLOWANCE
    check.close()
