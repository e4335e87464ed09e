"""A scripted provider for run tests: each chat request gets the next scripted OpenRouter-shaped
answer (a tool-call turn or a text answer) with usage and the cost it reports.

Plugged in through ``App(transport_factory=...)`` like :mod:`_hostile`; it keeps the parsed
request bodies so a test can check what byom sent back (tool results, tools offered).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from byom.providers.base import HttpRequest


def tool_turn(*calls: tuple[str, Mapping[str, Any] | str], cost: str = "0.001") -> dict[str, Any]:
    """A reply asking for tools: ``(name, arguments)`` pairs (a string is sent as it is)."""
    return {
        "tool_calls": [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for i, (name, args) in enumerate(calls)
        ],
        "cost": cost,
    }


def answer(text: str, cost: str = "0.001") -> dict[str, Any]:
    return {"text": text, "cost": cost}


def body_for(step: Mapping[str, Any], serial: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.get("text")}
    if step.get("tool_calls"):
        message["tool_calls"] = step["tool_calls"]
    return {
        "id": f"gen-scripted-{serial:06d}",
        "object": "chat.completion",
        "model": "openai/gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if step.get("tool_calls") else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "cost": float(Decimal(step["cost"])),
        },
    }


@dataclass
class Script:
    steps: list[dict[str, Any]]
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def next(self, request: HttpRequest) -> bytes:
        request.wire_headers()
        self.bodies.append(json.loads(request.body or b"{}"))
        step = self.steps.pop(0) if self.steps else answer("done")
        return json.dumps(body_for(step, len(self.bodies))).encode()


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def iter_bytes(self) -> Iterator[bytes]:
        yield self.body

    def read(self) -> bytes:
        return self.body


class ScriptedTransport:
    def __init__(self, script: Script) -> None:
        self.script = script

    def send(self, request: HttpRequest) -> _Response:
        return _Response(200, {"content-type": "application/json"}, self.script.next(request))

    @contextmanager
    def stream(self, request: HttpRequest) -> Iterator[_Response]:
        raise AssertionError("the scripted provider does not stream")
        yield  # pragma: no cover

    def close(self) -> None:
        pass


class _AsyncResponse(_Response):
    async def read(self) -> bytes:  # type: ignore[override]
        return self.body


class AsyncScriptedTransport(ScriptedTransport):
    async def send(self, request: HttpRequest) -> _Response:  # type: ignore[override]
        return _AsyncResponse(200, {"content-type": "application/json"}, self.script.next(request))

    async def aclose(self) -> None:
        pass


def scripted(steps: Sequence[dict[str, Any]]) -> tuple[Script, dict[str, Any]]:
    script = Script(list(steps))
    return script, {
        "transport_factory": lambda origin: ScriptedTransport(script),
        "async_transport_factory": lambda origin: AsyncScriptedTransport(script),
    }
