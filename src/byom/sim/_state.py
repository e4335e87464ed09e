"""The simulator's mutable state: counters, fault queue, generations, keys, OAuth codes, config.

One lock guards everything; every method is short so thousands of requests per second are fine.
Keys are never stored: only a SHA-256 fingerprint (for revocation, usage and generation ownership).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from byom.sim._rules import OpenRouterModel, decimal_text

# Paths reported by ``GET /_sim/requests`` even before anything arrived.
KNOWN_PATHS: Final[tuple[str, ...]] = (
    "/api/v1/chat/completions",
    "/api/v1/models",
    "/api/v1/generation",
    "/api/v1/key",
    "/api/v1/auth/key",
    "/api/v1/auth/keys",
    "/auth",
    "/v1/chat/completions",
    "/v1/models",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/api/chat",
    "/api/tags",
)

FAULT_STATUSES: Final = frozenset({400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503, 529})
FAULT_KINDS: Final = frozenset(
    {"status", "slow_first_byte", "cut_before_usage", "midstream_error", "malformed_json",
     "finish_error"}
)  # fmt: skip


#: Boolean config switches.
_FLAGS: Final = frozenset(
    {"reject_stream_options", "enforce_key_limit", "malformed_tool_arguments",
     "stream_cut_in_tool_arguments", "malformed_output"}
)  # fmt: skip
#: Largest ``tool_argument_bytes`` (16 MiB: far past any real tool call).
MAX_ARGUMENT_BYTES: Final = 16 * 1024 * 1024


class SimError(ValueError):
    """A control call with an invalid argument (the control endpoints answer 400)."""


def key_fingerprint(key: str) -> str:
    """A stable, non-reversible name for a key (never the key itself)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool):
        raise SimError(f"{name}: expected a decimal")
    if isinstance(value, int | Decimal | str):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise SimError(f"{name}: expected a decimal") from exc
        if result.is_finite():
            return result
    if isinstance(value, float):
        return Decimal(repr(value))
    raise SimError(f"{name}: expected a decimal")


def _seconds(value: object, name: str) -> float:
    seconds = float(_decimal(value, name))
    if seconds < 0:
        raise SimError(f"{name}: must be >= 0")
    return seconds


