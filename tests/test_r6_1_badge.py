"""R6.1: the badge set, its embed snippets and ``byom badge``.

The canonical badge files live in ``../shared/fixtures/badge`` beside the clone: without them the
comparison with them is skipped (``BYOM_REQUIRE_SHARED=1`` fails it).
"""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from byom.badge import (
    CLAIM,
    HTML_ALT,
    SITE_URL,
    badge_set,
    html_snippet,
    markdown_snippet,
    write_badge_set,
)
from byom.badge import cli as badge_cli
from byom.badge.mark import APP_SQUARE, MODEL_SQUARE, Rect
from conftest import shared_fixture

SVG = "{http://www.w3.org/2000/svg}"
EXPECTED_SIZES = {
    "byom-badge-light.svg": (168, 44),
    "byom-badge-dark.svg": (168, 44),
    "byom-badge-light-small.svg": (96, 26),
    "byom-badge-dark-small.svg": (96, 26),
    "byom-mark.svg": (24, 24),
    "byom-mark-dark.svg": (24, 24),
    "byom-mark-currentColor.svg": (24, 24),
}
FILES = {item.filename: item for item in badge_set()}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="byom")
    badge_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def canonical(name: str) -> ET.Element:
    return ET.parse(shared_fixture("badge", name)).getroot()


def ours(name: str) -> ET.Element:
    return ET.fromstring(FILES[name].svg)


def mark_rects(root: ET.Element) -> list[tuple[float, float, float, float, str, str | None]]:
    """The mark's rectangles: inside the <g> of a badge, or directly under a bare mark."""
    group = root.find(f"{SVG}g")
    parent = group if group is not None else root
    return [
        (
            float(r.get("x", 0)),
            float(r.get("y", 0)),
            float(r.get("width", 0)),
            float(r.get("height", 0)),
            r.get("fill", "").upper(),
            r.get("opacity"),
        )
        for r in parent.findall(f"{SVG}rect")
    ]


def colours(root: ET.Element) -> set[str]:
    found = set()
    for el in root.iter():
        for attr in ("fill", "stroke"):
            value = el.get(attr)
            if value:
                found.add(value.upper() if value.startswith("#") else value)
    return found


def test_r6_1_badge_set_has_the_seven_files_with_exact_sizes() -> None:
    assert set(FILES) == set(EXPECTED_SIZES)
    for name, (width, height) in EXPECTED_SIZES.items():
        root = ours(name)
        assert root.tag == f"{SVG}svg"
        assert root.get("width") == str(width), name
        assert root.get("height") == str(height), name
        assert root.get("viewBox") == f"0 0 {width} {height}", name


@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_r6_1_svg_is_self_contained(name: str) -> None:
    text = FILES[name].svg
    root = ET.fromstring(text)
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "title", "rect", "g", "text"}, tags
    assert "script" not in tags and "style" not in tags and "image" not in tags
    assert "foreignObject" not in tags and "use" not in tags
    for el in root.iter():
        for attr, value in el.attrib.items():
            assert not attr.endswith("href"), (name, attr)
            assert not attr.startswith("on"), (name, attr)
            assert "url(" not in value, (name, attr, value)
    assert (
        "@import" not in text
        and "@font-face" not in text
        and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    )
    assert "https://" not in text
    for text_el in root.iter(f"{SVG}text"):
        family = text_el.get("font-family", "")
        assert family.split(",")[-1].strip() == "sans-serif", family


@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_r6_1_geometry_and_colours_match_the_canonical_files(name: str) -> None:
    mine, theirs = ours(name), canonical(name)
    for attr in ("width", "height", "viewBox"):
        assert mine.get(attr) == theirs.get(attr), attr
    assert mark_rects(mine) == mark_rects(theirs)
    assert colours(mine) == colours(theirs)
    g_mine, g_theirs = mine.find(f"{SVG}g"), theirs.find(f"{SVG}g")
    assert (g_mine is None) == (g_theirs is None)
    if g_mine is not None and g_theirs is not None:
        assert g_mine.get("transform") == g_theirs.get("transform")
        frame = [mine.find(f"{SVG}rect"), theirs.find(f"{SVG}rect")]
        assert all(f is not None for f in frame)
        keys = ("x", "y", "width", "height", "fill", "stroke", "stroke-opacity")
        assert [frame[0].get(k) for k in keys] == [frame[1].get(k) for k in keys]  # type: ignore[union-attr]
        texts = [
            [
                (t.get("x"), t.get("y"), t.get("font-size"), (t.text or "").strip())
                for t in r.iter(f"{SVG}text")
            ]
            for r in (mine, theirs)
        ]
        assert texts[0] == texts[1]


