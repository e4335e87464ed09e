"""Which sections a ``BYOM-INTEGRATION.md`` needs, by the constitution version it pins (R7.3).

A document is judged by the template of the release it pins, not by byom's newest idea of one:
the v1.2.0 template lists eleven sections and no conformance-checklist section, so a document
that follows it is complete without one. The lists are data
(``byom/integration/data/templates.json``), each entry naming the file of the constitution it
was read from at that tag.

A document that pins no version, or a tag this byom does not know, is judged by the newest
known template (the check reports the missing or unknown tag on its own).

Standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

VERSION_PATTERN: Final = re.compile(r"\bv[0-9]+\.[0-9]+\.[0-9]+\b")


@dataclass(frozen=True, slots=True)
class Template:
    """One constitution release's integration-document template.

    ``sections`` are byom's section keys (:data:`byom.integration.document.SECTIONS`) the
    template lists; ``checklist_section`` says whether it asks for a conformance-checklist
    section; ``source`` is where the list was read from."""

    version: str
    sections: tuple[str, ...]
    checklist_section: bool
    source: str


@cache
def templates() -> tuple[Template, ...]:
    """Every known template, oldest release first."""
    text = (
        resources.files("byom.integration")
        .joinpath("data/templates.json")
        .read_text(encoding="utf-8")
    )
    data = json.loads(text)
    repo = str(data["repository"])
    return tuple(
        Template(
            version=str(item["version"]),
            sections=tuple(str(s) for s in item["sections"]),
            checklist_section=bool(item["checklist_section"]),
            source=f"{repo}: {item['source']}",
        )
        for item in data["templates"]
    )


def template_for(version: str | None) -> tuple[Template, bool]:
    """The template for ``version``, and whether it is that version's own (False: the newest
    known template stands in for a missing or unknown version)."""
    known = {t.version: t for t in templates()}
    if version is not None and version in known:
        return known[version], True
    return templates()[-1], False
