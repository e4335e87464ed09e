"""``byom sim`` speaking OpenAI, Anthropic and Ollama, plus the ``/_sim/`` control endpoints."""

from __future__ import annotations

import http.client as httplib
import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from byom.sim import Simulator

KEY = "sk-test-0123456789"
BEARER = {"Authorization": f"Bearer {KEY}"}
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


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


def user(text: str = "hello") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def openai_chat(http: httpx.Client, sim: Simulator, **body: Any) -> httpx.Response:
    payload = {"model": "gpt-4o-mini", "messages": user(), **body}
    return http.post(sim.openai_base + "/chat/completions", headers=BEARER, json=payload)


def anthropic_msg(
    http: httpx.Client, sim: Simulator, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    payload = {"model": "claude-haiku-4-5", "max_tokens": 200, "messages": user(), **body}
    return http.post(
        sim.base_url + "/v1/messages",
        headers=ANTHROPIC if headers is None else headers,
        json=payload,
    )


def sse_data(text: str) -> list[Any]:
    out = []
    for block in text.split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: ") and line != "data: [DONE]":
                out.append(json.loads(line[6:]))
    return out


def stream(
    http: httpx.Client, url: str, headers: dict[str, str], payload: Any
) -> tuple[httpx.Response, str]:
    with http.stream("POST", url, headers=headers, json=payload) as response:
        return response, response.read().decode()


# ---------------------------------------------------------------------- OpenAI


def test_openai_non_stream_shape_without_cost(sim: Simulator, http: httpx.Client) -> None:
    response = openai_chat(http, sim)
    assert response.status_code == 200 and "X-Generation-Id" not in response.headers
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and message["content"].startswith("Simulated reply: ")
    usage = body["usage"]
    assert "cost" not in usage
    assert usage["prompt_tokens"] == toks("hello") + 3 + 3
    assert usage["completion_tokens"] == toks(message["content"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert body["choices"][0]["finish_reason"] == "stop"
    [record] = sim.generations()
    assert record["format"] == "openai" and record["cost"] is None


def test_openai_max_completion_tokens_and_reasoning(sim: Simulator, http: httpx.Client) -> None:
    body = openai_chat(http, sim, max_completion_tokens=4).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] <= 4
    body = openai_chat(http, sim, model="o4-mini", messages=user("[[reasoning-only]]")).json()
    assert body["choices"][0]["message"]["content"] == ""
    usage = body["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == usage["completion_tokens"] > 0


def test_openai_stream_without_and_with_include_usage(sim: Simulator, http: httpx.Client) -> None:
    whole = openai_chat(http, sim).json()
    url = sim.openai_base + "/chat/completions"
    payload: dict[str, Any] = {"model": "gpt-4o-mini", "messages": user(), "stream": True}
    _, text = stream(http, url, BEARER, payload)
    events = sse_data(text)
    assert text.rstrip().endswith("data: [DONE]")
    assert all(e["usage"] is None for e in events) and all(e["choices"] for e in events)
    content = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert content == whole["choices"][0]["message"]["content"]
    _, text = stream(http, url, BEARER, {**payload, "stream_options": {"include_usage": True}})
    events = sse_data(text)
    assert all(e["usage"] is None for e in events[:-1])
    assert events[-1]["choices"] == [] and events[-1]["usage"] == whole["usage"]
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


def test_openai_reject_stream_options_flag(sim: Simulator, http: httpx.Client) -> None:
    sim.config(reject_stream_options=True)
    response = openai_chat(http, sim, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert openai_chat(http, sim, stream=True).status_code == 200


def test_openai_models_and_errors(sim: Simulator, http: httpx.Client) -> None:
    listing = http.get(sim.openai_base + "/models").json()
    assert listing["object"] == "list"
    ids = {m["id"] for m in listing["data"]}
    assert {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini", "llama3.2:3b"} <= ids
    assert all(m["object"] == "model" and "owned_by" in m for m in listing["data"])
    bad_key = {"Authorization": "Bearer sk-sim-bad-x"}
    assert http.get(sim.openai_base + "/models", headers=bad_key).status_code == 401
    response = openai_chat(http, sim, model="gpt-9")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert openai_chat(http, sim, model="qwen2.5:7b").status_code == 200  # Ollama's /v1
    response = http.post(sim.openai_base + "/chat/completions", json={"model": "gpt-4o"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] is None


@pytest.mark.parametrize(
    ("status", "err_type"),
    [(401, "invalid_request_error"), (429, "requests"), (500, "server_error")],
)
def test_openai_fault_shape(sim: Simulator, http: httpx.Client, status: int, err_type: str) -> None:
    sim.push_faults([{"status": status}])
    response = openai_chat(http, sim)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == err_type and set(error) == {"message", "type", "param", "code"}


def test_openai_stream_faults(sim: Simulator, http: httpx.Client) -> None:
    url = sim.openai_base + "/chat/completions"
    payload = {"model": "gpt-4o-mini", "messages": user(), "stream": True}
    sim.push_faults([{"kind": "midstream_error", "code": 500}])
    response, text = stream(http, url, BEARER, payload)
    assert response.status_code == 200
    assert sse_data(text)[-1]["error"]["message"] == "upstream error"
    sim.push_faults([{"kind": "cut_before_usage"}])
    with pytest.raises(httpx.RemoteProtocolError):
        stream(http, url, BEARER, {**payload, "stream_options": {"include_usage": True}})
    sim.push_faults([{"kind": "midstream_error", "code": 503}])
    assert openai_chat(http, sim).status_code == 503


# ---------------------------------------------------------------------- Anthropic


def test_anthropic_message_shape_and_system(sim: Simulator, http: httpx.Client) -> None:
    system = [{"type": "text", "text": "Be brief."}]
    response = anthropic_msg(http, sim, system=system)
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["id"].startswith("msg_") and body["model"] == "claude-haiku-4-5"
    text = body["content"][0]["text"]
    assert body["content"] == [{"type": "text", "text": text}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"] == {
        "input_tokens": (toks("Be brief.") + 3) + (toks("hello") + 3) + 3,
        "output_tokens": toks(text),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    plain = anthropic_msg(http, sim, system="Be brief.").json()
    assert plain["usage"]["input_tokens"] == body["usage"]["input_tokens"]
    assert plain["content"][0]["text"] == text  # same texts → same reply
    short = anthropic_msg(http, sim, max_tokens=3).json()
    assert short["stop_reason"] == "max_tokens" and short["usage"]["output_tokens"] <= 3


def test_anthropic_request_checks(sim: Simulator, http: httpx.Client) -> None:
    missing_key = anthropic_msg(http, sim, headers={"anthropic-version": "2023-06-01"})
    assert missing_key.status_code == 401
    assert missing_key.json() == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "x-api-key header is required"},
    }
    bad = anthropic_msg(http, sim, headers={**ANTHROPIC, "x-api-key": "sk-sim-bad-1"})
    assert bad.status_code == 401 and bad.json()["error"]["type"] == "authentication_error"
    no_version = anthropic_msg(http, sim, headers={"x-api-key": KEY})
    assert no_version.status_code == 400
    assert no_version.json()["error"]["type"] == "invalid_request_error"
    payload = {"model": "claude-haiku-4-5", "messages": user()}
    no_max = http.post(sim.base_url + "/v1/messages", headers=ANTHROPIC, json=payload)
    assert no_max.status_code == 400 and no_max.json()["error"]["type"] == "invalid_request_error"
    unknown = anthropic_msg(http, sim, model="claude-9")
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    ("status", "err_type"),
    [
        (402, "billing_error"),
        (403, "permission_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_anthropic_fault_types(
    sim: Simulator, http: httpx.Client, status: int, err_type: str
) -> None:
    sim.push_faults([{"status": status, "retry_after": 3}])
    response = anthropic_msg(http, sim)
    assert response.status_code == status
    assert response.json()["type"] == "error" and response.json()["error"]["type"] == err_type
    if status == 429:
        assert response.headers["Retry-After"] == "3"


def test_anthropic_stream_event_sequence(sim: Simulator, http: httpx.Client) -> None:
    whole = anthropic_msg(http, sim).json()
    payload = {"model": "claude-haiku-4-5", "max_tokens": 200, "messages": user(), "stream": True}
    response, text = stream(http, sim.base_url + "/v1/messages", ANTHROPIC, payload)
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in text.split("\n\n") if b]
    names = [b.split("\n")[0].removeprefix("event: ") for b in blocks]
    deltas = names.count("content_block_delta")
    assert deltas >= 5
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    events = sse_data(text)
    assert all(e["type"] == n for e, n in zip(events, names, strict=True))
    start = events[0]["message"]
    assert start["usage"]["input_tokens"] == whole["usage"]["input_tokens"]
    assert start["usage"]["output_tokens"] == 1 and start["content"] == []
    text_out = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text_out == whole["content"][0]["text"]
    delta = events[-2]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"] == {"output_tokens": whole["usage"]["output_tokens"]}


def test_anthropic_stream_faults(sim: Simulator, http: httpx.Client) -> None:
    payload = {"model": "claude-haiku-4-5", "max_tokens": 200, "messages": user(), "stream": True}
    url = sim.base_url + "/v1/messages"
    sim.push_faults([{"kind": "midstream_error"}, {"kind": "finish_error"}])
    response, text = stream(http, url, ANTHROPIC, payload)
    assert response.status_code == 200
    last = text.rstrip("\n").split("\n\n")[-1]
    assert last.startswith("event: error\n")
    assert sse_data(last)[0] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    _, text = stream(http, url, ANTHROPIC, payload)
    delta = next(e for e in sse_data(text) if e["type"] == "message_delta")
    assert delta["delta"]["stop_reason"] == "refusal"


def test_anthropic_count_tokens_and_models(sim: Simulator, http: httpx.Client) -> None:
    payload = {"model": "claude-sonnet-4-5", "system": "sys", "messages": user("count me")}
    response = http.post(
        sim.base_url + "/v1/messages/count_tokens", headers=ANTHROPIC, json=payload
    )
    assert response.json() == {"input_tokens": (toks("sys") + 3) + (toks("count me") + 3) + 3}
    sim.push_faults([{"status": 500}])
    again = http.post(sim.base_url + "/v1/messages/count_tokens", headers=ANTHROPIC, json=payload)
    assert again.status_code == 200 and sim.faults() == [{"kind": "status", "status": 500}]
    listing = http.get(sim.base_url + "/v1/models", headers=ANTHROPIC).json()
    ids = [m["id"] for m in listing["data"]]
    assert {"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"} <= set(ids)
    assert listing["has_more"] is False and listing["data"][0]["type"] == "model"


# ---------------------------------------------------------------------- Ollama


def test_ollama_tags(sim: Simulator, http: httpx.Client) -> None:
    models = http.get(sim.base_url + "/api/tags").json()["models"]
    names = {m["name"] for m in models}
    assert {"llama3.2:3b", "qwen2.5:7b"} <= names
    for model in models:
        assert model["model"] == model["name"]
        assert {"modified_at", "size", "digest", "details"} <= model.keys()


def test_ollama_streams_ndjson_by_default(sim: Simulator, http: httpx.Client) -> None:
    payload = {"model": "llama3.2:3b", "messages": user()}
    response, text = stream(http, sim.base_url + "/api/chat", {}, payload)
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in text.splitlines()]
    assert all(line["done"] is False for line in lines[:-1]) and len(lines) >= 5
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    content = "".join(line["message"]["content"] for line in lines[:-1])
    assert final["prompt_eval_count"] == toks("hello") + 6
    assert final["eval_count"] == toks(content)
    for name in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert isinstance(final[name], int) and final[name] > 0
    whole = http.post(sim.base_url + "/api/chat", json={**payload, "stream": False}).json()
    assert whole["done"] is True and whole["message"]["content"] == content
    assert whole["eval_count"] == final["eval_count"]


def test_ollama_num_predict_and_errors(sim: Simulator, http: httpx.Client) -> None:
    url = sim.base_url + "/api/chat"
    payload = {"model": "qwen2.5:7b", "messages": user(), "stream": False}
    short = http.post(url, json={**payload, "options": {"num_predict": 2}}).json()
    assert short["done_reason"] == "length" and short["eval_count"] <= 2
    unlimited = http.post(url, json={**payload, "options": {"num_predict": -1}}).json()
    assert unlimited["done_reason"] == "stop"
    missing = http.post(url, json={**payload, "model": "mistral:7b"})
    assert missing.status_code == 404 and isinstance(missing.json()["error"], str)
    sim.push_faults([{"status": 500}, {"kind": "midstream_error"}])
    assert http.post(url, json=payload).json() == {"error": "Internal server error"}
    _, text = stream(http, url, {}, {**payload, "stream": True})
    assert json.loads(text.splitlines()[-1]) == {"error": "upstream error"}


# ---------------------------------------------------------------------- control


def test_requests_are_counted_on_arrival_before_faults(sim: Simulator, http: httpx.Client) -> None:
    counts = http.get(sim.base_url + "/_sim/requests").json()
    assert counts["/api/v1/chat/completions"] == 0 and counts["/v1/messages"] == 0
    http.post(sim.base_url + "/_sim/faults", json={"faults": [{"status": 503}]})
    assert openai_chat(http, sim).status_code == 503
    anthropic_msg(http, sim)
    http.post(sim.base_url + "/api/chat", json={"model": "nope", "messages": []})
    counts = http.get(sim.base_url + "/_sim/requests").json()
    assert counts["/v1/chat/completions"] == 1
    assert counts["/v1/messages"] == 1 and counts["/api/chat"] == 1
    assert counts["/api/v1/chat/completions"] == 0
    assert not any(k.startswith("/_sim") for k in counts)


def test_reset_clears_everything(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"status": 500}])
    sim.config(reply_words=3)
    anthropic_msg(http, sim)
    sim.push_faults([{"status": 500}])
    assert http.post(sim.base_url + "/_sim/reset").json() == {"ok": True}
    assert http.get(sim.base_url + "/_sim/faults").json() == {"faults": []}
    assert http.get(sim.base_url + "/_sim/generations").json() == []
    assert http.get(sim.base_url + "/_sim/config").json()["reply_words"] == 40
    assert set(http.get(sim.base_url + "/_sim/requests").json().values()) == {0}


def test_fault_queue_over_http(sim: Simulator, http: httpx.Client) -> None:
    faults = [{"status": 429, "retry_after": 2}, {"kind": "slow_first_byte", "seconds": 0}]
    response = http.post(sim.base_url + "/_sim/faults", json={"faults": faults})
    assert response.json()["queued"] == 2
    listed = http.get(sim.base_url + "/_sim/faults").json()["faults"]
    assert listed == [
        {"kind": "status", "status": 429, "retry_after": 2},
        {"kind": "slow_first_byte", "seconds": 0.0},
    ]
    for bad in ({"faults": [{"kind": "explode"}]}, {"faults": "x"}, {"nope": 1}):
        assert http.post(sim.base_url + "/_sim/faults", json=bad).status_code == 400
    assert len(http.get(sim.base_url + "/_sim/faults").json()["faults"]) == 2
    assert anthropic_msg(http, sim).status_code == 429  # Anthropic takes from the same queue
    assert openai_chat(http, sim).status_code == 200
    assert http.get(sim.base_url + "/_sim/faults").json() == {"faults": []}


def test_config_over_http(sim: Simulator, http: httpx.Client) -> None:
    config = http.get(sim.base_url + "/_sim/config").json()
    assert config["generation_delay"] == 0.5 and config["routed_price_multiplier"] == "1"
    assert config["key_limit"] == "10" and config["reject_stream_options"] is False
    changed = http.post(
        sim.base_url + "/_sim/config",
        json={"routed_price_multiplier": "1.5", "unavailable_models": ["gpt-4o"], "key_limit": "5"},
    ).json()
    assert changed["routed_price_multiplier"] == "1.5" and changed["key_limit"] == "5"
    assert changed["unavailable_models"] == ["gpt-4o"] and changed["reply_words"] == 40
    response = openai_chat(http, sim, model="gpt-4o")
    assert response.status_code == 502 and response.json()["error"]["message"] == "model down"
    bad = http.post(sim.base_url + "/_sim/config", json={"reply_words": "many"})
    assert bad.status_code == 400
    assert http.post(sim.base_url + "/_sim/config", content=b"{oops").status_code == 400
    assert http.get(sim.base_url + "/_sim/nothing").status_code == 404


def test_generations_listing(sim: Simulator, http: httpx.Client) -> None:
    openai_chat(http, sim)
    anthropic_msg(http, sim)
    http.post(
        sim.base_url + "/api/chat",
        json={"model": "llama3.2:3b", "messages": user(), "stream": False},
    )
    records = http.get(sim.base_url + "/_sim/generations").json()
    assert [r["format"] for r in records] == ["openai", "anthropic", "ollama"]
    assert all(r["cost"] is None and r["tokens_prompt"] == 8 for r in records)
    assert all(KEY not in json.dumps(r) for r in records)


def test_keep_alive_serves_many_requests_on_one_connection(sim: Simulator) -> None:
    conn = httplib.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    body = json.dumps({"model": "gpt-4o-mini", "messages": user()})
    headers = {**BEARER, "Content-Type": "application/json"}
    try:
        for _ in range(3):
            conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read())["object"]
            conn.request("POST", "/v1/chat/completions", body="{}", headers=headers)
            error = conn.getresponse()
            assert error.status == 400
            error.read()
            conn.request(
                "POST",
                "/v1/chat/completions",
                body=body[:-1] + ', "stream": true}',
                headers=headers,
            )
            streamed = conn.getresponse()
            assert streamed.getheader("Transfer-Encoding") == "chunked"
            assert streamed.read().endswith(b"data: [DONE]\n\n")
    finally:
        conn.close()
    assert sim.counts()["/v1/chat/completions"] == 9


def test_stop_closes_idle_connections_and_frees_the_port() -> None:
    sim = Simulator().start()
    conn = httplib.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    conn.request("GET", "/api/tags")
    assert conn.getresponse().read()
    sim.stop()
    with pytest.raises((ConnectionError, httplib.HTTPException, OSError)):
        conn.request("GET", "/api/tags")
        conn.getresponse().read()
    conn.close()
