"""R9.2 / R7.1 (issue 17) — the audit on the Reader built with the built-in model.

Such a site's policy adds ``worker-src blob:`` (wllama starts its workers from blob URLs). The
audit lists it as a concession and passes the CSP check when the integration document names and
justifies it, as the Reader's does; the same site whose document does not mention it fails the
CSP check with that reason. Everything else stays strict: every check passes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from byom.audit import AuditBrowser, load_config, run_audit
from byom.audit.model import EXIT_PASSED, FAIL, PASS
from byom.builtin.models import builtin_model_path
from byom.web.build import build_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
READER = Path(__file__).resolve().parents[1] / "examples" / "reader"


@pytest.fixture(scope="module")
def audit_browser() -> Iterator[AuditBrowser]:
    if builtin_model_path() is None:
        pytest.skip("the built-in model's wheel is not installed (make builtin)")
    with AuditBrowser(CHROMIUM) as browser:
        yield browser


def _explain(report) -> str:
    return "\n".join(f"{c.spec.id}: {c.status} — {c.summary}" for c in report.checks)


def test_r9_2_builtin_reader_passes_every_check(audit_browser: AuditBrowser, tmp_path: Path):
    dist = tmp_path / "dist"
    build_site(READER, dist, builtin=True)
    report = run_audit(
        str(dist), config=load_config(READER / "byom-audit.toml"), browser=audit_browser
    )
    assert report.error is None, report.error
    statuses = {c.spec.id: c.status for c in report.checks}
    assert set(statuses.values()) == {PASS}, _explain(report)
    assert report.exit_code == EXIT_PASSED
    csp = next(c for c in report.checks if c.spec.id == "csp")
    assert "worker-src blob:" in csp.summary  # listed as a concession, not hidden


def test_r9_2_worker_blob_without_justification_fails_the_csp_check(
    audit_browser: AuditBrowser, tmp_path: Path
):
    app = tmp_path / "reader"
    shutil.copytree(READER, app)
    doc = app / "docs" / "BYOM-INTEGRATION.md"
    doc.write_text(doc.read_text("utf-8").replace("worker-src blob:", "a worker source"), "utf-8")
    dist = tmp_path / "dist"
    build_site(app, dist, builtin=True)
    report = run_audit(
        str(dist), config=load_config(app / "byom-audit.toml"), browser=audit_browser
    )
    csp = next(c for c in report.checks if c.spec.id == "csp")
    assert csp.status == FAIL, _explain(report)
    assert "worker-src blob: is not justified" in csp.summary
