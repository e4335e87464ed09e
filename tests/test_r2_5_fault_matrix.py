"""R2.5, R2.6 (issue 10, break 1): the canary suite over every fault × every call path × every
provider kind.

For each combination the simulator (or the client side: a key or an address that cannot go on
the wire) produces the fault, and then everything byom leaves behind is scanned: the exception's
``str`` / ``repr`` / ``args`` / attributes, its whole ``__cause__`` / ``__context__`` chain, the
locals of every frame of every traceback (``TracebackException(capture_locals=True)`` too), the
DEBUG logs of ``byom``, ``httpx`` and ``httpcore``, the data directory (SQLite with its WAL and
SHM, key files and leftovers) and the temp directory. A request that failed before a byte was
sent leaves no spend counting; a fault never leaves ``in_flight()`` true.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import byom
from _leaks import assert_exception_chain_cut, assert_exception_clean, assert_files_clean
from byom.core.call import Connection
from byom.core.errors import ByomError, InvalidBaseUrl, InvalidKey
from byom.core.secret import Secret
from byom.sim import Simulator
from conftest import CANARY_KEY, CANARY_PROMPT, chat_count
from test_r1_2_providers_sim import KINDS, Kind, connect, messages
from test_r2_5_no_leaks import FAULTS as NO_LEAK_FAULTS

#: The simulator's faults (the no-leak suite's list) plus an in-band 401 on an HTTP 200.
SIM_FAULTS: list[dict[str, object]] = [
    *NO_LEAK_FAULTS,
    {"kind": "midstream_error", "code": 401},  # pitfall 22
]
PATHS = ("chat", "stream", "achat", "astream")
KEYED = [k for k in KINDS if k.provider != "ollama"]


def _fault_id(fault: dict[str, object]) -> str:
    return "-".join(str(v) for v in fault.values())


def call(app: byom.App, path: str) -> BaseException | None:
    """Run one feature call on ``path``; the exception it ended with, if any."""
    prompt = messages(CANARY_PROMPT)
    try:
        if path == "chat":
            app.chat("summarize", prompt, max_tokens=50)
        elif path == "stream":
            for _ in app.stream("summarize", prompt, max_tokens=50):
                pass
        elif path == "achat":
            asyncio.run(app.achat("summarize", prompt, max_tokens=50))
        elif path == "astream":

            async def consume() -> None:
                async for _ in app.astream("summarize", prompt, max_tokens=50):
                    pass

            asyncio.run(consume())
        elif path == "validate_key":
            app.validate_key()
        elif path == "avalidate_key":
            asyncio.run(app.avalidate_key())
        else:
            raise AssertionError(path)
    except BaseException as exc:
        return exc
    return None


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("byom", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def scan_everything(
    app: byom.App, exc: BaseException | None, caplog: pytest.LogCaptureFixture, *folders: Path
) -> None:
    if exc is not None:
        assert isinstance(exc, ByomError), f"a raw {type(exc).__name__} left the public API"
        assert_exception_clean(exc)
        assert_exception_chain_cut(exc)
    assert not app.in_flight(), "a settled call still counts as in flight"
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert CANARY_KEY not in text and "CANARY-PROMPT" not in text, "leaked into a log"
    app.close()
    assert_files_clean(*folders)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fault", SIM_FAULTS, ids=_fault_id)
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r2_5_no_fault_leaks_on_any_path_or_provider(
    make_app: Callable[..., byom.App],
    sim: Simulator,
    debug_logs: pytest.LogCaptureFixture,
    private_tmp: Path,
    tmp_path: Path,
    kind: Kind,
    fault: dict[str, object],
    path: str,
) -> None:
    sim.config(generation_delay=0)
    slow = fault.get("kind") == "slow_first_byte"
    # Only the held request gets a short timeout: it can only fire on the simulator's hold,
    # never because the machine is busy.
    app = make_app(connect=False, timeout=1.0 if slow else None)
    connect(app, kind, sim)
    sim.push_faults([fault])
    exc = call(app, path)
    status = fault.get("status")
    if fault.get("kind") == "midstream_error" and "stream" not in path:
        # Non-streamed, only OpenRouter answers with an error object on a 200; the simulator's
        # other formats answer with that code as the HTTP status.
        status = fault["code"] if kind.provider != "openrouter" else None
    if status == 401 and kind.provider != "ollama":
        assert not app.connected, "a 401 status clears the key (R2.6)"
    elif kind.provider != "ollama":
        assert app.connected, f"{_fault_id(fault)} cleared the key; only a 401 status may"
    if app.connected and not slow:  # the happy path afterwards is scanned too
        assert call(app, path) is None
    scan_everything(app, exc, debug_logs, tmp_path, private_tmp)


#: Keys as a copy-paste delivers them, and what byom must make of them.
CLEANED = {
    "bom": "\ufeff" + CANARY_KEY,
    "zero-width": "\u200b" + CANARY_KEY + "\u200b",
    "newline": CANARY_KEY + "\n",
    "spaces": "  " + CANARY_KEY + "\t ",
    "nbsp-and-line-separator": "\u00a0" + CANARY_KEY + "\u2028",
    "joiner-inside": CANARY_KEY[:10] + "\u2060" + CANARY_KEY[10:],
}
REFUSED = {
    "accent": CANARY_KEY[:10] + "é" + CANARY_KEY[10:],
    "inner-newline": CANARY_KEY[:10] + "\n" + CANARY_KEY[10:],
    "inner-line-separator": CANARY_KEY[:10] + "\u2028" + CANARY_KEY[10:],
    "inner-space": CANARY_KEY[:10] + " " + CANARY_KEY[10:],
    "control": CANARY_KEY[:10] + "\x07" + CANARY_KEY[10:],
    "empty": " \u200b\n",
}
#: Those a ``Secret`` holds (it refuses only line breaks and NUL) and HTTP cannot carry.
BYPASS = ["accent", "inner-line-separator", "control"]


@pytest.mark.parametrize("pasted", list(CLEANED.values()), ids=list(CLEANED))
@pytest.mark.parametrize("kind", KEYED, ids=str)
def test_r2_5_pasted_key_is_cleaned_at_connect(
    make_app: Callable[..., byom.App], sim: Simulator, tmp_path: Path, kind: Kind, pasted: str
) -> None:
    app = make_app(connect=False)
    app.connect(kind.provider, key=pasted, base_url=kind.base(sim))
    assert app._connection is not None and app._connection.key == Secret(CANARY_KEY)
    app.close()


@pytest.mark.parametrize("pasted", list(REFUSED.values()), ids=list(REFUSED))
@pytest.mark.parametrize("kind", KEYED, ids=str)
def test_r2_5_unsendable_key_is_refused_at_connect(
    make_app: Callable[..., byom.App],
    sim: Simulator,
    debug_logs: pytest.LogCaptureFixture,
    private_tmp: Path,
    tmp_path: Path,
    kind: Kind,
    pasted: str,
) -> None:
    app = make_app(connect=False)
    with pytest.raises(InvalidKey) as caught:
        app.connect(kind.provider, key=pasted, base_url=kind.base(sim), remember=True,
                    allow_plain_file=True)  # fmt: skip
    assert caught.value.code == "invalid_key"
    assert not app.connected
    # The refusal is plain words; the key is in none of byom's views (this test's own frame
    # holds the pasted key: it passed it).
    assert_exception_clean(caught.value, key=CANARY_KEY[12:], caller_has_key=True)
    assert_exception_chain_cut(caught.value)
    scan_everything(app, None, debug_logs, tmp_path, private_tmp)


@pytest.mark.parametrize("path", (*PATHS, "validate_key", "avalidate_key"))
@pytest.mark.parametrize("bad", [REFUSED[n] for n in BYPASS], ids=BYPASS)
@pytest.mark.parametrize("kind", KEYED, ids=str)
def test_r2_5_unsendable_key_that_bypassed_connect_is_translated_and_released(
    make_app: Callable[..., byom.App],
    sim: Simulator,
    debug_logs: pytest.LogCaptureFixture,
    private_tmp: Path,
    tmp_path: Path,
    kind: Kind,
    bad: str,
    path: str,
) -> None:
    """A key that reached a connection some other way (an older key file, an app that built
    the connection itself) still never reaches the HTTP client: the request fails before a
    byte is sent, with a byom error, and its reservation is released."""
    app = make_app(connect=False)
    connect(app, kind, sim)
    assert app._connection is not None
    app._connection = Connection(app._connection.adapter, Secret(bad))
    before = chat_count(sim)
    exc = call(app, path)
    assert isinstance(exc, InvalidKey), repr(exc)
    assert chat_count(sim) == before, "the request reached the network"
    assert app.spent() == 0 and app.unreconciled() == [], "nothing was sent, nothing counts"
    assert_exception_clean(exc, key=CANARY_KEY[12:])
    assert_exception_chain_cut(exc)
    scan_everything(app, exc, debug_logs, tmp_path, private_tmp)


BAD_URLS = {
    "double-dot": "http://a..b/api/v1",
    "control": "http://127.0.0.1:1/\x01v1",
    "space": "http://127.0.0.1:1/api v1",
    "non-ascii-host": "http://prövider.example/v1",
    "newline": "http://127.0.0.1:1/v1\n",
    "bad-port": "http://127.0.0.1:99999/v1",
    "credentials": "http://user:pass@127.0.0.1:1/v1",
    "query": "http://127.0.0.1:1/v1?key=x",
    "no-host": "http:///v1",
}


@pytest.mark.parametrize("url", list(BAD_URLS.values()), ids=list(BAD_URLS))
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r2_5_mistyped_base_url_is_refused_at_connect(
    make_app: Callable[..., byom.App], kind: Kind, url: str, tmp_path: Path
) -> None:
    app = make_app(connect=False)
    with pytest.raises(InvalidBaseUrl) as caught:
        app.connect(kind.provider, key=CANARY_KEY, base_url=url)
    assert not app.connected
    assert_exception_clean(caught.value, caller_has_key=True)
    assert_exception_chain_cut(caught.value)
    app.close()
    assert_files_clean(tmp_path)


def test_r2_5_a_raw_exception_inside_byom_leaves_as_a_clean_byom_error(
    make_app: Callable[..., byom.App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a third-party layer raises — here a UnicodeEncodeError that carries the whole
    auth header, as httpx's does — leaves byom as a ByomError with no chain and no frames."""
    app = make_app()

    def explode(self: Any, request: Any) -> Any:
        header = "Bearer " + CANARY_KEY + "é"
        header.encode("ascii")  # raises with the header in .object and in this frame

    monkeypatch.setattr("byom.transport.httpx_transport.HttpxTransport.send", explode)
    exc = call(app, "chat")
    assert isinstance(exc, ByomError), repr(exc)
    assert exc.code == "internal_error" and "UnicodeEncodeError" in str(exc)
    assert_exception_clean(exc)
    assert_exception_chain_cut(exc)
    assert not app.in_flight()


def test_r2_3_rotating_to_an_unsendable_key_keeps_the_current_one(
    make_app: Callable[..., byom.App],
) -> None:
    """A replacement key that cannot be a key is refused before the current one is removed."""
    app = make_app()
    with pytest.raises(InvalidKey):
        app.rotate_key(REFUSED["accent"])
    assert app.connected and app._connection is not None
    assert app._connection.key == Secret(CANARY_KEY)
    assert call(app, "chat") is None
