"""The simulator's deterministic rules: tokens, reply text, prices, catalogs and exact JSON.

Everything here is pure (no I/O, no clock, no randomness) so other byom code and its tests can
recompute exactly what the simulator will answer. The rules are restated in ``byom.sim``'s module
docstring; change both together.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

REASONING_MARKER: Final = "[[reasoning-only]]"
REPLY_PREFIX: Final = "Simulated reply:"
PER_MESSAGE_OVERHEAD: Final = 3
PRIMING_OVERHEAD: Final = 3
MILLION: Final = Decimal(1_000_000)

# 64 plain words: a byte of hash output picks one (b % 64), so the choice is uniform.
WORDS: Final[tuple[str, ...]] = (
    "amber", "anchor", "apple", "arrow", "aspen", "autumn", "bamboo", "basil",
    "beacon", "birch", "breeze", "bridge", "canyon", "cedar", "cloud", "comet",
    "copper", "coral", "crystal", "delta", "desert", "dune", "echo", "ember",
    "falcon", "fern", "field", "flint", "forest", "garden", "glacier", "granite",
    "harbor", "hazel", "horizon", "island", "ivory", "jasper", "lagoon", "lantern",
    "lemon", "maple", "meadow", "meteor", "mint", "nectar", "oak", "ocean",
    "olive", "orbit", "pebble", "pine", "prairie", "quartz", "river", "saffron",
    "shadow", "silver", "spruce", "stone", "summit", "thunder", "valley", "willow",
)  # fmt: skip
assert len(WORDS) == 64


def tokens(text: str) -> int:
    """Simulated token count of ``text``: ``ceil(len(text.encode("utf-8")) / 3)``."""
    return (len(text.encode("utf-8")) + 2) // 3


def content_text(content: object) -> str:
    """The text of a message ``content``: a string as is; a list of parts → the ``text`` of its
    ``{"type": "text", "text": ...}`` parts concatenated with no separator; anything else → ""."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out: list[str] = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text":
                text = part.get("text")
                if isinstance(text, str):
                    out.append(text)
        return "".join(out)
    return ""


def prompt_tokens(texts: Sequence[str]) -> int:
    """Prompt tokens for the message texts: ``sum(tokens(t) + 3) + 3``."""
    return sum(tokens(t) + PER_MESSAGE_OVERHEAD for t in texts) + PRIMING_OVERHEAD


#: Top-level request fields a provider templates into the prompt (tool schemas, formats).
BILLED_FIELDS: Final = (
    "tools", "functions", "tool_choice", "function_call", "response_format", "format",
)  # fmt: skip
#: Content-part types not billed by their bytes (images: the simulator does not bill them).
_UNBILLED_PARTS: Final = frozenset({"text", "image_url", "input_image", "image"})


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def structure_tokens(body: Mapping[str, Any]) -> int:
    """Prompt tokens for what a chat request carries besides message text (R8.5).

    ``tokens()`` of the compact JSON of: the :data:`BILLED_FIELDS` present (one object), each
    message's fields other than ``role``, ``content`` and ``images``, and each content part that
    is neither a text part nor an image (``tool_use``, ``tool_result``, …). Never more than the
    UTF-8 bytes of that JSON.
    """
    total = 0
    billed = {name: body[name] for name in BILLED_FIELDS if body.get(name) is not None}
    if billed:
        total += tokens(_compact(billed))
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, Mapping):
            continue
        extra = {k: v for k, v in message.items() if k not in ("role", "content", "images")}
        if extra:
            total += tokens(_compact(extra))
        content = message.get("content")
        for part in content if isinstance(content, list) else ():
            if not (isinstance(part, Mapping) and part.get("type") in _UNBILLED_PARTS):
                total += tokens(_compact(part))
    return total


