"""R7.1 in a real browser: ``byom audit`` on small static sites and on the reference app.

``tests/fixtures/audit/good`` is a minimal BYOM app in plain HTML/JS (no Pyodide, so it is fast)
that follows every invariant; each folder in ``variants/`` replaces one or two of its files to
break exactly one thing. Every site is audited once (two at a time, one shared Chromium) and the
tests read the reports:

- the good app passes all ten checks, auto-detected and driven through ``byom-audit.toml``;
- each broken variant fails exactly the check it should, with evidence of the right kind, and
  every other check still passes;
- a site with no key input reports "could not check" (never "pass") and exit code 2;
- the reference app (``examples/reader``, production build) passes every check.

How long an audit takes is a figure for ``benchmarks/audit_time.py`` (goal: under 60 s), never
an assertion here: a busy machine is slower, not wrong.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

from byom.audit import (  # noqa: E402
    AuditBrowser,
    AuditOptions,
    AuditReport,
    load_config,
    render_html,
    run_audit,
    run_audits,
)
from byom.audit.model import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_PASSED, FAIL, PASS  # noqa: E402
from byom.cli import main  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():  # `make test` installs it; a missing browser is a setup error
    raise RuntimeError("Chromium is not installed at /usr/bin/chromium: run `make browser`")

FIXTURES = Path(__file__).parent / "fixtures" / "audit"
ROOT = Path(__file__).resolve().parents[1]
READER = ROOT / "examples" / "reader"

#: variant folder → (the check it must fail, the evidence kind that shows it)
VARIANTS: dict[str, tuple[str, str]] = {
    "persisted-key": ("key-persistence", "storage"),
    "analytics-egress": ("egress", "request"),
    "unsafe-inline-csp": ("csp", "header"),
    "console-key": ("logging", "console"),
    "no-inflight-budget": ("budget", "request"),
    "no-limit-link": ("wizard", "screenshot"),
    "hidden-onboarding": ("wizard", "text"),
    "clear-key-on-403": ("key-rejected", "screenshot"),
}
NEEDS_KEY = (
    "key-persistence",
    "egress",
    "logging",
    "budget",
    "wizard",
    "leave-guard",
    "key-rejected",
)


def site(tmp: Path, variant: str | None) -> Path:
    """The good app, with the variant's files laid over it."""
    out = tmp / (variant or "good")
    shutil.copytree(FIXTURES / "good", out)
    if variant is not None:
        for path in (FIXTURES / "variants" / variant).iterdir():
            shutil.copy(path, out / path.name)
    return out


@pytest.fixture(scope="session")
def audit_browser() -> Iterator[AuditBrowser]:
    with AuditBrowser(CHROMIUM) as browser:
        yield browser


@pytest.fixture(scope="module")
def reports(
    audit_browser: AuditBrowser, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, AuditReport]:
    """Every fixture site audited once; name → report."""
    tmp = tmp_path_factory.mktemp("audit-sites")
    jobs: dict[str, AuditOptions] = {
        "good": AuditOptions(str(site(tmp, None)), screenshot_dir=tmp / "shots-good"),
        "configured": AuditOptions(
            str(site(tmp / "cfg", None)),
            config=load_config(FIXTURES / "configured.byom-audit.toml"),
            screenshot_dir=tmp / "shots-configured",
        ),
    }
    for variant in (*VARIANTS, "no-key-input", "wizard-allowance"):
        jobs[variant] = AuditOptions(
            str(site(tmp, variant)), screenshot_dir=tmp / f"shots-{variant}"
        )
    done = run_audits(list(jobs.values()), browser=audit_browser, concurrency=1)
    return dict(zip(jobs, done, strict=True))


def _statuses(report: AuditReport) -> dict[str, str]:
    return {c.spec.id: c.status for c in report.checks}


def _explain(report: AuditReport) -> str:
    return "\n".join(f"{c.spec.id}: {c.status} — {c.summary}" for c in report.checks) + (
        f"\nerror: {report.error}" if report.error else ""
    )


@pytest.mark.parametrize("name", ["good", "configured", "wizard-allowance"])
def test_r7_1_good_app_passes_every_check(reports: dict[str, AuditReport], name: str) -> None:
    report = reports[name]
    assert report.error is None, report.error
    assert set(_statuses(report).values()) == {PASS}, _explain(report)
    assert report.exit_code == EXIT_PASSED
    # evidence is there even when everything passes
    wizard = report.check("wizard")
    shots = [e.path for e in wizard.evidence if e.kind == "screenshot"]
    assert shots and all(p is not None and Path(p).is_file() for p in shots)
    budget = report.check("budget")
    assert sum(1 for e in budget.evidence if e.kind == "request") == 1  # the stub got one of two


@pytest.mark.parametrize(("variant", "expected"), list(VARIANTS.items()), ids=list(VARIANTS))
def test_r7_1_broken_variant_fails_exactly_its_check(
    reports: dict[str, AuditReport], variant: str, expected: tuple[str, str]
) -> None:
    check_id, evidence_kind = expected
    report = reports[variant]
    statuses = _statuses(report)
    assert statuses[check_id] == FAIL, _explain(report)
    others = {cid: s for cid, s in statuses.items() if cid != check_id}
    assert set(others.values()) == {PASS}, _explain(report)
    assert report.exit_code == EXIT_FAILED
    failing = report.check(check_id)
    kinds = {e.kind for e in failing.evidence}
    assert evidence_kind in kinds, [e.to_dict() for e in failing.evidence]


