"""R7.1 without a browser: the rules the audit applies and the reports it writes.

The CSP judgement, the ``_headers`` format, ``byom-audit.toml``, the canary search, the exit codes
and the three report formats are pure functions; the browser tests (``test_r7_1_audit_browser``)
show the same rules at work on real pages.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from byom.audit import (
    AuditReport,
    ConfigError,
    parse_config_text,
    render_html,
    render_json,
    render_text,
)
from byom.audit.canary import make_key, make_prompt, mask
from byom.audit.csp import evaluate, parse_policy
from byom.audit.model import CHECKS, EXIT_FAILED, EXIT_INCOMPLETE, EXIT_PASSED, FAIL, PASS
from byom.cli import build_parser

PROVIDERS = {"https://openrouter.ai"}
STRICT = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' "
    "https://openrouter.ai; object-src 'none'; base-uri 'none'; form-action 'none'"
)


def judge(*policies: tuple[str, str]):  # type: ignore[no-untyped-def]
    return evaluate(list(policies), page_origin="http://127.0.0.1:8000", provider_origins=PROVIDERS)


# ---------------------------------------------------------------------------- check 1: CSP


def test_r7_1_strict_policy_passes_and_lists_its_concessions() -> None:
    verdict = judge(("header", STRICT))
    assert verdict.ok
    assert any("'wasm-unsafe-eval'" in c for c in verdict.concessions)


@pytest.mark.parametrize(
    ("policy", "failing"),
    [
        (STRICT.replace("'wasm-unsafe-eval'", "'unsafe-inline'"), "script-src strict"),
        (STRICT.replace("'wasm-unsafe-eval'", "'unsafe-eval'"), "script-src strict"),
        (STRICT.replace("script-src 'self'", "script-src *"), "script-src strict"),
        (STRICT.replace("script-src 'self'", "script-src https:"), "script-src strict"),
        (
            STRICT.replace("script-src 'self'", "script-src https://*.cdn.example"),
            "script-src strict",
        ),
        (
            STRICT.replace("connect-src 'self'", "connect-src https:"),
            "connect-src closed allowlist",
        ),
        (STRICT.replace("connect-src 'self'", "connect-src *"), "connect-src closed allowlist"),
        (STRICT.replace("; base-uri 'none'", ""), "base-uri set"),
        (STRICT.replace("; form-action 'none'", ""), "form-action set"),
        (
            STRICT.replace("default-src 'self'; ", "").replace("; object-src 'none'", ""),
            "object-src set",
        ),
    ],
)
def test_r7_1_each_weakness_fails_its_requirement(policy: str, failing: str) -> None:
    verdict = judge(("header", policy))
    assert not verdict.ok
    assert [f.requirement for f in verdict.findings if not f.ok] == [failing]


def test_r7_1_no_policy_fails() -> None:
    verdict = judge()
    assert not verdict.ok


def test_r7_1_any_enforced_policy_may_carry_a_requirement() -> None:
    # A loose header plus a strict meta: both are enforced, so the page is strict.
    loose = "default-src * 'unsafe-inline'"
    assert judge(("header", loose), ("meta", STRICT)).ok
    assert not judge(("header", loose)).ok


def test_r7_1_object_src_may_come_from_default_src_and_extra_origins_are_concessions() -> None:
    policy = (
        "default-src 'none'; script-src 'self'; connect-src https://openrouter.ai "
        "https://stats.example.net; base-uri 'none'; form-action 'self'"
    )
    verdict = judge(("meta", policy))
    assert verdict.ok
    assert "connect-src also allows https://stats.example.net" in verdict.concessions
    reason = next(f.reason for f in verdict.findings if f.requirement == "object-src set")
    assert "default-src" in reason


def test_r7_1_repeated_directive_is_ignored_as_browsers_do() -> None:
    assert parse_policy("script-src 'self'; script-src *")["script-src"] == ["'self'"]


# ---------------------------------------------------------------------------- byom-audit.toml


def test_r7_1_config_file_format() -> None:
    cfg = parse_config_text(
        """
        [app]
        path = "/app/"
        prepare = ["[data-testid=sample]"]
        [selectors]
        key_input = "#key"
        run_feature = "button.ask"
        [providers]
        origins = ["https://gateway.example"]
        [budget]
        allowance = "0.002"
        [wizard.words]
        spend_limit = ["límite"]
        [scripts]
        justified = { "https://cdn.example/" = "charts, pinned with SRI" }
        [timing]
        quiet_ms = 250
        """
    )
    assert cfg.path == "/app/"
    assert cfg.prepare == ["[data-testid=sample]"]
    assert cfg.selector("key_input") == "#key"
    assert cfg.provider_origins == ["https://gateway.example"]
    assert cfg.budget_allowance == "0.002"
    assert cfg.words == {"spend_limit": ["límite"]}
    assert cfg.justified_scripts == {"https://cdn.example": "charts, pinned with SRI"}
    assert cfg.quiet_ms == 250


@pytest.mark.parametrize(
    "text",
    [
        "[selectors]\nkey = '#k'",  # unknown selector
        "[nonsense]\nx = 1",
        "[app]\npath = 3",
        "[wizard.words]\ncolour = ['x']",
        "[app\n",
    ],
)
def test_r7_1_config_errors_are_reported(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_config_text(text)


def test_r7_1_fixture_configs_parse() -> None:
    here = Path(__file__).parent / "fixtures" / "audit"
    for path in here.rglob("*.toml"):
        parse_config_text(path.read_text(encoding="utf-8"), str(path))


# ---------------------------------------------------------------------------- canaries


def test_r7_1_canary_found_raw_encoded_and_truncated() -> None:
    key = make_key()
    assert key.found_in(f"Authorization: Bearer {key.value}")
    assert key.found_in(base64.b64encode(f"Bearer {key.value}".encode()).decode())
    assert key.found_in(base64.b64encode(f"x{key.value}".encode()).decode())
    assert key.found_in(key.core.encode().hex())
    assert key.found_in(key.core[::-1])
    assert key.found_in(key.value[:40]) is None  # a fragment shorter than the core is not proof
    assert key.found_in("nothing here") is None
    masked = mask(f"k={key.value}", key)
    assert key.value not in masked and "‹canary key›" in masked
    prompt = make_prompt("Summarise:")
    assert prompt.value.startswith("Summarise:") and prompt.found_in(json.dumps(prompt.value))


# ---------------------------------------------------------------------------- reports, exit codes


def _report(*statuses: str) -> AuditReport:
    report = AuditReport(target="site/")
    for result, status in zip(report.checks, statuses, strict=False):
        result.set(status, f"{status} summary")  # type: ignore[arg-type]
    return report


def test_r7_1_exit_codes() -> None:
    N = len(CHECKS)
    assert _report(*[PASS] * N).exit_code == EXIT_PASSED
    assert _report(PASS, FAIL, *[PASS] * (N - 2)).exit_code == EXIT_PASSED  # check 2 is advisory
    assert _report(FAIL, *[PASS] * (N - 1)).exit_code == EXIT_FAILED
    unchecked = _report(*[PASS] * (N - 1))  # the last check stays could-not-check
    assert unchecked.checks[-1].status == "could-not-check"
    assert unchecked.exit_code == EXIT_INCOMPLETE
    both = _report(FAIL, *[PASS] * (N - 2))
    assert both.exit_code == EXIT_FAILED  # a definite failure wins
    broken = _report(*[PASS] * N)
    broken.error = "the page did not load"
    assert broken.exit_code == EXIT_INCOMPLETE


def test_r7_1_reports_text_json_html(tmp_path: Path) -> None:
    report = _report(PASS, PASS, FAIL)
    png = tmp_path / "shot.png"
    png.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
    )
    report.checks[2].add("storage", "canary key in localStorage, entry 'k'")
    report.checks[2].add("screenshot", "after the reload", path=str(png))
    text = render_text(report)
    assert " 3. FAIL" in text and "canary key in localStorage" in text
    assert "exit code 1" in text and "COULD NOT CHECK" in text
    data = json.loads(render_json(report))
    assert data["exit_code"] == 1 and data["checks"][2]["evidence"][1]["path"] == str(png)
    page = render_html(report)
    assert "data:image/png;base64," in page  # the screenshot is embedded
    assert 'src="http' not in page and "<script" not in page  # self-contained


def test_r7_1_cli_registers_audit() -> None:
    args = build_parser().parse_args(
        ["audit", "dist", "--json", "--provider-origin", "https://gw.example", "--timeout", "30"]
    )
    assert args.target == "dist" and args.json and args.provider_origin == ["https://gw.example"]
    assert args.chromium == "/usr/bin/chromium" and args.timeout == 30


def test_r7_1_missing_browser_means_the_audit_could_not_run(tmp_path: Path) -> None:
    from byom.audit import run_audit

    report = run_audit(str(tmp_path), chromium=str(tmp_path / "no-chromium"))
    assert report.error is not None and "no browser" in report.error
    assert report.exit_code == EXIT_INCOMPLETE
    assert {c.status for c in report.checks} == {"could-not-check"}