def reply_text(texts: Sequence[str], words: int) -> str:
    """The deterministic reply for a prompt made of ``texts``.

    seed = sha256("\\n".join(texts) as UTF-8); block i = sha256(seed + i as 4 big-endian bytes);
    each byte b of blocks 0, 1, … in order picks ``WORDS[b % 64]`` until ``words`` are chosen.
    Reply = "Simulated reply: w1 w2 … wn." ("Simulated reply." when words == 0). It contains only
    the fixed prefix and fixed words, so it never echoes the prompt.
    """
    if words <= 0:
        return "Simulated reply."
    seed = hashlib.sha256("\n".join(texts).encode("utf-8")).digest()
    chosen: list[str] = []
    block_index = 0
    while len(chosen) < words:
        block = hashlib.sha256(seed + block_index.to_bytes(4, "big")).digest()
        block_index += 1
        for byte in block[: words - len(chosen)]:
            chosen.append(WORDS[byte % 64])
    return f"{REPLY_PREFIX} {' '.join(chosen)}."


def truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut characters off the end of ``text`` until ``tokens(text) <= max_tokens``.

    Returns ``(text, truncated)``; ``max_tokens=None`` means no bound.
    """
    if max_tokens is None or tokens(text) <= max_tokens:
        return text, False
    if max_tokens <= 0:
        return "", True
    cut = text[: max_tokens * 3]  # at least one byte per character: never too short
    while tokens(cut) > max_tokens:
        cut = cut[:-1]
    return cut, True


def split_pieces(text: str, words_per_piece: int) -> list[str]:
    """Split ``text`` into stream pieces of ``words_per_piece`` words each (the separating spaces
    stay with the preceding piece), so ``"".join(pieces) == text``. Empty text → ``[]``."""
    if not text:
        return []
    size = max(1, words_per_piece)
    words = text.split(" ")
    pieces: list[str] = []
    for start in range(0, len(words), size):
        group = words[start : start + size]
        last = start + size >= len(words)
        pieces.append(" ".join(group) + ("" if last else " "))
    return pieces


def has_reasoning_marker(texts: Iterable[str]) -> bool:
    """True when any message text contains ``[[reasoning-only]]``."""
    return any(REASONING_MARKER in t for t in texts)


def cost(
    prompt_tok: int, completion_tok: int, prompt_price: Decimal, completion_price: Decimal
) -> Decimal:
    """Exact USD cost: prompt_tokens × prompt price + completion_tokens × completion price."""
    return prompt_tok * prompt_price + completion_tok * completion_price


# --------------------------------------------------------------------------- exact JSON


def decimal_text(value: Decimal) -> str:
    """Plain decimal text (no exponent, trailing zeros dropped): 0.0000375, 12, 0."""
    if not value.is_finite():
        raise ValueError("non-finite decimal")
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


_encode_str: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _encode(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        out.append(decimal_text(value))
    elif isinstance(value, float):
        out.append(repr(value))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: object) -> str:
    """JSON text where every ``Decimal`` is written as its exact plain decimal number."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def dumpb(value: object) -> bytes:
    """``dumps`` as UTF-8 bytes (ASCII in practice)."""
    return dumps(value).encode("ascii")


def loads(data: bytes | str) -> Any:
    """Parse JSON with every non-integer number as ``Decimal``."""
    return json.loads(data, parse_float=Decimal)


# --------------------------------------------------------------------------- catalogs


@dataclass(frozen=True, slots=True)
class OpenRouterModel:
    """One priced model of the simulated OpenRouter catalog (prices in USD per token)."""

    id: str
    name: str
    prompt: Decimal
    completion: Decimal
    context_length: int
    max_completion_tokens: int | None
    tokenizer: str
    created: int
    input_cache_read: Decimal = Decimal(0)
    input_cache_write: Decimal = Decimal(0)
    reasoning: bool = False

    def entry(self) -> dict[str, object]:
        """The model in the real ``GET /api/v1/models`` shape (prices as strings)."""
        params = [
            "frequency_penalty",
            "max_tokens",
            "presence_penalty",
            "response_format",
            "seed",
            "stop",
            "temperature",
            "tool_choice",
            "tools",
            "top_p",
        ]
        if self.reasoning:
            params += ["include_reasoning", "reasoning"]
        return {
            "id": self.id,
            "canonical_slug": self.id,
            "name": self.name,
            "created": self.created,
            "description": f"{self.name}, served by the byom provider simulator.",
            "context_length": self.context_length,
            "architecture": {
                "modality": "text->text",
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "tokenizer": self.tokenizer,
                "instruct_type": None,
            },
            "pricing": {
                "prompt": decimal_text(self.prompt),
                "completion": decimal_text(self.completion),
                "request": "0",
                "image": "0",
                "web_search": "0",
                "internal_reasoning": "0",
                "input_cache_read": decimal_text(self.input_cache_read),
                "input_cache_write": decimal_text(self.input_cache_write),
            },
            "top_provider": {
                "context_length": self.context_length,
                "max_completion_tokens": self.max_completion_tokens,
                "is_moderated": self.id.startswith(("openai/", "anthropic/")),
            },
            "per_request_limits": None,
            "supported_parameters": sorted(params),
        }


