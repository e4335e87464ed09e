"""``byom sim`` speaking OpenRouter: catalog, chat, streaming, cost, generation, key, PKCE, CORS,
faults."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from byom.sim import SimError, Simulator
from conftest import wait_until

KEY = "sk-or-v1-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
MINI = "openai/gpt-4o-mini"
MINI_PROMPT = Decimal("0.00000015")
MINI_COMPLETION = Decimal("0.0000006")


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _clean(sim: Simulator) -> None:
    sim.reset()


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def toks(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 3)


def chat(
    http: httpx.Client, sim: Simulator, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    payload = {"model": MINI, "messages": [{"role": "user", "content": "hello"}], **body}
    return http.post(
        sim.openrouter_base + "/chat/completions",
        headers=AUTH if headers is None else headers,
        json=payload,
    )


def dec(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


def sse(text: str) -> list[str]:
    """Raw SSE blocks (events and comments), in order."""
    assert text.endswith("\n\n")
    return [block for block in text.split("\n\n") if block]


def data_events(text: str) -> list[Any]:
    out: list[Any] = []
    for block in sse(text):
        if block.startswith("data: ") and block != "data: [DONE]":
            out.append(json.loads(block[len("data: ") :], parse_float=Decimal))
    return out


def stream_text(http: httpx.Client, sim: Simulator, **body: Any) -> tuple[httpx.Response, str]:
    payload = {"model": MINI, "messages": [{"role": "user", "content": "hello"}], "stream": True}
    payload.update(body)
    with http.stream(
        "POST", sim.openrouter_base + "/chat/completions", headers=AUTH, json=payload
    ) as response:
        return response, response.read().decode()


# ---------------------------------------------------------------------- catalog


def test_models_catalog_in_real_shape_without_auth(sim: Simulator, http: httpx.Client) -> None:
    response = http.get(sim.openrouter_base + "/models")
    assert response.status_code == 200
    data = response.json()["data"]
    by_id = {m["id"]: m for m in data}
    for model_id in (
        "openai/gpt-4o-mini",
        "openai/gpt-4o",
        "anthropic/claude-sonnet-4.5",
        "anthropic/claude-haiku-4.5",
        "google/gemini-2.5-flash",
        "meta-llama/llama-3.3-70b-instruct",
        "meta-llama/llama-3.2-3b-instruct:free",
    ):
        model = by_id[model_id]
        assert {"id", "name", "created", "description", "context_length"} <= model.keys()
        pricing = model["pricing"]
        assert all(isinstance(v, str) for v in pricing.values())
        assert pricing["request"] == pricing["image"] == pricing["internal_reasoning"] == "0"
        assert {"input_cache_read", "input_cache_write"} <= pricing.keys()
        assert set(model["top_provider"]) >= {
            "context_length",
            "max_completion_tokens",
            "is_moderated",
        }
        assert model["architecture"]["input_modalities"] == ["text"]
        assert model["architecture"]["output_modalities"] == ["text"]
        assert "tokenizer" in model["architecture"]
        assert "max_tokens" in model["supported_parameters"]
    assert by_id[MINI]["pricing"]["prompt"] == "0.00000015"
    assert by_id[MINI]["pricing"]["completion"] == "0.0000006"
    free = by_id["meta-llama/llama-3.2-3b-instruct:free"]["pricing"]
    assert free["prompt"] == free["completion"] == "0"


def test_extra_models_and_endpoints_list_show_routed_price(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.config(
        extra_models=[{"id": "sim/new-model", "prompt": "0.000001", "completion": "0.000002"}],
        routed_price_multiplier="2",
    )
    ids = [m["id"] for m in http.get(sim.openrouter_base + "/models").json()["data"]]
    assert "sim/new-model" in ids
    assert chat(http, sim, model="sim/new-model").status_code == 200
    response = http.get(sim.openrouter_base + "/models/openai/gpt-4o-mini/endpoints")
    prices = [e["pricing"]["prompt"] for e in response.json()["data"]["endpoints"]]
    assert prices == ["0.00000015", "0.0000003"]


# ---------------------------------------------------------------------- chat


def test_chat_non_stream_shape_tokens_and_exact_cost(sim: Simulator, http: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "hé"}, {"type": "text", "text": "llo"}],
        },
    ]
    response = chat(http, sim, messages=messages)
    assert response.status_code == 200
    body = dec(response)
    assert re.fullmatch(r"gen-\d+-[0-9a-f]+", body["id"])
    assert response.headers["X-Generation-Id"] == body["id"]
    assert body["object"] == "chat.completion" and body["provider"] == "Sim"
    assert body["model"] == MINI and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["native_finish_reason"] == "stop"
    content = choice["message"]["content"]
    assert choice["message"]["role"] == "assistant" and content.startswith("Simulated reply: ")
    assert len(content.split()) == 42
    usage = body["usage"]
    prompt = (toks("You are terse.") + 3) + (toks("héllo") + 3) + 3
    assert usage["prompt_tokens"] == prompt == 16
    assert usage["completion_tokens"] == toks(content)
    assert usage["total_tokens"] == prompt + toks(content)
    assert usage["cost"] == prompt * MINI_PROMPT + toks(content) * MINI_COMPLETION
    assert isinstance(usage["cost"], Decimal)
    assert usage["is_byok"] is False
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0}
    raw_cost = re.search(rb'"cost":([^,}]+)', response.content)
    assert raw_cost is not None and b"e" not in raw_cost.group(1).lower()
    assert Decimal(raw_cost.group(1).decode()) == usage["cost"]
    [record] = sim.generations()
    assert record["id"] == body["id"] and Decimal(str(record["cost"])) == usage["cost"]


def test_reply_is_deterministic_and_does_not_echo(sim: Simulator, http: httpx.Client) -> None:
    secret = "my-private-prompt-words"
    first = chat(http, sim, messages=[{"role": "user", "content": secret}]).json()
    second = chat(http, sim, messages=[{"role": "user", "content": secret}]).json()
    other = chat(http, sim, messages=[{"role": "user", "content": secret + "?"}]).json()
    text = first["choices"][0]["message"]["content"]
    assert text == second["choices"][0]["message"]["content"]
    assert text != other["choices"][0]["message"]["content"]
    assert secret not in json.dumps(first) and "private" not in text
    assert first["id"] != second["id"]


def test_reply_words_config(sim: Simulator, http: httpx.Client) -> None:
    sim.config(reply_words=5)
    content = chat(http, sim).json()["choices"][0]["message"]["content"]
    assert len(content.split()) == 7 and content.endswith(".")


def test_max_tokens_truncates_with_length(sim: Simulator, http: httpx.Client) -> None:
    full = chat(http, sim).json()["choices"][0]["message"]["content"]
    body = dec(chat(http, sim, max_tokens=7))
    content = body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "length"
    assert full.startswith(content) and toks(content) <= 7 and content == full[:21]
    assert body["usage"]["completion_tokens"] == 7
    assert body["usage"]["cost"] == 8 * MINI_PROMPT + 7 * MINI_COMPLETION


def test_reasoning_only_marker(sim: Simulator, http: httpx.Client) -> None:
    body = chat(
        http, sim, messages=[{"role": "user", "content": "think [[reasoning-only]]"}]
    ).json()
    message = body["choices"][0]["message"]
    assert message["content"] == "" and message["reasoning"].startswith("Simulated reply:")
    usage = body["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == usage["completion_tokens"] > 0
    _, text = stream_text(http, sim, messages=[{"role": "user", "content": "[[reasoning-only]]"}])
    deltas = [e["choices"][0]["delta"] for e in data_events(text) if e["choices"]]
    assert "".join(d.get("reasoning", "") for d in deltas).startswith("Simulated reply:")
    assert "".join(d.get("content", "") for d in deltas) == ""


def test_free_model_costs_zero(sim: Simulator, http: httpx.Client) -> None:
    body = dec(chat(http, sim, model="meta-llama/llama-3.2-3b-instruct:free"))
    assert body["usage"]["cost"] == 0 and body["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Basic abc"}, 401),
        ({"Authorization": "Bearer sk-sim-bad-123"}, 401),
        ({"Authorization": "Bearer anything-else"}, 200),
    ],
)
def test_auth(sim: Simulator, http: httpx.Client, headers: dict[str, str], status: int) -> None:
    response = chat(http, sim, headers=headers)
    assert response.status_code == status
    if status == 401:
        error = response.json()["error"]
        assert error["code"] == 401 and isinstance(error["message"], str)
        assert "metadata" in error and "sk-sim-bad" not in response.text


def test_revoked_key_is_refused(sim: Simulator, http: httpx.Client) -> None:
    assert chat(http, sim).status_code == 200
    sim.revoke_key(KEY)
    assert chat(http, sim).status_code == 401
    assert http.get(sim.openrouter_base + "/key", headers=AUTH).status_code == 401
    http.post(sim.base_url + "/_sim/keys/revoke", json={"key": "other"})
    assert chat(http, sim, headers={"Authorization": "Bearer other"}).status_code == 401


def test_unknown_and_unavailable_models(sim: Simulator, http: httpx.Client) -> None:
    response = chat(http, sim, model="nope/model")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400
    assert response.json()["error"]["message"] == "nope/model is not a valid model ID"
    sim.config(unavailable_models=[MINI])
    response = chat(http, sim)
    assert response.status_code == 502 and response.json()["error"]["message"] == "model down"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"model": MINI}).encode(),
        json.dumps({"model": MINI, "messages": []}).encode(),
        json.dumps({"messages": [{"role": "user", "content": "x"}]}).encode(),
        json.dumps({"model": MINI, "messages": [{"role": "user"}], "max_tokens": -1}).encode(),
        json.dumps({"model": MINI, "messages": [{"role": "user"}], "stream": "yes"}).encode(),
    ],
)
def test_bad_requests_are_400(sim: Simulator, http: httpx.Client, body: bytes) -> None:
    response = http.post(sim.openrouter_base + "/chat/completions", headers=AUTH, content=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == 400


# ---------------------------------------------------------------------- price bound


def test_max_price_bound_refuses_with_503(sim: Simulator, http: httpx.Client) -> None:
    # gpt-4o-mini: 0.15 / 0.60 USD per million tokens.
    for bound in ({"prompt": 0.1, "completion": 1}, {"completion": "0.59"}):
        response = chat(http, sim, provider={"max_price": bound})
        assert response.status_code == 503
        error = response.json()["error"]
        assert error == {
            "code": 503,
            "message": "No endpoints found matching your data policy / max price",
            "metadata": {},
        }
    assert sim.generations() == []
    ok = chat(http, sim, provider={"max_price": {"prompt": "0.15", "completion": "0.6"}})
    assert ok.status_code == 200


def test_routed_multiplier_applies_only_without_max_price(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.config(routed_price_multiplier="1.5")
    routed = dec(chat(http, sim))["usage"]
    bounded = dec(chat(http, sim, provider={"max_price": {"prompt": 1, "completion": 1}}))["usage"]
    base = 8 * MINI_PROMPT + routed["completion_tokens"] * MINI_COMPLETION
    assert bounded["cost"] == base
    assert routed["cost"] == base * Decimal("1.5")


# ---------------------------------------------------------------------- streaming


def test_stream_framing_usage_last_and_done(sim: Simulator, http: httpx.Client) -> None:
    whole = dec(chat(http, sim))
    response, text = stream_text(http, sim)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["transfer-encoding"] == "chunked"
    blocks = sse(text)
    assert blocks[0] == ": OPENROUTER PROCESSING"
    assert sum(1 for b in blocks if b.startswith(":")) >= 2
    assert blocks[-1] == "data: [DONE]"
    events = data_events(text)
    gen_id = response.headers["X-Generation-Id"]
    assert all(e["id"] == gen_id and e["object"] == "chat.completion.chunk" for e in events)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    content_events = [e for e in events if e["choices"] and e["choices"][0]["delta"].get("content")]
    assert len(content_events) >= 5
    assert all(e["choices"][0]["finish_reason"] is None for e in content_events)
    content = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert content == whole["choices"][0]["message"]["content"]
    finish = events[-2]
    assert finish["choices"][0]["finish_reason"] == "stop"
    last = events[-1]
    assert last["choices"] == []
    assert last["usage"] == whole["usage"]
    assert all("usage" not in e for e in events[:-1])
    assert [g["streamed"] for g in sim.generations()] == [False, True]


def test_stream_honours_max_tokens(sim: Simulator, http: httpx.Client) -> None:
    _, text = stream_text(http, sim, max_tokens=5)
    events = data_events(text)
    content = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert toks(content) <= 5 and events[-2]["choices"][0]["finish_reason"] == "length"
    assert events[-1]["usage"]["completion_tokens"] == 5


def test_stream_delay_paces_pieces(sim: Simulator, http: httpx.Client) -> None:
    sim.config(stream_delay=0.02, reply_words=8)
    start = time.monotonic()
    stream_text(http, sim)
    assert time.monotonic() - start >= 0.02 * 3


# ---------------------------------------------------------------------- generation & key


def test_generation_is_404_then_200(sim: Simulator, http: httpx.Client) -> None:
    # A delay no machine outlasts, so the early lookup is a 404 however slow this one is.
    sim.config(generation_delay=3600)
    started = time.monotonic()
    body = dec(chat(http, sim))
    url = sim.openrouter_base + "/generation"
    early = http.get(url, params={"id": body["id"]}, headers=AUTH)
    assert early.status_code == 404
    assert early.json()["error"] == {"code": 404, "message": "Generation not found", "metadata": {}}
    sim.config(generation_delay=0.4)  # the delay counts from when the generation finished

    def found() -> httpx.Response | None:
        response = http.get(url, params={"id": body["id"]}, headers=AUTH)
        return response if response.status_code == 200 else None

    late = wait_until(found, "the generation to be found once generation_delay passed")
    assert time.monotonic() - started >= 0.4
    data = dec(late)["data"]
    assert data["id"] == body["id"] and data["model"] == MINI
    assert data["total_cost"] == body["usage"]["cost"]
    assert data["tokens_prompt"] == data["native_tokens_prompt"] == body["usage"]["prompt_tokens"]
    assert data["tokens_completion"] == data["native_tokens_completion"]
    assert data["native_tokens_reasoning"] == 0
    assert data["finish_reason"] == "stop" and data["cancelled"] is False
    assert data["provider_name"] == "Sim" and "created_at" in data
    assert http.get(url, params={"id": body["id"]}).status_code == 401
    other = {"Authorization": "Bearer another-key"}
    assert http.get(url, params={"id": body["id"]}, headers=other).status_code == 404
    assert http.get(url, params={"id": "gen-0-nope"}, headers=AUTH).status_code == 404


def test_key_endpoint_reports_usage_and_limit(sim: Simulator, http: httpx.Client) -> None:
    costs = [dec(chat(http, sim))["usage"]["cost"] for _ in range(3)]
    for path in ("/key", "/auth/key"):
        response = http.get(sim.openrouter_base + path, headers=AUTH)
        data = dec(response)["data"]
        assert data["usage"] == sum(costs) == data["usage_daily"] == data["usage_monthly"]
        assert data["usage_weekly"] == data["usage"]
        assert data["limit"] == 10 and data["limit_remaining"] == 10 - sum(costs)
        assert data["limit_reset"] is None and data["expires_at"] is None
        assert data["is_free_tier"] is False
        assert data["label"].startswith("sk-or-v1-sim") and KEY not in response.text
    other = dec(http.get(sim.openrouter_base + "/key", headers={"Authorization": "Bearer k2"}))
    assert other["data"]["usage"] == 0
    sim.config(key_limit=None)
    data = http.get(sim.openrouter_base + "/key", headers=AUTH).json()["data"]
    assert data["limit"] is None and data["limit_remaining"] is None
    assert http.get(sim.openrouter_base + "/key").status_code == 401
    bad = {"Authorization": "Bearer sk-sim-bad"}
    assert http.get(sim.openrouter_base + "/key", headers=bad).status_code == 401


def test_enforced_key_limit_gives_402(sim: Simulator, http: httpx.Client) -> None:
    sim.config(key_limit="0.00001", enforce_key_limit=True)
    assert chat(http, sim).status_code == 200  # usage 0 < limit
    response = chat(http, sim)
    assert response.status_code == 402
    assert response.json()["error"]["metadata"]["limit_source"] == "openrouter_key_limit"


# ---------------------------------------------------------------------- OAuth PKCE


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _authorize(http: httpx.Client, sim: Simulator, verifier: str, **extra: str) -> httpx.Response:
    params = {
        "callback_url": "http://localhost:3000/cb",
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return http.get(sim.base_url + "/auth", params=params)


def test_pkce_roundtrip(sim: Simulator, http: httpx.Client) -> None:
    verifier = "v" * 20 + "-verifier-with-enough-entropy-0123456789"
    response = _authorize(http, sim, verifier)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "localhost:3000", "/cb")
    code = parse_qs(location.query)["code"][0]
    keys_url = sim.openrouter_base + "/auth/keys"
    wrong = http.post(
        keys_url,
        json={"code": code, "code_verifier": "wrong" * 10, "code_challenge_method": "S256"},
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == 403
    good = http.post(
        keys_url, json={"code": code, "code_verifier": verifier, "code_challenge_method": "S256"}
    )
    assert good.status_code == 200
    key = good.json()["key"]
    assert re.fullmatch(r"sk-or-v1-sim-[0-9a-f]+", key) and good.json()["user_id"] == "user_sim"
    again = http.post(
        keys_url, json={"code": code, "code_verifier": verifier, "code_challenge_method": "S256"}
    )
    assert again.status_code == 400  # one-shot
    assert chat(http, sim, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    unknown = http.post(keys_url, json={"code": "nope", "code_verifier": verifier})
    assert unknown.status_code == 400


def test_pkce_interactive_page_and_bad_params(sim: Simulator, http: httpx.Client) -> None:
    verifier = "x" * 50
    page = _authorize(http, sim, verifier, interactive="1")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    match = re.search(r'href="([^"]+)">Authorize<', page.text)
    assert match is not None and match.group(1).startswith("http://localhost:3000/cb?code=")
    params = {"callback_url": "javascript:alert(1)", "code_challenge": _challenge(verifier)}
    assert http.get(sim.base_url + "/auth", params=params).status_code == 400
    params = {"callback_url": "http://127.0.0.1:9/cb", "code_challenge": "short"}
    assert http.get(sim.base_url + "/auth", params=params).status_code == 400
    response = _authorize(http, sim, verifier, code_challenge_method="S512")
    assert response.status_code == 400


# ---------------------------------------------------------------------- CORS


def test_cors_preflight_and_exposed_headers(sim: Simulator, http: httpx.Client) -> None:
    preflight = http.request(
        "OPTIONS",
        sim.openrouter_base + "/chat/completions",
        headers={
            "Origin": "http://localhost:8000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    allowed = {h.strip() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-openrouter-title", "x-api-key"} <= allowed
    assert {"anthropic-version", "anthropic-dangerous-direct-browser-access"} <= allowed
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    for response in (chat(http, sim), chat(http, sim, headers={}), http.get(sim.base_url + "/x")):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Access-Control-Expose-Headers"] == "X-Generation-Id, Retry-After"
    counts = sim.counts()
    assert counts["OPTIONS /api/v1/chat/completions"] == 1
    assert counts["/api/v1/chat/completions"] == 2


# ---------------------------------------------------------------------- faults


@pytest.mark.parametrize("status", [401, 402, 403, 408, 429, 500, 502, 503])
def test_status_faults_in_openrouter_shape(sim: Simulator, http: httpx.Client, status: int) -> None:
    sim.push_faults([{"status": status}])
    response = chat(http, sim, messages=[{"role": "user", "content": "PROMPT-SECRET"}])
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == status and isinstance(error["message"], str)
    assert isinstance(error["metadata"], dict)
    assert "PROMPT-SECRET" not in response.text and KEY not in response.text
    if status == 402:
        assert error["metadata"]["limit_source"] == "openrouter_credits"
    if status == 403:
        assert error["metadata"]["reasons"] == ["sim"]
        assert error["metadata"]["flagged_input"] == "(redacted by sim)"
    if status == 429:
        assert response.headers["Retry-After"] == "1"
    assert chat(http, sim).status_code == 200  # consumed: the next one is normal
    assert len(sim.generations()) == 1


def test_429_retry_after_and_fifo_order(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"status": 429, "retry_after": 7}, {"status": 503}])
    assert http.get(sim.openrouter_base + "/models").status_code == 200  # not a chat request
    first = chat(http, sim)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert chat(http, sim).status_code == 503
    assert chat(http, sim).status_code == 200


def test_slow_first_byte(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 0.3}])
    start = time.monotonic()
    response = chat(http, sim)
    assert response.status_code == 200 and time.monotonic() - start >= 0.3
    # Far longer than the client waits: the client times out, hangs up, and that ends the wait.
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}])
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            sim.openrouter_base + "/chat/completions",
            headers=AUTH,
            json={"model": MINI, "messages": [{"role": "user", "content": "x"}]},
            timeout=0.1,
        )
    # The abandoned request is settled now, not an hour later (in some other test's simulator).
    wait_until(lambda: len(sim.generations()) == 2, "the abandoned request to be settled")


def test_release_ends_a_slow_first_byte_wait(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"kind": "slow_first_byte", "seconds": 3600}])
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(chat, http, sim)
        wait_until(lambda: sim.counts()["/api/v1/chat/completions"] == 1, "the request")
        assert not pending.done()
        sim.release()
        assert pending.result().status_code == 200


def test_cut_before_usage_stream_records_cancelled_generation(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.config(generation_delay=0)
    whole = dec(chat(http, sim))
    sim.push_faults([{"kind": "cut_before_usage"}])
    received: list[str] = []
    payload = {"model": MINI, "messages": [{"role": "user", "content": "hello"}], "stream": True}
    with pytest.raises(httpx.RemoteProtocolError):
        with http.stream(
            "POST", sim.openrouter_base + "/chat/completions", headers=AUTH, json=payload
        ) as response:
            gen_id = response.headers["X-Generation-Id"]
            for line in response.iter_lines():
                received.append(line)
    assert "data: [DONE]" not in received
    assert not any('"usage"' in line for line in received)
    content = "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content", "")
        for line in received
        if line.startswith("data: ")
    )
    assert content == whole["choices"][0]["message"]["content"]
    generation = dec(
        http.get(sim.openrouter_base + "/generation", params={"id": gen_id}, headers=AUTH)
    )["data"]
    assert generation["cancelled"] is True
    assert generation["total_cost"] == whole["usage"]["cost"]  # whole reply was sent
    assert generation["tokens_completion"] == toks(content)


def test_cut_before_usage_non_stream(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"kind": "cut_before_usage"}])
    with pytest.raises(httpx.RemoteProtocolError):
        chat(http, sim)
    [record] = sim.generations()
    assert record["cancelled"] is True and record["tokens_completion"] == 0
    assert Decimal(str(record["cost"])) == 8 * MINI_PROMPT
    assert chat(http, sim).status_code == 200  # the server is fine afterwards


def test_midstream_error_event(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"kind": "midstream_error", "code": 502}])
    response, text = stream_text(http, sim)
    assert response.status_code == 200
    events = data_events(text)
    error_event = events[-1]
    assert error_event["error"]["code"] == 502
    assert error_event["error"]["message"] == "upstream error"
    assert error_event["choices"][0]["finish_reason"] == "error"
    assert not any("usage" in e for e in events) and "[DONE]" not in text
    sent = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert sent.startswith("Simulated reply:")
    [record] = sim.generations()
    assert record["finish_reason"] == "error" and record["tokens_completion"] == toks(sent)
    assert Decimal(str(record["cost"])) == 8 * MINI_PROMPT + toks(sent) * MINI_COMPLETION


def test_midstream_error_non_stream(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"kind": "midstream_error"}])
    response = chat(http, sim)
    body = response.json()
    assert response.status_code == 200 and body["error"]["code"] == 502
    assert body["choices"][0]["finish_reason"] == "error" and "usage" not in body


def test_malformed_json(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"kind": "malformed_json"}, {"kind": "malformed_json"}])
    response = chat(http, sim)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    _, text = stream_text(http, sim)
    bad = [b for b in sse(text) if b.startswith("data: ")]
    with pytest.raises(json.JSONDecodeError):
        for block in bad:
            json.loads(block[6:])
    assert chat(http, sim).status_code == 200


def test_finish_error(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"kind": "finish_error"}, {"kind": "finish_error"}])
    body = chat(http, sim).json()
    assert body["choices"][0]["finish_reason"] == "error" and body["usage"]["cost"] > 0
    _, text = stream_text(http, sim)
    events = data_events(text)
    assert events[-2]["choices"][0]["finish_reason"] == "error" and "usage" in events[-1]


def _stream_pieces(response: httpx.Response, count: int) -> list[str]:
    """Read the stream until ``count`` content pieces have arrived; return them."""
    pieces: list[str] = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            delta = json.loads(line[6:])["choices"][0]["delta"].get("content", "")
            if delta:
                pieces.append(delta)
        if len(pieces) == count:
            break
    return pieces


def test_client_hangup_mid_stream_is_a_cancelled_generation(
    sim: Simulator, http: httpx.Client
) -> None:
    # The stream holds after two pieces until the client hangs up: it cannot finish first.
    sim.config(reply_words=40, stream_hold_after=2)
    payload = {"model": MINI, "messages": [{"role": "user", "content": "hello"}], "stream": True}
    with http.stream(
        "POST", sim.openrouter_base + "/chat/completions", headers=AUTH, json=payload
    ) as response:
        received = _stream_pieces(response, 2)
    # leaving the block hangs up mid-stream
    assert len(received) == 2 and received[0].startswith("Simulated")
    wait_until(sim.generations, "the simulator to record the hang-up")
    [record] = sim.generations()
    assert record["cancelled"] is True and record["finish_reason"] is None
    assert record["tokens_completion"] == toks("".join(received))
    whole = dec(chat(http, sim))
    assert 0 < toks("".join(received)) < whole["usage"]["completion_tokens"]


def test_stream_hold_is_released(sim: Simulator, http: httpx.Client) -> None:
    with pytest.raises(SimError):
        sim.config(stream_hold_after=-1)
    sim.config(stream_hold_after=0)
    payload = {"model": MINI, "messages": [{"role": "user", "content": "hello"}], "stream": True}
    with http.stream(
        "POST", sim.openrouter_base + "/chat/completions", headers=AUTH, json=payload
    ) as response:
        sim.release()  # it has arrived: its hold ends, and the stream carries on to its end
        text = "".join(f"{line}\n" for line in response.iter_lines())
    assert "data: [DONE]" in text
    [record] = sim.generations()
    assert record["cancelled"] is False and record["finish_reason"] == "stop"
