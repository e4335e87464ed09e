"""R8.1 / R1.2: a Gemini tool turn resumed in a later session still carries its signature.

Gemini 3 signs each function call with a ``thoughtSignature`` and refuses (HTTP 400) a
conversation that sends the call back without it (https://ai.google.dev/gemini-api/docs/
thought-signatures). The signature rides on ``ToolCall.extra_content`` in the shape Google's
OpenAI-compatible endpoint uses (``{"google": {"thought_signature": …}}``), so a conversation the
app saves as JSON and sends again from a new process — an adapter that remembers nothing — is
whole. The recorded sample is ``tests/fixtures/wire/gemini_generate_tool_call.json`` (source in
that folder's README).
"""

from __future__ import annotations

import json
from pathlib import Path

import byom
from byom.core.secret import Secret
from byom.core.tools import assistant_message, checked_calls, tool_message
from byom.providers.gemini import GeminiAdapter
from byom.providers.openai import OpenAIAdapter
from byom.sim import Simulator
from conftest import CANARY_KEY, user

WIRE = Path(__file__).parent / "fixtures" / "wire"


def _signature_in_sample() -> str:
    data = json.loads((WIRE / "gemini_generate_tool_call.json").read_bytes())
    return str(data["candidates"][0]["content"]["parts"][0]["thoughtSignature"])


def test_r8_1_recorded_signature_survives_a_saved_conversation() -> None:
    first_session = GeminiAdapter()
    result = first_session.parse_response(
        200, {}, (WIRE / "gemini_generate_tool_call.json").read_bytes()
    )
    [call] = checked_calls(result.tool_calls, offered=frozenset({"weather"}))
    signature = _signature_in_sample()
    assert call.extra_content == {"google": {"thought_signature": signature}}
    assert signature not in repr(call)
    saved = json.dumps(
        [
            {"role": "user", "content": "Weather in San Francisco?"},
            assistant_message("", [call]),
            tool_message(call, "18 degrees, fog"),
        ]
    )
    later_session = GeminiAdapter()  # a new process: nothing remembered
    request = later_session.chat_request(
        Secret("AIza-test"), model="gemini-3-pro-preview", messages=json.loads(saved),
        max_tokens=100, stream=False, params={},
    )  # fmt: skip
    model_turn = json.loads(request.body or b"")["contents"][1]
    assert model_turn["parts"][0]["thoughtSignature"] == signature


def test_r8_1_openai_compatible_extra_content_is_read_and_kept() -> None:
    """Google's OpenAI-compatible endpoint sends the signature as a call's ``extra_content``."""
    body = {
        "id": "x", "object": "chat.completion", "model": "gemini-2.5-flash",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "look", "arguments": "{\"q\": \"amber\"}"},
                "extra_content": {"google": {"thought_signature": "sig-abc"}}}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }  # fmt: skip
    result = OpenAIAdapter(base_url="https://example.invalid/v1").parse_response(
        200, {}, json.dumps(body).encode()
    )
    [call] = checked_calls(result.tool_calls, offered=frozenset({"look"}))
    assert call.extra_content == {"google": {"thought_signature": "sig-abc"}}


def test_r8_1_gemini_tool_turn_resumed_by_a_new_app(sim: Simulator, tmp_path: Path) -> None:
    """End to end against the simulator, which refuses an unsigned call like Gemini 3 does."""
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    tools = [
        {
            "type": "function",
            "function": {"name": "look", "description": "Look it up.", "parameters": schema},
        }
    ]
    feature = byom.Feature("research", "worker", "Looks things up")

    def session() -> byom.App:
        app = byom.App("Resume", features=[feature], data_dir=tmp_path / "data")
        app.connect("gemini", key=CANARY_KEY, base_url=sim.base_url)
        app.choose_model("research", "gemini-2.5-flash")
        return app

    with session() as app:
        conversation = user("find it")
        reply = app.chat("research", conversation, tools=tools, max_tokens=50)
        [call] = reply.tool_calls
        saved = json.dumps([*conversation, reply.message, tool_message(call, "found")])
    with session() as app:
        answer = app.chat("research", json.loads(saved), tools=tools, max_tokens=50)
    assert answer.text and not answer.tool_calls
