"""``BYOM-INTEGRATION.md``: generate one from an app's features, and check one (R6.3).

Every BYOM app publishes this document: how it applies the pattern, where each security
invariant is met, what it does differently and why, which constitution release it pins. It is
judged by the template of the release it pins (:mod:`byom.integration.versions`). byom's own
skeleton ends with a conformance checklist; where a document has one, the deviations section
must be exactly the checklist's unchecked boxes, each with a reason: so a reader can trust
either one.

Boxes and deviations are matched by a short label. :func:`render_document` writes boxes as
``- [ ] **label**: what it means`` and asks for deviations as ``- **label**: reason``.

Standard library only: the audit tool calls :func:`check_document` too.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from byom.core.features import CATEGORIES
from byom.integration.markdown import (
    Item,
    Section,
    label_and_rest,
    list_items,
    normalise,
    slug,
    split_sections,
    strip_comments,
    tables,
)
from byom.integration.versions import VERSION_PATTERN, Template, template_for
from byom.registry.tags import TAG_PATTERN, known_constitution_tags

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a document. ``code`` is stable; ``message`` is plain English.

    ``line`` is 1-based, or ``None`` for something that is missing altogether; ``section`` is
    the key of the section concerned (see :data:`SECTIONS`), when there is one.
    """

    code: str
    message: str
    line: int | None = None
    section: str | None = None
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """A required section: a stable key, the heading byom writes, and phrases that identify it.

    A heading matches when its normalised text contains one of ``phrases``, so small wording
    differences between documents (``"How to get and connect a key, for this app"``) still count.
    """

    key: str
    heading: str
    phrases: tuple[str, ...]


