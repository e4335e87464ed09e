"""R6.3: ``BYOM-INTEGRATION.md``: ``byom integration init`` and ``byom integration check``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from byom.integration import (
    CHECKLIST,
    SECTIONS,
    AppDescription,
    DeclaredFeature,
    build_description,
    check_document,
    parse_feature_option,
    render_document,
)
from byom.integration import cli as integration_cli

COMPLETE = (Path(__file__).parent / "fixtures" / "r6" / "complete-integration.md").read_text(
    encoding="utf-8"
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="byom")
    integration_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def errors(text: str) -> list[tuple[str, str, int | None]]:
    return [(p.code, p.message, p.line) for p in check_document(text) if p.severity == "error"]


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def section_span(text: str, heading: str) -> tuple[int, int]:
    """Character span of a ``##`` section, heading included, up to the next ``##``."""
    start = text.index(f"## {heading}")
    nxt = text.find("\n## ", start + 3)
    return start, (nxt + 1 if nxt != -1 else len(text))


# --- check ------------------------------------------------------------------------------------


def test_r6_3_complete_document_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_document(COMPLETE) == []
    path = tmp_path / "BYOM-INTEGRATION.md"
    path.write_text(COMPLETE, encoding="utf-8")
    code, out, _ = run(["integration", "check", str(path), "--strict"], capsys)
    assert code == 0 and "passed" in out


def test_r6_3_missing_section_fails_precisely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start, end = section_span(COMPLETE, "What happens when the budget ceiling is hit")
    text = COMPLETE[:start] + COMPLETE[end:]
    assert errors(text) == [
        (
            "missing-section",
            "missing section: '## What happens when the budget ceiling is hit'",
            None,
        )
    ]
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(["integration", "check", str(path)], capsys)
    assert code == 1
    assert (
        f"{path}: error: missing section: '## What happens when the budget ceiling is hit'" in out
    )
    assert "FAILED, 1 error" in out


def test_r6_3_every_required_section_is_required() -> None:
    """Every section the pinned version's template (v1.2.0) lists is required; the checklist,
    which that template does not list, is not (R7.3: tests/test_r7_3_integration_versions.py)."""
    headings = [line[3:] for line in COMPLETE.splitlines() if line.startswith("## ")]
    assert len(headings) == len(SECTIONS)
    for heading in headings:
        start, end = section_span(COMPLETE, heading)
        missing = [
            p.section
            for p in check_document(COMPLETE[:start] + COMPLETE[end:])
            if p.code == "missing-section"
        ]
        assert len(missing) == (0 if heading == "Conformance checklist" else 1), heading
    assert {p.section for p in check_document("# nothing\n") if p.code == "missing-section"} == {
        spec.key for spec in SECTIONS if spec.key != "checklist"
    }


def test_r6_3_invalid_category_fails_precisely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = COMPLETE.replace("| Suggest tags | **Worker** |", "| Suggest tags | medium |")
    line = line_of(text, "| Suggest tags | medium |")
    assert errors(text) == [
        (
            "invalid-category",
            "feature 'Suggest tags' has the category 'medium'; a category is frontier or worker",
            line,
        )
    ]
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(["integration", "check", str(path)], capsys)
    assert code == 1
    assert f"{path}:{line}: error: feature 'Suggest tags' has the category 'medium'" in out


def test_r6_3_unchecked_box_missing_from_deviations_fails() -> None:
    text = COMPLETE.replace("- [x] **plain-errors**", "- [ ] **plain-errors**")
    assert errors(text) == [
        (
            "unchecked-box-not-in-deviations",
            "the checklist box 'plain-errors' is unchecked but is not listed under Deviations "
            "with a reason",
            line_of(text, "- [ ] **plain-errors**"),
        )
    ]


def test_r6_3_deviation_whose_box_is_checked_fails() -> None:
    text = COMPLETE.replace("- [ ] **connection-surface**", "- [x] **connection-surface**")
    assert errors(text) == [
        (
            "deviation-box-checked",
            f"'connection-surface' is listed as a deviation, but its checklist box (line "
            f"{line_of(text, '- [x] **connection-surface**')}) is checked; uncheck the box or "
            "remove the deviation",
            line_of(text, "- **connection-surface**"),
        )
    ]


