"""``byom sim`` speaking Gemini (issue 12): the shapes a real client sees on the wire, compared
with what the real API sends (the recorded samples in ``tests/fixtures/wire/``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from byom.sim import Simulator, reply_text

KEY = "AIza-test-0123456789"
HEADERS = {"x-goog-api-key": KEY}
WIRE = Path(__file__).parent / "fixtures" / "wire"
MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(generation_delay=0) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _clean(sim: Simulator) -> None:
    sim.reset()
    sim.config(generation_delay=0)


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def toks(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 3)


def body(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}],
            "generationConfig": {"maxOutputTokens": 300}, **extra}  # fmt: skip


def url(sim: Simulator, method: str = "generateContent", model: str = MODEL) -> str:
    suffix = "?alt=sse" if method == "streamGenerateContent" else ""
    return f"{sim.base_url}/v1beta/models/{model}:{method}{suffix}"


def test_gemini_reply_has_the_recorded_shape(sim: Simulator, http: httpx.Client) -> None:
    response = http.post(url(sim), headers=HEADERS, json=body("hello"))
    assert response.status_code == 200
    data = response.json()
    recorded = json.loads((WIRE / "gemini_generate_text.json").read_bytes())
    assert set(data) == set(recorded)  # candidates, usageMetadata, modelVersion, responseId
    candidate = data["candidates"][0]
    assert set(candidate) <= set(recorded["candidates"][0]) | {"index"}
    text = reply_text(["hello"], 40)
    assert candidate["content"] == {"parts": [{"text": text}], "role": "model"}
    assert candidate["finishReason"] == "STOP"
    usage = data["usageMetadata"]
    assert usage["promptTokenCount"] == toks("hello") + 3 + 3
    assert usage["candidatesTokenCount"] == toks(text)
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    [generation] = sim.generations()
    assert generation["format"] == "gemini" and generation["id"] == data["responseId"]


def test_gemini_stream_is_sse_without_an_end_marker(sim: Simulator, http: httpx.Client) -> None:
    with http.stream(
        "POST", url(sim, "streamGenerateContent"), headers=HEADERS, json=body()
    ) as response:
        raw = response.read()
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in raw.split(b"\r\n\r\n") if e]
    assert all(e.startswith(b"data: ") for e in events) and b"[DONE]" not in raw
    chunks = [json.loads(e[6:]) for e in events]
    assert [("finishReason" in c["candidates"][0]) for c in chunks][-1] is True
    assert not any("finishReason" in c["candidates"][0] for c in chunks[:-1])
    text = "".join(p["text"] for c in chunks for p in c["candidates"][0]["content"]["parts"])
    assert text == reply_text(["hello"], 40)
    counts = [c["usageMetadata"]["candidatesTokenCount"] for c in chunks]
    assert counts == sorted(counts) and counts[-1] == toks(text)  # the usage so far, each time


def test_gemini_needs_alt_sse_to_stream(sim: Simulator, http: httpx.Client) -> None:
    response = http.post(
        f"{sim.base_url}/v1beta/models/{MODEL}:streamGenerateContent", headers=HEADERS, json=body()
    )
    assert response.status_code == 400


def test_gemini_key_refusals(sim: Simulator, http: httpx.Client) -> None:
    missing = http.post(url(sim), json=body())
    assert missing.status_code == 403 and missing.json()["error"]["status"] == "PERMISSION_DENIED"
    bad = http.post(url(sim), headers={"x-goog-api-key": "sk-sim-bad-1"}, json=body())
    recorded = json.loads((WIRE / "gemini_error_api_key_invalid.json").read_bytes())
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["status"] == recorded["error"]["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    assert error["details"][0]["@type"] == recorded["error"]["details"][0]["@type"]
    in_url = http.post(url(sim) + f"?key={KEY}", json=body())
    assert in_url.status_code == 400  # byom must never put the key in the URL
    sim.push_faults([{"status": 401}])
    fault = http.post(url(sim), headers=HEADERS, json=body())
    assert fault.status_code == 400 and fault.json()["error"]["details"][0]["reason"] == (
        "API_KEY_INVALID"
    )


def test_gemini_429_carries_retry_info(sim: Simulator, http: httpx.Client) -> None:
    sim.push_faults([{"status": 429, "retry_after": 3}])
    response = http.post(url(sim), headers=HEADERS, json=body())
    assert response.status_code == 429 and "retry-after" not in response.headers
    error = response.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"} in error[
        "details"
    ]


def test_gemini_models_and_unknown_model(sim: Simulator, http: httpx.Client) -> None:
    listed = http.get(sim.base_url + "/v1beta/models", headers=HEADERS).json()["models"]
    names = {m["name"] for m in listed}
    assert "models/gemini-2.5-flash" in names and "models/text-embedding-004" in names
    assert http.get(sim.base_url + f"/v1beta/models/{MODEL}", headers=HEADERS).status_code == 200
    missing = http.post(url(sim, model="gemini-nope"), headers=HEADERS, json=body())
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"


def test_gemini_tool_turn_and_signatures(sim: Simulator, http: httpx.Client) -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "look",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"q": {"type": "string"}},
                        "required": ["q"],
                    },
                }
            ]
        }
    ]
    first = http.post(url(sim), headers=HEADERS, json=body("find it", tools=tools)).json()
    [part] = first["candidates"][0]["content"]["parts"]
    assert part["functionCall"] == {"name": "look", "args": {"q": "amber"}}
    assert part["thoughtSignature"].startswith("sim-signature-")
    assert first["candidates"][0]["finishReason"] == "STOP"
    history = body("find it", tools=tools)
    answer = {
        "role": "user",
        "parts": [{"functionResponse": {"name": "look", "response": {"result": "found"}}}],
    }
    unsigned = {"role": "model", "parts": [{"functionCall": part["functionCall"]}]}
    history["contents"] += [unsigned, answer]
    refused = http.post(url(sim), headers=HEADERS, json=history)
    assert refused.status_code == 400  # Gemini 3: a call must come back with its signature
    history["contents"][1] = first["candidates"][0]["content"]
    second = http.post(url(sim), headers=HEADERS, json=history).json()
    assert "text" in second["candidates"][0]["content"]["parts"][0]  # tool_steps=1: an answer


def test_gemini_structured_output(sim: Simulator, http: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    config = {"maxOutputTokens": 300, "responseMimeType": "application/json",
              "responseJsonSchema": schema}  # fmt: skip
    data = http.post(url(sim), headers=HEADERS, json=body(generationConfig=config)).json()
    assert json.loads(data["candidates"][0]["content"]["parts"][0]["text"]) == {"n": 0}