SECTIONS: Final[tuple[SectionSpec, ...]] = (
    SectionSpec("app", "App name and one-line description", ("app name", "one line description")),
    SectionSpec("free-core", "The free core", ("free core",)),
    SectionSpec(
        "features",
        "Model-powered features and their categories",
        ("model powered features", "features and their categories"),
    ),
    SectionSpec(
        "connect",
        "How to get and connect a key",
        ("connect a key", "get and connect", "getting a key", "connecting a key"),
    ),
    SectionSpec("key-handling", "Key handling specifics", ("key handling",)),
    SectionSpec(
        "spend-ui", "Where spend and budget appear in the UI", ("spend and budget", "spend budget")
    ),
    SectionSpec(
        "ceiling", "What happens when the budget ceiling is hit", ("budget ceiling", "ceiling")
    ),
    SectionSpec("invariants", "How each security invariant is met", ("security invariant",)),
    SectionSpec("deviations", "Deviations from the constitution, and why", ("deviation",)),
    SectionSpec(
        "pinned-version",
        "The pinned constitution version",
        ("pinned constitution version", "pinned version", "constitution version"),
    ),
    SectionSpec("propagation-log", "Propagation log", ("propagation log",)),
    SectionSpec("checklist", "Conformance checklist", ("conformance checklist", "checklist")),
)
"""The sections every document must have, in the order byom writes them."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    label: str
    text: str


CHECKLIST: Final[tuple[ChecklistItem, ...]] = (
    ChecklistItem("free-and-open", "The app is free to use and its source code is public."),
    ChecklistItem(
        "security-invariants",
        "All six security invariants are met, and this document says where each one is met.",
    ),
    ChecklistItem(
        "data-egress",
        "The key and the prompts go to the model provider and nowhere else; no analytics or "
        "telemetry sees either.",
    ),
    ChecklistItem(
        "connect-wizard",
        "The connect wizard follows the wizard contract, including the path for someone who "
        "has never had an API key.",
    ),
    ChecklistItem(
        "connection-surface",
        "After connecting, the user can always change the model, change the budget, clear the "
        "key and see the spend history.",
    ),
    ChecklistItem(
        "plain-errors",
        "Errors are explained in plain words; an authentication failure clears the stale key; "
        "no error shows the key or a prompt.",
    ),
    ChecklistItem(
        "model-categories",
        "Every model-powered feature asks for frontier or worker, and the user picks the model.",
    ),
    ChecklistItem("free-core", "Features that need no model work without a key."),
    ChecklistItem(
        "direct-calls",
        "Requests go from the user's device straight to the provider; no server of the "
        "developer is in the path.",
    ),
    ChecklistItem(
        "budget-and-cost",
        "A user-set budget ceiling and the cost transparency surface are both in place.",
    ),
    ChecklistItem(
        "integration-doc",
        "This document exists (docs/BYOM-INTEGRATION.md or the repository root) and every "
        "section is filled in.",
    ),
    ChecklistItem(
        "pinned-version", "The constitution is pinned to a released tag (as a git submodule)."
    ),
)
"""The conformance checklist: one box per condition, each with a stable label."""

INVARIANTS: Final[tuple[str, ...]] = (
    "Key kept in memory unless the user opts in to store it",
    "Key never sent to the developer's servers",
    "Strict Content-Security-Policy",
    "Little third-party JavaScript, each piece justified",
    "Neither the key nor prompts are ever logged",
    "Cost estimated before every request; user-set budget enforced",
)
"""The six security invariants, in the constitution's order (byom's own short wording)."""


# --- generating -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeclaredFeature:
    """A model-powered feature as the app declares it."""

    name: str
    category: str
    why: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a feature needs a name")
        if "|" in self.name or "\n" in self.name:
            raise ValueError(f"feature name {self.name!r} must not contain '|' or a line break")
        if self.category not in CATEGORIES:
            raise ValueError(
                f"feature {self.name!r}: category {self.category!r} is not valid; "
                f"use {' or '.join(CATEGORIES)}"
            )


@dataclass(frozen=True, slots=True)
class AppDescription:
    """What ``byom integration init`` needs to know about an app."""

    name: str
    features: tuple[DeclaredFeature, ...]
    one_line: str = ""
    pinned_version: str = field(default_factory=lambda: known_constitution_tags()[-1])
    #: The site is built with the built-in model (``builtin = true``): the document then
    #: carries the justification of its one CSP concession, ``worker-src blob:``.
    builtin: bool = False

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("the app needs a name")
        if not self.features:
            raise ValueError("declare at least one model-powered feature")
        if not TAG_PATTERN.match(self.pinned_version):
            raise ValueError(
                f"pinned version {self.pinned_version!r} is not a tag like "
                f"{known_constitution_tags()[-1]}"
            )


#: Why a site built with the built-in model needs ``worker-src blob:`` (and cross-origin
#: isolation): written into the integration document of such sites; ``byom audit`` treats the
#: concession as advisory only when the document names it.
BUILTIN_JUSTIFICATION = (
    "The site is built with `builtin = true`: a small model runs in the page with wllama "
    "(llama.cpp compiled to WebAssembly, MIT), self-hosted and hash-pinned, loaded only when "
    "the user picks the built-in model. The policy adds one concession, `worker-src blob:`: "
    "wllama starts every worker it uses (its main worker, its thread workers and its "
    "file-system writers) from a blob URL built from its own verified code, and no option of "
    "it avoids that. The headers add `Cross-Origin-Embedder-Policy: require-corp` (with "
    "`Cross-Origin-Opener-Policy: same-origin`) so the page is cross-origin isolated and the "
    "runtime can use threads; provider requests are CORS requests and still work. Requests to "
    "the built-in model go to the reserved address `http://builtin.invalid`, answered in the "
    "page: nothing is sent over the network, and no key exists for it."
)


def _todo(text: str) -> str:
    return f"TODO: {text}"


def render_document(app: AppDescription, today: _dt.date | None = None) -> str:
    """A ``BYOM-INTEGRATION.md`` skeleton with every required section.

    What byom knows is filled in (name, features and categories, pinned version); everything
    else is a ``TODO:`` line, which :func:`check_document` reports until it is replaced. All
    checklist boxes start unchecked: tick each one only once it is true.
    """
    date = (today or _dt.date.today()).isoformat()
    one_line = app.one_line.strip() or _todo("one sentence saying what the app is.")
    rows = "\n".join(
        f"| {f.name} | {f.category} | {f.why.strip() or _todo('why this category.')} |"
        for f in app.features
    )
    invariant_rows = "\n".join(
        f"| {i} | {name} | {_todo('met, partial or deviation')} | {_todo('where in the app')} |"
        for i, name in enumerate(INVARIANTS, start=1)
    )
    checklist = "\n".join(f"- [ ] **{item.label}**: {item.text}" for item in CHECKLIST)
    h = {spec.key: f"## {spec.heading}" for spec in SECTIONS}
    v = app.pinned_version
    parts = [
        "# BYOM-INTEGRATION",
        "",
        f"How {app.name} applies the BYOM constitution (bring your own model), pinned at `{v}`. "
        "The constitution is the authority; this document records what this app does, where, "
        "and where it differs. Replace every TODO line, then run "
        "`byom integration check` on this file.",
        "",
        h["app"],
        "",
        f"**{app.name}**: {one_line}",
        "",
        h["free-core"],
        "",
        _todo(
            "which parts of the app work with no model connected. If every feature needs a "
            "model, say so. Features that need no model must never ask for a key."
        ),
        "",
        h["features"],
        "",
        "| Feature | Category | Why |",
        "|---|---|---|",
        rows,
        "",
        "A category is frontier (the strongest models, for deep knowledge or hard reasoning) or "
        "worker (cheap, fast and capable: the default).",
        "",
        _todo(
            "where the user picks a model within each category, and confirm that adding a "
            "model needs no code change."
        ),
        "",
        h["connect"],
        "",
        _todo(
            "where the user reaches the connect wizard, and the path for someone who has "
            "never had a key: what a key is, where to get one (an OpenRouter key: "
            "https://openrouter.ai/keys), how to set a spend limit with the provider, and the "
            "honest threat model, all shown before the key input. Say that remembering the "
            "key is a choice the user makes, off by default."
        ),
        "",
        h["key-handling"],
        "",
        *(
            f"- **{topic}.** {_todo(prompt)}"
            for topic, prompt in (
                ("In memory by default; storing it is opt-in", "how the key is held."),
                ("Content-Security-Policy", "the policy, and any concession with its reason."),
                ("Third-party code", "each runtime dependency and why it is needed."),
                ("Direct calls to the provider", "confirm no developer server is in the path."),
            )
        ),
        *([f"- **The built-in model.** {BUILTIN_JUSTIFICATION}"] if app.builtin else []),
        "",
        h["spend-ui"],
        "",
        _todo(
            "where the user sets an allowance; where each request's real cost appears "
            "(pending until the provider reports it, never made up); where the spend history "
            "is kept on the device; how the app warns before leaving while paid work runs."
        ),
        "",
        h["ceiling"],
        "",
        _todo(
            "what happens when a request would go over the allowance: it is refused before "
            "it is sent, with a clear message. Two concurrent requests that together exceed "
            "the allowance: the second is refused before its fetch. No allowance means no "
            "ceiling."
        ),
        "",
        h["invariants"],
        "",
        "| # | Invariant | Status | Where |",
        "|---|---|---|---|",
        invariant_rows,
        "",
        f"Data egress (the key and prompts go only to the provider): {_todo('met or not, where')}",
        "",
        h["deviations"],
        "",
        "Every unchecked box of the conformance checklist below is listed here as "
        "`- **label**: reason`, and nothing else is. If every box is checked, write None.",
        "",
        _todo("the deviations, or None."),
        "",
        h["pinned-version"],
        "",
        "- **Constitution:** BYOM",
        f"- **Pinned version:** `{v}`",
        f"- **Pinned commit:** {_todo('commit hash of the tag')}",
        f"- **Submodule path:** {_todo('where the constitution is checked out, e.g. vendor/byom')}",
        "",
        h["propagation-log"],
        "",
        "One entry for every change of the pinned version, newest last.",
        "",
        f"- `none -> {v}` ({date}): {_todo('first adoption: what was set up.')}",
        "",
        h["checklist"],
        "",
        "Check a box only when it is true. Each unchecked box is a deviation (see above).",
        "",
        checklist,
        "",
    ]
    return "\n".join(parts)


# --- checking -------------------------------------------------------------------------------

_PLACEHOLDER: Final = re.compile(
    r"\b(TODO|TBD|FIXME)\b|<[^\s<>`][^<>`\n]*(?:\s|…)[^<>`\n]*(?<=[^\s<>`])>|<…>"
)
_CODE_SPAN: Final = re.compile(r"`[^`\n]*`")
_NONE: Final = frozenset({"none", "none so far", "no deviations", "there are none"})
_HTML_TAG: Final = re.compile(
    r"</?(a|abbr|b|br|code|details|div|em|i|img|kbd|li|ol|p|picture|pre|source|span|strong|"
    r"sub|summary|sup|table|td|th|tr|ul)(\s+[\w:-]+(\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?)*"
    r"\s*/?>",
    re.IGNORECASE,
)


def _find_placeholder(text: str) -> str | None:
    """A ``TODO``-style marker or a ``<text with spaces>`` placeholder (not an HTML tag)."""
    for match in _PLACEHOLDER.finditer(_CODE_SPAN.sub("", text)):
        if not _HTML_TAG.fullmatch(match.group(0)):
            return match.group(0)
    return None


def _find_sections(
    sections: Sequence[Section],
) -> tuple[dict[str, Section], list[Problem]]:
    found: dict[str, Section] = {}
    problems: list[Problem] = []
    for section in sections:
        heading = normalise(section.heading)
        for spec in SECTIONS:
            if any(p in heading for p in spec.phrases):
                if spec.key in found:
                    problems.append(
                        Problem(
                            "duplicate-section",
                            f"a second '{spec.heading}' section; the first is at line "
                            f"{found[spec.key].line}",
                            section.line,
                            spec.key,
                            "warning",
                        )
                    )
                else:
                    found[spec.key] = section
                break
    return found, problems


def _placeholder(section: Section) -> tuple[int, str] | None:
    """The first unfilled marker in a section (``TODO``, ``<placeholder text>``), if any."""
    in_comment = False
    for line in section.body:
        text = line.text
        if in_comment or "<!--" in text:
            in_comment = "<!--" in text and "-->" not in text.split("<!--")[-1]
            text = strip_comments(text)
        marker = _find_placeholder(text)
        if marker is not None:
            return line.number, marker
    return None


def _is_empty(section: Section) -> bool:
    return not strip_comments(section.text()).strip()


def _check_features(section: Section) -> list[Problem]:
    problems: list[Problem] = []
    found = [t for t in tables(section.body) if t.column("category") is not None]
    if not found:
        return [
            Problem(
                "no-feature-table",
                "no feature table: add a table with the columns Feature | Category | Why",
                section.line,
                "features",
            )
        ]
    table = found[0]
    col = table.column("category")
    name_col = table.column("feature", "name") or 0
    assert col is not None
    if not table.rows:
        problems.append(
            Problem("no-features", "the feature table lists no features", table.line, "features")
        )
    for number, cells in table.rows:
        name = cells[name_col] if name_col < len(cells) else ""
        raw = cells[col] if col < len(cells) else ""
        value = raw.strip().strip("*_`").strip().casefold()
        if value not in CATEGORIES:
            shown = raw.strip() or "(empty)"
            problems.append(
                Problem(
                    "invalid-category",
                    f"feature '{name}' has the category '{shown}'; "
                    f"a category is {' or '.join(CATEGORIES)}",
                    number,
                    "features",
                )
            )
    return problems


def _check_invariants(section: Section) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[int] = set()
    for table in tables(section.body):
        status_col = table.column("status")
        where_col = table.column("where")
        for number, cells in table.rows:
            first = cells[0].strip().strip("*_`").strip() if cells else ""
            if not first.isdigit():
                continue
            index = int(first)
            seen.add(index)
            for col, what in ((status_col, "status"), (where_col, "where it is met")):
                if col is not None and (col >= len(cells) or not cells[col].strip()):
                    problems.append(
                        Problem(
                            "invariant-unfilled",
                            f"invariant {index}: the {what} is empty",
                            number,
                            "invariants",
                        )
                    )
    for index in range(1, len(INVARIANTS) + 1):
        if index not in seen:
            problems.append(
                Problem(
                    "invariant-missing",
                    f"invariant {index} ({INVARIANTS[index - 1]}) is not in the table",
                    section.line,
                    "invariants",
                )
            )
    return problems


def _check_version(
    section: Section, log: Section | None, tags: Sequence[str]
) -> tuple[list[Problem], str | None]:
    match = re.search(r"\bv[0-9]+\.[0-9]+\.[0-9]+\b", section.text())
    if not match:
        problem = Problem(
            "no-pinned-version",
            "no constitution tag (such as v1.2.0) in the pinned version section",
            section.line,
            "pinned-version",
        )
        return [problem], None
    version = match.group(0)
    line = next((ln.number for ln in section.body if version in ln.text), section.line)
    problems = []
    if version not in tags:
        problems.append(
            Problem(
                "unknown-constitution-tag",
                f"{version} is not a released constitution tag (known: {', '.join(tags)})",
                line,
                "pinned-version",
                "warning",
            )
        )
    if log is not None and version not in log.text():
        problems.append(
            Problem(
                "log-missing-version",
                f"the propagation log has no entry for the pinned version {version}",
                log.line,
                "propagation-log",
                "warning",
            )
        )
    return problems, version


def _checklist_items(section: Section) -> list[Item]:
    items, _ = list_items(section.body)
    return [item for item in items if item.checked is not None]


def _deviation_items(section: Section) -> tuple[list[Item], bool]:
    """The deviation bullets, and whether the section says there are none."""
    items, loose = list_items(section.body)
    items = [i for i in items if i.checked is None]
    if len(items) == 1 and normalise(items[0].text) in _NONE:  # "- None."
        return [], True
    return items, any(normalise(line.text) in _NONE for line in loose)


def _has_reason(rest: str) -> bool:
    if _find_placeholder(rest) is not None:
        return False
    return len(re.findall(r"[A-Za-z]{2,}", rest)) >= 2


def _check_agreement(checklist: Section, deviations: Section) -> list[Problem]:
    problems: list[Problem] = []
    boxes = _checklist_items(checklist)
    if not boxes:
        return [
            Problem(
                "no-checklist",
                "the conformance checklist has no boxes (- [ ] or - [x] items)",
                checklist.line,
                "checklist",
            )
        ]
    by_label: dict[str, Item] = {}
    for box in boxes:
        label, _ = label_and_rest(box.text)
        by_label.setdefault(slug(label), box)
    for item in CHECKLIST:
        if item.label not in by_label:
            problems.append(
                Problem(
                    "checklist-item-missing",
                    f"the checklist has no box '{item.label}' ({item.text})",
                    checklist.line,
                    "checklist",
                )
            )

    listed, says_none = _deviation_items(deviations)
    if says_none and listed:
        problems.append(
            Problem(
                "deviations-contradict",
                "the deviations section says None but also lists deviations",
                deviations.line,
                "deviations",
            )
        )
    named: dict[str, Item] = {}
    for dev in listed:
        label, rest = label_and_rest(dev.text)
        key = slug(label)
        named.setdefault(key, dev)
        target = by_label.get(key)
        if target is None:
            problems.append(
                Problem(
                    "deviation-without-box",
                    f"the deviation '{label}' names no checklist box; start it with the label "
                    "of an unchecked box, as - **label**: reason",
                    dev.line,
                    "deviations",
                )
            )
        elif target.checked:
            problems.append(
                Problem(
                    "deviation-box-checked",
                    f"'{key}' is listed as a deviation, but its checklist box (line {target.line}) "
                    "is checked; uncheck the box or remove the deviation",
                    dev.line,
                    "deviations",
                )
            )
        elif not _has_reason(rest):
            problems.append(
                Problem(
                    "deviation-without-reason",
                    f"the deviation '{key}' gives no reason",
                    dev.line,
                    "deviations",
                )
            )
    for key, box in by_label.items():
        if not box.checked and key not in named:
            problems.append(
                Problem(
                    "unchecked-box-not-in-deviations",
                    f"the checklist box '{key}' is unchecked but is not listed under "
                    "Deviations with a reason",
                    box.line,
                    "checklist",
                )
            )
    return problems


def judged_by(text: str) -> tuple[Template, bool]:
    """The constitution template ``text`` is judged by: that of the version its pinned-version
    section names, and whether it is that version's own (False: the newest known template
    stands in for a missing or unknown version)."""
    found, _ = _find_sections(split_sections(text))
    section = found.get("pinned-version")
    match = VERSION_PATTERN.search(section.text()) if section is not None else None
    return template_for(match.group(0) if match else None)


def check_document(text: str, *, known_tags: Iterable[str] | None = None) -> list[Problem]:
    """Check a ``BYOM-INTEGRATION.md``; an empty list means it passes.

    The document is judged by the template of the constitution version it pins (see
    :mod:`byom.integration.versions`): the sections that template lists are required; a
    conformance-checklist section only where the template has one. A checklist that is there
    must agree with the deviations all the same.

    Errors: a required section missing, empty or still holding a placeholder (``TODO``,
    ``<…>``); a feature table missing, empty or with a category other than frontier or
    worker; an invariant missing from the invariants table or with an empty cell; no pinned
    tag; a checklist box missing; an unchecked box not listed under Deviations with a reason,
    or a deviation whose box is checked or that names no box.
    Warnings: a pinned tag that is not a known release, a propagation log without the pinned
    version, a section that appears twice.
    """
    tags = tuple(known_tags) if known_tags is not None else known_constitution_tags()
    found, problems = _find_sections(split_sections(text))
    template, _ = judged_by(text)
    required = set(template.sections) | ({"checklist"} if template.checklist_section else set())
    for spec in SECTIONS:
        section = found.get(spec.key)
        if section is None:
            if spec.key not in required:
                continue
            problems.append(
                Problem(
                    "missing-section",
                    f"missing section: '## {spec.heading}'",
                    None,
                    spec.key,
                )
            )
        elif _is_empty(section):
            problems.append(
                Problem(
                    "empty-section",
                    f"the section '{section.heading}' is empty",
                    section.line,
                    spec.key,
                )
            )
        elif spec.key != "checklist":
            marker = _placeholder(section)
            if marker is not None:
                problems.append(
                    Problem(
                        "unfilled-section",
                        f"the section '{section.heading}' is not filled in yet "
                        f"(placeholder {marker[1]!r})",
                        marker[0],
                        spec.key,
                    )
                )
    if "features" in found:
        problems += _check_features(found["features"])
    if "invariants" in found:
        problems += _check_invariants(found["invariants"])
    if "pinned-version" in found:
        version_problems, _ = _check_version(
            found["pinned-version"], found.get("propagation-log"), tags
        )
        problems += version_problems
    if "checklist" in found and "deviations" in found:
        problems += _check_agreement(found["checklist"], found["deviations"])
    problems.sort(key=lambda p: (p.line if p.line is not None else 0, p.code))
    return problems
