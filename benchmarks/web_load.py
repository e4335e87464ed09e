"""Loading figures of the reference app (Reader) in Debian Chromium, on loopback: this tree
against a base commit, built from a worktree and measured in the same run.

    .venv/bin/python benchmarks/web_load.py [--runs 3] [--base REV]

For a cold load (fresh browser profile: empty HTTP cache) and a warm load (same profile, new
tab), each site alternating with the other:

* first contentful paint of the free core — goal ≤ 300 ms, and it must not wait for Python;
* time until a model feature is ready (Python started, byom loaded) — goal (issue 16): this
  tree ≤ 0.6x the base, cold and warm; with the share of it spent starting Python;
* bytes transferred (sum of ``transferSize`` over the navigation and every resource);
* requests to any origin but the page's own while loading — must be 0.

Absolute times vary several-fold with the machine and its load; the ratios are the figures to
compare. Medians of ``--runs`` runs. Never part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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
GOALS = {"first_paint_ms": 300.0}
#: main before the Python snapshot (issue 16 item 3); any commit can be given with --base.
BASE = "0b42f3d"


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


def build_base(rev: str, tmp: Path, sim_url: str) -> Path:
    """Build the Reader with the byom of commit ``rev`` (a detached worktree), in a child
    process that imports that tree's code."""
    tree = tmp / "base-tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(tree), rev],
        check=True,
        capture_output=True,
    )
    out = tmp / "base-dist"
    code = (
        "import sys; from pathlib import Path; from byom.web.build import build_site; "
        "build_site(Path(sys.argv[1]), Path(sys.argv[2]), demo_sim=sys.argv[3])"
    )
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    subprocess.run(
        [sys.executable, "-c", code, str(tree / "examples" / "reader"), str(out), sim_url],
        check=True,
        env=env,
    )
    return out


def remove_base(tmp: Path) -> None:
    tree = tmp / "base-tree"
    if tree.exists():
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
            check=False,
            capture_output=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--base",
        default=BASE,
        help="commit to compare against, built from a worktree in the same run "
        f"(default {BASE}: main before the Python snapshot)",
    )
    args = parser.parse_args()
    figures: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {"cold": [], "warm": []} for name in ("base", "this")
    }
    with tempfile.TemporaryDirectory() as tmp_name, Simulator() as sim:
        tmp = Path(tmp_name)
        try:
            dists = {
                "base": build_base(args.base, tmp, sim.base_url),
                "this": build_site(
                    REPO / "examples" / "reader", tmp / "dist", demo_sim=sim.base_url
                ).out,
            }
            with Site(dists["base"]) as base_site, Site(dists["this"]) as this_site:
                urls = {"base": base_site.url, "this": this_site.url}
                with sync_playwright() as p:
                    for run in range(args.runs):
                        # Alternate which goes first, so drift and load hit both alike.
                        order = ("base", "this") if run % 2 == 0 else ("this", "base")
                        for name in order:
                            # A fresh on-disk profile: cold = empty HTTP cache; warm = a new tab
                            # in the same profile (the disk cache keeps Pyodide).
                            context = p.chromium.launch_persistent_context(
                                str(tmp / f"profile-{name}-{run}"),
                                executable_path="/usr/bin/chromium",
                                headless=True,
                                args=ARGS,
                            )
                            for kind in ("cold", "warm"):
                                page = context.new_page()
                                figures[name][kind].append(measure(page, urls[name]))
                                page.close()
                            context.close()
        finally:
            remove_base(tmp)

    def median(name: str, kind: str, key: str) -> float:
        return statistics.median(r[key] for r in figures[name][kind])

    print(f"Reader on loopback, Chromium headless, median of {args.runs} runs each, alternating")
    print(f"base: {args.base} (built from a worktree in this run)   this: the working tree")
    print(f"  {'figure':<38} {'base':>10} {'this':>10} {'ratio':>7}  goal")
    rows = [
        (
            "first paint, cold",
            "cold",
            "first_paint_ms",
            "ms",
            f"<= {GOALS['first_paint_ms']:.0f} ms",
        ),
        (
            "first paint, warm",
            "warm",
            "first_paint_ms",
            "ms",
            f"<= {GOALS['first_paint_ms']:.0f} ms",
        ),
        ("model feature ready, cold", "cold", "ready_ms", "ms", "ratio <= 0.6"),
        ("model feature ready, warm", "warm", "ready_ms", "ms", "ratio <= 0.6"),
        ("  Python started (boot/restore), cold", "cold", "pyodide_ms", "ms", ""),
        ("  Python started (boot/restore), warm", "warm", "pyodide_ms", "ms", ""),
        ("  app and shell imported, cold", "cold", "imported_ms", "ms", ""),
        ("bytes transferred, cold", "cold", "bytes", "MB", ""),
        ("bytes transferred, warm", "warm", "bytes", "MB", ""),
    ]
    for label, kind, key, unit, goal in rows:
        scale = 1e-6 if unit == "MB" else 1.0
        base = median("base", kind, key) * scale
        this = median("this", kind, key) * scale
        ratio = f"{this / base:7.2f}" if base else "      -"
        print(f"  {label:<38} {base:>7.2f} {unit:<2} {this:>7.2f} {unit:<2} {ratio}  {goal}")
    for kind in ("cold", "warm"):
        for name in ("base", "this"):
            share = median(name, kind, "pyodide_ms") / median(name, kind, "ready_ms")
            print(f"  Pyodide's share of the wait, {kind}, {name:<4}  {share:.0%}")
    foreign = max(r["foreign_requests"] for n in figures.values() for k in n.values() for r in k)
    print(f"  requests to other origins (any run)  {foreign:.0f}  (must be 0)")
    return 1 if foreign else 0


if __name__ == "__main__":
    sys.exit(main())
