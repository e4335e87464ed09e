"""R3.5 across processes, and a SIGKILL mid-request leaves the store consistent.

Every step waits on an event (a line from the child, the simulator's counters, a child's exit),
never on the machine being fast enough.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import byom
from byom.sim import Simulator
from conftest import CANARY_KEY, chat_count, wait_until

CHILD = r"""
import json, sys
import byom
from byom.errors import BudgetExceeded
data_dir, base = sys.argv[1], sys.argv[2]
app = byom.App("Paper digest", features=[byom.Feature("summarize", "worker")], data_dir=data_dir)
app.connect("openrouter", key=sys.argv[3], base_url=base)
app.choose_model("summarize", "openai/gpt-4o-mini")
print("ready", flush=True)
sys.stdin.readline()  # the start signal: both children go at once
try:
    reply = app.chat("summarize", [{"role": "user", "content": "hello"}], max_tokens=300)
    print(json.dumps({"ok": str(reply.cost)}))
except BudgetExceeded:
    print(json.dumps({"refused": True}))
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_r3_5_two_processes_over_budget_only_one_reaches_the_provider(
    sim: Simulator, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    setup = byom.App(
        "Paper digest", features=[byom.Feature("summarize", "worker")], data_dir=data_dir
    )
    setup.set_allowance(Decimal("0.0003"), period="total")
    setup.close()
    # The admitted request is held until the other child has been refused: however the two
    # are scheduled, the first reservation is still in flight when the second one is checked.
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}] * 2)
    children = [_spawn(CHILD, str(data_dir), sim.openrouter_base, CANARY_KEY) for _ in range(2)]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    try:
        wait_until(
            lambda: any(child.poll() is not None for child in children),
            "one child to be refused (a held request never ends by itself)",
        )
        wait_until(lambda: chat_count(sim) == 1, "the admitted request to reach the simulator")
    finally:
        sim.release()  # ends the hold of the requests that have arrived
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        assert CANARY_KEY not in out + err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert sum("refused" in o for o in outputs) == 1
    assert sum("ok" in o for o in outputs) == 1
    assert chat_count(sim) == 1


KILLED = r"""
import sys
import byom
data_dir, base = sys.argv[1], sys.argv[2]
app = byom.App("Paper digest", features=[byom.Feature("summarize", "worker")], data_dir=data_dir)
app.connect("openrouter", key=sys.argv[3], base_url=base)
app.choose_model("summarize", "openai/gpt-4o-mini")
app.chat("summarize", [{"role": "user", "content": "first"}], max_tokens=100)
print("first done", flush=True)
app.chat("summarize", [{"role": "user", "content": "second"}], max_tokens=100)
print("second done", flush=True)
"""


def test_r3_4_sigkill_mid_request_leaves_store_consistent(sim: Simulator, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # The second request is held until the child dies (the hang-up ends the wait).
    sim.push_faults(
        [{"kind": "slow_first_byte", "seconds": 0}, {"kind": "slow_first_byte", "seconds": 3600}]
    )
    child = _spawn(KILLED, str(data_dir), sim.openrouter_base, CANARY_KEY)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "first done"
    wait_until(lambda: chat_count(sim) == 2, "the second request")  # it is in flight now
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)

    app = byom.App(
        "Paper digest", features=[byom.Feature("summarize", "worker")], data_dir=data_dir
    )
    try:
        history = app.history()
        assert len(history) == 1 and history[0].outcome == "ok"  # committed row intact
        first_cost = history[0].cost
        assert first_cost is not None and first_cost > 0
        open_rows = app.unreconciled()
        assert len(open_rows) == 1  # the killed request's reservation, now unreconciled
        assert open_rows[0].state == "unreconciled"
        assert app.spent("total") > first_cost  # and it still counts
        app.clear_unreconciled(open_rows[0].id)
        assert app.spent("total") == first_cost
    finally:
        app.close()
