"""R5.1, R1.2 (issue 17) — the example terminal reader summarises with the built-in model when no
key is connected (``--builtin``): in a real pty, with every socket call refused, no wizard, a
streamed answer and its cost line saying it was free."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from byom import format_money
from conftest import require_builtin
from r5_pty import EXAMPLE, SAMPLE, Session, base_env, plain

pytestmark = [pytest.mark.builtin, pytest.mark.slow]

_NO_NETWORK = """
import runpy, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network disabled by the test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.argv = [{app!r}, {sample!r}, *{args!r}]
runpy.run_path({app!r}, run_name="__main__")
"""


@pytest.mark.parametrize(
    ("lang", "note", "note_end", "free"),
    [
        ("en", "Summary by the built-in model", "for a better summary.", "free"),
        ("nl", "Samenvatting door het", "voor een betere samenvatting.", "gratis"),
    ],
)
def test_r5_1_builtin_summary_with_no_key_and_no_network(
    tmp_path: Path, lang: str, note: str, note_end: str, free: str
) -> None:
    require_builtin()
    import sys

    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    script = _NO_NETWORK.format(
        app=str(EXAMPLE), sample=str(SAMPLE), args=["summarize", "--builtin"]
    )
    s = Session([sys.executable, "-c", script], base_env(home, data, lang), timeout=300)
    try:
        s.expect_text(note)
        s.expect(r"summarize · smollm2-135m-instruct · " + free)
        assert s.finish(timeout=120) == 0
    finally:
        s.close()
    out = plain(s.output())
    assert "1 of 9" not in out and "1 van 9" not in out  # no connection wizard
    assert "network disabled" not in out and "Traceback" not in out
    # Between the note and the cost line (which says "free"): a pending line of a few words,
    # then the model's own words, streamed.
    answer = out.split(note_end, 1)[1].split("summarize · smollm2-135m-instruct · " + free)[0]
    assert len(answer.split()) > 12
    assert format_money(Decimal(0), lang) in out  # the session total, as the language writes it