def _d(text: str) -> Decimal:
    return Decimal(text)


OPENROUTER_MODELS: Final[tuple[OpenRouterModel, ...]] = (
    OpenRouterModel(
        "openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", _d("0.00000015"), _d("0.0000006"),
        128000, 16384, "GPT", 1721260800, _d("0.000000075"),
    ),
    OpenRouterModel(
        "openai/gpt-4o", "OpenAI: GPT-4o", _d("0.0000025"), _d("0.00001"),
        128000, 16384, "GPT", 1715558400, _d("0.00000125"),
    ),
    OpenRouterModel(
        "openai/o4-mini", "OpenAI: o4 Mini", _d("0.0000011"), _d("0.0000044"),
        200000, 100000, "GPT", 1744820942, _d("0.000000275"), reasoning=True,
    ),
    OpenRouterModel(
        "anthropic/claude-sonnet-4.5", "Anthropic: Claude Sonnet 4.5", _d("0.000003"),
        _d("0.000015"), 1000000, 64000, "Claude", 1759161676, _d("0.0000003"),
        _d("0.00000375"), reasoning=True,
    ),
    OpenRouterModel(
        "anthropic/claude-haiku-4.5", "Anthropic: Claude Haiku 4.5", _d("0.000001"),
        _d("0.000005"), 200000, 64000, "Claude", 1760547638, _d("0.0000001"),
        _d("0.00000125"), reasoning=True,
    ),
    OpenRouterModel(
        "google/gemini-2.5-flash", "Google: Gemini 2.5 Flash", _d("0.0000003"), _d("0.0000025"),
        1048576, 65535, "Gemini", 1750172488, _d("0.000000075"), _d("0.0000003833"),
        reasoning=True,
    ),
    OpenRouterModel(
        "meta-llama/llama-3.3-70b-instruct", "Meta: Llama 3.3 70B Instruct", _d("0.00000013"),
        _d("0.0000004"), 131072, 16384, "Llama3", 1733506137,
    ),
    OpenRouterModel(
        "meta-llama/llama-3.2-3b-instruct:free", "Meta: Llama 3.2 3B Instruct (free)", _d("0"),
        _d("0"), 131072, 8192, "Llama3", 1727222400,
    ),
)  # fmt: skip

OPENAI_MODELS: Final[tuple[str, ...]] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini")
OPENAI_CREATED: Final = 1715367049
ANTHROPIC_MODELS: Final[tuple[tuple[str, str, str], ...]] = (
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z"),
    ("claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
    ("claude-opus-4-1", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
)
OLLAMA_MODELS: Final[tuple[tuple[str, int, str, str, str], ...]] = (
    # name, size in bytes, family, parameter size, quantization
    ("llama3.2:3b", 2019393189, "llama", "3.2B", "Q4_K_M"),
    ("qwen2.5:7b", 4683087332, "qwen2", "7.6B", "Q4_K_M"),
)
OLLAMA_MODIFIED_AT: Final = "2025-01-01T00:00:00Z"


def pkce_challenge(verifier: str) -> str:
    """``base64url(sha256(verifier))`` without padding (PKCE S256)."""
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
