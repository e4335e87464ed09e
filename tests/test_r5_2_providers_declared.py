"""Every provider a page can offer (issue 12, part 2): what ``byom-app.toml`` declares is what
the page's ``connect-src`` allows — nothing more, nothing missing — and the audit checks it.

Also the simulator's CORS answers, as the real providers give them: Ollama refuses a page whose
origin is not in ``OLLAMA_ORIGINS``; Anthropic refuses a page that does not send its
``anthropic-dangerous-direct-browser-access`` header.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from byom.audit.csp import parse_policy
from byom.audit.declared import declared_origins_finding
from byom.sim import Simulator
from byom.web.browser.loopback import is_loopback_url
from byom.web.build import AppSpec, BuildError, build_site
from byom.web.providers import PROVIDER_OPTIONS, expected_connect_src

REPO = Path(__file__).resolve().parents[1]
READER = REPO / "examples" / "reader"
EVERY = ["openrouter", "openai", "anthropic", "gemini", "ollama", "compatible"]
EVERY_ORIGINS = [
    "https://openrouter.ai",
    "https://api.openai.com",
    "https://api.anthropic.com",
    "https://generativelanguage.googleapis.com",
    "http://localhost:11434",
    "http://127.0.0.1:11434",
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
]


def app_with(tmp: Path, providers: object, extra: str = "") -> Path:
    root = tmp / "app"
    shutil.copytree(READER, root, ignore=shutil.ignore_patterns("__pycache__"))
    toml = (root / "byom-app.toml").read_text()
    toml = re.sub(r"(?m)^providers = .*$", lambda _: f"providers = {json.dumps(providers)}", toml)
    (root / "byom-app.toml").write_text(toml + extra)
    return root


@pytest.fixture(scope="module")
def every_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("every")
    out = tmp / "dist"
    build_site(app_with(tmp, EVERY), out)
    return out


def _policies(dist: Path) -> list[tuple[str, str]]:
    html = (dist / "index.html").read_text()
    meta = html.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
    header = next(
        line.split(":", 1)[1].strip()
        for line in (dist / "_headers").read_text().splitlines()
        if line.strip().startswith("Content-Security-Policy:")
    )
    return [("meta", meta), ("header", header)]


def test_r5_2_every_provider_is_known_with_its_origins() -> None:
    assert sorted(PROVIDER_OPTIONS) == sorted(EVERY)
    assert expected_connect_src(EVERY) == EVERY_ORIGINS
    assert PROVIDER_OPTIONS["anthropic"]["options"] == {"direct_browser_access": True}
    assert PROVIDER_OPTIONS["ollama"]["keyless"] is True
    assert PROVIDER_OPTIONS["compatible"]["loopback"] is True


def test_r5_2_connect_src_is_exactly_the_declared_providers(every_build: Path) -> None:
    for where, text in _policies(every_build):
        tokens = parse_policy(text)["connect-src"]
        assert tokens == ["'self'", *EVERY_ORIGINS], where
    config = json.loads((every_build / "byom" / "config.json").read_text())
    assert config["declared_providers"] == EVERY
    assert [o["id"] for o in config["providers"]] == EVERY
    assert all(not o.get("simulated") for o in config["providers"])


def test_r5_2_one_declared_provider_gives_only_its_origins(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = build_site(app_with(tmp_path, ["gemini", "ollama"]), out)
    assert result.connect_src == [  # what `byom web build` prints
        "https://generativelanguage.googleapis.com",
        "http://localhost:11434",
        "http://127.0.0.1:11434",
    ]
    for _where, text in _policies(out):
        assert parse_policy(text)["connect-src"] == [
            "'self'",
            "https://generativelanguage.googleapis.com",
            "http://localhost:11434",
            "http://127.0.0.1:11434",
        ]


@pytest.mark.parametrize(
    ("providers", "extra", "words"),
    [
        (["openrouter", "mistral"], "", "unknown provider 'mistral'"),
        (["openai", "openai"], "", "twice"),
        ([], "", "non-empty list"),
        ("openai", "", "non-empty list"),
        (["compatible"], '\ncompatible_url = "http://192.168.1.20:8000/v1"\n', "loopback"),
        (["compatible"], '\ncompatible_url = "https://llm.example.com/v1"\n', "loopback"),
    ],
)
def test_r5_2_build_refuses_bad_provider_declarations(
    tmp_path: Path, providers: object, extra: str, words: str
) -> None:
    with pytest.raises(BuildError, match=words):
        AppSpec.load(app_with(tmp_path, providers, extra))


def test_r5_2_compatible_url_on_loopback_is_the_wizard_default(tmp_path: Path) -> None:
    root = app_with(tmp_path, ["compatible"], '\ncompatible_url = "http://127.0.0.1:1234/v1"\n')
    assert AppSpec.load(root).compatible_url == "http://127.0.0.1:1234/v1"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://localhost:8000/v1", True),
        ("http://127.0.0.1:1234/v1", True),
        ("https://localhost/v1", True),
        ("http://192.168.1.20:8000/v1", False),
        ("http://localhost.example.com/v1", False),
        ("http://user:pw@localhost:8000/v1", False),
        ("ftp://localhost/v1", False),
        ("http://localhost:99999/v1", False),
        ("not a url", False),
    ],
)
def test_r5_2_loopback_rule(url: str, ok: bool) -> None:
    assert is_loopback_url(url) is ok


# ---------------------------------------------------------------- the audit checks the list


def test_r5_2_audit_passes_a_build_with_exactly_the_declared_origins(every_build: Path) -> None:
    config = json.loads((every_build / "byom" / "config.json").read_text())
    finding = declared_origins_finding(_policies(every_build), config)
    assert finding is not None and finding.ok, finding
    assert "openrouter, openai, anthropic, gemini, ollama, compatible" in finding.reason


def test_r5_2_audit_fails_an_extra_origin(every_build: Path) -> None:
    config = json.loads((every_build / "byom" / "config.json").read_text())
    policies = [
        (where, text.replace("connect-src 'self'", "connect-src 'self' https://collect.example"))
        for where, text in _policies(every_build)
    ]
    finding = declared_origins_finding(policies, config)
    assert finding is not None and not finding.ok
    assert "not declared: https://collect.example" in finding.reason


def test_r5_2_audit_fails_a_missing_origin(every_build: Path) -> None:
    config = json.loads((every_build / "byom" / "config.json").read_text())
    policies = [
        (where, text.replace(" https://api.anthropic.com", ""))
        for where, text in _policies(every_build)
    ]
    finding = declared_origins_finding(policies, config)
    assert finding is not None and not finding.ok
    assert "missing: https://api.anthropic.com" in finding.reason


def test_r5_2_audit_allows_a_demo_builds_simulator_and_skips_other_pages() -> None:
    config = {
        "declared_providers": ["openrouter"],
        "providers": [{"id": "sim", "base_url": "http://127.0.0.1:8766/api/v1", "simulator": True}],
    }
    policy = [("meta", "connect-src 'self' http://127.0.0.1:8766 https://openrouter.ai")]
    finding = declared_origins_finding(policy, config)
    assert finding is not None and finding.ok
    assert declared_origins_finding(policy, None) is None
    assert declared_origins_finding(policy, {"providers": []}) is None


# ---------------------------------------------------------------- the simulator's CORS answers


@pytest.fixture(scope="module")
def cors_sim() -> object:
    sim = Simulator().start()
    yield sim
    sim.stop()


def _send(url: str, headers: dict[str, str], method: str = "GET") -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def test_r5_2_sim_ollama_refuses_origins_not_in_ollama_origins(cors_sim: Simulator) -> None:
    cors_sim.reset()
    tags = cors_sim.base_url_for("ollama") + "/api/tags"
    page = {"Origin": "https://reader.example"}
    assert _send(tags, page)[0] == 200  # by default every origin is answered
    cors_sim.config(ollama_origins=["https://allowed.example"])
    status, headers = _send(tags, page)
    assert status == 403 and "access-control-allow-origin" not in headers
    status, headers = _send(tags, page, "OPTIONS")
    assert status == 403 and "access-control-allow-origin" not in headers
    status, headers = _send(tags, {"Origin": "https://allowed.example"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    # OpenRouter's /api/v1 paths are not Ollama's.
    models = cors_sim.base_url_for("openrouter") + "/models"
    assert _send(models, page)[0] == 200
    cors_sim.reset()
    assert cors_sim.config()["ollama_origins"] is None


def test_r5_2_sim_anthropic_refuses_a_page_without_its_browser_header(
    cors_sim: Simulator,
) -> None:
    # Anthropic's answer to a call with an Origin and without the opt-in header: 401 and no
    # Access-Control-Allow-Origin (curl against api.anthropic.com recorded in
    # open-pencil/open-pencil issue #436; error text as quoted in ChatGPTNextWeb/NextChat #5429).
    cors_sim.reset()
    url = cors_sim.base_url_for("anthropic") + "/v1/models?limit=1"
    base = {"x-api-key": "sk-ant-api03-test", "anthropic-version": "2023-06-01"}
    status, headers = _send(url, {**base, "Origin": "https://reader.example"})
    assert status == 401 and "access-control-allow-origin" not in headers
    opted_in = {
        **base,
        "Origin": "https://reader.example",
        "anthropic-dangerous-direct-browser-access": "true",
    }
    status, headers = _send(url, opted_in)
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert _send(url, base)[0] == 200  # not from a page: no Origin, no opt-in needed


# ---------------------------------------------------------------- the page's Python shell


def _shell(options: list[dict[str, object]]) -> Any:
    """A browser shell (its Python layer) over fake storage; no request can leave it: its
    transports are replaced by one that fails the test if called."""
    from byom.web.app import WebApp
    from byom.web.browser.shell import Shell
    from byom.web.browser.store import BrowserStore
    from byom.web.browser.vault import BrowserVault
    from test_r3_4_clear_unreconciled import _FakeHost
    from test_web_build import FakeStorage

    async def make() -> Shell:
        store = BrowserStore(_FakeHost({}, asyncio.Lock()), "reader")
        await store.load()
        shell = Shell(
            WebApp("Reader", app_id="reader"),
            store,
            BrowserVault(FakeStorage(), "reader"),
            options,
            lambda _: None,
        )

        def no_network(origin: str) -> Any:
            raise AssertionError(f"a request to {origin} was about to be made")

        shell._transport_for = no_network  # type: ignore[method-assign]
        return shell

    return make


def test_r5_2_shell_refuses_a_compatible_server_off_this_machine() -> None:
    option = dict(PROVIDER_OPTIONS["compatible"])

    async def scenario() -> list[dict[str, Any]]:
        shell = await _shell([option])()
        answers = []
        for address in ("http://192.168.1.20:8000/v1", "https://llm.example.com/v1"):
            answers.append(json.loads(await shell.connect("compatible", "", address)))
        assert not shell.app.connected
        return answers

    for answer in asyncio.run(scenario()):
        assert answer == {"ok": False, "code": "not_loopback"}


def test_r5_2_shell_answers_the_key_shape_by_the_one_rule() -> None:
    options = [dict(PROVIDER_OPTIONS[k]) for k in EVERY]

    async def scenario() -> dict[str, Any]:
        shell = await _shell(options)()
        return {
            "anthropic<-openai": json.loads(shell.key_shape("anthropic", "sk-proj-abc123")),
            "gemini ok": json.loads(shell.key_shape("gemini", "AIzaSyAbc123")),
            "openai empty": json.loads(shell.key_shape("openai", "  ")),
            "compatible empty": json.loads(shell.key_shape("compatible", "")),
            "openrouter prefix": json.loads(shell.key_shape("openrouter", "abc123")),
            "unknown option": json.loads(shell.key_shape("nope", "abc")),
        }

    got = asyncio.run(scenario())
    assert got["anthropic<-openai"] == {
        "problem": "wrong_provider",
        "provider": "anthropic",
        "other": "openai",
        "prefix": "sk-ant-",
    }
    assert got["gemini ok"] is None
    assert got["openai empty"]["problem"] == "empty"
    assert got["compatible empty"] is None  # its key is optional
    assert got["openrouter prefix"]["problem"] == "wrong_prefix"
    assert got["unknown option"]["ok"] is False
    assert "abc" not in json.dumps(got)  # never the key back


def test_r5_2_sim_cli_takes_ollama_origins() -> None:
    import argparse

    from byom.sim import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["sim", "--ollama-origin", "https://a.example", "--ollama-origin", "https://b.example"]
    )
    assert cli.config_of(args) == {"ollama_origins": ["https://a.example", "https://b.example"]}


def test_r5_2_cli_test_build_serves_every_provider_from_the_simulator(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "dist"
    app = str(app_with(tmp_path, EVERY))
    sim_url = "http://127.0.0.1:9999"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "byom",
            "web",
            "build",
            app,
            "-o",
            str(out),
            "--sim-providers",
            sim_url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "the page may connect to: http://127.0.0.1:9999\n" in done.stdout
    config = json.loads((out / "byom" / "config.json").read_text())
    assert all(o["simulated"] for o in config["providers"])
    assert {o["base_url"] for o in config["providers"]} == {
        "http://127.0.0.1:9999/api/v1",
        "http://127.0.0.1:9999/v1",
        "http://127.0.0.1:9999",
    }
    # Such a build is not a real site: the audit says its connect-src is not the providers'.
    finding = declared_origins_finding(_policies(out), config)
    assert finding is not None and not finding.ok
    assert "not declared: http://127.0.0.1:9999" in finding.reason
    assert "missing: " in finding.reason and "https://api.openai.com" in finding.reason
