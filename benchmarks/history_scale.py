"""Does byom's cost grow with history? A guarded call, ``spent()``, ``totals()`` and the export,
with 0, 10k, 100k and 1M rows in the store (issue 16, pitfall 25).

A generator fills one store directly (plain SQL inserts into ``ledger`` and ``history``, as a
year of an agent app's calls would leave them: ~2,700 a day over the past 365 days, a few
stamped in the future by a clock that went back), growing it from one size to the next. At each
size, in the same run:

* a guarded ``app.chat`` against ``byom sim`` (its own process, loopback) with a total and a
  monthly allowance in force: median latency, as a ratio to the median at 0 rows;
* ``app.spent("total")``, ``app.spent("month")``, ``app.totals(period="total")`` (per local
  day, all time);
* ``app.write_history(file)`` (streamed) and ``app.export_history()`` (one string): time, and
  peak memory traced by ``tracemalloc``.

Goals: guarded call at 1M rows <= 1.1x its latency at 0 rows; ``totals()`` at 1M rows under
200 ms; the streamed export's peak memory does not grow with the rows. Printed, never asserted.

Usage: ``python benchmarks/history_scale.py [--sizes 0,10000,100000,1000000] [--calls 200]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import byom

sys.path.insert(0, str(Path(__file__).parent))
from call_overhead import KEY, MESSAGES, start_sim

APP_ID = "bench"
FEATURES = [byom.Feature("summarize", "worker"), byom.Feature("critique", "frontier")]
MODELS = ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5", "google/gemini-2.5-flash")


def fill(path: Path, start: int, stop: int, now: float) -> None:
    """Insert ledger and history rows ``start`` … ``stop - 1`` straight into the file."""
    rng = random.Random(start)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    ledger, history = [], []
    for i in range(start, stop):
        at = now - rng.uniform(0, 365 * 86_400) if i % 1000 else now + rng.uniform(0, 86_400)
        cost_pico = rng.randint(10_000, 5_000_000_000)  # up to half a cent
        cost = format(Decimal(cost_pico).scaleb(-12), "f")
        row_id = f"gen{i:08d}"
        feature = "summarize" if i % 3 else "critique"
        model = MODELS[i % len(MODELS)]
        ledger.append(
            (row_id, APP_ID, f"s{i // 500}", "pid:1", at, "committed", cost_pico, cost_pico,
             feature, model, "openrouter")
        )  # fmt: skip
        history.append(
            (row_id, APP_ID, feature, "openrouter", model, "ok", at, at + 1.5, 120, 300, cost,
             "provider", cost_pico)
        )  # fmt: skip
        if len(ledger) == 50_000:
            _flush(conn, ledger, history)
    _flush(conn, ledger, history)
    conn.execute("COMMIT")
    conn.close()


def _flush(conn: sqlite3.Connection, ledger: list[Any], history: list[Any]) -> None:
    conn.executemany(
        "INSERT INTO ledger (id, app_id, session_id, owner, created_at, state, estimate_pico, "
        "counted_pico, feature, model, provider) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        ledger,
    )
    columns = "id, app_id, feature, provider, model, outcome, started_at, ended_at, "
    columns += "prompt_tokens, completion_tokens, cost, cost_source"
    has_pico = any(r[1] == "cost_pico" for r in conn.execute("PRAGMA table_info(history)"))
    if has_pico:  # this tree's schema; the base commit's has no such column
        conn.executemany(
            f"INSERT INTO history ({columns}, cost_pico) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            history,
        )
    else:
        conn.executemany(
            f"INSERT INTO history ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [r[:-1] for r in history],
        )
    ledger.clear()
    history.clear()


def timed(function: Callable[[], object], runs: int) -> float:
    figures = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        figures.append(time.perf_counter() - start)
    return statistics.median(figures)


def peak(function: Callable[[], object]) -> tuple[float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    function()
    took = time.perf_counter() - start
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return took, top


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,10000,100000,1000000")
    parser.add_argument("--calls", type=int, default=300, help="guarded calls per size")
    parser.add_argument(
        "--whole-max",
        type=int,
        default=100_000,
        help="largest size at which export_history() (the whole text in memory) is measured",
    )
    parser.add_argument(
        "--trace-max",
        type=int,
        default=1_000_000,
        help="largest size at which the streamed export runs under tracemalloc (slow)",
    )
    parser.add_argument("--keep", default=None, help="fill stores here and reuse them next run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    proc, base = start_sim()
    results: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        try:
            apps = {size: open_app(root / f"rows-{size}", size, base) for size in sizes}
            calls = interleaved_calls(list(apps.values()), args.calls)
            for size, app in apps.items():
                results.append(
                    {
                        "rows": size,
                        "call": calls[size],
                        **measure(app, whole=size <= args.whole_max, trace=size <= args.trace_max),
                    }
                )
                app.close()
        finally:
            proc.terminate()
            proc.wait(10)
    report(results)


def open_app(data: Path, size: int, base: str) -> byom.App:
    """An app on a store holding ``size`` generated rows (filled once, kept with --keep)."""
    marker = data / f"filled-{size}"
    if not marker.exists():
        byom.App("bench", FEATURES, data_dir=data, app_id=APP_ID).close()  # the schema
        began = time.perf_counter()
        fill(data / "byom.sqlite3", 0, size, time.time())
        print(f"filled {size:,} rows in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        marker.touch()
    app = byom.App("bench", FEATURES, data_dir=data, app_id=APP_ID)
    app.connect("openrouter", key=KEY, base_url=base + "/api/v1")
    app.set_allowance(Decimal(10**9), period="total")
    app.set_allowance(Decimal(10**9), period="month")
    for _ in range(20):  # warm the caches and the connection
        app.chat("summarize", MESSAGES, max_tokens=100)
    return app


def interleaved_calls(apps: list[byom.App], calls: int) -> dict[int, float]:
    """Median guarded-call latency per store, the stores taking turns (A B C D A B …), so that
    the machine's drift hits every size alike."""
    figures: list[list[float]] = [[] for _ in apps]
    for _ in range(calls):
        for i, app in enumerate(apps):
            start = time.perf_counter()
            app.chat("summarize", MESSAGES, max_tokens=100)
            figures[i].append(time.perf_counter() - start)
    sizes = [_size_of(app) for app in apps]
    return {size: statistics.median(f) for size, f in zip(sizes, figures, strict=True)}


