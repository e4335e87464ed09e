"""What byom's guarded call path adds over a raw HTTP POST, measured in one run.

Against ``byom sim`` (in its own process) on loopback, every figure as a ratio to a baseline
measured in the same run (absolute times vary fourfold between machines and with load):

* byom's own time per guarded call with a canned in-process reply (no network, no server);
* store work: SQLite statements and transactions per guarded call (counted with
  ``sqlite3.Connection.set_trace_callback``; a trigger's statements are part of the statement
  that fired it);
* latency: median of N sequential requests, ``app.chat`` vs a raw ``httpx`` POST of the same
  body — what estimate + atomic reserve + parse + commit + history cost;
* store floor: the two ledger transactions of a guarded call timed alone, as a share of the raw
  request — the lower bound of the latency ratio while both stay on the call's path;
* throughput: requests per second with 32 concurrent asyncio tasks, ``app.achat`` vs raw
  ``httpx.AsyncClient``;
* start-up: a fresh ``python -m byom --help`` and ``python -c "import byom"`` vs
  ``python -c "import httpx"`` (whole-process wall time, paired runs, median ratio).

Goals (issue 16): latency <= 1.2x raw; throughput >= 1.0x raw; ``byom --help`` <= 0.5x
``import httpx``. Printed, never asserted. Usage: ``python benchmarks/call_overhead.py [--n 400]``.
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


def store_work(base: str, calls: int = 50) -> tuple[float, float]:
    """SQLite statements and transactions per guarded call, after the caches are warm."""
    with tempfile.TemporaryDirectory() as tmp:
        app = byom.App("bench", [byom.Feature("summarize", "worker")], data_dir=tmp)
        app.connect("openrouter", key=KEY, base_url=base + "/api/v1")
        app.set_allowance(Decimal(1000), period="total")
        app.chat("summarize", MESSAGES, max_tokens=100)
        seen: list[str] = []
        conn = app.store._conn()  # type: ignore[attr-defined]  # this thread's connection
        conn.set_trace_callback(seen.append)
        for _ in range(calls):
            app.chat("summarize", MESSAGES, max_tokens=100)
        conn.set_trace_callback(None)
        app.close()
    return count_store_work(seen, calls)


def count_store_work(seen: list[str], calls: int) -> tuple[float, float]:
    """Statements and transactions per call in a trace of ``calls`` calls."""
    # A trigger's statements are reported with the text of the statement that fired them.
    statements = [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]
    # Explicit transactions, plus each statement outside one (it is a transaction of its own).
    transactions, inside = 0, False
    for statement in statements:
        if statement.startswith("BEGIN"):
            transactions, inside = transactions + 1, True
        elif statement.startswith(("COMMIT", "ROLLBACK")):
            inside = False
        elif not inside:
            transactions += 1
    return len(statements) / calls, transactions / calls


_CANNED = json.dumps(
    {
        "id": "gen-bench",
        "model": "openai/gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "word " * 20},
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32, "cost": 1e-5},
    }
).encode()


class _CannedTransport:
    """Answers every request at once with the same reply: no network, no server."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def send(self, request: object) -> object:
        return _CannedReply()

    def close(self) -> None:
        pass


class _CannedReply:
    status = 200
    headers = {"content-type": "application/json"}  # noqa: RUF012
    body = _CANNED


def own_time(calls: int = 300, runs: int = 7) -> float:
    """byom's own time per guarded call (estimate, check-and-reserve, parse, settle-and-record)
    with a canned in-process reply: the median over ``runs`` batches of ``calls``."""
    with tempfile.TemporaryDirectory() as tmp:
        app = byom.App(
            "bench",
            [byom.Feature("summarize", "worker")],
            data_dir=tmp,
            transport_factory=_CannedTransport,
        )
        app.connect("openrouter", key=KEY)
        app.set_allowance(Decimal(1000), period="total")
        for _ in range(50):
            app.chat("summarize", MESSAGES, max_tokens=100)
        figures = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(calls):
                app.chat("summarize", MESSAGES, max_tokens=100)
            figures.append((time.perf_counter() - start) / calls)
        app.close()
    return statistics.median(figures)


