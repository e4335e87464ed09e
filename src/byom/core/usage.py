"""What a request used and cost (R4.1–R4.3), and what a caller gets back.

``cost`` is ``None`` when it is not known yet or cannot be known — never a made-up zero.
``cost_source`` says where a known figure came from:

* ``"provider"`` — the amount the provider reports having charged (OpenRouter ``usage.cost``);
* ``"computed"`` — real tokens × catalog price, for providers that report tokens but no cost;
* ``"free"`` — a local or free model: zero, with tokens still recorded;
* ``"unknown"`` — tokens came back but the price is unknown, so the cost is unknown;
* ``"unreconciled"`` — no usage came back; the estimate counts against the allowance until the
  real cost is reconciled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

CostSource = Literal["provider", "computed", "free", "unknown", "unreconciled"]

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=-]*")
#: Longest provider-controlled label byom keeps (generation ids are ~30–40 characters).
MAX_LABEL = 128


def safe_label(value: object, max_length: int = MAX_LABEL) -> str | None:
    """A provider-controlled string that byom may store and show (a generation id, a finish
    reason, a model id echoed back), or ``None``: at most ``max_length`` characters of a safe
    set (letters, digits, ``. _ : / @ + = -``). Anything else — spaces, quotes, markup, control
    or non-ASCII characters, or a very long string — is dropped, not cut: a hostile provider
    could use it to smuggle the prompt or the key into history (R2.5, R4.3)."""
    if not isinstance(value, str) or len(value) > max_length or not _LABEL.fullmatch(value):
        return None
    return value


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reported them. ``prompt_tokens`` includes cached tokens."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ChatResult:
    """An adapter's parse of one completed response (non-streamed or fully streamed).

    ``usage`` is ``None`` when the provider did not report it; ``cost`` is the provider's own
    figure when it reports one.
    """

    text: str = field(repr=False)
    reasoning: str = field(default="", repr=False)
    usage: Usage | None = None
    cost: Decimal | None = None
    generation_id: str | None = None
    finish_reason: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        # Every adapter's result passes here: provider-controlled labels are checked once.
        object.__setattr__(self, "generation_id", safe_label(self.generation_id))
        object.__setattr__(self, "finish_reason", safe_label(self.finish_reason, 40))
        object.__setattr__(self, "model", safe_label(self.model, 200))


@dataclass(frozen=True, slots=True)
class Reply:
    """The result of ``App.chat``. Its ``repr`` leaves out the text on purpose."""

    text: str = field(repr=False)
    cost: Decimal | None
    cost_source: CostSource
    usage: Usage
    generation_id: str | None
    finish_reason: str | None
    model: str
    provider: str
    feature: str
    call_id: str
    reasoning: str = field(default="", repr=False)

    @property
    def truncated(self) -> bool:
        """True when the reply stopped at ``max_tokens`` — not a clean, complete answer."""
        return self.finish_reason in ("length", "max_tokens")


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of a streamed reply. ``repr`` leaves out the text."""

    text: str = field(default="", repr=False)
    reasoning: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Done:
    """The last item of a stream: the complete :class:`Reply` with its real cost."""

    reply: Reply


StreamItem = Delta | Done


@dataclass(frozen=True, slots=True)
class GenerationInfo:
    """What a provider reports after the fact about one generation (OpenRouter ``/generation``)."""

    generation_id: str
    cost: Decimal
    usage: Usage
    finish_reason: str | None = None
    cancelled: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "finish_reason", safe_label(self.finish_reason, 40))


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What the provider says about a key at validation time (OpenRouter ``GET /key``)."""

    label: str | None = None
    limit: Decimal | None = None
    limit_remaining: Decimal | None = None
    usage: Decimal | None = None
    is_free_tier: bool | None = None
