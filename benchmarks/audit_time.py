"""How long ``byom audit`` takes, in Debian Chromium on loopback.

    .venv/bin/python benchmarks/audit_time.py [--runs 1] [--chromium /usr/bin/chromium]

Audits the reference app (``examples/reader``, production build, driven by its
``byom-audit.toml``; goal ≤ 30 s), the journey app of the tests (``tests/fixtures/audit/journey``:
a four-step questionnaire replayed for every paid run; goal ≤ 90 s) and the small ``good`` fixture
site (goal ≤ 30 s), and prints for each the median wall time over ``--runs`` runs, its ratio to
the goal (< 1.00 meets it), the verdict, how often the journey was replayed and the slowest audit
steps, on a two-core machine.

Printed, never asserted, and never part of the test run: the tests check the verdicts only
(``tests/test_r7_1_audit_browser.py``), since a busy machine is slower, not wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from byom.audit import AuditBrowser, AuditReport, load_config, run_audit
from byom.web.build import build_site

REPO = Path(__file__).resolve().parents[1]
READER = REPO / "examples" / "reader"
GOOD = REPO / "tests" / "fixtures" / "audit" / "good"
JOURNEY = REPO / "tests" / "fixtures" / "audit" / "journey"


def audit_reader(browser: AuditBrowser, tmp: Path) -> AuditReport:
    dist = tmp / "reader-dist"
    if not dist.exists():
        build_site(READER, dist)
    return run_audit(str(dist), config=load_config(READER / "byom-audit.toml"), browser=browser)


def audit_good(browser: AuditBrowser, tmp: Path) -> AuditReport:
    site = tmp / "good"
    if not site.exists():
        shutil.copytree(GOOD, site)
    return run_audit(str(site), browser=browser)


def audit_journey(browser: AuditBrowser, tmp: Path) -> AuditReport:
    site = tmp / "journey"
    if not site.exists():
        shutil.copytree(JOURNEY, site)
    return run_audit(str(site), browser=browser)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    targets = {
        "reference app (examples/reader)": (audit_reader, 30.0),
        "journey app (tests/fixtures/audit/journey)": (audit_journey, 90.0),
        "fixture site (good)": (audit_good, 30.0),
    }
    with tempfile.TemporaryDirectory() as tmp, AuditBrowser(args.chromium) as browser:
        for name, (audit, goal) in targets.items():
            reports = [audit(browser, Path(tmp)) for _ in range(args.runs)]
            seconds = statistics.median(r.duration_s for r in reports)
            verdicts = sorted({r.verdict for r in reports})
            replays = reports[-1].journey_replays
            load = os.getloadavg()[0]
            print(
                f"{name}: {seconds:.1f} s (goal {goal:.0f} s, ratio {seconds / goal:.2f}), "
                f"verdict {', '.join(verdicts)}"
                + (f", journey replayed {replays} times" if replays else "")
                + f"; load average {load:.1f} on {os.cpu_count()} CPUs"
            )
            slowest = sorted(reports[-1].timings.items(), key=lambda kv: -kv[1])[:5]
            for step, step_seconds in slowest:
                print(f"    {step}: {step_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