def test_r6_3_deviation_without_reason_or_box_fails() -> None:
    start, end = section_span(COMPLETE, "Deviations from the constitution, and why")
    section = (
        "## Deviations from the constitution, and why\n\n"
        "- **connection-surface**\n"
        "- **dark-mode**: not offered yet, because nobody asked.\n\n"
    )
    text = COMPLETE[:start] + section + COMPLETE[end:]
    assert errors(text) == [
        (
            "deviation-without-reason",
            "the deviation 'connection-surface' gives no reason",
            line_of(text, "- **connection-surface**"),
        ),
        (
            "deviation-without-box",
            "the deviation 'dark-mode' names no checklist box; start it with the label of an "
            "unchecked box, as - **label**: reason",
            line_of(text, "- **dark-mode**"),
        ),
    ]


def test_r6_3_no_deviations_and_all_boxes_checked_passes() -> None:
    start, end = section_span(COMPLETE, "Deviations from the constitution, and why")
    text = (
        COMPLETE[:start]
        + "## Deviations from the constitution, and why\n\nNone.\n\n"
        + COMPLETE[end:]
    ).replace("- [ ] **connection-surface**", "- [x] **connection-surface**")
    assert check_document(text) == []
    # ...but "None" with an unchecked box disagrees
    text = text.replace("- [x] **free-core**", "- [ ] **free-core**")
    assert [c for c, _, _ in errors(text)] == ["unchecked-box-not-in-deviations"]


def test_r6_3_missing_checklist_box_fails() -> None:
    text = COMPLETE.replace(
        "- [x] **direct-calls**: Browser to provider, no developer server.\n", ""
    )
    assert [c for c, _, _ in errors(text)] == ["checklist-item-missing"]


def test_r6_3_unfilled_and_empty_sections_fail() -> None:
    text = COMPLETE.replace(
        "Only the two features below use a model", "TODO: say which features need a model"
    )
    assert [(c, ln) for c, _, ln in errors(text)] == [
        ("unfilled-section", line_of(text, "TODO: say which"))
    ]
    text = COMPLETE.replace(
        "- `none -> v1.2.0` (2026-11-01): first adoption; submodule added, this document written.",
        "<!-- nothing yet -->",
    )
    codes = {c for c, _, _ in errors(text)}
    assert codes == {"empty-section"}
    text = COMPLETE.replace("**Fieldnotes**: a free notebook", "<app name> — a free notebook")
    assert [c for c, _, _ in errors(text)] == ["unfilled-section"]


def test_r6_3_invariant_table_and_pinned_version() -> None:
    text = COMPLETE.replace(
        "| 4 | Minimal third-party JavaScript | met | no runtime dependencies |\n", ""
    )
    assert [m for c, m, _ in errors(text)] == [
        "invariant 4 (Little third-party JavaScript, each piece justified) is not in the table"
    ]
    text = COMPLETE.replace(
        "| 5 | Never logged | met | no logging of requests at all |", "| 5 | Never logged |  |  |"
    )
    assert [m for c, m, _ in errors(text)] == [
        "invariant 5: the status is empty",
        "invariant 5: the where it is met is empty",
    ]
    text = COMPLETE.replace("`v1.2.0`\n- **Pinned commit:**", "`v1.4.0`\n- **Pinned commit:**")
    problems = check_document(text)
    assert [(p.code, p.severity) for p in problems] == [
        ("unknown-constitution-tag", "warning"),
        ("log-missing-version", "warning"),
    ]


def test_r6_3_warnings_fail_only_with_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = COMPLETE.replace("`v1.2.0`\n- **Pinned commit:**", "`v1.4.0`\n- **Pinned commit:**")
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(["integration", "check", str(path)], capsys)
    assert code == 0 and "warning: v1.4.0 is not a released constitution tag" in out
    code, _, _ = run(["integration", "check", str(path), "--strict"], capsys)
    assert code == 1


