"""Loading figures of the reference app (Reader) in Debian Chromium, on loopback.

    .venv/bin/python benchmarks/web_load.py [--runs 3]

Prints, for a cold load (fresh browser profile: empty HTTP cache) and a warm load (same profile,
new tab):

* first contentful paint of the free core — goal ≤ 300 ms, and it must not wait for Python;
* time until a model feature is ready (Python booted, byom loaded) — goals ≤ 3 s cold, ≤ 1.5 s
  warm;
* bytes transferred (sum of ``transferSize`` over the navigation and every resource);
* requests to any origin but the page's own while loading — must be 0.

Each figure is also shown as a ratio to its goal (< 1.00 meets it). Figures are medians of
``--runs`` runs. Never part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

from byom.sim import Simulator
from byom.web.build import build_site
from byom.web.serve import Site

REPO = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GOALS = {"first_paint_ms": 300.0, "ready_cold_ms": 3000.0, "ready_warm_ms": 1500.0}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def measure(page, url: str) -> dict[str, float]:
    foreign: list[str] = []
    own = origin(url)

    def on_request(request) -> None:
        if not request.url.startswith(("data:", "blob:")) and origin(request.url) != own:
            foreign.append(request.url)

    page.on("request", on_request)
    page.goto(url)
    deadline = time.monotonic() + 30
    while not page.evaluate("document.documentElement.dataset.byomReady || ''"):
        if time.monotonic() > deadline:
            raise RuntimeError("Python never became ready")
        time.sleep(0.02)
    figures = page.evaluate(
        """() => {
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        const ready = performance.getEntriesByName('byom:ready')[0];
        const nav = performance.getEntriesByType('navigation')[0];
        const bytes = performance.getEntriesByType('resource')
          .reduce((n, r) => n + r.transferSize, nav.transferSize);
        const mark = (name) => performance.getEntriesByName(name)[0].startTime;
        return {first_paint_ms: paint.startTime, ready_ms: ready.startTime, bytes: bytes,
                pyodide_ms: mark('byom:pyodide'), imported_ms: mark('byom:imported')};
    }"""
    )
    figures["foreign_requests"] = float(len(foreign))
    page.remove_listener("request", on_request)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold: list[dict[str, float]] = []
    warm: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp, Simulator() as sim:
        build_site(REPO / "examples" / "reader", Path(tmp) / "dist", demo_sim=sim.base_url)
        with Site(Path(tmp) / "dist") as site, sync_playwright() as p:
            for run in range(args.runs):
                # A fresh on-disk profile per run: cold = empty HTTP cache, warm = a new tab in
                # the same profile (the disk cache keeps Pyodide; the memory cache of an
                # incognito context is too small for its 9.6 MB WebAssembly module).
                context = p.chromium.launch_persistent_context(
                    str(Path(tmp) / f"profile-{run}"),
                    executable_path="/usr/bin/chromium",
                    headless=True,
                    args=ARGS,
                )
                page = context.new_page()
                cold.append(measure(page, site.url))
                page.close()
                page = context.new_page()
                warm.append(measure(page, site.url))
                context.close()

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    lines = [
        ("first paint, cold", median(cold, "first_paint_ms"), "ms", GOALS["first_paint_ms"]),
        ("first paint, warm", median(warm, "first_paint_ms"), "ms", GOALS["first_paint_ms"]),
        ("model feature ready, cold", median(cold, "ready_ms"), "ms", GOALS["ready_cold_ms"]),
        ("model feature ready, warm", median(warm, "ready_ms"), "ms", GOALS["ready_warm_ms"]),
        ("  of which Pyodide booted, cold", median(cold, "pyodide_ms"), "ms", None),
        ("  of which byom imported, cold", median(cold, "imported_ms"), "ms", None),
        ("  of which Pyodide booted, warm", median(warm, "pyodide_ms"), "ms", None),
        ("bytes transferred, cold", median(cold, "bytes") / 1e6, "MB", None),
        ("bytes transferred, warm", median(warm, "bytes") / 1e6, "MB", None),
        ("requests to other origins, cold", max(r["foreign_requests"] for r in cold), "", None),
        ("requests to other origins, warm", max(r["foreign_requests"] for r in warm), "", None),
    ]
    print(f"Reader on loopback, Chromium headless, median of {args.runs} runs")
    for name, value, unit, goal in lines:
        ratio = f"  ({value / goal:.2f} of goal {goal:.0f} {unit})" if goal else ""
        print(f"  {name:<34} {value:>9.2f} {unit}{ratio}")
    failed = any(r["foreign_requests"] for r in cold + warm)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
