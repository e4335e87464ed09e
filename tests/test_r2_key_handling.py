"""R2.2, R2.3, R2.4, R2.6, pitfall 7: where the key lives, where it may go, and when it goes."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import httpx
import pytest

import byom
from byom.core.errors import (
    EgressBlocked,
    KeyRejected,
    KeyStorageUnavailable,
    ModerationFlagged,
    NotConnected,
    OutOfCredits,
    ProviderUnavailable,
    RateLimited,
)
from byom.providers.base import HttpRequest
from byom.sim import Simulator
from byom.store.vault import keyring_available
from byom.transport.httpx_transport import HttpxTransport
from conftest import CANARY_KEY, chat_count, user


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_r2_2_memory_only_by_default(make_app, tmp_path: Path) -> None:
    app = make_app()
    app.chat("summarize", user("hi"), max_tokens=20)
    assert app.key_location() == ["memory"]
    assert not (tmp_path / "data" / "keys").exists()
    assert _files_containing(tmp_path, CANARY_KEY.encode()) == []
    fresh = make_app(connect=False)
    assert not fresh.connected


def test_r2_2_remember_without_keyring_needs_explicit_file_consent(
    make_app, sim: Simulator, tmp_path: Path
) -> None:
    assert not keyring_available()  # this machine has only keyring's fail backend
    app = make_app(connect=False)
    with pytest.raises(KeyStorageUnavailable):
        app.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base, remember=True)
    assert app.key_location() == ["memory"]  # still usable this session, nothing written
    assert _files_containing(tmp_path, CANARY_KEY.encode()) == []


def test_r2_2_consented_file_is_user_only_and_restores(
    make_app, sim: Simulator, tmp_path: Path
) -> None:
    app = make_app(connect=False)
    app.connect(
        "openrouter",
        key=CANARY_KEY,
        base_url=sim.openrouter_base,
        remember=True,
        allow_plain_file=True,
    )
    key_file = tmp_path / "data" / "keys" / "paper-digest.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert json.loads(key_file.read_text()) == {
        sim.openrouter_base.rsplit("/api", 1)[0]: CANARY_KEY
    }
    restored = make_app(connect=False)
    assert restored.connected and set(restored.key_location()) == {"memory", "file"}
    restored.choose_model("summarize", "openai/gpt-4o-mini")
    assert restored.chat("summarize", user("hi"), max_tokens=20).cost is not None


def test_r2_3_forget_and_rotate_clear_every_copy(make_app, sim: Simulator, tmp_path: Path) -> None:
    app = make_app(connect=False)
    app.connect(
        "openrouter",
        key=CANARY_KEY,
        base_url=sim.openrouter_base,
        remember=True,
        allow_plain_file=True,
    )
    app.rotate_key("sk-or-v1-second-key-000000000000")
    assert _files_containing(tmp_path, CANARY_KEY.encode()) == []
    assert app.key_location() == ["memory"]
    app.forget_key()
    assert not app.connected and app.key_location() == []
    with pytest.raises(NotConnected):
        app.chat("summarize", user("hi"), max_tokens=20)
    assert not make_app(connect=False).connected


def test_r2_6_a_401_clears_memory_and_persisted_copies(
    make_app, sim: Simulator, tmp_path: Path
) -> None:
    app = make_app(connect=False)
    app.connect(
        "openrouter",
        key=CANARY_KEY,
        base_url=sim.openrouter_base,
        remember=True,
        allow_plain_file=True,
    )
    sim.push_faults([{"status": 401}])
    with pytest.raises(KeyRejected):
        app.chat("summarize", user("hi"), max_tokens=20)
    assert not app.connected
    assert _files_containing(tmp_path, CANARY_KEY.encode()) == []
    with pytest.raises(NotConnected):  # no silent retry, no key left
        app.chat("summarize", user("hi"), max_tokens=20)
    assert chat_count(sim) == 1
    assert app.spent() == 0  # a 401 generated nothing


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, ModerationFlagged),
        (402, OutOfCredits),
        (429, RateLimited),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
    ],
)
def test_pitfall_7_only_401_clears_the_key(
    make_app, sim: Simulator, tmp_path: Path, status: int, error: type
) -> None:
    app = make_app(connect=False)
    app.connect(
        "openrouter",
        key=CANARY_KEY,
        base_url=sim.openrouter_base,
        remember=True,
        allow_plain_file=True,
    )
    sim.push_faults([{"status": status}])
    with pytest.raises(error):
        app.chat("summarize", user("hi"), max_tokens=20)
    assert app.connected and "file" in app.key_location()
    assert app.spent() == 0  # an error status generated nothing: released


def test_pitfall_8_rate_limit_carries_retry_after(make_app, sim: Simulator) -> None:
    app = make_app()
    sim.push_faults([{"status": 429, "retry_after": 7}])
    with pytest.raises(RateLimited) as info:
        app.chat("summarize", user("hi"), max_tokens=20)
    assert info.value.retry_after == 7


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    opened: list[object] = []
    real_connect = socket.socket.connect

    def spy(self: socket.socket, address: object) -> None:
        opened.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda *a, **k: opened.append(a) or (_ for _ in ()).throw(AssertionError("socket opened")),
    )
    return opened


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/collect",
        "http://127.0.0.1:1/api/v1/chat/completions",
        "https://openrouter.ai.evil.example/api/v1",
        "https://api.openai.com/v1/chat/completions",
        "https://user:pw@openrouter.ai/api/v1",
        "ftp://openrouter.ai/x",
        "not a url",
    ],
)
def test_r2_4_other_origins_are_refused_before_a_socket_opens(
    sim: Simulator, no_sockets: list[object], url: str
) -> None:
    transport = HttpxTransport("https://openrouter.ai")
    request = HttpRequest("POST", url, body=b"{}")
    with pytest.raises(EgressBlocked):
        transport.send(request)
    with pytest.raises(EgressBlocked):
        with transport.stream(request):
            pass
    assert no_sockets == []


def test_r2_4_the_lock_also_holds_inside_httpx(no_sockets: list[object]) -> None:
    """Even a request built past byom's first check (e.g. a redirect) cannot leave."""
    transport = HttpxTransport("https://openrouter.ai")
    with pytest.raises(EgressBlocked):
        transport._client.get("https://evil.example/")
    assert no_sockets == []


