"""R5.1 — the example terminal app is useful before connecting: its free features work with no
key and no network (sockets refused, byom and httpx never even imported), and it starts on its
own menu, not on the wizard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from r5_pty import APP, EXAMPLE, SAMPLE, Session, base_env, example_argv

_NO_NETWORK = """
import json, runpy, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network disabled by the test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.argv = [{app!r}, {sample!r}, *{args!r}]
code = 0
try:
    runpy.run_path({app!r}, run_name="__main__")
except SystemExit as exit:
    code = exit.code or 0
loaded = sorted(m for m in sys.modules if m in ("httpx", "rich") or m.split(".")[0] == "byom")
sys.stdout.flush()
sys.stderr.write("\\nREPORT " + json.dumps({{"code": code, "loaded": loaded}}) + "\\n")
"""


def _run_offline(tmp_path: Path, *args: str) -> tuple[str, dict[str, object]]:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir(exist_ok=True)
    script = _NO_NETWORK.format(app=str(EXAMPLE), sample=str(SAMPLE), args=list(args))
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=base_env(home, data, "en"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    report = json.loads(result.stderr.rsplit("REPORT ", 1)[1])
    assert not data.exists(), "a free feature wrote to the data folder"
    return result.stdout, report


def test_r5_1_word_count_and_reading_time_need_no_key_and_no_network(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("terminal_reader", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = SAMPLE.read_text(encoding="utf-8")
    words = module.word_count(text)
    assert words == len([w for w in text.split() if any(c.isalnum() for c in w)]) > 100
    assert module.reading_minutes(words) == 1 and module.reading_minutes(0) == 0

    out, report = _run_offline(tmp_path, "stats")
    assert report == {"code": 0, "loaded": []}
    assert f"{words:,} words" in out and "min reading" in out


def test_r5_1_outline_needs_no_key_and_no_network(tmp_path: Path) -> None:
    out, report = _run_offline(tmp_path, "outline")
    assert report == {"code": 0, "loaded": []}
    assert out.splitlines() == [
        "Outline",
        "  • Bring your own model",
        "    • Why it works",
        "    • What it asks of an app",
        "    • Limits",
    ]


def test_r5_1_without_a_terminal_the_free_features_run_and_nothing_is_asked(
    tmp_path: Path,
) -> None:
    out, report = _run_offline(tmp_path)
    assert report["code"] == 0 and report["loaded"] == []
    assert "words" in out and "Outline" in out


@pytest.mark.parametrize(
    ("lang", "choice", "stats"), [("en", "Choice: ", "words"), ("nl", "Keuze: ", "woorden")]
)
def test_r5_1_the_app_starts_on_its_menu_and_free_features_never_open_the_wizard(
    tmp_path: Path, lang: str, choice: str, stats: str
) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    s = Session(example_argv(), base_env(home, data, lang))
    try:
        s.expect_text(choice)
        s.enter("1")
        s.expect_text(stats)
        s.expect_text(choice)
        s.enter("2")
        s.expect_text("Limits")
        s.expect_text(choice)
        s.enter("q")
        assert s.finish() == 0
    finally:
        s.close()
    assert APP in s.output()
    assert "1 of 9" not in s.output() and "1 van 9" not in s.output()
    assert not data.exists()
