"""R7.2–R7.4 in a real browser: ``byom audit`` on an app shaped like one we did not write.

``tests/fixtures/audit/journey`` (*Leeswijzer*) is written here in plain JS with the shape of a
published Dutch BYOM app the audit once could judge only half of: a settings control labelled
"model-toegang", the feature behind a filter panel and a four-step questionnaire in a full-screen
dialog ("Volgende" disabled until answered), a streamed request for a model the simulator does
not list by default, onboarding copy collapsed in a ``<details>``, a 403 that wipes the key,
in-flight spend counted per tab, no ``max_tokens``, a CSP only in ``<meta>`` without
``form-action``, and a v1.2.0-style integration document (no checklist section).

Driven by its ``byom-audit.toml`` journey, every check gets its right verdict and none is
"could not check". The audit runs once (module fixture); the tests read the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

from byom.audit import (  # noqa: E402
    AuditBrowser,
    AuditReport,
    load_config,
    parse_config_text,
    render_html,
    render_json,
    render_text,
    run_audit,
)
from byom.audit.model import EXIT_FAILED, FAIL, PASS  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    raise RuntimeError("Chromium is not installed at /usr/bin/chromium: run `make browser`")

APP = Path(__file__).parent / "fixtures" / "audit" / "journey"

#: The right verdict of every check for Leeswijzer.
EXPECTED = {
    "csp": FAIL,  # <meta> only, no form-action
    "scripts": PASS,
    "key-persistence": PASS,
    "egress": PASS,
    "logging": PASS,
    "budget": FAIL,  # in-flight spend per tab: two tabs overshoot together
    "wizard": FAIL,  # onboarding collapsed
    "leave-guard": PASS,
    "key-rejected": FAIL,  # a 403 wipes the key
    "integration-doc": PASS,  # v1.2.0 template: no checklist section needed
    "max-tokens": FAIL,  # never sends max_tokens
}


@pytest.fixture(scope="module")
def browser() -> Iterator[AuditBrowser]:
    with AuditBrowser(CHROMIUM) as running:
        yield running


@pytest.fixture(scope="module")
def report(browser: AuditBrowser, tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    shots = tmp_path_factory.mktemp("journey-shots")
    return run_audit(str(APP), browser=browser, screenshot_dir=shots)


def _explain(report: AuditReport) -> str:
    return "\n".join(f"{c.spec.id}: {c.status} — {c.summary}" for c in report.checks) + (
        f"\nerror: {report.error}" if report.error else ""
    )


def test_r7_2_journey_config_is_found_and_read() -> None:
    config = load_config(APP / "byom-audit.toml")
    assert [s.action for s in config.journey][:3] == ["click", "click", "wait"]
    assert config.journey[-1].request and config.journey[9].text == "{prompt}"
    assert config.models[0].id == "mistralai/mistral-small-3.2-24b-instruct"


@pytest.mark.parametrize(("check_id", "verdict"), list(EXPECTED.items()), ids=list(EXPECTED))
def test_r7_2_journey_app_gets_the_right_verdict(
    report: AuditReport, check_id: str, verdict: str
) -> None:
    assert report.error is None, report.error
    assert report.check(check_id).status == verdict, _explain(report)


def test_r7_2_nothing_is_left_could_not_check(report: AuditReport) -> None:
    assert {c.spec.id for c in report.checks} == set(EXPECTED)
    assert all(c.status in (PASS, FAIL) for c in report.checks), _explain(report)
    assert report.exit_code == EXIT_FAILED


def test_r7_2_failures_carry_the_right_evidence(report: AuditReport) -> None:
    csp = report.check("csp")
    assert "form-action" in csp.summary and "<meta>" in csp.summary
    notes = [e.summary for e in csp.evidence]
    assert "policy delivered by: meta" in notes
    assert any("frame-ancestors in <meta> is ignored" in n for n in notes)
    assert any("img-src has the wildcard source https: (advisory" in n for n in notes)
    assert any("font-src has the wildcard source https://*.fonts.example" in n for n in notes)
    budget = report.check("budget")
    assert sum(1 for e in budget.evidence if e.kind == "request") == 2
    assert any("two tabs" in e.summary for e in budget.evidence)
    wizard = report.check("wizard")
    assert any("present but not visible" in e.summary for e in wizard.evidence)
    assert "403" in report.check("key-rejected").summary
    doc = report.check("integration-doc")
    assert any("judged by the constitution's v1.2.0 template" in e.summary for e in doc.evidence)
    bounded = report.check("max-tokens")
    shapes = [e for e in bounded.evidence if e.kind == "request"]
    assert shapes and "no max_tokens" in shapes[0].summary
    shape = shapes[0].detail["body_shape"]
    assert shape["model"] == "mistralai/mistral-small-3.2-24b-instruct"
    assert shape["messages"] == "list of 2" and shape["stream"] == "boolean"
    # the shape never carries the content: no canary prompt, no prompt words
    assert "Wens" not in json.dumps(bounded.to_dict()) and "canary" not in shapes[0].summary


def test_r7_2_report_shows_every_journey_step_with_a_screenshot(report: AuditReport) -> None:
    steps = report.journey
    assert steps and report.journey_replays > 1
    # after connecting the app reopened the questionnaire: the replay resumed in it (step 3)
    assert [s["step"] for s in steps] == list(range(steps[0]["step"], 12))
    assert all(s["ok"] and Path(s["screenshot"]).is_file() for s in steps)
    assert steps[-1].get("request") is True
    text = render_text(report)
    assert "step 11: click '#vraag-advies' (sends the paid request) — ok" in text
    data = json.loads(render_json(report))
    assert [s["step"] for s in data["journey"]] == [s["step"] for s in steps]
    page = render_html(report)
    assert page.count('<img alt="after step') == len(steps)


def test_r7_2_unknown_model_is_answered_when_configured(report: AuditReport) -> None:
    """The app's only model is not in the simulator's own list: config adds it, so its
    requests were answered (200), not refused as an unknown model."""
    egress = report.check("egress")
    assert not any("does not list" in e.summary for e in egress.evidence)
    statuses = {r["status"] for r in report.requests if r["url"].endswith("/chat/completions")}
    assert 200 in statuses


def test_r7_2_a_failing_step_is_named_with_what_it_looked_for_and_a_screenshot(
    browser: AuditBrowser, tmp_path: Path
) -> None:
    text = (APP / "byom-audit.toml").read_text(encoding="utf-8")
    broken = text.replace('click = "#advies"', 'click = "#bestaat-niet"')
    assert broken != text
    config = parse_config_text(broken, "broken.toml")
    report = run_audit(str(APP), config=config, browser=browser, screenshot_dir=tmp_path)
    wizard = report.check("wizard")
    assert wizard.status == "could-not-check"
    assert "journey step 2" in wizard.summary and "'#bestaat-niet'" in wizard.summary
    shots = [e.path for e in wizard.evidence if e.kind == "screenshot"]
    assert shots and all(p is not None and Path(p).is_file() for p in shots)
    failed = [s for s in report.journey if not s["ok"]]
    assert [s["step"] for s in failed] == [2] and Path(failed[0]["screenshot"]).is_file()
    assert "step 2: click '#bestaat-niet' — FAILED" in render_text(report)
    for check_id in ("egress", "budget", "leave-guard", "key-rejected", "key-persistence"):
        assert report.check(check_id).status == "could-not-check"  # never a pass
    assert report.check("csp").status == FAIL  # what needs no journey is still judged