def test_r2_4_a_connected_app_sends_only_to_its_provider(make_app, sim: Simulator) -> None:
    app = make_app()
    with pytest.raises(EgressBlocked):
        app.send_raw(HttpRequest("GET", "https://evil.example/?k=1"))


def test_r2_4_no_proxy_or_netrc_from_the_environment(
    make_app, sim: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    app = make_app()
    assert app.chat("summarize", user("hi"), max_tokens=20).cost is not None


def test_r2_4_import_does_no_network_and_no_telemetry() -> None:
    import subprocess
    import sys

    probe = (
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError('network at import')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "import byom, byom.app, byom.cli\n"
        "byom.App\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr
    mod = byom
    import ast

    banned = {
        "sentry_sdk",
        "posthog",
        "analytics",
        "mixpanel",
        "segment",
        "opentelemetry",
        "bugsnag",
        "rollbar",
        "datadog",
        "newrelic",
    }
    for path in Path(mod.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            )
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"


def test_r2_4_key_bound_to_its_origin(make_app, sim: Simulator) -> None:
    app = make_app(connect=False)
    app.connect("openrouter", key=CANARY_KEY, base_url=sim.openrouter_base)
    other = f"http://localhost:{sim.port}/api/v1"
    with pytest.raises(NotConnected):  # no key known for this other origin
        app.connect("openrouter", base_url=other)


def test_r2_4_httpx_client_does_not_trust_environment() -> None:
    transport = HttpxTransport("https://openrouter.ai")
    assert transport._client.trust_env is False
    assert transport._client.follow_redirects is False
    assert isinstance(transport._client, httpx.Client)
    assert os.environ.get("BYOM_TELEMETRY") is None
    assert byom.__version__
