"""Rendering an :class:`~byom.audit.model.AuditReport`: plain text, JSON and one HTML file.

The HTML report is self-contained: its style is inline and the screenshots are embedded as
``data:`` URLs, so the single file can be attached to an issue or a registry pull request.
"""

from __future__ import annotations

import base64
import html
import json
import textwrap
from pathlib import Path

from byom.audit.model import FAIL, PASS, AuditReport, CheckResult

LABELS = {PASS: "PASS", FAIL: "FAIL", "could-not-check": "COULD NOT CHECK"}


def render_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    return textwrap.wrap(
        text, width=width, initial_indent=indent, subsequent_indent=indent + "  "
    ) or [indent]


def render_text(report: AuditReport, *, verbose: bool = True) -> str:
    lines = [f"byom audit — {report.target}"]
    if report.url and report.url != report.target:
        lines.append(f"served at {report.url}")
    if report.config_file:
        lines.append(f"configuration: {report.config_file}")
    lines.append("")
    if report.journey:
        lines.append(f"journey ({report.journey_replays} replay(s)); the steps as first taken:")
        resumed = _resumed(report)
        if resumed:
            lines += _wrap(resumed, "    ")
        for step in report.journey:
            lines += _wrap(_step_text(step), "    ")
        lines.append("")
    for result in report.checks:
        mandatory = "" if result.spec.mandatory else " (advisory)"
        head = f"{result.spec.number:>2}. {LABELS[result.status]:<15} {result.spec.title}"
        lines.append(head + mandatory)
        lines += _wrap(result.summary, "      ")
        if verbose and (result.status != PASS or result.spec.id in ("csp", "scripts")):
            lines += _evidence_lines(result)
    lines.append("")
    for note in report.notes:
        lines += _wrap(note, "note: ")
    if report.error:
        lines += _wrap(f"the audit could not run completely: {report.error}", "")
    counts = {s: sum(1 for c in report.checks if c.status == s) for s in LABELS}
    lines.append(
        f"result: {report.verdict} — {counts[PASS]} passed, {counts[FAIL]} failed, "
        f"{counts['could-not-check']} could not be checked ({report.duration_s:.1f} s; "
        f"exit code {report.exit_code})"
    )
    if report.screenshot_dir:
        lines.append(f"screenshots: {report.screenshot_dir}")
    return "\n".join(lines) + "\n"


def _resumed(report: AuditReport) -> str | None:
    first = report.journey[0].get("step") if report.journey else None
    if isinstance(first, int) and first > 1 and report.journey[0].get("ok"):
        return (
            f"(steps 1–{first - 1} were not needed: the app had its dialog open after "
            f"connecting, and the replay resumed at step {first})"
        )
    return None


def _step_text(step: dict[str, object]) -> str:
    mark = "ok" if step.get("ok") else "FAILED"
    text = f"step {step['step']}: {step['description']} — {mark} ({step.get('seconds', 0)} s)"
    if step.get("error"):
        text += f": {step['error']}"
    if step.get("screenshot"):
        text += f" [{step['screenshot']}]"
    return text


def _evidence_lines(result: CheckResult, limit: int = 12) -> list[str]:
    out: list[str] = []
    for item in result.evidence[:limit]:
        text = item.summary + (f" [{item.path}]" if item.path else "")
        out += _wrap(text, f"      · {item.kind}: ")
    if len(result.evidence) > limit:
        out.append(f"      · … {len(result.evidence) - limit} more (see --json)")
    return out


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;
color:#1b1b1f}
h1{font-size:1.5rem;margin-bottom:.2rem} .meta{color:#555;margin:.1rem 0}
.verdict{font-weight:700;padding:.15rem .5rem;border-radius:.3rem}
.pass{background:#e3f6e8;color:#11592b} .fail{background:#fde5e5;color:#8a1414}
.could-not-check{background:#fff3d6;color:#7a4f00}
section.check{border:1px solid #ddd;border-radius:.5rem;margin:1rem 0;padding:.6rem 1rem}
section.check h2{font-size:1.05rem;margin:.2rem 0} .req{color:#666;font-size:.85rem}
ul{padding-left:1.2rem} li{margin:.2rem 0;word-break:break-word} code{font-size:.85rem}
figure{margin:.5rem 0} figure img{max-width:min(100%,40rem);border:1px solid #ccc}
figcaption{font-size:.85rem;color:#555} #journey figure img{max-width:min(100%,26rem)}
"""


def _image(path: str) -> str | None:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_html(report: AuditReport) -> str:
    esc = html.escape
    verdict_class = "pass" if report.exit_code == 0 else "fail"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>byom audit — {esc(report.target)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>byom audit — {esc(report.target)}</h1>",
        f'<p class="meta">Result: <span class="verdict {verdict_class}">'
        f"{esc(report.verdict)}</span> · exit code {report.exit_code} · "
        f"{report.duration_s:.1f} s · {esc(report.started_at)} · byom {esc(report.version)}</p>",
    ]
    if report.url:
        parts.append(f'<p class="meta">Served at <code>{esc(report.url)}</code></p>')
    if report.error:
        parts.append(
            f'<p class="meta fail">The audit could not run completely: {esc(report.error)}</p>'
        )
    if report.journey:
        parts.append('<section class="check" id="journey">')
        parts.append(f"<h2>Journey ({report.journey_replays} replay(s))</h2>")
        parts.append('<p class="req">the declared steps, as the first replay took them</p>')
        resumed = _resumed(report)
        if resumed:
            parts.append(f"<p>{esc(resumed)}</p>")
        parts.append("<ol>")
        for step in report.journey:
            shot = _image(str(step["screenshot"])) if step.get("screenshot") else None
            figure = (
                f'<figure><img alt="after step {step["step"]}" src="{shot}"></figure>'
                if shot
                else ""
            )
            parts.append(f"<li>{esc(_step_text({**step, 'screenshot': None}))}{figure}</li>")
        parts.append("</ol></section>")
    for result in report.checks:
        advisory = " (advisory)" if not result.spec.mandatory else ""
        parts.append(f'<section class="check" id="{esc(result.spec.id)}">')
        parts.append(
            f"<h2>{result.spec.number}. {esc(result.spec.title)}{advisory} "
            f'<span class="verdict {esc(result.status)}">{LABELS[result.status]}</span></h2>'
        )
        parts.append(f'<p class="req">{esc(result.spec.requirement)}</p>')
        parts.append(f"<p>{esc(result.summary)}</p>")
        items = []
        figures = []
        for item in result.evidence:
            if item.kind == "screenshot" and item.path:
                src = _image(item.path)
                if src:
                    figures.append(
                        f'<figure><img alt="{esc(item.summary)}" src="{src}">'
                        f"<figcaption>{esc(item.summary)}</figcaption></figure>"
                    )
                    continue
            items.append(f"<li><b>{esc(item.kind)}</b>: {esc(item.summary)}</li>")
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
        parts += figures
        parts.append("</section>")
    for note in report.notes:
        parts.append(f'<p class="meta">{esc(note)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