def _count(value: object, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise SimError(f"{name}: expected an integer")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise SimError(f"{name}: expected an integer")
    number = int(value)
    if number < minimum:
        raise SimError(f"{name}: must be >= {minimum}")
    return number


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise SimError(f"{name}: expected true or false")
    return value


def _extra_model(value: object) -> OpenRouterModel:
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str) or not value["id"]:
        raise SimError("extra_models: each entry needs an id, prompt and completion")
    model_id: str = value["id"]
    context = _count(value.get("context_length", 32768), "extra_models.context_length", 1)
    most = value.get("max_completion_tokens")
    if most is not None:
        most = _count(most, "extra_models.max_completion_tokens", 1)
    return OpenRouterModel(
        id=model_id,
        name=str(value.get("name", model_id)),
        prompt=_decimal(value.get("prompt"), "extra_models.prompt"),
        completion=_decimal(value.get("completion"), "extra_models.completion"),
        context_length=context,
        max_completion_tokens=most,
        tokenizer="Other",
        created=1735689600,
    )


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Behaviour switches (``POST /_sim/config`` sets any subset)."""

    generation_delay: float = 0.5
    reply_words: int = 40
    routed_price_multiplier: Decimal = Decimal(1)
    unavailable_models: frozenset[str] = frozenset()
    reject_stream_options: bool = False
    key_limit: Decimal | None = Decimal(10)
    enforce_key_limit: bool = False
    stream_delay: float = 0.0
    stream_chunk_words: int = 4
    stream_hold_after: int | None = None
    extra_models: tuple[OpenRouterModel, ...] = ()
    tool_steps: int = 1
    tool_name: str | None = None
    parallel_tool_calls: int = 1
    tool_argument_bytes: int | None = None
    malformed_tool_arguments: bool = False
    stream_cut_in_tool_arguments: bool = False
    malformed_output: bool = False
    web_search_requests: int = 0
    #: The page origins the simulated Ollama answers, as a real Ollama answers only the origins
    #: in ``OLLAMA_ORIGINS`` (a page from any other origin gets a 403 without CORS headers, so
    #: its ``fetch`` fails). ``None``: every origin.
    ollama_origins: tuple[str, ...] | None = None

    def updated(self, changes: Mapping[str, object]) -> SimConfig:
        """A copy with ``changes`` applied; unknown names or bad values raise ``SimError``."""
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "generation_delay":
                values[name] = _seconds(value, name)
            elif name == "stream_delay":
                values[name] = _seconds(value, name)
            elif name == "reply_words":
                values[name] = _count(value, name)
            elif name == "stream_chunk_words":
                values[name] = _count(value, name, 1)
            elif name == "stream_hold_after":
                values[name] = None if value is None else _count(value, name)
            elif name == "routed_price_multiplier":
                multiplier = _decimal(value, name)
                if multiplier <= 0:
                    raise SimError(f"{name}: must be > 0")
                values[name] = multiplier
            elif name == "unavailable_models":
                if isinstance(value, str) or not isinstance(value, Iterable):
                    raise SimError(f"{name}: expected a list of model ids")
                models = list(value)
                if not all(isinstance(m, str) for m in models):
                    raise SimError(f"{name}: expected a list of model ids")
                values[name] = frozenset(models)
            elif name in _FLAGS:
                values[name] = _flag(value, name)
            elif name in ("tool_steps", "web_search_requests"):
                values[name] = _count(value, name)
            elif name == "parallel_tool_calls":
                values[name] = _count(value, name, 1)
            elif name == "tool_argument_bytes":
                size = None if value is None else _count(value, name)
                if size is not None and size > MAX_ARGUMENT_BYTES:
                    raise SimError(f"{name}: must be <= {MAX_ARGUMENT_BYTES}")
                values[name] = size
            elif name == "tool_name":
                if value is not None and (not isinstance(value, str) or not value):
                    raise SimError(f"{name}: expected a non-empty string or null")
                values[name] = value
            elif name == "key_limit":
                values[name] = None if value is None else _decimal(value, name)
            elif name == "ollama_origins":
                if value is not None and (
                    isinstance(value, str)
                    or not isinstance(value, list | tuple)
                    or not all(isinstance(o, str) for o in value)
                ):
                    raise SimError(f"{name}: expected a list of origins or null")
                values[name] = None if value is None else tuple(value)
            elif name == "extra_models":
                if not isinstance(value, list | tuple):
                    raise SimError(f"{name}: expected a list")
                values[name] = tuple(_extra_model(v) for v in value)
            else:
                raise SimError(f"unknown config option: {name}")
        return replace(self, **values)

    def as_json(self) -> dict[str, object]:
        """The config as JSON data (money as decimal strings)."""
        return {
            "generation_delay": self.generation_delay,
            "reply_words": self.reply_words,
            "routed_price_multiplier": decimal_text(self.routed_price_multiplier),
            "unavailable_models": sorted(self.unavailable_models),
            "reject_stream_options": self.reject_stream_options,
            "key_limit": None if self.key_limit is None else decimal_text(self.key_limit),
            "enforce_key_limit": self.enforce_key_limit,
            "stream_delay": self.stream_delay,
            "stream_chunk_words": self.stream_chunk_words,
            "stream_hold_after": self.stream_hold_after,
            "extra_models": [
                {
                    "id": m.id,
                    "name": m.name,
                    "prompt": decimal_text(m.prompt),
                    "completion": decimal_text(m.completion),
                    "context_length": m.context_length,
                    **(
                        {"max_completion_tokens": m.max_completion_tokens}
                        if m.max_completion_tokens is not None
                        else {}
                    ),
                }
                for m in self.extra_models
            ],
            "tool_steps": self.tool_steps,
            "tool_name": self.tool_name,
            "parallel_tool_calls": self.parallel_tool_calls,
            "tool_argument_bytes": self.tool_argument_bytes,
            "malformed_tool_arguments": self.malformed_tool_arguments,
            "stream_cut_in_tool_arguments": self.stream_cut_in_tool_arguments,
            "malformed_output": self.malformed_output,
            "web_search_requests": self.web_search_requests,
            "ollama_origins": None if self.ollama_origins is None else list(self.ollama_origins),
        }


def normalize_fault(fault: object) -> dict[str, object]:
    """Validate one fault and return its canonical form (raises ``SimError``)."""
    if not isinstance(fault, Mapping):
        raise SimError("a fault is a JSON object")
    kind = fault.get("kind", "status" if "status" in fault else None)
    if kind not in FAULT_KINDS:
        raise SimError(f"unknown fault kind: {kind!r}")
    if kind == "status":
        status = _count(fault.get("status"), "status", 400)
        if status not in FAULT_STATUSES:
            raise SimError(f"unsupported fault status: {status}")
        out: dict[str, object] = {"kind": "status", "status": status}
        if status == 429:
            out["retry_after"] = _count(fault.get("retry_after", 1), "retry_after")
        return out
    if kind == "slow_first_byte":
        return {"kind": kind, "seconds": _seconds(fault.get("seconds", 1), "seconds")}
    if kind == "midstream_error":
        code = _count(fault.get("code", 502), "code", 400)
        return {"kind": kind, "code": code}
    return {"kind": kind}


@dataclass(slots=True)
class Generation:
    """What the simulator charged for one chat request (all formats; cost only for OpenRouter)."""

    id: str
    format: str
    model: str
    tokens_prompt: int
    tokens_completion: int
    tokens_reasoning: int
    cost: Decimal | None
    finish_reason: str | None
    cancelled: bool
    streamed: bool
    created_at: str
    finished_at: float = field(repr=False)
    key_fp: str | None = field(default=None, repr=False)
    #: The request's serial (``Simulator.mark`` counts them): not part of the JSON record.
    serial: int = field(default=0, repr=False)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "format": self.format,
            "model": self.model,
            "tokens_prompt": self.tokens_prompt,
            "tokens_completion": self.tokens_completion,
            "tokens_reasoning": self.tokens_reasoning,
            "cost": None if self.cost is None else decimal_text(self.cost),
            "finish_reason": self.finish_reason,
            "cancelled": self.cancelled,
            "streamed": self.streamed,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class _OAuthCode:
    challenge: str
    method: str


def now_iso() -> str:
    """The current UTC time as ISO 8601 with a ``Z`` suffix."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SimState:
    """All mutable simulator state behind one lock."""

    def __init__(self, defaults: SimConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._defaults = defaults or SimConfig()
        self._releases = 0  # bumped by release(); waits in progress watch it
        self._clear()

    def _clear(self) -> None:
        self.config: SimConfig = self._defaults
        self._counts: dict[str, int] = dict.fromkeys(KNOWN_PATHS, 0)
        self._faults: deque[dict[str, object]] = deque()
        self._generations: dict[str, Generation] = {}
        self._usage: dict[str, Decimal] = {}
        self._revoked: set[str] = set()
        self._codes: dict[str, _OAuthCode] = {}
        self._serial = 0

    # ------------------------------------------------------------------ control

    def reset(self) -> None:
        with self._lock:
            self._clear()

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def push_faults(self, faults: Iterable[object]) -> int:
        normalized = [normalize_fault(f) for f in faults]
        with self._lock:
            self._faults.extend(normalized)
            return len(self._faults)

    def pop_fault(self) -> dict[str, object] | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def faults(self) -> list[dict[str, object]]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def configure(self, changes: Mapping[str, object]) -> SimConfig:
        with self._lock:
            self.config = self.config.updated(changes)
            return self.config

    def release(self) -> None:
        """End the slow-first-byte waits and stream holds of every request that arrived so far."""
        with self._lock:
            self._releases += 1

    def releases(self) -> int:
        with self._lock:
            return self._releases

    def revoke(self, key: str) -> None:
        with self._lock:
            self._revoked.add(key_fingerprint(key))

    # ------------------------------------------------------------------ keys

    def key_valid(self, key: str) -> bool:
        """Any non-empty key is valid except ``sk-sim-bad…`` ones and revoked ones."""
        if not key or key.startswith("sk-sim-bad"):
            return False
        fp = key_fingerprint(key)
        with self._lock:
            return fp not in self._revoked

    def key_usage(self, fp: str) -> Decimal:
        with self._lock:
            return self._usage.get(fp, Decimal(0))

    # ------------------------------------------------------------------ generations

    def mark(self) -> int:
        """The latest serial handed out: requests planned later have a greater one."""
        with self._lock:
            return self._serial

    def next_serial(self) -> int:
        with self._lock:
            self._serial += 1
            return self._serial

    def record(self, generation: Generation) -> None:
        """Store a finished generation and charge its cost to the key."""
        with self._lock:
            self._generations[generation.id] = generation
            if generation.cost is not None and generation.key_fp is not None:
                self._usage[generation.key_fp] = (
                    self._usage.get(generation.key_fp, Decimal(0)) + generation.cost
                )

    def generations(self, since: int = 0) -> list[Generation]:
        """Generations in the order they were recorded; with ``since``, only those of requests
        planned after ``mark()`` returned it."""
        with self._lock:
            return [g for g in self._generations.values() if g.serial > since]

    def lookup_generation(self, gen_id: str, key_fp: str) -> Generation | None:
        """The generation if it belongs to the key and ``generation_delay`` has passed."""
        with self._lock:
            generation = self._generations.get(gen_id)
            delay = self.config.generation_delay
        if generation is None or generation.key_fp != key_fp or generation.format != "openrouter":
            return None
        if time.monotonic() < generation.finished_at + delay:
            return None
        return generation

    # ------------------------------------------------------------------ OAuth PKCE

    def new_code(self, challenge: str, method: str) -> str:
        with self._lock:
            self._serial += 1
            digest = hashlib.sha256(f"code:{self._serial}:{challenge}".encode()).hexdigest()
            code = f"sim-code-{self._serial}-{digest[:16]}"
            self._codes[code] = _OAuthCode(challenge, method)
            return code

    def peek_code(self, code: str) -> tuple[str, str] | None:
        with self._lock:
            entry = self._codes.get(code)
            return None if entry is None else (entry.challenge, entry.method)

    def consume_code(self, code: str) -> bool:
        with self._lock:
            return self._codes.pop(code, None) is not None