def _size_of(app: byom.App) -> int:
    return int(app.data_dir.name.removeprefix("rows-"))


def measure(app: byom.App, *, whole: bool, trace: bool) -> dict[str, float]:
    write = getattr(app, "write_history", None)  # absent before issue 16
    if write is None:
        stream_s, stream_peak = float("nan"), float("nan")
    elif trace:
        stream_s, stream_peak = peak(lambda: write(_Sink()))
    else:
        stream_s, stream_peak = timed(lambda: write(_Sink()), 1), float("nan")
    whole_s, whole_peak = peak(app.export_history) if whole else (float("nan"), float("nan"))
    return {
        "total": timed(lambda: app.spent("total"), 50),
        "month": timed(lambda: app.spent("month"), 50),
        "totals": timed(lambda: app.totals(period="total"), 3),
        "stream_s": stream_s,
        "stream_peak": stream_peak,
        "whole_s": whole_s,
        "whole_peak": whole_peak,
    }


class _Sink:
    """A file that keeps nothing (the export's own memory is what is measured)."""

    written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)


def report(results: list[dict[str, float]]) -> None:
    zero = results[0]["call"]
    print(
        f"{'rows':>9} | {'guarded call':>12} | {'vs 0 rows':>9} | {'spent total':>11} | "
        f"{'spent month':>11} | {'totals()':>9} | {'stream export':>20} | {'export str':>20}"
    )
    for r in results:
        print(
            f"{int(r['rows']):>9,} | {r['call'] * 1e3:>9.2f} ms | {r['call'] / zero:>8.2f}x | "
            f"{r['total'] * 1e3:>8.3f} ms | {r['month'] * 1e3:>8.3f} ms | "
            f"{r['totals'] * 1e3:>6.1f} ms | "
            f"{r['stream_s']:>6.2f} s {r['stream_peak'] / 2**20:>7.1f} MiB | "
            f"{r['whole_s']:>6.2f} s {r['whole_peak'] / 2**20:>7.1f} MiB"
        )
    last = results[-1]
    traced = [r for r in results if r["stream_peak"] == r["stream_peak"]]  # not nan
    streamed = (
        f"streamed export peak {traced[-1]['stream_peak'] / 2**20:.1f} MiB at "
        f"{int(traced[-1]['rows']):,} rows vs {traced[0]['stream_peak'] / 2**20:.1f} MiB at "
        f"{int(traced[0]['rows']):,} (goal: flat)"
        if traced
        else "no streamed export"
    )
    print(
        f"goals at {int(last['rows']):,} rows: guarded call {last['call'] / zero:.2f}x its "
        f"latency at {int(results[0]['rows']):,} rows (goal <= 1.1); totals() "
        f"{last['totals'] * 1e3:.0f} ms (goal < 200); {streamed}"
    )
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, pid {os.getpid()}")


if __name__ == "__main__":
    main()
