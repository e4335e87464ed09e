"""``BYOM-INTEGRATION.md``: generate the document and check it (R6.3).

Standard library only. The main entry points::

    from byom.integration import check_document, render_document, AppDescription, DeclaredFeature

    problems = check_document(open("docs/BYOM-INTEGRATION.md").read())
    errors = [p for p in problems if p.severity == "error"]
"""

from __future__ import annotations

from byom.integration.description import (
    build_description,
    parse_feature_option,
    read_description_file,
)
from byom.integration.document import (
    CHECKLIST,
    INVARIANTS,
    SECTIONS,
    AppDescription,
    ChecklistItem,
    DeclaredFeature,
    Problem,
    SectionSpec,
    check_document,
    judged_by,
    render_document,
)
from byom.integration.versions import Template, template_for, templates

__all__ = [
    "CHECKLIST",
    "INVARIANTS",
    "SECTIONS",
    "AppDescription",
    "ChecklistItem",
    "DeclaredFeature",
    "Problem",
    "SectionSpec",
    "Template",
    "build_description",
    "check_document",
    "judged_by",
    "parse_feature_option",
    "read_description_file",
    "render_document",
    "template_for",
    "templates",
]
