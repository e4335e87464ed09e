"""R2.5 / pitfall 18: the key and prompt/reply text never reach logs, errors, tracebacks,
the SQLite file or temp files — on every failure path, with byom/httpx/httpcore at DEBUG."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from _leaks import assert_files_clean
from byom.core.errors import ByomError
from byom.sim import Simulator
from conftest import CANARY_KEY, CANARY_PROMPT, assert_no_canary, user

FAULTS: list[dict[str, object]] = [
    {"status": 401},
    {"status": 402},
    {"status": 403},
    {"status": 408},
    {"status": 429, "retry_after": 2},
    {"status": 500},
    {"status": 502},
    {"status": 503},
    {"kind": "slow_first_byte", "seconds": 3600},  # held until the client gives up
    {"kind": "cut_before_usage"},
    {"kind": "midstream_error", "code": 502},
    {"kind": "malformed_json"},
    {"kind": "finish_error"},
]


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: str(f.get("status") or f.get("kind")))
def test_r2_5_canaries_never_leak(
    make_app,
    sim: Simulator,
    caplog: pytest.LogCaptureFixture,
    private_tmp: Path,
    tmp_path: Path,
    fault: dict[str, object],
    stream: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("byom", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    slow = fault.get("kind") == "slow_first_byte"
    app = make_app(timeout=1.0 if slow else None)  # a timeout that only the hold can fire
    sim.push_faults([fault])
    errors: list[BaseException] = []
    prompt = user(CANARY_PROMPT)
    try:
        if stream:
            for _ in app.stream("summarize", prompt, max_tokens=200):
                pass
        else:
            app.chat("summarize", prompt, max_tokens=200)
    except ByomError as exc:
        errors.append(exc)
    # A successful call afterwards too (if the key survived), so the happy path is scanned.
    if app.connected and not slow:
        reply = app.chat("summarize", prompt, max_tokens=50)
        assert_no_canary(repr(reply), "repr(reply)")
    for exc in errors:
        assert_no_canary(str(exc), "str(exc)")
        assert_no_canary(repr(exc), "repr(exc)")
        assert_no_canary("".join(traceback.format_exception(exc)), "traceback")
        # Transport exceptions (which may carry request objects) are never chained on.
        assert exc.__cause__ is None
        assert exc.__context__ is None or exc.__suppress_context__
    assert_no_canary(caplog.text, "logs")
    for record in caplog.records:
        assert_no_canary(record.getMessage(), "log record")
    app.close()
    assert_files_clean(tmp_path / "data", private_tmp)


def test_r2_5_history_exports_hold_figures_only(make_app) -> None:
    app = make_app()
    reply = app.chat("summarize", user(CANARY_PROMPT), max_tokens=100)
    for fmt in ("csv", "json"):
        text = app.export_history(fmt)  # type: ignore[arg-type]
        assert_no_canary(text, fmt)
        assert reply.text not in text
        assert reply.generation_id in text


def test_r2_5_the_canary_test_can_fail(caplog: pytest.LogCaptureFixture) -> None:
    """The scanner itself catches a leak (so the suite above cannot silently pass)."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("byom").debug("oops %s", CANARY_KEY)
    with pytest.raises(AssertionError):
        assert_no_canary(caplog.text, "logs")
