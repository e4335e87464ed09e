"""What byom's guarded call path adds over a raw HTTP POST, measured in one run.

Against ``byom sim`` (in its own process) on loopback:

* latency: median of N sequential requests, ``app.chat`` vs a raw ``httpx`` POST of the same
  body — the difference is what estimate + atomic reserve + parse + commit + history cost;
* throughput: requests per second with 32 concurrent asyncio tasks, ``app.achat`` vs raw
  ``httpx.AsyncClient`` — reported as a ratio;
* cold ``import byom``: ``python -X importtime`` cumulative microseconds for ``byom``.

Goals (issue 2): added median latency ≤ 0.5 ms; throughput ≥ 0.9× raw; cold import ≤ 60 ms.
Printed, never asserted. Usage: ``python benchmarks/call_overhead.py [--n 400]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

import httpx

import byom

KEY = "sk-or-v1-benchmark-key-0000000000"
MESSAGES = [{"role": "user", "content": "Summarise the benchmark in one line."}]


def start_sim() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "byom", "sim", "--port", "0", "--reply-words", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def raw_body(max_tokens: int) -> bytes:
    return json.dumps(
        {
            "model": "openai/gpt-4o-mini",
            "messages": MESSAGES,
            "max_tokens": max_tokens,
            "stream": False,
        }
    ).encode()


def bench_latency(base: str, n: int) -> tuple[float, float]:
    url = base + "/api/v1/chat/completions"
    body = raw_body(100)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    raw_times, byom_times = [], []
    with httpx.Client(trust_env=False) as client, tempfile.TemporaryDirectory() as tmp:
        app = byom.App("bench", [byom.Feature("summarize", "worker")], data_dir=tmp)
        app.connect("openrouter", key=KEY, base_url=base + "/api/v1")
        app.set_allowance(Decimal(1000), period="total")
        for _ in range(20):  # warm both connection pools
            client.post(url, content=body, headers=headers)
            app.chat("summarize", MESSAGES, max_tokens=100)
        for _ in range(n):  # interleaved, so drift hits both alike
            t = time.perf_counter()
            client.post(url, content=body, headers=headers).json()
            raw_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            app.chat("summarize", MESSAGES, max_tokens=100)
            byom_times.append(time.perf_counter() - t)
        app.close()
    return statistics.median(raw_times), statistics.median(byom_times)


async def _raw_async(base: str, total: int, concurrency: int) -> float:
    url = base + "/api/v1/chat/completions"
    body = raw_body(100)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(trust_env=False, limits=limits) as client:
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                (await client.post(url, content=body, headers=headers)).json()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - start)


async def _byom_async(app: byom.App, total: int, concurrency: int) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            await app.achat("summarize", MESSAGES, max_tokens=100)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


def bench_throughput(base: str, total: int, concurrency: int = 32) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = byom.App("bench", [byom.Feature("summarize", "worker")], data_dir=tmp)
        app.connect("openrouter", key=KEY, base_url=base + "/api/v1")
        app.set_allowance(Decimal(1000), period="total")

        async def both() -> tuple[float, float]:
            await _raw_async(base, 64, concurrency)  # warm-up
            await _byom_async(app, 64, concurrency)
            raws, guardeds = [], []
            for _ in range(2):  # alternate, keep the best of each: fair to both
                raws.append(await _raw_async(base, total, concurrency))
                guardeds.append(await _byom_async(app, total, concurrency))
            return max(raws), max(guardeds)

        result = asyncio.run(both())
        app.close()
        return result


def import_time_ms(runs: int = 7) -> float:
    figures = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import byom"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        for line in out.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == "byom":
                figures.append(int(parts[1]) / 1000)
    return statistics.median(figures)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--total", type=int, default=1000)
    args = parser.parse_args()
    proc, base = start_sim()
    try:
        raw, guarded = bench_latency(base, args.n)
        print(
            f"latency   raw {raw * 1e3:.3f} ms   byom {guarded * 1e3:.3f} ms   "
            f"added {(guarded - raw) * 1e3:.3f} ms (goal <= 0.5)   ratio {guarded / raw:.2f}"
        )
        raw_rps, byom_rps = bench_throughput(base, args.total)
        print(
            f"throughput @32 async   raw {raw_rps:.0f}/s   byom {byom_rps:.0f}/s   "
            f"ratio {byom_rps / raw_rps:.2f} (goal >= 0.9)"
        )
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"cold import byom {import_time_ms():.1f} ms (goal <= 60)")


if __name__ == "__main__":
    main()
