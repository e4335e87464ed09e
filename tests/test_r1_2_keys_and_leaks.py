"""R2.4 / R2.5 for every new adapter: a key goes only to the origin it was connected for, Ollama
requests carry no key at all, and a canary key and a canary prompt never show up in logs (``byom``,
``httpx``, ``httpcore`` at DEBUG), exception messages, ``repr``s, tracebacks, exports or files —
for every provider kind and every fault the simulator can produce.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

import byom
from _leaks import assert_files_clean
from byom.core.errors import ByomError, EgressBlocked
from byom.providers.base import HttpRequest, origin_of
from byom.sim import Simulator
from byom.transport.httpx_transport import HttpxTransport
from conftest import CANARY_KEY, CANARY_PROMPT, assert_no_canary, user
from test_r1_2_providers_sim import KINDS, Kind, connect, summarize

OTHER_KEY = "sk-OTHER-CANARY-2c4e6a8b0d1f3e5a7c9b"
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")


@dataclass
class Sent:
    origin: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Wire:
    """Every request that left through the origin-locked transport, as it went on the wire."""

    sent: list[Sent] = field(default_factory=list)

    def factory(self, origin: str) -> HttpxTransport:
        return HttpxTransport(origin, inner=_Recorder(self))

    def carrying(self, secret: str) -> list[Sent]:
        needle = secret.encode()
        return [
            s
            for s in self.sent
            if needle in s.body or secret in s.url or any(secret in v for v in s.headers.values())
        ]


class _Recorder(httpx.BaseTransport):
    def __init__(self, wire: Wire) -> None:
        self._wire = wire
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._wire.sent.append(
            Sent(
                origin_of(str(request.url)),
                str(request.url),
                {k.lower(): v for k, v in request.headers.items()},
                request.content,
            )
        )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture(scope="module")
def other_sim() -> Iterator[Simulator]:
    """A second provider on another origin (another port)."""
    with Simulator() as simulator:
        yield simulator


@pytest.fixture
def wired_app(tmp_path: Path) -> Iterator[Callable[..., tuple[byom.App, Wire]]]:
    apps: list[byom.App] = []

    def factory(**kwargs: object) -> tuple[byom.App, Wire]:
        wire = Wire()
        app = byom.App(
            "Paper digest",
            [byom.Feature("summarize", "worker")],
            data_dir=tmp_path / "data",
            transport_factory=wire.factory,
            **kwargs,  # type: ignore[arg-type]
        )
        apps.append(app)
        return app, wire

    yield factory
    for app in apps:
        app.close()


def _use(app: byom.App) -> None:
    summarize(app, "Some text.")
    summarize(app, "Some text.", stream=True)
    app.refresh_models()
    app.validate_key()


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r2_4_a_key_only_ever_goes_to_the_origin_it_was_connected_for(
    wired_app: Callable[..., tuple[byom.App, Wire]],
    sim: Simulator,
    other_sim: Simulator,
    kind: Kind,
) -> None:
    other_sim.reset()
    app, wire = wired_app()
    home, away = origin_of(kind.base(sim)), origin_of(kind.base(other_sim))
    assert home != away

    connect(app, kind, sim)  # CANARY_KEY for the simulator's origin
    _use(app)
    app.connect(kind.provider, key=OTHER_KEY, base_url=kind.base(other_sim))
    if kind.provider in ("ollama", "compatible"):
        app.refresh_models()
        app.add_model(kind.model, "worker", prompt_price=0, completion_price=0)  # type: ignore[arg-type]
    app.choose_model("summarize", kind.model)
    _use(app)
    # Back to the first origin without typing the key: the one held for *that* origin is used.
    if kind.provider not in ("ollama",):
        app.connect(kind.provider, base_url=kind.base(sim))
        summarize(app, "Again at home.")

    assert {s.origin for s in wire.sent} == {home, away}
    assert all(s.origin == home for s in wire.carrying(CANARY_KEY))
    assert all(s.origin == away for s in wire.carrying(OTHER_KEY))
    if kind.provider == "ollama":
        # Ollama: connected with a key both times, yet no request ever carried one.
        assert wire.carrying(CANARY_KEY) == [] and wire.carrying(OTHER_KEY) == []
        for sent in wire.sent:
            assert not set(sent.headers) & set(CREDENTIAL_HEADERS), sent.url
    else:
        chats = [s for s in wire.sent if kind.is_chat_url(s.url)]
        assert chats and all(
            set(s.headers) & set(CREDENTIAL_HEADERS) for s in chats
        )  # every chat request is authenticated…
        assert wire.carrying(CANARY_KEY) and wire.carrying(OTHER_KEY)  # …with its own key


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r2_4_a_request_for_another_origin_is_refused_before_it_leaves(
    wired_app: Callable[..., tuple[byom.App, Wire]],
    sim: Simulator,
    other_sim: Simulator,
    kind: Kind,
) -> None:
    app, wire = wired_app()
    connect(app, kind, sim)
    wire.sent.clear()
    stray = HttpRequest("GET", kind.base(other_sim) + "/models")
    with pytest.raises(EgressBlocked):
        app.send_raw(stray)
    transport = wire.factory(origin_of(kind.base(sim)))
    try:
        with pytest.raises(Exception) as info:
            transport.send(stray)
        assert isinstance(getattr(info.value, "error", info.value), EgressBlocked)
    finally:
        transport.close()
    assert wire.sent == []


# -- canaries (R2.5) -------------------------------------------------------------------------------

FAULTS: list[dict[str, object]] = [
    {"status": 401},
    {"status": 402},
    {"status": 403},
    {"status": 404},
    {"status": 408},
    {"status": 413},
    {"status": 429, "retry_after": 2},
    {"status": 500},
    {"status": 502},
    {"status": 503},
    {"status": 529},
    {"kind": "slow_first_byte", "seconds": 3600},  # held until the client gives up
    {"kind": "cut_before_usage"},
    {"kind": "midstream_error", "code": 502},
    {"kind": "malformed_json"},
    {"kind": "finish_error"},
]


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: str(f.get("status") or f.get("kind")))
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r2_5_canaries_never_leak_for_any_provider(
    sim: Simulator,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    private_tmp: Path,
    tmp_path: Path,
    kind: Kind,
    fault: dict[str, object],
    stream: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("byom", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    slow = fault.get("kind") == "slow_first_byte"
    # Only the held request needs a short timeout: it can only fire on the simulator's hold,
    # never on a busy machine (every other request keeps the default timeouts).
    app = byom.App(
        "Paper digest", [byom.Feature("summarize", "worker")], data_dir=tmp_path / "data",
        timeout=1.0 if slow else None,
    )  # fmt: skip
    connect(app, kind, sim)
    sim.push_faults([fault])
    prompt = user(CANARY_PROMPT)
    errors: list[BaseException] = []
    try:
        if stream:
            for item in app.stream("summarize", prompt, max_tokens=200):
                assert_no_canary(repr(item), "repr(stream item)")
        else:
            assert_no_canary(repr(app.chat("summarize", prompt, max_tokens=200)), "repr(reply)")
    except ByomError as exc:
        errors.append(exc)
    if app.connected and not slow:  # the happy path too, when the key survived
        reply = app.chat("summarize", prompt, max_tokens=50)
        assert_no_canary(repr(reply), "repr(reply)")
    for exc in errors:
        assert_no_canary(str(exc), "str(exc)")
        assert_no_canary(repr(exc), "repr(exc)")
        assert_no_canary("".join(traceback.format_exception(exc)), "traceback")
        assert exc.__cause__ is None
        assert exc.__context__ is None or exc.__suppress_context__
    assert_no_canary(repr(app), "repr(app)")
    assert_no_canary(repr(app.adapter) if app.connected else "", "repr(adapter)")
    for record in app.history():
        assert_no_canary(repr(record), "repr(history record)")
    for fmt in ("csv", "json"):
        assert_no_canary(app.export_history(fmt), f"export {fmt}")  # type: ignore[arg-type]
    assert_no_canary(caplog.text, "logs")
    for record in caplog.records:
        assert_no_canary(record.getMessage(), "log record")
    captured = capsys.readouterr()
    assert_no_canary(captured.out + captured.err, "console")
    app.close()
    assert_files_clean(tmp_path / "data", private_tmp)


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_r2_5_adapter_requests_never_show_the_key_or_prompt(sim: Simulator, kind: Kind) -> None:
    adapter = byom.providers.make_adapter(kind.provider, kind.base(sim))  # type: ignore[attr-defined]
    key = byom.Secret(CANARY_KEY)
    for stream in (False, True):
        request = adapter.chat_request(
            key, model=kind.model, messages=user(CANARY_PROMPT), max_tokens=10, stream=stream,
            params={},
        )  # fmt: skip
        assert_no_canary(repr(request), "repr(request)")
        assert_no_canary(str(request), "str(request)")
        assert_no_canary(repr(dict(request.headers)), "plain headers")
        assert_no_canary(repr(request.secret_headers), "repr(secret headers)")
        assert_no_canary(repr(adapter.stream_decoder().partial), "repr(partial)")
