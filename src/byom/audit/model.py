"""The audit's results as data: evidence, one result per check, the whole report.

Plain dataclasses with ``to_dict`` so the JSON report, the text report and the HTML report all
render the same facts. A check is ``pass``, ``fail`` or ``could-not-check``; nothing else, and a
check the audit did not reach stays ``could-not-check`` (it is never a pass by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "could-not-check"]
PASS: Status = "pass"  # noqa: S105 (a status, not a password)
FAIL: Status = "fail"
UNCHECKED: Status = "could-not-check"

EvidenceKind = Literal[
    "request", "storage", "header", "console", "screenshot", "text", "link", "script", "note"
]

#: Exit codes of ``byom audit``.
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_INCOMPLETE = 2


@dataclass(slots=True)
class Evidence:
    """One observed fact. ``summary`` is one plain line; ``detail`` holds the raw data."""

    kind: EvidenceKind
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)
    path: str | None = None  # a screenshot file

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "summary": self.summary}
        if self.detail:
            out["detail"] = self.detail
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """What a check is: its stable id, number, title and the requirement it makes executable."""

    id: str
    number: int
    title: str
    requirement: str
    mandatory: bool = True


#: The checks, in report order.
CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("csp", 1, "Strict Content-Security-Policy", "invariant 3, pitfall 15"),
    CheckSpec("scripts", 2, "Third-party scripts (inventory)", "invariant 4", mandatory=False),
    CheckSpec("key-persistence", 3, "No persisted key without opt-in", "invariant 1, R2.2"),
    CheckSpec("egress", 4, "Key and prompt go only to the provider", "invariant 2, R2.4"),
    CheckSpec("logging", 5, "Nothing logged to the console", "invariant 5, R2.5"),
    CheckSpec("budget", 6, "In-flight budget accounting", "invariant 6, R3.5"),
    CheckSpec("wizard", 7, "Visible onboarding before the key input", "R5.2, pitfall 11"),
    CheckSpec("leave-guard", 8, "Leave guard during paid work", "R4.5, pitfall 13"),
    CheckSpec("key-rejected", 9, "401 clears the key; 403 does not", "R2.6, pitfall 7"),
    CheckSpec("integration-doc", 10, "BYOM-INTEGRATION.md complete", "R6.3, R7.3"),
    CheckSpec("max-tokens", 11, "Every model request bounds its output", "R7.4, pitfall 1"),
)
SPECS: dict[str, CheckSpec] = {spec.id: spec for spec in CHECKS}


@dataclass(slots=True)
class CheckResult:
    """The outcome of one check."""

    spec: CheckSpec
    status: Status = UNCHECKED
    summary: str = "not reached: the audit stopped before this check"
    evidence: list[Evidence] = field(default_factory=list)

    def set(self, status: Status, summary: str) -> None:
        self.status = status
        self.summary = summary

    def add(
        self,
        kind: EvidenceKind,
        summary: str,
        detail: dict[str, Any] | None = None,
        path: str | None = None,
    ) -> Evidence:
        item = Evidence(kind, summary, detail or {}, path)
        self.evidence.append(item)
        return item

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.spec.id,
            "number": self.spec.number,
            "title": self.spec.title,
            "requirement": self.spec.requirement,
            "mandatory": self.spec.mandatory,
            "status": self.status,
            "summary": self.summary,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(slots=True)
class AuditReport:
    """Everything one run of the audit found."""

    target: str
    url: str = ""
    checks: list[CheckResult] = field(default_factory=lambda: [CheckResult(s) for s in CHECKS])
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # set when the audit itself could not run
    started_at: str = ""
    duration_s: float = 0.0
    screenshot_dir: str | None = None
    config_file: str | None = None
    version: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per audit step
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request, canaries masked
    #: the journey's steps as its first full replay took them (each with a screenshot), and the
    #: step that failed, if one did
    journey: list[dict[str, Any]] = field(default_factory=list)
    journey_replays: int = 0

    def check(self, check_id: str) -> CheckResult:
        for result in self.checks:
            if result.spec.id == check_id:
                return result
        raise KeyError(check_id)

    def fill_unreached(self, reason: str) -> None:
        """Give every check still at its default a reason (they stay ``could-not-check``)."""
        for result in self.checks:
            if result.status == UNCHECKED and result.summary.startswith("not reached"):
                result.summary = reason

    @property
    def exit_code(self) -> int:
        """0: every mandatory check passed. 1: a mandatory check failed. 2: otherwise — the
        audit could not run, or could not check at least one mandatory check."""
        mandatory = [c for c in self.checks if c.spec.mandatory]
        if any(c.status == FAIL for c in mandatory):
            return EXIT_FAILED
        if self.error is not None or any(c.status != PASS for c in mandatory):
            return EXIT_INCOMPLETE
        return EXIT_PASSED

    @property
    def verdict(self) -> str:
        return {EXIT_PASSED: "passed", EXIT_FAILED: "failed", EXIT_INCOMPLETE: "incomplete"}[
            self.exit_code
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "url": self.url,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "error": self.error,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 2),
            "config_file": self.config_file,
            "screenshot_dir": self.screenshot_dir,
            "byom_version": self.version,
            "checks": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
            "timings": dict(self.timings),
            "journey": [dict(step) for step in self.journey],
            "journey_replays": self.journey_replays,
            "requests": list(self.requests),
        }
