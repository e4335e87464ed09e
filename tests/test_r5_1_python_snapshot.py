"""R5.1 (and issue 16, browser start): model features are ready sooner because pages restore a
memory snapshot of Python made by the build, instead of booting Python on every visit.

What must hold: the snapshot is reproducible (same bytes on any machine, so the build stays
byte-identical) and integrity-checked; a restored runtime has fresh randomness, the visitor's own
local time and the real clock (the snapshot was made with fixed seeds, a fixed clock and UTC);
and a missing, tampered or unusable snapshot falls back to the ordinary boot.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _web_support import ARGS, CHROMIUM, INIT_SCRIPT, READER, Tab
from byom.web import build, pyodide_dist, snapshot
from byom.web.build import build_site, core_zip
from byom.web.serve import Site

PROBE_MODULE = '''
"""Records what the restored runtime says about randomness and time, for the test page."""
import json
import random
import time

import js

from byom.web import WebApp

app = WebApp("Probe", app_id="byom-probe")
js.window.__probe = json.dumps(
    {"random": random.random(), "gmtoff": time.localtime().tm_gmtoff, "time": time.time()}
)
'''

PROBE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><!-- byom:head --><title>Probe</title></head>
<body><main><p>Probe page.</p></main></body></html>
"""


def probe_app(root: Path) -> Path:
    (root / "static").mkdir(parents=True)
    (root / "static" / "index.html").write_text(PROBE_HTML)
    (root / "probe_app.py").write_text(PROBE_MODULE)
    (root / "byom-app.toml").write_text(
        'name = "Probe"\napp_id = "byom-probe"\nmodule = "probe_app"\n'
        'python = ["probe_app.py"]\nstatic = "static"\nproviders = ["openrouter"]\n'
    )
    return root


def snapshot_of(site: Path) -> tuple[str, str]:
    html = (site / "index.html").read_text()
    match = re.search(r'data-snapshot="([^"]+)" data-snapshot-integrity="([^"]+)"', html)
    assert match, "the page does not name a snapshot"
    return match.group(1), match.group(2)


# -- the build ----------------------------------------------------------------------------------


def test_r5_1_snapshot_is_reproducible_from_scratch(tmp_path: Path) -> None:
    """Made twice with empty caches (two Node runs), the snapshot is the same bytes."""
    pyodide = pyodide_dist.ensure_pyodide()
    core = core_zip()
    with zipfile.ZipFile(io.BytesIO(core)) as zf:
        modules = snapshot.byom_modules(zf.namelist())
    first = snapshot.make_snapshot(pyodide, core, modules, cache=tmp_path / "a")
    second = snapshot.make_snapshot(pyodide, core, modules, cache=tmp_path / "b")
    assert first is not None and second is not None, "Node.js could not make a snapshot"
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert first[4:8] == b"\0\0\0\0", "the gzip header must not record a time"
    memory = gzip.decompress(first)
    assert memory[:4] == b"\0snp"  # a Pyodide memory snapshot
    # the byom core and the shell are imported; no path of this machine is in it
    assert b"byom.web.browser.shell" in memory
    assert str(pyodide).encode() not in memory
    assert b"byom-snapshot-" not in memory  # the folder the build worked in


def test_r5_1_every_app_shares_the_snapshot_of_its_byom(tmp_path: Path) -> None:
    reader = build_site(READER, tmp_path / "reader")
    probe = build_site(probe_app(tmp_path / "probe"), tmp_path / "probe-site")
    name, integrity = snapshot_of(reader.out)
    assert snapshot_of(probe.out) == (name, integrity)
    data = (reader.out / name).read_bytes()
    assert name == f"py/snapshot-{hashlib.sha256(data).hexdigest()[:20]}.bin.gz"
    assert integrity == build._sri(data)
    assert reader.files[name] == hashlib.sha256(data).hexdigest()


def test_r5_1_without_node_the_site_boots_python_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot.shutil, "which", lambda name: None)
    result = build_site(READER, tmp_path / "dist", quiet=True, snapshot_cache=tmp_path / "none")
    html = (result.out / "index.html").read_text()
    assert "data-snapshot" not in html
    assert not any(name.startswith("py/snapshot-") for name in result.files)
    assert any(name.startswith("py/site-") for name in result.files)


# -- the page -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def probe_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = probe_app(tmp_path_factory.mktemp("probe-app"))
    out = tmp_path_factory.mktemp("probe-site") / "dist"
    build_site(root, out)
    with Site(out) as site:
        yield site


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def load_probe(browser: Any, site: Site, timezone: str) -> tuple[Tab, dict[str, Any]]:
    context = browser.new_context(timezone_id=timezone)
    context.add_init_script(INIT_SCRIPT)
    tab = Tab(context, site).open().ready()
    probe = json.loads(tab.poll("window.__probe || ''"))
    return tab, probe


def test_r5_1_restored_runtime_has_fresh_randomness_and_the_visitors_time(
    chromium: Any, probe_site: Site
) -> None:
    # Kathmandu: +05:45 all year, nothing like the UTC the snapshot was made in.
    first, one = load_probe(chromium, probe_site, "Asia/Kathmandu")
    second, two = load_probe(chromium, probe_site, "America/Sao_Paulo")
    for tab in (first, second):
        assert tab.ev("document.documentElement.dataset.byomBoot") == "snapshot"
        assert tab.csp_violations() == []
        assert tab.errors == []
    assert one["random"] != two["random"], "random was not reseeded after restoring"
    assert one["gmtoff"] == 5 * 3600 + 45 * 60
    assert two["gmtoff"] == -3 * 3600
    now = first.ev("Date.now() / 1000")
    # the snapshot's clock stood still in November 2023; the restored one is the browser's
    assert abs(one["time"] - now) < 24 * 3600
    for tab in (first, second):
        tab.context.close()


def test_r5_1_a_tampered_snapshot_falls_back_to_booting_python(
    chromium: Any, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    build_site(READER, out)
    name, _ = snapshot_of(out)
    data = bytearray((out / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (out / name).write_bytes(bytes(data))
    with Site(out) as site:
        context = chromium.new_context()
        context.add_init_script(INIT_SCRIPT)
        tab = Tab(context, site).open().ready()
        assert tab.ev("document.documentElement.dataset.byomBoot") == "boot"
        assert tab.visible("[data-testid=sample]")
        context.close()


def test_r5_1_the_reader_restores_its_snapshot(chromium: Any, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build_site(READER, out)
    with Site(out) as site:
        context = chromium.new_context()
        context.add_init_script(INIT_SCRIPT)
        tab = Tab(context, site).open().ready()
        assert tab.ev("document.documentElement.dataset.byomBoot") == "snapshot"
        assert tab.csp_violations() == []
        requested = [r.url for r in tab.requests]
        assert any("/py/snapshot-" in url for url in requested)
        context.close()
