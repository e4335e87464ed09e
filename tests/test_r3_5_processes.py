"""R3.5 across processes, and a SIGKILL mid-request leaves the store consistent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import byom
from byom.sim import Simulator
from conftest import CANARY_KEY, chat_count

CHILD = r"""
import json, sys, time
from decimal import Decimal
import byom
from byom.errors import BudgetExceeded
data_dir, base, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
app = byom.App("Paper digest", features=[byom.Feature("summarize", "worker")], data_dir=data_dir)
app.connect("openrouter", key=sys.argv[4], base_url=base)
app.choose_model("summarize", "openai/gpt-4o-mini")
while time.time() < start_at:
    time.sleep(0.001)
try:
    reply = app.chat("summarize", [{"role": "user", "content": "hello"}], max_tokens=300)
    print(json.dumps({"ok": str(reply.cost)}))
except BudgetExceeded:
    print(json.dumps({"refused": True}))
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
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
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 1.0}] * 2)
    start_at = str(time.time() + 2.0)
    children = [
        _spawn(CHILD, str(data_dir), sim.openrouter_base, start_at, CANARY_KEY) for _ in range(2)
    ]
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
    sim.push_faults(
        [{"kind": "slow_first_byte", "seconds": 0}, {"kind": "slow_first_byte", "seconds": 30}]
    )
    child = _spawn(KILLED, str(data_dir), sim.openrouter_base, CANARY_KEY)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "first done"
    deadline = time.time() + 10
    while chat_count(sim) < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert chat_count(sim) == 2  # the second request is in flight
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
