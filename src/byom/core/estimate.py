"""Pre-flight estimation (R3.1, R3.2, R3.7).

An estimate bounds what a request may cost *before* it is sent. Output is bounded by
``max_tokens``, which byom always sends, so the provider enforces it. Input is estimated:

* :class:`CharEstimator` (default) — ``ceil(characters / 4)`` plus a per-message overhead; close
  to real counts for English text, but it can under-estimate (code, other scripts).
* :class:`StrictEstimator` — UTF-8 bytes plus overhead. A byte-level BPE tokenizer never emits
  more tokens than bytes, so this is an upper bound and the allowance cannot be overshot by
  estimation error.

An estimate guards spend. It is never shown to the user as a cost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from byom.core.catalog import Price
from byom.core.errors import InvalidRequest

Message = Mapping[str, Any]

#: Tokens a chat format adds around each message (role markers, separators).
MESSAGE_OVERHEAD = 4
#: Tokens added once per request (the assistant's reply priming).
REQUEST_OVERHEAD = 3
#: Tokens assumed for a non-text content part (an image), which text rules cannot bound.
NON_TEXT_PART_TOKENS = 2_000
#: Roles byom passes to providers.
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


class Estimator(Protocol):
    """Counts input tokens for a list of chat messages. Pluggable (e.g. a real tokenizer)."""

    def input_tokens(self, messages: Sequence[Message]) -> int: ...


def message_texts(message: Message) -> tuple[list[str], int]:
    """The text parts of one message and the number of non-text parts."""
    content = message.get("content")
    if content is None:
        return [], 0
    if isinstance(content, str):
        return [content], 0
    texts: list[str] = []
    other = 0
    if isinstance(content, Sequence):
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                other += 1
        return texts, other
    raise InvalidRequest("A message's content must be text or a list of parts.")


def validate_messages(messages: Any) -> list[dict[str, Any]]:
    """Check the shape of chat messages and return plain dict copies.

    Raises :class:`InvalidRequest` (without echoing any content) for anything else.
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise InvalidRequest("Messages must be a non-empty list of {role, content} items.")
    out: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, Mapping) or message.get("role") not in ROLES:
            raise InvalidRequest("Each message needs a role (system, user or assistant).")
        message_texts(message)
        out.append(dict(message))
    return out


@dataclass(frozen=True, slots=True)
class CharEstimator:
    """``ceil(characters / 4)`` per text, plus overheads. The default."""

    chars_per_token: int = 4
    message_overhead: int = MESSAGE_OVERHEAD

    def input_tokens(self, messages: Sequence[Message]) -> int:
        total = REQUEST_OVERHEAD
        for message in messages:
            texts, other = message_texts(message)
            chars = sum(len(t) for t in texts)
            total += math.ceil(chars / self.chars_per_token) + self.message_overhead
            total += other * NON_TEXT_PART_TOKENS
        return total


@dataclass(frozen=True, slots=True)
class StrictEstimator:
    """UTF-8 bytes plus overheads: an upper bound for byte-level BPE tokenizers."""

    message_overhead: int = MESSAGE_OVERHEAD

    def input_tokens(self, messages: Sequence[Message]) -> int:
        total = REQUEST_OVERHEAD
        for message in messages:
            texts, other = message_texts(message)
            total += sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
            total += self.message_overhead + other * NON_TEXT_PART_TOKENS
        return total


@dataclass(frozen=True, slots=True)
class Estimate:
    """A worst-case bound for one request: tokens in, tokens out, and the money they could cost."""

    input_tokens: int
    output_tokens: int
    price: Price
    amount: Decimal

    @classmethod
    def of(cls, input_tokens: int, output_tokens: int, price: Price) -> Estimate:
        amount = (
            input_tokens * max(price.prompt, price.cache_write or Decimal(0))
            + output_tokens * price.completion
            + price.request
        )
        return cls(input_tokens, output_tokens, price, amount)
