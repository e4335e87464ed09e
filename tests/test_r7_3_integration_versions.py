"""R7.3: a ``BYOM-INTEGRATION.md`` is judged by the template of the constitution version it pins.

The section lists are facts read from the constitution (floriskappen/bring-your-own-model):
the ``##`` headings of ``constitution/BYOM-INTEGRATION.template.md`` at v1.0.0, v1.1.0 and
v1.2.0 (eleven, no conformance-checklist section), and the ten items of "Authoring
BYOM-INTEGRATION.md" in ``constitution/05-integration-guide.md`` at v0.1.0 (no template file,
no propagation log).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from byom.integration import check_document, judged_by, template_for, templates
from byom.integration import cli as integration_cli
from byom.registry.tags import known_constitution_tags

FIXTURES = Path(__file__).parent / "fixtures"
JOURNEY_DOC = (FIXTURES / "audit" / "journey" / "BYOM-INTEGRATION.md").read_text(encoding="utf-8")
COMPLETE = (FIXTURES / "r6" / "complete-integration.md").read_text(encoding="utf-8")

V1_TEMPLATE_HEADINGS = (  # constitution/BYOM-INTEGRATION.template.md, v1.0.0 to v1.2.0
    "App name and one-line description",
    "The free core",
    "Model-powered features and their categories",
    "How to get and connect a key, for this app",
    "Key handling specifics",
    "Where spend and budget appear in the UI",
    "What happens when the budget ceiling is hit",
    "How each security invariant is met",
    "Deviations from the constitution, and why",
    "The pinned constitution version",
    "Propagation log",
)


def errors(text: str) -> list[str]:
    return [p.code for p in check_document(text) if p.severity == "error"]


def test_r7_3_every_released_version_has_a_template_with_its_source() -> None:
    assert tuple(t.version for t in templates()) == known_constitution_tags()
    for template in templates():
        assert "floriskappen/bring-your-own-model" in template.source
        assert template.version in template.source
        assert not template.checklist_section
    assert len(template_for("v1.2.0")[0].sections) == len(V1_TEMPLATE_HEADINGS)
    assert "propagation-log" not in template_for("v0.1.0")[0].sections


def test_r7_3_v1_2_0_document_without_checklist_passes() -> None:
    """The false fail of issue 11: the v1.2.0 template has no checklist section."""
    assert "Conformance checklist" not in JOURNEY_DOC
    headings = [ln[3:] for ln in JOURNEY_DOC.splitlines() if ln.startswith("## ")]
    assert tuple(headings) == V1_TEMPLATE_HEADINGS
    assert check_document(JOURNEY_DOC) == []
    assert judged_by(JOURNEY_DOC) == (template_for("v1.2.0")[0], True)


def test_r7_3_a_checklist_that_is_there_must_still_agree() -> None:
    assert check_document(COMPLETE) == []  # pins v1.2.0 and has a checklist
    unlisted = COMPLETE.replace("- [x] **plain-errors**", "- [ ] **plain-errors**")
    assert errors(unlisted) == ["unchecked-box-not-in-deviations"]
    checked = COMPLETE.replace("- [ ] **connection-surface**", "- [x] **connection-surface**")
    assert errors(checked) == ["deviation-box-checked"]


def test_r7_3_each_version_requires_its_own_sections() -> None:
    start = JOURNEY_DOC.index("## Propagation log")
    no_log = JOURNEY_DOC[:start]
    assert errors(no_log) == ["missing-section"]  # v1.2.0 lists a propagation log
    v010 = no_log.replace("`v1.2.0`", "`v0.1.0`")
    assert errors(v010) == []  # v0.1.0 asks for ten sections, no log
    unknown = JOURNEY_DOC.replace("`v1.2.0`", "`v9.9.9`")
    template, own = judged_by(unknown)
    assert not own and template.version == known_constitution_tags()[-1]
    assert [p.code for p in check_document(unknown)] == [
        "unknown-constitution-tag",
        "log-missing-version",
    ]


def test_r7_3_cli_names_the_template_it_judged_by(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "BYOM-INTEGRATION.md"
    path.write_text(JOURNEY_DOC, encoding="utf-8")
    parser = argparse.ArgumentParser(prog="byom")
    integration_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["integration", "check", str(path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "judged by the v1.2.0 template" in out and "BYOM-INTEGRATION.template.md" in out
    args = parser.parse_args(["integration", "check", str(path), "--json"])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["template"]["version"] == "v1.2.0" and data["template"]["own"] is True
