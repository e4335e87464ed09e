"""``byom audit``: check any BYOM web app against the invariants, in a real browser (R7.1).

The app is loaded in headless Chromium (Playwright, the ``audit`` extra), driven through its own
UI like a user would, with a canary key and a canary prompt; every request to a provider origin
is answered by the in-process :class:`byom.sim.Simulator`, so nothing reaches a real provider and
nothing is spent. Eleven checks, each ``pass``, ``fail`` or ``could-not-check`` with evidence::

    from byom.audit import run_audit

    report = run_audit("dist/")          # or a URL
    print(report.exit_code, [c.status for c in report.checks])

Importing this package does not import Playwright; :func:`run_audit` does.
"""

from byom.audit.config import AuditConfig, ConfigError, load_config, parse_config_text
from byom.audit.engine import AuditBrowser, AuditCannotRun, AuditOptions, run_audit, run_audits
from byom.audit.model import (
    CHECKS,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_PASSED,
    AuditReport,
    CheckResult,
    Evidence,
)
from byom.audit.report import render_html, render_json, render_text

__all__ = [
    "CHECKS",
    "EXIT_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_PASSED",
    "AuditBrowser",
    "AuditCannotRun",
    "AuditConfig",
    "AuditOptions",
    "AuditReport",
    "CheckResult",
    "ConfigError",
    "Evidence",
    "load_config",
    "parse_config_text",
    "render_html",
    "render_json",
    "render_text",
    "run_audit",
    "run_audits",
]
