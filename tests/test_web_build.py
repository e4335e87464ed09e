"""The browser kit without a browser: build output, CSP, Pyodide verification, the static server,
``byom demo``, and the browser store/vault logic against fake browser hosts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from byom.core.call import CallPath, Connection
from byom.core.errors import BudgetExceeded
from byom.core.ledger import Allowance, Ledger
from byom.core.secret import Secret
from byom.providers import make_adapter
from byom.transport import SendFailed
from byom.web import pyodide_dist
from byom.web.browser.store import BrowserStore
from byom.web.browser.transport import check_origin
from byom.web.browser.vault import BrowserVault
from byom.web.build import BuildError, build_site, check_html
from byom.web.headers import Rule, csp, format_headers, headers_for, parse_headers, site_rules
from byom.web.serve import Site

REPO = Path(__file__).resolve().parents[1]
READER = REPO / "examples" / "reader"
SIM = "http://127.0.0.1:8766"
POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "connect-src 'self' http://127.0.0.1:8766 https://openrouter.ai https://api.openai.com "
    "https://api.anthropic.com https://generativelanguage.googleapis.com http://localhost:11434 "
    "http://127.0.0.1:11434; object-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "dist"
    build_site(READER, out, demo_sim=SIM)
    return out


def test_build_is_reproducible(built: Path, tmp_path: Path) -> None:
    again = build_site(READER, tmp_path / "again", demo_sim=SIM)
    first = {
        p.relative_to(built).as_posix(): p.read_bytes() for p in built.rglob("*") if p.is_file()
    }
    second = {
        p.relative_to(again.out).as_posix(): p.read_bytes()
        for p in again.out.rglob("*")
        if p.is_file()
    }
    assert first == second


def test_csp_meta_and_headers_file(built: Path) -> None:
    html = (built / "index.html").read_text()
    assert f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">' in html
    assert '<meta name="referrer" content="no-referrer">' in html
    rules = parse_headers((built / "_headers").read_text())
    headers = dict(headers_for(rules, "/index.html"))
    assert headers["Content-Security-Policy"] == POLICY + "; frame-ancestors 'none'"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]


def test_r7_1_headers_file_in_netlify_format() -> None:
    rules = parse_headers(
        "# comment\n/*\n  Content-Security-Policy: default-src 'self'\n  X-Frame-Options: DENY\n"
        "/docs/:page\n  Cache-Control: no-store\n"
        "https://example.com/admin/*\n  ! X-Frame-Options\n  Content-Security-Policy: sandbox\n"
    )
    assert headers_for(rules, "/index.html") == [
        ("Content-Security-Policy", "default-src 'self'"),
        ("X-Frame-Options", "DENY"),
    ]
    assert ("Cache-Control", "no-store") in headers_for(rules, "/docs/intro")
    assert ("Cache-Control", "no-store") not in headers_for(rules, "/docs/a/b")
    admin = headers_for(rules, "/admin/x")
    assert ("X-Frame-Options", "DENY") not in admin
    # two CSP headers are two policies, both sent
    assert [v for n, v in admin if n == "Content-Security-Policy"] == [
        "default-src 'self'",
        "sandbox",
    ]


def test_headers_file_round_trips_and_skips_malformed_lines() -> None:
    rules = [*site_rules(["https://openrouter.ai"]), Rule("/x/*", (("A", "1"),), ("B",))]
    assert parse_headers(format_headers(rules)) == rules
    assert "  ! B\n  A: 1\n" in format_headers(rules)
    skipped = parse_headers("  X-Early: 1\n/*\n  no colon\n  Bad Name: 2\n  : 3\n  Ok: 4\n")
    assert skipped == [Rule("/*", (("Ok", "4"),))]
    # a later rule's header is added to an earlier one's; dict() keeps the last value
    assert headers_for(rules, "/x/y") == [*headers_for(rules[:1], "/x/y"), ("A", "1")]
    assert dict(headers_for(rules, "/pyodide/a.js"))["Cache-Control"].endswith("immutable")
    assert dict(headers_for(rules, "/py/site-0.zip"))["Cache-Control"].endswith("immutable")
    assert dict(headers_for(rules, "/index.html"))["Cache-Control"] == "no-cache"


def test_no_built_path_gets_two_cache_policies(built: Path) -> None:
    """Hosts join a header met in two matching rules; ``no-cache`` would then win over
    ``immutable``. So the build's cache rules never overlap, and every policy is whole."""
    rules = parse_headers((built / "_headers").read_text())
    paths = ["/"] + ["/" + p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()]
    assert any(p.startswith("/py/") for p in paths)
    for path in paths:
        found = [v for n, v in headers_for(rules, path) if n.lower() == "cache-control"]
        assert len(found) <= 1, (path, found)
        assert (
            len([n for n, _ in headers_for(rules, path) if n.lower() == "content-security-policy"])
            == 1
        )