def test_r6_3_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = COMPLETE.replace("| Suggest tags | **Worker** |", "| Suggest tags | fast |")
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(["integration", "check", str(path), "--json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["errors"] == 1
    assert data["problems"][0]["code"] == "invalid-category"
    assert data["problems"][0]["section"] == "features"
    assert data["problems"][0]["line"] == line_of(text, "| Suggest tags | fast |")


def test_r6_3_headings_in_code_blocks_do_not_count() -> None:
    start, end = section_span(COMPLETE, "Propagation log")
    fenced = "```\n## Propagation log\n- `none -> v1.2.0`: x\n```\n\n"
    text = COMPLETE[:start] + fenced + COMPLETE[end:]
    assert ("missing-section", "missing section: '## Propagation log'", None) in errors(text)


# --- init -------------------------------------------------------------------------------------


def test_r6_3_generated_document_has_every_section_and_the_checklist() -> None:
    app = AppDescription(
        "Notes",
        (DeclaredFeature("Summarise", "worker"), DeclaredFeature("Research", "frontier", "Hard.")),
        "A note app.",
    )
    text = render_document(app, today=dt.date(2026, 11, 1))
    for spec in SECTIONS:
        assert f"\n## {spec.heading}\n" in text
    for item in CHECKLIST:
        assert f"- [ ] **{item.label}**: {item.text}" in text
    assert "| Summarise | worker |" in text and "| Research | frontier | Hard. |" in text
    assert "`none -> v1.2.0` (2026-11-01)" in text
    assert "**Notes**: A note app." in text
    problems = check_document(text)
    codes = {p.code for p in problems}
    # a fresh skeleton is honest: nothing is filled in or ticked yet
    assert codes == {"unfilled-section", "unchecked-box-not-in-deviations"}
    assert "missing-section" not in codes and "invalid-category" not in codes


def test_r6_3_filling_in_the_skeleton_makes_it_pass() -> None:
    text = render_document(
        AppDescription(
            "Notes", (DeclaredFeature("Summarise", "worker", "Short texts."),), "An app."
        )
    )
    text = re.sub(r"TODO: [^|\n]*?(?=\s*\||$)", "Done: described here.", text, flags=re.M)
    text = text.replace("- [ ] ", "- [x] ")
    text = text.replace("Done: described here.\n\n## The pinned", "None.\n\n## The pinned")
    assert check_document(text) == []


def test_r6_3_init_from_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs" / "BYOM-INTEGRATION.md"
    code, stdout, _ = run(
        [
            "integration",
            "init",
            "--app-name",
            "Notes",
            "--one-line",
            "A note app.",
            "--feature",
            "Summarise: worker",
            "--feature",
            "Deep: research:frontier",
            "-o",
            str(out),
        ],
        capsys,
    )
    assert code == 0 and "byom integration check" in stdout
    text = out.read_text(encoding="utf-8")
    assert "| Summarise | worker |" in text and "| Deep: research | frontier |" in text
    code, _, err = run(
        ["integration", "init", "--app-name", "N", "--feature", "a:worker", "-o", str(out)], capsys
    )
    assert code == 1 and "--force" in err
    code, _, _ = run(
        [
            "integration",
            "init",
            "--app-name",
            "N",
            "--feature",
            "a:worker",
            "-o",
            str(out),
            "--force",
        ],
        capsys,
    )
    assert code == 0 and "| a | worker |" in out.read_text(encoding="utf-8")


def test_r6_3_init_from_toml_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "app.toml"
    toml.write_text(
        'name = "Fieldnotes"\none_line = "A notebook."\npinned_version = "v1.1.0"\n'
        '[[features]]\nname = "Summarise"\ncategory = "worker"\nwhy = "Short texts."\n',
        encoding="utf-8",
    )
    code, out, _ = run(
        ["integration", "init", "--from", str(toml), "--feature", "Tag:Worker"], capsys
    )
    assert code == 0
    assert "**Fieldnotes**: A notebook." in out and "`v1.1.0`" in out
    assert "| Summarise | worker | Short texts. |" in out and "| Tag | worker |" in out
    js = tmp_path / "app.json"
    js.write_text(
        json.dumps({"name": "J", "features": [{"name": "X", "category": "frontier"}]}),
        encoding="utf-8",
    )
    code, out, _ = run(["integration", "init", "--from", str(js), "--app-name", "K"], capsys)
    assert code == 0 and "**K**:" in out and "| X | frontier |" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--feature", "Summarise:worker"], "give the app's name"),
        (["--app-name", "N"], "declare at least one model-powered feature"),
        (["--app-name", "N", "--feature", "Summarise:medium"], "category 'medium' is not valid"),
        (["--app-name", "N", "--feature", "Summarise"], "write it as NAME:CATEGORY"),
        (["--app-name", "N", "--feature", "a|b:worker"], "must not contain '|'"),
        (["--app-name", "N", "--feature", "a:worker", "--pinned-version", "1.2"], "not a tag"),
    ],
)
def test_r6_3_init_rejects_bad_input(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["integration", "init", *argv], capsys)
    assert code == 2 and message in err


def test_r6_3_python_api() -> None:
    assert parse_feature_option("a:b:worker") == DeclaredFeature("a:b", "worker")
    app = build_description({"name": "X", "features": [{"name": "F", "category": "worker"}]})
    assert app.pinned_version == "v1.2.0" and app.features[0].name == "F"
    with pytest.raises(ValueError, match="features\\[0\\] needs a name"):
        build_description({"name": "X", "features": [{"category": "worker"}]})
