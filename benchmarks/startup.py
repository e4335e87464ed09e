"""What a program built on byom waits for at start: ``App()`` and the first ``chat``.

Each sample is a fresh Python process (so nothing is warm) against ``byom sim`` on loopback (in
its own process). A sample measures, with ``time.perf_counter``:

* ``import byom`` (lazy: cheap), then the first use of ``byom.App``, which loads the library;
* ``App()`` itself on a return visit — the app connected before, its key was held in memory
  only (the default), so nothing asks for the OS keyring; and, for comparison, ``App()`` when
  the key was remembered (the keyring, or here where none exists the consented file, is read);
* the first ``app.chat`` after connecting, and the median of the next 20 on the same ``App``.

Printed as figures (median over the samples, ms) and ratios — ``App()`` against ``import byom``,
the first chat against a later one — never asserted: absolute times vary fourfold between
machines and with load. Usage: ``python benchmarks/startup.py [--samples 7]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

KEY = "sk-or-v1-benchmark-key-0000000000"

CHILD = r"""
import json, statistics, sys, time
t0 = time.perf_counter()
import byom
t1 = time.perf_counter()
App = byom.App  # the first use loads byom.app: the store, the call path, the adapters
ta = time.perf_counter()
base, data, remember = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
features = [byom.Feature("summarize", "worker")]
tb = time.perf_counter()
app = App("Startup bench", features, app_id="startup-bench", data_dir=data)
t2 = time.perf_counter()
if not app.connected:
    app.connect("openrouter", key=sys.argv[4], base_url=base, remember=remember,
                allow_plain_file=remember)
messages = [{"role": "user", "content": "Summarise the benchmark in one line."}]
t3 = time.perf_counter()
app.chat("summarize", messages, max_tokens=30)
t4 = time.perf_counter()
later = []
for _ in range(20):
    s = time.perf_counter()
    app.chat("summarize", messages, max_tokens=30)
    later.append(time.perf_counter() - s)
app.close()
print(json.dumps({"import": t1 - t0, "load": ta - t1, "app": t2 - tb, "first": t4 - t3,
                  "later": statistics.median(later)}))
"""


def start_sim() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "byom", "sim", "--port", "0", "--reply-words", "12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def sample(base: str, data: str, remember: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, base + "/api/v1", data, "1" if remember else "0", KEY],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PATH": "/usr/bin"},
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    proc, base = start_sim()
    try:
        rows: dict[str, list[dict[str, float]]] = {}
        for remember in (False, True):
            with tempfile.TemporaryDirectory() as data:
                sample(base, data, remember)  # the first visit: connects, saves the connection
                rows["remembered" if remember else "in memory"] = [
                    sample(base, data, remember) for _ in range(args.samples)
                ]
    finally:
        proc.terminate()
        proc.wait()

    def ms(values: list[dict[str, float]], name: str) -> float:
        return statistics.median(v[name] for v in values) * 1e3

    print(f"byom start-up, median of {args.samples} fresh processes (ms)")
    print(
        f"{'key':>11} | {'import':>6} | {'load':>6} | {'App()':>6} | {'1st chat':>8} | "
        f"{'later':>6} | ratios"
    )
    for label, values in rows.items():
        imp, load, app, first, later = (
            ms(values, n) for n in ("import", "load", "app", "first", "later")
        )
        print(
            f"{label:>11} | {imp:6.1f} | {load:6.1f} | {app:6.1f} | {first:8.1f} | "
            f"{later:6.1f} | App()/load {app / load:.2f}, first/later chat {first / later:.1f}x"
        )
    print(
        "Goal (issue 15): App() without a remembered key does no keyring detection; the first "
        "chat pays for the HTTP client and the store, once. Printed, never asserted."
    )


if __name__ == "__main__":
    main()