def test_r6_1_ink_and_accent_colours_present() -> None:
    for name in (
        "byom-badge-light.svg",
        "byom-badge-light-small.svg",
        "byom-mark.svg",
        "byom-badge-dark.svg",
        "byom-badge-dark-small.svg",
    ):
        found = colours(ours(name))
        assert "#1B2028" in found and "#4D6483" in found, name
    # The dark mark has no ink ground: the accent marks the overlap.
    assert "#4D6483" in colours(ours("byom-mark-dark.svg"))
    assert colours(ours("byom-mark-currentColor.svg")) == {"currentColor"}


def test_r6_1_mark_is_two_overlapping_squares_with_the_overlap_in_ink() -> None:
    overlap = APP_SQUARE.intersection(MODEL_SQUARE)
    assert overlap == Rect(10, 8, 4, 8)
    assert APP_SQUARE.width == APP_SQUARE.height == MODEL_SQUARE.width == MODEL_SQUARE.height
    rects = mark_rects(ours("byom-mark.svg"))
    assert rects[0][4] == "#1B2028" and rects[1][4] == "#4D6483" and rects[2][4] == "#1B2028"
    assert Rect(10, 8, 4, 30).intersection(Rect(100, 0, 1, 1)) is None


def test_r6_1_snippets_link_the_site_with_the_canonical_alt_text() -> None:
    md = markdown_snippet("light")
    assert md == (
        "[![BYOM badge](https://byom.flkp.nl/assets/badge/byom-badge-light.svg)]"
        "(https://byom.flkp.nl/)"
    )
    html = html_snippet("dark-small")
    assert f'<a href="{SITE_URL}" rel="noopener">' in html
    assert 'src="https://byom.flkp.nl/assets/badge/byom-badge-dark-small.svg"' in html
    assert f'alt="{HTML_ALT}"' in html
    assert 'width="96" height="26"' in html
    assert HTML_ALT == (
        "BYOM badge — Bring Your Own Model: follows the pattern and security invariants, "
        "not proof of safety."
    )
    assert 'width="168" height="44"' in html_snippet("light")


def test_r6_1_self_hosted_asset_base_is_used_and_escaped() -> None:
    assert "/assets/badge/byom-badge-light.svg" in markdown_snippet("light", "/assets/badge")
    html = html_snippet("light", '/x"><script>/')
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html
    with pytest.raises(ValueError):
        markdown_snippet("light", "/a path (bad)/")
    with pytest.raises(ValueError):
        markdown_snippet("purple")  # type: ignore[arg-type]


def test_r6_1_claim_is_honest() -> None:
    lowered = CLAIM.lower()
    assert "not prove" in lowered and "copy" in lowered
    assert "guarantee" in lowered  # stated as what it is *not*
    assert "follows the byom pattern" in lowered


def test_r6_1_write_badge_set_writes_parseable_files(tmp_path: Path) -> None:
    written = write_badge_set(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(EXPECTED_SIZES)
    for path in written:
        root = ET.parse(path).getroot()
        assert (int(root.get("width", 0)), int(root.get("height", 0))) == EXPECTED_SIZES[path.name]


def test_r6_1_cli_writes_files_and_prints_snippets_and_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["badge", "--out", str(tmp_path)], capsys)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(EXPECTED_SIZES)
    assert markdown_snippet("light") in out
    assert html_snippet("light") in out
    assert CLAIM in out
    assert "--asset-base" in out  # the self-hosting offer


def test_r6_1_cli_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        [
            "badge",
            "--json",
            "--variant",
            "all",
            "--asset-base",
            "/static/badge/",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 0
    data = json.loads(out)
    assert set(data["snippets"]) == {"light", "dark", "light-small", "dark-small"}
    assert data["snippets"]["dark"]["markdown"].startswith("[![BYOM badge](/static/badge/")
    assert data["alt"]["html"] == HTML_ALT and data["claim"] == CLAIM
    assert data["link"] == SITE_URL and data["self_host_note"] is None
    assert {(Path(f["path"]).name, f["width"], f["height"]) for f in data["files"]} == {
        (n, w, h) for n, (w, h) in EXPECTED_SIZES.items()
    }


def test_r6_1_cli_is_registered_in_the_byom_command() -> None:
    from byom import cli

    assert {"byom.badge.cli", "byom.registry.cli", "byom.integration.cli"} <= set(
        cli._COMMAND_MODULES
    )


def test_r6_1_numbers_are_written_plainly() -> None:
    svg = FILES["byom-badge-light-small.svg"].svg
    assert "scale(0.67)" in svg and 'x="2"' in svg
    assert not re.search(r"\d\.0\b", svg.replace("0.5", ""))
