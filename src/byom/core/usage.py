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
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

#: Finish reasons that mean "cut short, not a complete answer" (see :attr:`Reply.truncated`).
TRUNCATED_FINISH = frozenset({"length", "max_tokens", "pause_turn"})

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
    """Token counts as the provider reported them. ``prompt_tokens`` includes cached tokens.

    Server-side tools a provider runs inside the request are billed per use on top of tokens:
    ``web_search_requests`` counts web searches (Anthropic ``usage.server_tool_use``), priced
    from the dated price list; ``unpriced_tool_requests`` counts other server-side tool uses
    that carry a fee byom has no price for — when it is above 0 the cost is unknown, never low.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    web_search_requests: int = 0
    unpriced_tool_requests: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class RawToolCall:
    """A tool call as an adapter read it off the wire, before byom checked it.

    ``arguments`` is the raw JSON text (OpenAI-style wires, assembled stream fragments) or the
    already-decoded object (Anthropic ``tool_use.input``, Ollama). ``id`` may be missing (Ollama
    sends none): byom then gives the call one. The core turns these into :class:`ToolCall` or,
    when one cannot be read, refuses the whole reply as ``bad_output`` (its cost still counts).
    ``extra_content`` is what the provider needs back with this call in the next turn (Gemini's
    ``{"google": {"thought_signature": …}}``), ``None`` when nothing. ``repr`` leaves the
    arguments and the extra content out: they are content.
    """

    id: str | None
    name: str | None
    arguments: str | Mapping[str, Any] | None = field(repr=False)
    extra_content: Mapping[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model asks the app to call one of its tools (``Reply.tool_calls``).

    ``arguments`` is the parsed JSON object; ``arguments_json`` the same as compact JSON text
    (the raw string for providers that send one). Both are content: ``repr`` leaves them out,
    and byom never logs or stores them.

    ``extra_content`` is provider data that must travel back with the call when the app sends
    the conversation again (Gemini 3 signs its calls: ``{"google": {"thought_signature": …}}``,
    the shape Google's OpenAI-compatible endpoint uses). :func:`byom.core.tools.assistant_message`
    puts it on the call, so a conversation the app saves and resumes later still carries it.
    Empty for providers that need nothing. It is opaque (encrypted model state): never shown,
    logged or stored by byom.
    """

    id: str
    name: str
    arguments: Mapping[str, Any] = field(repr=False)
    arguments_json: str = field(repr=False)
    extra_content: Mapping[str, Any] = field(default_factory=dict, repr=False)


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
    tool_calls: tuple[RawToolCall, ...] = field(default=(), repr=False)
    #: The model's refusal message when the provider sends one apart from the answer (OpenAI
    #: ``message.refusal``); content, so left out of ``repr``.
    refusal: str = field(default="", repr=False)

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
    #: The tools the model asks the app to call, in order (empty for a plain answer).
    tool_calls: tuple[ToolCall, ...] = field(default=(), repr=False)
    #: The parsed structured output when the call asked for a ``schema`` (else ``None``).
    data: Any = field(default=None, repr=False)
    #: The run this call was a step of (``App.run``), else ``None``.
    run_id: str | None = None
    #: The model's refusal message, when it refused and the provider sent one (``""`` else).
    #: Content: left out of ``repr``. A refusal is also ``finish_reason == "refusal"``.
    refusal: str = field(default="", repr=False)

    @property
    def truncated(self) -> bool:
        """True when the reply is not a complete answer because it was cut short: it stopped at
        ``max_tokens`` (``length`` / ``max_tokens``), or the provider paused a long turn
        (Anthropic ``pause_turn``: send the conversation again to let it continue)."""
        return self.finish_reason in TRUNCATED_FINISH

    @property
    def refused(self) -> bool:
        """True when the model refused to answer (``finish_reason == "refusal"``, the same for
        every provider): the text is not an answer; :attr:`refusal` holds the provider's
        message when it sent one. What the request used is still charged."""
        return self.finish_reason == "refusal"

    @property
    def wants_tools(self) -> bool:
        """True when the model asks for tool calls (``finish_reason == "tool_calls"``)."""
        return bool(self.tool_calls)

    @property
    def message(self) -> dict[str, Any]:
        """This reply as the assistant turn to append to the conversation before the tool
        results (the OpenAI shape every adapter takes): its text and its ``tool_calls``, each
        with the ``extra_content`` its provider needs back (Gemini's thought signature). Saved
        with the conversation, it can be sent again in a later session."""
        from byom.core.tools import assistant_message  # tools imports this module

        return assistant_message(self.text, self.tool_calls)


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