def test_non_demo_build_connects_only_to_its_declared_providers(tmp_path: Path) -> None:
    """The Reader declares the providers with fixed origins (a server of the user's own on any
    loopback port would need wildcard ports): exactly their origins, no simulator."""
    result = build_site(READER, tmp_path / "prod")
    policy = dict(headers_for(parse_headers((result.out / "_headers").read_text()), "/"))
    assert (
        "connect-src 'self' https://openrouter.ai https://api.openai.com "
        in (policy["Content-Security-Policy"])
    )
    config = json.loads((result.out / "byom/config.json").read_text())
    ids = [p["id"] for p in config["providers"]]
    assert ids == ["openrouter", "openai", "anthropic", "gemini", "ollama"]
    assert not config["demo"]
    assert not any(p.get("simulator") or p.get("simulated") for p in config["providers"])


def test_only_first_party_scripts_with_integrity(built: Path) -> None:
    html = (built / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all('src="' in s and "integrity=" in s for s in scripts)
    assert all("://" not in re.search(r'src="([^"]+)"', s).group(1) for s in scripts)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    for js in built.rglob("*.js"):
        if "pyodide" in js.parts:
            continue
        text = js.read_text()
        assert not re.search(r"\beval\(|\.innerHTML\s*=|new Function\(|setTimeout\([\"']", text)


def test_pyodide_is_self_hosted_and_pinned(built: Path) -> None:
    folder = built / "pyodide" / pyodide_dist.VERSION
    for name, digest in pyodide_dist.FILE_SHA256.items():
        import hashlib

        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert not any("cdn" in p.name for p in built.rglob("*"))


def test_python_zip_has_the_core_and_nothing_cpython_only(built: Path) -> None:
    (zip_path,) = (built / "py").glob("site-*.zip")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        sources = {n: zf.read(n).decode() for n in names if n.endswith(".py")}
    assert {"byom/core/call.py", "byom/web/browser/shell.py", "reader_app.py"} <= names
    assert "byom/data/openrouter-models.json" in names
    assert not any(n.startswith(("byom/sim/", "byom/store/", "byom/badge/")) for n in names)
    for name, text in sources.items():
        assert not re.search(r"^(import|from)\s+(httpx|sqlite3|platformdirs)\b", text, re.M), name


@pytest.mark.parametrize(
    "html",
    [
        "<head><!-- byom:head --><script>alert(1)</script></head>",
        '<head><!-- byom:head --></head><body onload="x()">',
        '<head><!-- byom:head --></head><p style="color:red">',
        "<head><!-- byom:head --><style>p{}</style></head>",
        '<head><!-- byom:head --></head><a href="javascript:void(0)">',
        "<head></head>",
    ],
)
def test_build_refuses_inline_code(html: str) -> None:
    with pytest.raises(BuildError):
        check_html(html, "index.html")


def test_build_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(BuildError):
        build_site(READER, tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.txt").exists()


def test_tampered_pyodide_tarball_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "pyodide.tgz"
    fake.write_bytes(b"not the real thing")
    monkeypatch.setenv("BYOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BYOM_PYODIDE_TARBALL", str(fake))
    with pytest.raises(pyodide_dist.PyodideUnavailable, match="SHA-256"):
        pyodide_dist.ensure_pyodide()
    assert not (tmp_path / "cache" / f"pyodide-{pyodide_dist.VERSION}").exists()


def test_tampered_cache_is_refetched_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = pyodide_dist.ensure_pyodide()
    cache = tmp_path / "cache" / f"pyodide-{pyodide_dist.VERSION}"
    cache.mkdir(parents=True)
    for name in pyodide_dist.FILE_SHA256:
        (cache / name).write_bytes((good / name).read_bytes())
    (cache / "pyodide.js").write_text("/* tampered */")
    monkeypatch.setenv("BYOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BYOM_PYODIDE_TARBALL", str(tmp_path / "missing.tgz"))
    with pytest.raises((pyodide_dist.PyodideUnavailable, FileNotFoundError)):
        pyodide_dist.ensure_pyodide()


def test_server_applies_headers_and_serves_nothing_else(built: Path) -> None:
    with Site(built) as site:
        with urllib.request.urlopen(site.url) as response:
            assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
            assert response.headers["Referrer-Policy"] == "no-referrer"
        wasm = f"{site.url}pyodide/{pyodide_dist.VERSION}/pyodide.asm.wasm"
        with urllib.request.urlopen(wasm) as response:
            assert response.headers["Content-Type"] == "application/wasm"
            assert "immutable" in response.headers["Cache-Control"]
        for path in ("_headers", "../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "nope.js"):
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(site.url + path)
            assert caught.value.code == 404


def test_server_serves_a_static_site_as_hosts_do(tmp_path: Path) -> None:
    """What ``byom audit DIR`` needs of the server: every policy sent (``repeated="all"``), the
    host's files hidden, clean URLs and the site's 404 page; ``byom demo`` keeps the last value."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("docs")
    (tmp_path / "about.html").write_text("about")
    (tmp_path / "404.html").write_text("missing")
    (tmp_path / ".secret").write_text("no")
    (tmp_path / "_redirects").write_text("/a /b\n")
    (tmp_path / "_headers").write_text(
        "/*\n  Content-Security-Policy: default-src 'self'\n  X-Frame-Options: DENY\n"
        "/docs/*\n  ! X-Frame-Options\n  Content-Security-Policy: sandbox\n"
    )

    def get(site: Site, path: str, **headers: str) -> tuple[int, Any, bytes]:
        request = urllib.request.Request(site.url + path.lstrip("/"), headers=headers)
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    with Site(tmp_path, repeated="all") as site:
        assert site.base_url + "/" == site.url and site.root == tmp_path.resolve()
        status, headers, body = get(site, "/docs/")
        assert (status, body) == (200, b"docs")
        assert headers.get_all("Content-Security-Policy") == ["default-src 'self'", "sandbox"]
        assert headers["X-Frame-Options"] is None
        assert get(site, "/docs")[2] == b"docs" and get(site, "/about")[2] == b"about"
        for path in ("/_headers", "/_redirects", "/.secret", "/nope", "/../x", "/a%00b"):
            status, headers, body = get(site, path)
            assert (status, body) == (404, b"missing"), path
            assert headers["Content-Type"] == "text/html; charset=utf-8"
            assert headers["X-Frame-Options"] == "DENY"
        etag = get(site, "/about.html")[1]["ETag"]
        assert get(site, "/about.html", **{"If-None-Match": etag})[0] == 304
        assert site.server.served == {"/docs/index.html": 2, "/about.html": 2}
    with Site(tmp_path) as site:
        status, headers, body = get(site, "/docs/index.html")
        assert headers.get_all("Content-Security-Policy") == ["sandbox"]
    (tmp_path / "404.html").unlink()
    with Site(tmp_path) as site:
        status, headers, body = get(site, "/nope")
        assert (status, body) == (404, b"404 Not Found\n")
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
    Site(tmp_path).stop()  # never started: closes without waiting


def test_csp_helper_keeps_origins_unique() -> None:
    assert csp(["https://a.example", "https://a.example"], header=False).count("a.example") == 1


def _demo(*extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "byom", "demo", "--no-browser", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
    )


def test_demo_exits_after(tmp_path: Path) -> None:
    proc = _demo("--exit-after", "0.5")
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    assert proc.wait(timeout=60) == 0


def test_demo_serves_until_sigterm() -> None:
    # It serves until told to stop (no timer to race against), then exits cleanly.
    proc = _demo()
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        with urllib.request.urlopen(url) as response:
            assert "Content-Security-Policy" in response.headers
            body = response.read().decode()
        assert "byom/boot.js" in body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- browser logic with fake hosts ------------------------------------------------------------


def run_async(factory: Any) -> Any:
    """Run a coroutine on a fresh event loop in a thread (another test's Playwright may own
    this thread's loop)."""
    import threading

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if "error" in box:
        raise box["error"]
    return box["value"]


class FakeIDB:
    """IndexedDB and Web Locks shared by several fake tabs."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.lock = asyncio.Lock()


class FakeHost:
    def __init__(self, idb: FakeIDB) -> None:
        self.idb = idb

    async def load(self, app_id: str) -> str:
        await asyncio.sleep(0)
        prefix = app_id + "|"
        return json.dumps(
            {k[len(prefix) :]: v for k, v in self.idb.rows.items() if k.startswith(prefix)}
        )

    async def write(self, app_id: str, puts: str, deletes: str) -> None:
        await asyncio.sleep(0)
        for key, value in json.loads(puts).items():
            self.idb.rows[f"{app_id}|{key}"] = value
        for key in json.loads(deletes):
            self.idb.rows.pop(f"{app_id}|{key}", None)

    async def lock(self, name: str) -> Any:
        await self.idb.lock.acquire()
        return self.idb.lock.release


def test_r3_5_check_and_reserve_is_atomic_across_tabs() -> None:
    """Two tabs (two stores over one IndexedDB): the second reservation sees the first."""
    from byom.core.catalog import Model, Price
    from byom.core.features import Feature

    async def scenario() -> list[str]:
        idb = FakeIDB()
        model = Model("m", "M", "worker", price=Price(Decimal("0.000001"), Decimal("0.000001")))
        feature = Feature("summarize")
        connection = Connection(
            make_adapter("openrouter", "http://127.0.0.1:9/api/v1"), Secret("k")
        )
        paths = []
        for _ in range(2):
            store = BrowserStore(FakeHost(idb), "app")
            await store.load()
            ledger = Ledger(store, "app", clock=time.time)
            paths.append((store, CallPath(ledger, clock=time.time)))
        messages = [{"role": "user", "content": "hi"}]
        async with paths[0][0].exclusive():
            paths[0][1].ledger.set_allowance(Allowance(Decimal(0), "total"))
            try:
                paths[0][1].begin(
                    connection, feature, model, messages, max_tokens=1000, stream=True
                )
            except BudgetExceeded as exc:
                estimate = exc.estimate
            paths[0][1].ledger.set_allowance(Allowance(estimate * Decimal("1.5"), "total"))
        outcomes: list[str] = []

        async def tab(store: BrowserStore, path: CallPath) -> None:
            await asyncio.sleep(0)
            try:
                async with store.exclusive():
                    path.begin(connection, feature, model, messages, max_tokens=1000, stream=True)
                outcomes.append("admitted")
            except BudgetExceeded:
                outcomes.append("refused")

        await asyncio.gather(*(tab(s, p) for s, p in paths))
        return outcomes

    assert sorted(run_async(scenario)) == ["admitted", "refused"]


def test_history_survives_a_new_tab_and_delete_keeps_the_ledger() -> None:
    async def scenario() -> tuple[int, int, int]:
        idb = FakeIDB()
        store = BrowserStore(FakeHost(idb), "app")
        await store.load()
        from byom.core.store import CallRecord, LedgerRow

        store.add_record(
            CallRecord("r1", "app", "f", "openrouter", "m", "ok", 1.0, cost=Decimal("0.5"))
        )
        store.add_ledger_row(LedgerRow("r1", "app", "s", "o", 1.0, "committed", 5, 5))
        await store.flush()
        other = BrowserStore(FakeHost(idb), "app")
        await other.load()
        seen = len(other.records("app"))
        other.delete_records("app")
        await other.flush()
        third = BrowserStore(FakeHost(idb), "app")
        await third.load()
        return seen, len(third.records("app")), third.counted_since("app", None, None)

    assert run_async(scenario) == (1, 0, 5)


class FakeStorage:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def getItem(self, key: str) -> str | None:
        return self.data.get(key)

    def setItem(self, key: str, value: str) -> None:
        self.data[key] = value

    def removeItem(self, key: str) -> None:
        self.data.pop(key, None)

    @property
    def length(self) -> int:
        return len(self.data)

    def key(self, index: int) -> str:
        return list(self.data)[index]


def test_r2_2_vault_memory_by_default_storage_only_on_opt_in() -> None:
    storage = FakeStorage()
    vault = BrowserVault(storage, "app")
    key = Secret("sk-or-v1-secret-value")
    assert vault.put("https://openrouter.ai", key) == "memory"
    assert storage.data == {}
    vault.remember("https://openrouter.ai", True)
    assert "sk-or-v1-secret-value" in storage.data.values()
    restored = BrowserVault(storage, "app")
    assert restored.get("https://openrouter.ai") == key
    assert restored.where("https://openrouter.ai") == ["memory", "browser"]
    restored.forget()
    assert storage.data == {} and restored.get("https://openrouter.ai") is None


def test_r2_4_fetch_transport_refuses_other_origins_before_fetch() -> None:
    check_origin("https://openrouter.ai", "https://openrouter.ai/api/v1/key")
    for url in (
        "https://evil.example/api",
        "http://openrouter.ai/api",
        "https://openrouter.ai.evil/",
    ):
        with pytest.raises(SendFailed) as caught:
            check_origin("https://openrouter.ai", url)
        assert caught.value.sent is False and caught.value.error.code == "egress_blocked"


def test_reader_features_declare_categories_and_bound_output() -> None:
    sys.path.insert(0, str(READER))
    try:
        import reader_app
    finally:
        sys.path.remove(str(READER))
    categories = {f.name: f.category for f in reader_app.app.features}
    assert categories == {
        "summarize": "worker",
        "explain": "worker",
        "ask": "worker",
        "critique": "frontier",
        "research": "worker",
    }
    messages, max_tokens = reader_app.app.messages(
        "ask", {"text": "x" * 100_000, "question": "why?", "lang": "nl"}
    )
    assert max_tokens == 400
    assert "Dutch" in messages[0]["content"]
    assert len(messages[1]["content"]) < 26_000


def test_r6_3_reader_integration_document_checks_clean() -> None:
    from byom.integration.document import check_document

    text = (READER / "docs" / "BYOM-INTEGRATION.md").read_text("utf-8")
    problems = [p for p in check_document(text) if p.severity == "error"]
    assert problems == []


def test_cli_web_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from byom.cli import main

    assert main(["web", "build", str(READER), "-o", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "_headers").is_file()
    assert "built" in capsys.readouterr().out
    assert main(["web", "build", str(tmp_path), "-o", str(tmp_path / "other")]) == 1
    assert "byom-app.toml" in capsys.readouterr().err
