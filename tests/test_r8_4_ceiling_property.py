"""R8.4 / R3.7 property: in strict mode the run ceiling and the allowance hold, whatever the model
does. Hypothesis draws a scripted model from the simulator's switches — tool loops of any length,
parallel calls, huge arguments, cut streams, malformed arguments, OpenRouter routing at up to 3×
the listed price — and a ceiling, an allowance, ``max_tokens``, a provider kind and a call path;
for each run, what the *simulator* charged (not what byom thinks) is compared:

* charged for the run ≤ ``max_cost``, always;
* charged for the app, over all its runs, ≤ its allowance, always.

Derandomized (the same 1,000 runs on every machine); no deadline (a busy machine is slow, not
wrong).
"""

from __future__ import annotations

import math
import random
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import byom
from byom.sim import Simulator
from test_r1_2_providers_sim import DEAR_OPENROUTER_MODEL, DEAR_PRICE, KINDS, Kind, connect

RUNS = 1000
FEATURE = byom.Feature("summarize", "worker")
QUESTION = [{"role": "user", "content": "Look it up, then answer."}]


def lookup(query: str, depth: int = 1) -> str:
    """Look a word up."""
    return "found " + query[:20]


def peek(path: str) -> str:
    """Peek at a path."""
    return "x" * 400


def _prices(kind: Kind) -> dict[str, tuple[Decimal, Decimal]]:
    model = DEAR_OPENROUTER_MODEL if kind.provider == "openrouter" else kind.model
    return {model: (DEAR_PRICE.prompt, DEAR_PRICE.completion)}


def draw_script(rnd: random.Random) -> dict[str, Any]:
    """A scripted model. Values come from a ``Random`` seeded by hypothesis: hypothesis' own
    strategies lean towards boundary values (most runs would be refused at step one), and the
    property is about long, hostile runs. A failure reports its seed."""
    return {
        "tool_steps": rnd.choice([0, 1, 3, rnd.randint(0, 60)]),
        "parallel_tool_calls": rnd.randint(1, 4),
        "tool_argument_bytes": rnd.choice([None, None, rnd.randint(50, 8000)]),
        "stream_cut_in_tool_arguments": rnd.random() < 0.08,
        "malformed_tool_arguments": rnd.random() < 0.05,
        "routed_price_multiplier": rnd.choice(["1", "1.5", "3"]),
        "reply_words": rnd.randint(0, 300),
    }


def money(rnd: random.Random, low: float, high: float) -> Decimal:
    """A log-uniform amount between ``low`` and ``high`` dollars, to 1/100 of a cent."""
    return max(
        Decimal("0.0001"),
        Decimal(str(round(math.exp(rnd.uniform(math.log(low), math.log(high))), 4))),
    )


class _Apps:
    """One app per provider kind for the whole property run (apps are not cheap to open);
    each example gets a fresh allowance over what the app has spent so far."""

    def __init__(self, sim: Simulator, root: Path) -> None:
        self.sim = sim
        self.root = root
        self.apps: dict[str, byom.App] = {}

    def get(self, kind: Kind) -> byom.App:
        app = self.apps.get(kind.provider)
        if app is None:
            app = byom.App("Ceiling", [FEATURE], data_dir=self.root / kind.provider)
            connect(app, kind, self.sim, dear=True)
            self.apps[kind.provider] = app
        return app

    def close(self) -> None:
        for app in self.apps.values():
            app.close()


def test_r8_4_strict_run_never_charges_past_max_cost_or_the_allowance(
    sim_server: Simulator,
) -> None:
    sim = sim_server
    sim.reset()
    runs = {"count": 0, "stopped": {}}
    with tempfile.TemporaryDirectory() as root:
        apps = _Apps(sim, Path(root))

        @settings(
            max_examples=RUNS,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(seed=st.integers(0, 2**63))
        def one_run(seed: int) -> None:
            rnd = random.Random(seed)  # uniform draws whatever seed hypothesis picks
            script = draw_script(rnd)
            kind = rnd.choice(KINDS)
            path = rnd.choice(["run", "run_stream"])
            max_cost = money(rnd, 0.02, 5.0)
            headroom = money(rnd, 0.05, 8.0)
            max_tokens = rnd.choice([rnd.randint(16, 300), rnd.randint(16, 3000)])
            max_steps = rnd.randint(1, 40)
            sim.config(generation_delay=0, **script)
            app = apps.get(kind)
            prices = _prices(kind)
            # The allowance: what this app already counts plus some headroom, strict.
            allowance = app.spent("total") + headroom
            app.set_allowance(allowance, period="total", strict=True)
            mark = sim.mark()
            options: dict[str, Any] = {
                "tools": [lookup, peek],
                "max_cost": max_cost,
                "max_tokens": max_tokens,
                "max_steps": max_steps,
            }
            if path == "run":
                result = app.run("summarize", QUESTION, **options)
            else:
                *_, done = app.run_stream("summarize", QUESTION, **options)
                result = done.result
            charged = sim.charged(since=mark, prices=prices)
            assert charged <= max_cost, (kind.provider, script, charged, max_cost, result)
            assert charged <= headroom, (kind.provider, script, charged, headroom, result)
            assert result.counted <= max_cost
            assert app.spent("total") <= allowance
            runs["count"] += 1
            runs["steps"] = runs.get("steps", 0) + result.steps
            if result.error is not None:
                codes = runs.setdefault("errors", {})
                codes[result.error.code] = codes.get(result.error.code, 0) + 1
            runs["stopped"][result.stopped] = runs["stopped"].get(result.stopped, 0) + 1

        try:
            one_run()
        finally:
            apps.close()
    print(runs)
    assert runs["count"] >= RUNS
    assert runs["steps"] >= 1.5 * RUNS  # multi-step runs, not mostly refused first steps
    # The property was exercised on every way a run ends under pressure, not only the easy one.
    assert {"max_cost", "allowance", "done", "error", "max_steps"} <= set(runs["stopped"]), runs
