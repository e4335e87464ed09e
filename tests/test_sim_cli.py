"""``byom sim`` as a command: base URL on the first stdout line, serves, stops cleanly."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from byom.cli import build_parser


def _byom() -> str:
    beside = Path(sys.executable).parent / "byom"
    if beside.exists():
        return str(beside)
    found = shutil.which("byom")
    if found is None:
        pytest.skip("the byom console script is not installed")
    return found


def test_parser_has_sim_command() -> None:
    args = build_parser().parse_args(["sim", "--port", "0", "--generation-delay", "0.1"])
    assert args.command == "sim" and args.port == 0 and args.generation_delay == 0.1
    assert callable(args.func)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_base_url_first_and_serves(stop_signal: signal.Signals) -> None:
    proc = subprocess.Popen(
        [_byom(), "sim", "--port", "0", "--generation-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:") and int(first.rsplit(":", 1)[1]) > 0
        with httpx.Client(trust_env=False, timeout=5) as client:
            models = client.get(first + "/api/v1/models")
            assert models.status_code == 200 and models.json()["data"]
            config = client.get(first + "/_sim/config").json()
            assert config["generation_delay"] == 0
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out == ""  # nothing after the URL line
    assert "byom sim" in err and first in err
