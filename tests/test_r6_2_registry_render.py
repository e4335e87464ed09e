"""R6.2: ``byom registry render``: a static page with no script, a strict CSP, escaped content.

The tests that render the published example registry (``../shared/fixtures/registry`` beside the
clone) are skipped without it (``BYOM_REQUIRE_SHARED=1`` fails them).
"""

from __future__ import annotations

import argparse
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

from byom.registry import cli as registry_cli  # noqa: E402
from byom.registry.render import CSP, FRAMING_TITLE, render_index, render_site  # noqa: E402
from conftest import shared_fixture  # noqa: E402

HOSTILE_NAME = '<script>alert("x")</script> & Co'


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="byom")
    registry_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


class Collector(HTMLParser):
    """Every start tag with its attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


def hostile_registry() -> dict[str, Any]:
    registry = shared_fixture("registry", "registry.yaml")
    data: dict[str, Any] = yaml.safe_load(registry.read_text(encoding="utf-8"))
    app = data["apps"][0]
    app["name"] = HOSTILE_NAME
    app["notes"] = "<img src=x onerror=alert(1)>"
    app["model_powered_features"][0]["description"] = '"><script>evil()</script>'
    return data


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "site"
    registry = shared_fixture("registry", "registry.yaml")
    code, stdout, _ = run(["registry", "render", str(registry), "-o", str(out)], capsys)
    assert code == 0, stdout
    return out


def test_r6_2_render_writes_pages_stylesheet_headers_and_badges(site: Path) -> None:
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "badge.html", "style.css", "_headers"} <= names
    assert {n for n in names if n.startswith("assets/badge/")} == {
        f"assets/badge/{n}"
        for n in (
            "byom-badge-light.svg",
            "byom-badge-dark.svg",
            "byom-badge-light-small.svg",
            "byom-badge-dark-small.svg",
            "byom-mark.svg",
            "byom-mark-dark.svg",
            "byom-mark-currentColor.svg",
        )
    }


def test_r6_2_pages_carry_the_csp_and_no_script(site: Path) -> None:
    assert CSP == "default-src 'none'; style-src 'self'; img-src 'self'"
    headers = (site / "_headers").read_text(encoding="utf-8")
    assert f"Content-Security-Policy: {CSP}" in headers
    for page in ("index.html", "badge.html"):
        html = (site / page).read_text(encoding="utf-8")
        doc = parse(html)
        metas = [a for t, a in doc.tags if t == "meta" and a.get("http-equiv")]
        assert metas == [{"http-equiv": "Content-Security-Policy", "content": CSP}], page
        # the policy must come before anything that loads
        assert html.index("Content-Security-Policy") < html.index("<link")
        assert "<script" not in html.lower()
        for tag, attrs in doc.tags:
            assert tag not in ("script", "iframe", "object", "embed", "style", "form", "base")
            assert "style" not in attrs, (page, tag)
            assert not any(a.startswith("on") for a in attrs), (page, tag, attrs)
            for attr in ("src",):
                if attr in attrs:  # every image is same-origin
                    assert not re.match(r"^[a-z]+:", attrs[attr] or ""), attrs
            if tag == "link":
                assert not re.match(r"^[a-z]+:", attrs.get("href") or "")
            if tag == "a" and (attrs.get("href") or "").startswith("https://"):
                assert "noopener" in (attrs.get("rel") or "")
    css = (site / "style.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css


def test_r6_2_page_lists_apps_features_categories_and_framing(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    text = " ".join("".join(parse(html).text).split())
    assert "de bedrijfskompas" in text
    assert "Ikigai matching" in text and "worker" in text
    assert "v1.2.0" in text
    assert FRAMING_TITLE in text and "not a security audit" in text
    assert "Nobody has audited these apps" in text
    assert 'href="https://bedrijfskompas.flkp.nl"' in html
    assert "BYOM-INTEGRATION.md" in text
    assert "1 app listed" in text


def test_r6_2_badge_page_has_snippets_and_claim(site: Path) -> None:
    from byom.badge import CLAIM, markdown_snippet

    html = (site / "badge.html").read_text(encoding="utf-8")
    text = " ".join("".join(parse(html).text).split())
    assert " ".join(CLAIM.split()) in text
    assert markdown_snippet("dark") in text
    assert "&lt;a href=" in html  # the HTML snippet is shown as text, not as markup
    imgs = [a for t, a in parse(html).tags if t == "img"]
    assert {a["src"] for a in imgs} >= {
        f"assets/badge/byom-badge-{v}.svg" for v in ("light", "dark")
    }


def test_r6_2_content_is_html_escaped(tmp_path: Path) -> None:
    render_site(hostile_registry(), tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert "&quot;&gt;&lt;script&gt;evil()&lt;/script&gt;" in html
    doc = parse(html)
    assert not any(t == "script" for t, _ in doc.tags)
    assert HOSTILE_NAME in "".join(doc.text)  # shown to the reader as text


def test_r6_2_non_https_links_are_not_rendered_as_links() -> None:
    data = hostile_registry()
    data["apps"][0]["url"] = "javascript:alert(1)"
    html = render_index(data)
    assert 'href="javascript' not in html
    assert "javascript:alert(1)" in html  # shown, inert


def test_r6_2_empty_registry_renders(tmp_path: Path) -> None:
    html = render_index({"schema_version": "v1.0.0", "apps": []})
    assert "No apps are listed yet." in html and FRAMING_TITLE in html


def test_r6_2_invalid_registry_is_not_rendered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "registry.yaml"
    bad.write_text("schema_version: v1.0.0\napps:\n  - name: x\n", encoding="utf-8")
    code, _, err = run(["registry", "render", str(bad), "-o", str(tmp_path / "out")], capsys)
    assert code == 1
    assert "Not rendered" in err and "the required field 'url' is missing" in err
    assert not (tmp_path / "out").exists()
