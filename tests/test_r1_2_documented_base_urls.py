"""Issue 15, item 3 — R1.2: the README's table of base URLs is true. Every ``base_url`` it gives
for the simulator is connected through, per provider kind; every local-server address it gives is
connected through with a simulator listening on that port (skipped, with the reason, when the
port is taken on this machine); every hosted default is the adapter's own default."""

from __future__ import annotations

import errno
import re
import socket
from pathlib import Path

import pytest

import byom
from byom.providers import make_adapter
from byom.sim import Simulator

README = Path(__file__).resolve().parents[1] / "README.md"
FEATURES = [byom.Feature("summarize", "worker")]
HELLO = [{"role": "user", "content": "hello"}]
KINDS = ("openrouter", "openai", "anthropic", "gemini", "ollama", "compatible")


def _table() -> dict[str, tuple[str, str]]:
    """kind → (simulator cell, real-server cell) from the README's base URL table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Which `base_url` to connect with", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)` \| (.+?) \| (.+) \|$", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def test_r1_2_the_table_covers_every_kind() -> None:
    assert set(_table()) == set(KINDS)


def _chat(app: byom.App, kind: str) -> None:
    if kind in ("ollama", "compatible"):
        app.refresh_models()  # the server's own list: its models count as workers
    reply = app.chat("summarize", HELLO, max_tokens=20)
    assert reply.text.startswith("Simulated reply")


@pytest.mark.parametrize("kind", KINDS)
def test_r1_2_each_documented_simulator_base_url_connects(
    kind: str, sim: Simulator, tmp_path: Path
) -> None:
    cell = _table()[kind][0]
    found = re.fullmatch(r"`(SIM[^`]*)`", cell.strip())
    assert found, cell
    base_url = found.group(1).replace("SIM", sim.base_url)
    assert base_url == sim.base_url_for(kind)
    app = byom.App("Base URLs", FEATURES, app_id=f"urls-{kind}", data_dir=tmp_path)
    app.connect(kind, key=None if kind == "ollama" else "sk-test-key", base_url=base_url)
    _chat(app, kind)


def _documented_local_urls() -> list[tuple[str, str]]:
    """(kind, URL) for every ``http://localhost:PORT…`` address in the real-server column."""
    found = []
    for kind, (_, real) in _table().items():
        for url in re.findall(r"`(http://localhost:\d+[^`]*)`", real):
            found.append((kind, url))
    return found


def test_r1_2_local_addresses_are_documented() -> None:
    urls = dict.fromkeys(url for _, url in _documented_local_urls())
    assert {
        "http://localhost:11434",
        "http://localhost:1234/v1",
        "http://localhost:8080/v1",
        "http://localhost:8000/v1",
        "http://localhost:11434/v1",
    } <= set(urls)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


@pytest.mark.parametrize(("kind", "url"), _documented_local_urls())
def test_r1_2_each_documented_local_server_address_connects(
    kind: str, url: str, tmp_path: Path
) -> None:
    port = int(re.search(r":(\d+)", url.split("//", 1)[1]).group(1))  # type: ignore[union-attr]
    if not _free(port):
        pytest.skip(f"port {port} is in use on this machine; cannot stand in for the server")
    with Simulator(port=port) as server:
        server.config(generation_delay=0)
        app = byom.App("Local URLs", FEATURES, app_id=f"local-{port}", data_dir=tmp_path)
        if kind == "ollama" and url == "http://localhost:11434":
            app.connect("ollama")  # the default: no base_url needed
            assert app.adapter.base_url.startswith("http://localhost:11434")
        else:  # the simulator's OpenAI format asks for a key (a real local server may not)
            app.connect(kind, key="sk-local", base_url=url)
        _chat(app, kind)
        assert any(server.counts().values())


@pytest.mark.parametrize("kind", ["openrouter", "openai", "anthropic", "gemini"])
def test_r1_2_hosted_defaults_are_the_adapters_own(kind: str) -> None:
    real = _table()[kind][1]
    documented = re.search(r"`(https://[^`]+)`", real).group(1)  # type: ignore[union-attr]
    assert make_adapter(kind).base_url.rstrip("/") == documented
