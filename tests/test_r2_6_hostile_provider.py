"""A hostile (or broken) provider, byte for byte (issue 10, breaks 5, 6 and 8).

Every reply comes from :mod:`_hostile`'s canned transports, so the whole call path runs and only
the provider's bytes are the attacker's:

* pitfall 3 / 23 (R3.4): usage that is present but empty or unreadable is *missing* usage — the
  request keeps counting, unreconciled, until reconciled; an absurd cost is a ``bad_response``
  whose estimate keeps counting, and ``in_flight()`` is false again;
* pitfall 7 / 22 (R2.6): an error inside an HTTP 200 — in a body or a stream, whatever code it
  carries — never clears the key; only a 401 status does;
* R2.5 / R4.3: provider-controlled strings byom stores (generation id, finish reason) that echo
  the key or the prompt, or are not safe labels, are dropped, never stored verbatim; a raw body
  is not held in the locals of frames that raise out of byom.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from _hostile import Canned, completion, factories, sse
from _leaks import assert_exception_chain_cut, assert_exception_clean, assert_files_clean
from byom.core.errors import BadResponse, ByomError, KeyRejected
from conftest import CANARY_KEY, CANARY_PROMPT, SUMMARIZE, user

OPENROUTER = "https://openrouter.ai/api/v1"


def hostile_app(
    tmp_path: Path, canned: Canned, provider: str = "openrouter", **kw: Any
) -> byom.App:
    app = byom.App("Hostile", [SUMMARIZE], data_dir=tmp_path / "data", **factories(canned))
    base = {"openrouter": None, "openai": None, "anthropic": None}.get(
        provider, "http://127.0.0.1:9/v1"
    )
    app.connect(provider, key=CANARY_KEY, base_url=base, remember=True, allow_plain_file=True, **kw)
    if provider == "compatible":
        app.add_model("local-model", "worker", prompt_price="0.000001", completion_price="0.000002")
        app.choose_model("summarize", "local-model")
    return app


def run(
    app: byom.App, stream: bool, asynchronous: bool = False
) -> tuple[Any, BaseException | None]:
    prompt = user(CANARY_PROMPT)
    try:
        if asynchronous and stream:

            async def consume() -> Any:
                async for item in app.astream("summarize", prompt, max_tokens=100):
                    if isinstance(item, byom.Done):
                        return item.reply
                return None

            return asyncio.run(consume()), None
        if asynchronous:
            return asyncio.run(app.achat("summarize", prompt, max_tokens=100)), None
        if stream:
            reply = None
            for item in app.stream("summarize", prompt, max_tokens=100):
                if isinstance(item, byom.Done):
                    reply = item.reply
            return reply, None
        return app.chat("summarize", prompt, max_tokens=100), None
    except BaseException as exc:
        return None, exc


def chunk(
    delta: str = "", usage: Any = ..., finish: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "gen-1700000000-abcdefghijklmnop",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": finish}],
    }
    if usage is not ...:
        body["usage"] = usage
    body.update(extra)
    return body


# -- pitfall 23: unreadable usage is missing usage ----------------------------------------------

UNREADABLE_USAGE: dict[str, Any] = {
    "empty": {},
    "null-counts": {"prompt_tokens": None, "completion_tokens": None, "cost": 0},
    "string-counts": {"prompt_tokens": "12", "completion_tokens": "7", "cost": 0},
    "fractional": {"prompt_tokens": 12.5, "completion_tokens": 7, "cost": 0},
    "total-only": {"total_tokens": 19, "cost": 0},
    "negative": {"prompt_tokens": -12, "completion_tokens": 7, "cost": 0},
    "absurd-count": {"prompt_tokens": 10**30, "completion_tokens": 7, "cost": 0},
    "bool": {"prompt_tokens": True, "completion_tokens": True, "cost": 0},
    "bad-cache-write": {"prompt_tokens": 12, "completion_tokens": 7,
                        "prompt_tokens_details": {"cache_write_tokens": "many"}, "cost": 0},
}  # fmt: skip


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("usage", list(UNREADABLE_USAGE.values()), ids=list(UNREADABLE_USAGE))
def test_r3_4_unreadable_usage_keeps_counting(tmp_path: Path, usage: Any, stream: bool) -> None:
    if stream:
        canned = Canned(chunks=(sse(chunk("ok"), chunk(usage=usage, finish="stop"), "[DONE]"),))
    else:
        canned = Canned(body=completion(usage))
    app = hostile_app(tmp_path, canned)
    app.set_allowance(Decimal("1.00"), "day", strict=True)
    reply, exc = run(app, stream)
    assert exc is None, repr(exc)
    assert reply.cost is None and reply.cost_source == "unreconciled", "unreadable usage ≠ $0"
    [row] = app.unreconciled()
    assert row.counted_pico == row.estimate_pico > 0
    assert app.spent("day") > 0
    assert app.history()[0].outcome == "unreconciled"
    assert not app.in_flight()
    app.close()


ABSURD_COSTS = {
    "huge-exponent": "1e999999",
    "overflowing": "1e30",
    "beyond-any-price": "5000",
}


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("cost", list(ABSURD_COSTS.values()), ids=list(ABSURD_COSTS))
def test_r3_4_absurd_cost_is_a_bad_response_and_keeps_counting(
    tmp_path: Path, cost: str, stream: bool, asynchronous: bool
) -> None:
    usage = '{"prompt_tokens": 12, "completion_tokens": 7, "cost": ' + cost + "}"
    raw_chunk = json.dumps(chunk(finish="stop", usage="USAGE")).replace('"USAGE"', usage)
    raw_body = completion("USAGE").decode().replace('"USAGE"', usage).encode()
    canned = (
        Canned(chunks=(sse(chunk("ok"), raw_chunk, "[DONE]"),)) if stream else Canned(body=raw_body)
    )
    app = hostile_app(tmp_path, canned)
    _, exc = run(app, stream, asynchronous)
    assert isinstance(exc, BadResponse), repr(exc)
    assert_exception_chain_cut(exc)
    assert not app.in_flight(), "a bad cost left the call in flight for the life of the process"
    [row] = app.unreconciled()
    assert row.counted_pico == row.estimate_pico > 0
    assert app.spent() == Decimal(row.estimate_pico) / 10**12
    app.close()


# -- pitfall 22: an error inside a 200 never clears the key ---------------------------------------

IN_BAND: dict[str, tuple[str, bool, Canned]] = {
    "openrouter-body-401": ("openrouter", False, Canned(body=json.dumps(
        {"error": {"code": 401, "message": "No auth credentials found"}}).encode())),
    "openrouter-stream-401": ("openrouter", True, Canned(chunks=(sse(
        chunk("half"), {"error": {"code": 401, "message": "User not found."}}),))),
    "openai-stream-invalid-api-key": ("openai", True, Canned(chunks=(sse(
        chunk("half"), {"error": {"code": "invalid_api_key", "type": "invalid_request_error",
                                  "message": "Incorrect API key provided"}}),))),
    "openai-body-authentication-error": ("openai", False, Canned(body=json.dumps(
        {"error": {"type": "authentication_error", "code": "invalid_api_key"}}).encode())),
    "anthropic-stream-authentication-error": ("anthropic", True, Canned(chunks=(sse(
        {"type": "error", "error": {"type": "authentication_error", "message": "bad x-api-key"}},
        event_names=("error",)),))),
    "anthropic-body-authentication-error": ("anthropic", False, Canned(body=json.dumps(
        {"type": "error", "error": {"type": "authentication_error", "message": "bad"}}).encode())),
    "compatible-body-code-401": ("compatible", False, Canned(body=json.dumps(
        {"error": {"code": 401, "message": "unauthorized"}}).encode())),
    "compatible-stream-code-401": ("compatible", True, Canned(chunks=(sse(
        {"error": {"code": 401, "message": "unauthorized"}}),))),
}  # fmt: skip


@pytest.mark.parametrize("case", list(IN_BAND.values()), ids=list(IN_BAND))
def test_r2_6_an_error_inside_a_200_never_clears_the_key(
    tmp_path: Path, case: tuple[str, bool, Canned]
) -> None:
    provider, stream, canned = case
    app = hostile_app(tmp_path, canned, provider)
    where = app.key_location()
    assert "file" in where or "keyring" in where
    _, exc = run(app, stream)
    assert canned.sent, "the request never reached the (hostile) provider"
    assert isinstance(exc, ByomError) and not isinstance(exc, KeyRejected), repr(exc)
    assert app.connected, "an in-band error cleared the key from memory"
    assert app.key_location() == where, "an in-band error cleared a remembered copy"
    assert byom.App("Hostile", [SUMMARIZE], data_dir=tmp_path / "data").connected
    app.close()


@pytest.mark.parametrize("provider", ["openrouter", "openai", "anthropic", "compatible"])
def test_r2_6_a_401_status_still_clears_the_key(tmp_path: Path, provider: str) -> None:
    canned = Canned(status=401, body=b'{"error": {"code": 401, "message": "bad key"}}')
    app = hostile_app(tmp_path, canned, provider)
    _, exc = run(app, False)
    assert isinstance(exc, KeyRejected)
    assert not app.connected and app.key_location() == []
    app.close()


# -- R2.5 / R4.3: provider-controlled strings are checked before they are stored ------------------

ECHOES: dict[str, dict[str, Any]] = {
    "id-is-the-key": {"id": CANARY_KEY},
    "id-holds-the-key": {"id": "gen-" + CANARY_KEY[3:]},
    "id-holds-the-prompt": {"id": "gen-" + CANARY_PROMPT.split()[0]},
    "id-with-spaces": {"id": CANARY_PROMPT},
    "id-very-long": {"id": "gen-" + "a" * 5000},
    "finish-holds-the-prompt": {"finish": CANARY_PROMPT},
    "finish-markup": {"finish": "<script>x</script>"},
    "header-holds-the-key": {"id": None, "header": CANARY_KEY},
}


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize("echo", list(ECHOES.values()), ids=list(ECHOES))
def test_r4_3_provider_labels_that_echo_are_not_stored(
    tmp_path: Path, echo: dict[str, Any], stream: bool
) -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 7, "cost": 0.00001}
    headers = {"X-Generation-Id": echo["header"]} if "header" in echo else {}
    finish = echo.get("finish", "stop")
    if stream:
        first = chunk("ok", id=echo.get("id"))
        last = chunk(usage=usage, finish=finish, id=echo.get("id"))
        canned = Canned(headers=headers, chunks=(sse(first, last, "[DONE]"),))
    else:
        body = json.loads(completion(usage, id=echo.get("id")))
        body["choices"][0]["finish_reason"] = finish
        canned = Canned(headers=headers, body=json.dumps(body).encode())
    app = hostile_app(tmp_path, canned)
    reply, exc = run(app, stream)
    assert exc is None or isinstance(exc, ByomError), repr(exc)
    exported = app.export_history("json") + app.export_history("csv")
    for text in (exported, repr(app.history()), repr(app.unreconciled()), repr(reply)):
        assert CANARY_KEY[3:] not in text, "a provider echo of the key was stored"
        assert "CANARY-PROMPT" not in text, "a provider echo of the prompt was stored"
        assert "<script>" not in text and "a" * 200 not in text
    app.forget_key()
    app.close()
    assert_files_clean(tmp_path)


def test_r2_5_a_raw_body_is_not_held_in_frames_that_raise(tmp_path: Path) -> None:
    """A malformed 200 whose body echoes the prompt: the error that leaves byom holds no frame
    with the body (adapters parse it several frames down)."""
    body = json.dumps({"choices": CANARY_PROMPT, "echo": CANARY_PROMPT}).encode()
    app = hostile_app(tmp_path, Canned(body=body))
    for stream in (False, True):
        if stream:
            app._transports.clear()
        _, exc = run(app, stream)
        assert isinstance(exc, ByomError), repr(exc)
        assert_exception_clean(exc)
        assert_exception_chain_cut(exc)
    app.close()


def test_r2_5_an_adapter_crash_on_a_hostile_body_is_a_bad_response(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An adapter bug met by hostile bytes (here any exception from the parser) settles the
    call as possibly charged and leaves as ``bad_response`` — never a raw exception, never a
    call stuck in flight."""
    app = hostile_app(
        tmp_path, Canned(body=completion({"prompt_tokens": 1, "completion_tokens": 1}))
    )

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise KeyError(CANARY_PROMPT)

    monkeypatch.setattr(type(app.adapter), "parse_response", crash)
    _, exc = run(app, False)
    assert isinstance(exc, BadResponse), repr(exc)
    assert_exception_clean(exc)
    assert not app.in_flight() and len(app.unreconciled()) == 1
    app.close()


Factory = Callable[..., byom.App]
