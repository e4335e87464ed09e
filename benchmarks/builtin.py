"""The built-in model, natively: load time, prompt and output speed, time to first token, the
time a cancel takes to stop the runtime, and peak memory.

    .venv/bin/python benchmarks/builtin.py [--runs 3] [--threads 1 2] [--tokens 32]

The model is the built-in SmolLM2-135M-Instruct (Q4_1 GGUF) through llama-cpp-python (``make
builtin``). The prompt is an ~80-token chat (rendered with the model's own chat template),
greedy, up to ``--tokens`` output tokens — the prompt and settings used for the in-browser
figures in ``shared/spec/builtin.md``, so the two halves compare (the browser half, wllama in
headless Chromium, is measured with the browser shell; not here yet).

* load: a fresh engine reading the file (``cold`` = first in this process; ``warm`` = again,
  the file now in the page cache), seconds;
* prompt tok/s: prompt tokens / time to read them; output tok/s: output tokens / time to
  produce them (both from the runtime's own counts);
* first token: from the call (``App.astream``) to the first text delta, through the whole call
  path (budget guard, ledger, transport, worker thread), seconds;
* cancel: from closing the stream to the runtime's generation having ended, seconds (goal:
  under one second);
* peak RSS of this process (MiB).

Printed, never asserted: a busy machine is slower, not wrong. The tests check behaviour only.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

import byom
from byom.builtin.models import builtin_model
from byom.builtin.runtime import Engine, Generation, engine_for
from byom.core.usage import Delta

PROMPT = [
    {
        "role": "system",
        "content": "You are a helpful assistant who rewrites messages in plain, simple words.",
    },
    {
        "role": "user",
        "content": "Rewrite this message more simply: Owing to scheduled maintenance of the "
        "heating installation, the municipal swimming pool will remain closed to the public "
        "from Monday until further notice. Season ticket holders will be compensated.",
    },
]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(threads: int) -> float:
    engine = Engine(builtin_model(), n_threads=threads)
    started = time.perf_counter()
    engine.load()
    seconds = time.perf_counter() - started
    engine.close()
    return seconds


def generate(engine: Engine, tokens: int) -> Generation:
    prepared = engine.prepare(PROMPT, tokens, {"temperature": 0})
    return engine.run(prepared, lambda text: None, threading.Event())


def through_app(app: byom.App, tokens: int) -> tuple[float, float]:
    """(first delta, cancel → stopped) seconds, through ``App.astream``."""

    async def go() -> tuple[float, float]:
        started = time.perf_counter()
        stream = app.astream("rewrite", PROMPT, max_tokens=tokens, temperature=0)
        first = 0.0
        async for item in stream:
            if isinstance(item, Delta) and item.text:
                first = time.perf_counter() - started
                break
        figures = engine_for(builtin_model()).last
        cancel_at = time.perf_counter()
        await stream.aclose()
        assert figures is not None
        await asyncio.to_thread(figures.done.wait, 60)
        return first, time.perf_counter() - cancel_at

    return asyncio.run(go())


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    model = builtin_model()
    print(
        f"model {model.path.name}: {model.size_bytes / 1e6:.1f} MB on disk, "
        f"context {model.context_length} tokens"
    )
    print(f"peak RSS before loading: {peak_mib():.0f} MiB")
    rows: list[dict[str, Any]] = []
    for threads in args.threads:
        cold = load(threads)
        warm = median([load(threads) for _ in range(args.runs)])
        engine = Engine(model, n_threads=threads)
        engine.load()
        runs = [generate(engine, args.tokens) for _ in range(args.runs)]
        engine.close()
        prompt_rate = median([g.prompt_tokens / g.prompt_seconds for g in runs])
        output_rate = median(
            [g.completion_tokens / g.output_seconds for g in runs if g.output_seconds > 0]
        )
        first_runtime = median([g.first_token_seconds or 0.0 for g in runs])
        rows.append(
            {
                "threads": threads,
                "load cold s": cold,
                "load warm s": warm,
                "prompt tokens": runs[0].prompt_tokens,
                "output tokens": runs[0].completion_tokens,
                "prompt tok/s": prompt_rate,
                "output tok/s": output_rate,
                "first token (runtime) s": first_runtime,
            }
        )
    # Through the whole call path, with the process's default thread count.
    with tempfile.TemporaryDirectory() as tmp:
        app = byom.App("Builtin bench", [byom.Feature("rewrite", "worker")], data_dir=tmp)
        app.connect("builtin")
        app.chat("rewrite", PROMPT, max_tokens=4, temperature=0)  # load outside the timing
        measured = [through_app(app, 2000) for _ in range(args.runs)]
        app.close()
    for row in rows:
        print(
            " · ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
            )
        )
    engine_threads = engine_for(model).n_threads
    print(
        f"App.astream ({engine_threads} threads): first text delta "
        f"{median([m[0] for m in measured]):.2f} s · cancel → runtime stopped "
        f"{median([m[1] for m in measured]):.3f} s (goal < 1 s)"
    )
    print(f"peak RSS: {peak_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