def store_floor(calls: int = 300, runs: int = 7) -> float:
    """The store work one guarded call cannot do without, timed alone: check-and-reserve (one
    exclusive transaction) and settle-and-record (one more), through byom's ledger and SQLite
    store with nothing else around them — no estimate, no request, no parse, no events."""
    from byom.core.store import CallRecord

    with tempfile.TemporaryDirectory() as tmp:
        app = byom.App("bench", [byom.Feature("summarize", "worker")], data_dir=tmp)
        app.set_allowance(Decimal(1000), period="total")
        ledger, store = app.ledger, app.store
        allowances, version = ledger.prepared()
        figures = []
        for run in range(runs + 1):
            start = time.perf_counter()
            for i in range(calls):
                row_id = f"{run:02d}{i:030d}"
                ledger.reserve(
                    Decimal("0.0001"),
                    reservation_id=row_id,
                    feature="summarize",
                    model="openai/gpt-4o-mini",
                    provider="openrouter",
                    allowances=allowances,
                    based_on=version,
                )
                with store.atomic():
                    ledger.commit(row_id, Decimal("0.00001"), "gen-floor")
                    store.add_record(
                        CallRecord(
                            id=row_id,
                            app_id=ledger.app_id,
                            feature="summarize",
                            provider="openrouter",
                            model="openai/gpt-4o-mini",
                            outcome="ok",
                            started_at=time.time(),
                            ended_at=time.time(),
                            cost=Decimal("0.00001"),
                            cost_source="provider",
                        )
                    )
            if run:  # the first batch warms the caches
                figures.append((time.perf_counter() - start) / calls)
        app.close()
    return statistics.median(figures)


def startup_ratio(code: list[str], runs: int = 9) -> tuple[float, float, float]:
    """Median wall time of ``python *code`` and of ``python -c "import httpx"``, and the median
    of their ratios over paired runs (A B A B ...)."""

    def wall(args: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, check=True)
        return time.perf_counter() - start

    httpx_args = ["-c", "import httpx"]
    wall(code), wall(httpx_args)  # warm the file cache
    pairs = [(wall(code), wall(httpx_args)) for _ in range(runs)]
    return (
        statistics.median(a for a, _ in pairs),
        statistics.median(b for _, b in pairs),
        statistics.median(a / b for a, b in pairs),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--total", type=int, default=1000)
    args = parser.parse_args()
    proc, base = start_sim()
    try:
        statements, transactions = store_work(base)
        print(
            f"store work per guarded call   {statements:.1f} SQLite statements   "
            f"{transactions:.1f} transactions (the minimum: 2)"
        )
        print(
            f"byom's own time per guarded call, canned reply (no network)   "
            f"{own_time() * 1e6:.0f} us"
        )
        raw, guarded = bench_latency(base, args.n)
        print(
            f"latency   raw {raw * 1e3:.3f} ms   byom {guarded * 1e3:.3f} ms   "
            f"added {(guarded - raw) * 1e3:.3f} ms   ratio {guarded / raw:.2f} (goal <= 1.2)"
        )
        floor = store_floor()
        print(
            f"store floor (reserve + settle-and-record alone)   {floor * 1e6:.0f} us   "
            f"= {floor / raw:.2f}x a raw request: the best ratio the call path could reach "
            f"with these two transactions and nothing else is {1 + floor / raw:.2f}"
        )
        raw_rps, byom_rps = bench_throughput(base, args.total)
        print(
            f"throughput @32 async   raw {raw_rps:.0f}/s   byom {byom_rps:.0f}/s   "
            f"ratio {byom_rps / raw_rps:.2f} (goal >= 1.0)"
        )
    finally:
        proc.terminate()
        proc.wait(10)
    for label, code, goal in (
        ("byom --help", ["-m", "byom", "--help"], "goal <= 0.5"),
        ("import byom", ["-c", "import byom"], "no goal of its own"),
    ):
        mine, httpx_wall, ratio = startup_ratio(code)
        print(
            f"{label:<12} {mine * 1e3:.1f} ms   import httpx {httpx_wall * 1e3:.1f} ms   "
            f"ratio {ratio:.2f} ({goal})"
        )


if __name__ == "__main__":
    main()