def test_r7_1_allowance_only_in_the_wizard_is_used_by_the_budget_check(
    reports: dict[str, AuditReport],
) -> None:
    """Issue 11: an app that shows its allowance field only while connecting (where R5.3 puts
    it) was "could not check" on the budget; the audit now connects again to set it."""
    budget = reports["wizard-allowance"].check("budget")
    assert budget.status == PASS, budget.summary
    assert any("shown only while connecting" in e.summary for e in budget.evidence)


def test_r7_1_variant_evidence_names_the_leak(
    reports: dict[str, AuditReport],
) -> None:
    stored = reports["persisted-key"].check("key-persistence")
    assert any("localStorage" in e.summary and "notebook.key" in e.summary for e in stored.evidence)
    egress = reports["analytics-egress"].check("egress")
    assert any("https://stats.example.net" in e.summary for e in egress.evidence)
    csp = reports["unsafe-inline-csp"].check("csp")
    assert "'unsafe-inline'" in csp.summary
    logged = reports["console-key"].check("logging")
    console = [e.summary for e in logged.evidence if e.kind == "console"]
    assert console and all("‹canary key›" in s and "sk-or-v1-" not in s for s in console)
    budget = reports["no-inflight-budget"].check("budget")
    assert sum(1 for e in budget.evidence if e.kind == "request") == 2
    assert "spend limit" in reports["no-limit-link"].check("wizard").summary
    hidden = reports["hidden-onboarding"].check("wizard")
    assert any("present but not visible" in e.summary for e in hidden.evidence)
    rejected = reports["clear-key-on-403"].check("key-rejected")
    assert "403" in rejected.summary


def test_r7_1_no_key_input_is_could_not_check_never_pass(
    reports: dict[str, AuditReport],
) -> None:
    report = reports["no-key-input"]
    statuses = _statuses(report)
    for check_id in NEEDS_KEY:
        assert statuses[check_id] == "could-not-check", _explain(report)
        assert "could not check" in report.check(check_id).summary
    assert statuses["csp"] == PASS and statuses["integration-doc"] == PASS
    assert report.exit_code == EXIT_INCOMPLETE
    assert "COULD NOT CHECK" in render_html(report)


def test_r7_1_cli_writes_reports_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = site(tmp_path, "no-key-input")
    html = tmp_path / "report.html"
    code = main(["audit", str(target), "--json", "--html", str(html), "--timeout", "60"])
    out = capsys.readouterr().out
    assert code == EXIT_INCOMPLETE
    assert '"exit_code": 2' in out and '"verdict": "incomplete"' in out
    page = html.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "could not check" in page


def test_r7_1_audit_that_cannot_run_exits_2(audit_browser: AuditBrowser, tmp_path: Path) -> None:
    missing = run_audit(str(tmp_path / "nowhere"), browser=audit_browser)
    assert missing.error is not None and missing.exit_code == EXIT_INCOMPLETE
    assert all(c.status == "could-not-check" for c in missing.checks)
    empty = tmp_path / "empty"
    empty.mkdir()
    not_found = run_audit(str(empty), browser=audit_browser)
    assert not_found.error is not None and "404" in not_found.error
    assert not_found.exit_code == EXIT_INCOMPLETE


# ---------------------------------------------------------------------------- the reference app


def test_r7_1_reference_app_passes_every_check(audit_browser: AuditBrowser, tmp_path: Path) -> None:
    """The production build of examples/reader (its five providers, no simulator option)."""
    from byom.web.build import build_site

    dist = tmp_path / "dist"
    build_site(READER, dist)
    config = load_config(READER / "byom-audit.toml")
    report = run_audit(str(dist), config=config, browser=audit_browser)
    assert report.error is None, report.error
    assert set(_statuses(report).values()) == {PASS}, _explain(report)
    assert report.exit_code == EXIT_PASSED
    csp = next(c for c in report.checks if c.spec.id == "csp")
    assert any(
        "connect-src = declared providers: ok" in e.summary
        and all(name in e.summary for name in ("openrouter", "openai", "anthropic", "gemini"))
        and "ollama" in e.summary
        for e in csp.evidence
    ), [e.summary for e in csp.evidence]


def test_r7_1_audit_fails_a_connect_src_origin_the_app_did_not_declare(
    audit_browser: AuditBrowser, tmp_path: Path
) -> None:
    """Issue 12: the page's connect-src must name exactly the providers in byom-app.toml. The
    reference build with one origin slipped into its policy (meta and headers) fails the CSP
    check, naming the origin."""
    from byom.web.build import build_site

    dist = tmp_path / "dist"
    build_site(READER, dist)
    for name in ("index.html", "_headers"):
        path = dist / name
        text = path.read_text(encoding="utf-8")
        assert "connect-src 'self' https://openrouter.ai" in text
        path.write_text(
            text.replace(
                "connect-src 'self' https://openrouter.ai",
                "connect-src 'self' https://openrouter.ai https://collect.example",
            ),
            encoding="utf-8",
        )
    config = load_config(READER / "byom-audit.toml")
    report = run_audit(str(dist), config=config, browser=audit_browser)
    assert report.error is None, report.error
    csp = next(c for c in report.checks if c.spec.id == "csp")
    assert csp.status == FAIL, _explain(report)
    assert "connect-src = declared providers" in csp.summary
    assert "not declared: https://collect.example" in csp.summary
