"""Pre-flight estimation (R3.1, R3.2, R3.7, R8.3, R8.5).

An estimate bounds what a request may cost *before* it is sent. Output is bounded by
``max_tokens``, which byom always sends, so the provider enforces it. Input is estimated — and it
is **everything the provider bills** (R8.5, pitfall 21), not only the messages' text:

* the text of every message, the system prompt included;
* the *structure* byom forwards: every message field besides ``role`` and ``content``
  (assistant ``tool_calls``, a tool result's ``tool_call_id``, ``name``, …), every content part
  that is not plain text (Anthropic ``tool_use`` / ``tool_result`` blocks, unknown part types), and
  every request field an app passes through ``params`` (``tools``, legacy ``functions``,
  ``tool_choice``, ``response_format`` schemas, …);
* a hidden tool-use system prompt when tools or a response format are present
  (:data:`TOOL_PROMPT_TOKENS`);
* media: images (a per-model worst case, :attr:`Model.image_tokens
  <byom.core.catalog.Model.image_tokens>`) and other media (audio, files, PDFs, video).

Two modes:

* :class:`CharEstimator` (default) — ``ceil(characters / 4)`` of the text and of the compact JSON
  of the structure, plus a per-message overhead; close to real counts for English text, but it can
  under-estimate (code, other scripts). Media without a known figure count
  :data:`NON_TEXT_PART_TOKENS` each.
* :class:`StrictEstimator` — UTF-8 bytes plus overhead. A byte-level BPE tokenizer never emits
  more tokens than bytes, and the compact JSON of a structure has at least the bytes of the text
  in it, so the bytes of that JSON bound what a provider templates from it. Input that bytes
  cannot bound — an image on a model whose catalog gives no per-image worst case, audio, files,
  PDFs, video, provider-defined tools (Anthropic ``web_search`` …, whose results and fees land in
  the same request) — is refused with :class:`~byom.core.errors.UnboundedInput` before anything is
  reserved or sent.

Pluggable estimators (design)
-----------------------------
:class:`Estimator` stays what it was: ``input_tokens(messages)``. The core calls it through
:func:`request_input_tokens`, which

1. uses an optional ``request_tokens(messages, params, *, strict, image_tokens)`` method when the
   estimator has one (found with ``getattr``) — the built-in estimators do, so one rule counts
   the whole request;
2. otherwise gives the estimator a text-only view of the messages (``{"role", "content": str}``
   each, the message's text parts joined) and counts everything else itself — by UTF-8 bytes in
   strict mode, by ``ceil(characters / 4)`` otherwise — with the same media and tool rules.

So a custom estimator (say a real tokenizer) keeps working, never double-counts a tool schema,
and cannot make strict mode ignore one.

An estimate guards spend. It is never shown to the user as a cost.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from byom.core.catalog import Price
from byom.core.errors import InvalidRequest, UnboundedInput

Message = Mapping[str, Any]

#: Tokens a chat format adds around each message (role markers, separators).
MESSAGE_OVERHEAD = 4
#: Tokens added once per request (the assistant's reply priming).
REQUEST_OVERHEAD = 3
#: Tokens assumed in the default mode for a media part (an image, audio, a file) whose model gives
#: no figure. Strict mode never assumes: it uses the model's worst case or refuses.
NON_TEXT_PART_TOKENS = 2_000
#: Characters per token of the default rule (R3.1), for text and for structure.
CHARS_PER_TOKEN = 4
#: Strict bound for the hidden system prompt a provider adds when a request carries tools or a
#: response format. Anthropic documents this prompt per model and tool choice: 159 to 530 tokens
#: (Claude 3 Opus, ``auto``: 530) — https://docs.anthropic.com/en/docs/tool-use-pricing-and-tokens
#: — and 346 (``auto``/``none``) / 313 (``any``/``tool``) for current Claude models; OpenAI does
#: not publish its figure. 1,000 is about twice the largest documented one.
TOOL_PROMPT_TOKENS = 1_000
#: The default mode's figure for that prompt: the typical documented one (346, rounded up).
TOOL_PROMPT_ESTIMATE = 350
#: Request fields whose presence makes a provider add its tool-use / format system prompt.
TOOL_FIELDS = ("tools", "functions", "response_format")
#: Roles byom passes to providers.
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})

#: Content-part types that carry plain text in ``text``.
TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})
#: Content-part types that are images (OpenAI / OpenRouter, OpenAI Responses, Anthropic).
IMAGE_PART_TYPES = frozenset({"image_url", "input_image", "image", "image_file"})
#: Other media, billed by duration, pages or pixels — never bounded by their bytes. (An Anthropic
#: ``document`` whose source is plain text or content blocks is bytes, not media.)
MEDIA_PART_TYPES = frozenset(
    {"input_audio", "audio", "file", "input_file", "document", "video", "video_url", "input_video"}
)
#: Tool types an app defines itself; any other ``type`` is provider-defined (a server tool).
CLIENT_TOOL_TYPES = frozenset({"function", "custom"})


class Estimator(Protocol):
    """Counts input tokens for a list of chat messages. Pluggable (e.g. a real tokenizer).

    The core calls it with a text-only view of the messages and counts the rest of the request
    itself (see the module docstring). An estimator that wants the whole request may also define
    ``request_tokens(messages, params, *, strict, image_tokens) -> int``; it is then used instead.
    """

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


# -- what a request is made of ------------------------------------------------------------------


def compact_json(value: Any) -> str:
    """The compact JSON byom sends for ``value`` (decimals as quoted text: never fewer bytes).

    Never raises: a value JSON cannot encode (the adapter will refuse it) counts as its ``repr``.
    """
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_encode)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (set, frozenset)):
        return list(value)
    return repr(value)


def utf8_len(text: str) -> int:
    """UTF-8 bytes of ``text`` (lone surrogates included, as 3 bytes each)."""
    return len(text.encode("utf-8", "surrogatepass"))


def char_tokens(text: str) -> int:
    """The default rule: ``ceil(characters / 4)``."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(slots=True)
class _Media:
    images: int = 0
    other: int = 0


def _is_text_part(part: Any) -> bool:
    return (
        isinstance(part, Mapping)
        and part.get("type", "text") in TEXT_PART_TYPES
        and isinstance(part.get("text"), str)
    )


def _is_media(part: Mapping[str, Any]) -> bool:
    if part.get("type") != "document":
        return part.get("type") in MEDIA_PART_TYPES
    source = part.get("source")
    return not (isinstance(source, Mapping) and source.get("type") in ("text", "content"))


def _without_media(part: Any, media: _Media) -> Any:
    """``part`` with its media blocks taken out (and counted), for the size of its JSON.

    Looks into nested blocks (an Anthropic ``tool_result``'s ``content``, a ``document``'s
    ``source.content``), where images can hide.
    """
    if not isinstance(part, Mapping):
        return part
    if part.get("type") in IMAGE_PART_TYPES:
        media.images += 1
        return None
    if _is_media(part):
        media.other += 1
        return None
    out = dict(part)
    content = part.get("content")
    if isinstance(content, list):
        out["content"] = [_without_media(p, media) for p in content]
    source = part.get("source")
    if isinstance(source, Mapping) and isinstance(source.get("content"), list):
        out["source"] = dict(source, content=[_without_media(p, media) for p in source["content"]])
    return out


@dataclass(frozen=True, slots=True)
class MessageParts:
    """One message split by how it is counted.

    ``texts``: its text (string content, text parts). ``structure``: compact JSON of everything
    else byom forwards — fields besides ``role`` / ``content`` and non-text parts (media taken
    out). ``images`` / ``media``: image parts (Ollama's ``images`` field included) and other media.
    """

    role: str
    texts: tuple[str, ...]
    structure: tuple[str, ...]
    images: int = 0
    media: int = 0

    @classmethod
    def of(cls, message: Message) -> MessageParts:
        content = message.get("content")
        texts: list[str] = []
        structure: list[str] = []
        media = _Media()
        if isinstance(content, str):
            texts.append(content)
        elif content is not None:
            if not isinstance(content, Sequence):
                raise InvalidRequest("A message's content must be text or a list of parts.")
            for part in content:
                if _is_text_part(part):
                    texts.append(part["text"])
                    rest = {k: v for k, v in part.items() if k not in ("type", "text")}
                    if rest:  # e.g. cache_control: counted, never dropped
                        structure.append(compact_json(rest))
                    continue
                stripped = _without_media(part, media)
                if stripped is not None:
                    structure.append(compact_json(stripped))
        extra = {k: v for k, v in message.items() if k not in ("role", "content")}
        images = extra.pop("images", None)  # Ollama: base64 images as a message field
        if isinstance(images, list):
            media.images += len(images)
        elif images is not None:
            extra["images"] = images
        if extra.get("audio") is not None:  # OpenAI: a reference to earlier audio, re-billed
            media.other += 1
            del extra["audio"]
        if extra:
            structure.append(compact_json(extra))
        return cls(
            str(message.get("role")), tuple(texts), tuple(structure), media.images, media.other
        )

    @property
    def text(self) -> str:
        return "".join(self.texts)


class PartsCache:
    """The :class:`MessageParts` of messages that are not changed once sent, by identity.

    A run sends its whole conversation again at every step, a message or two longer each time;
    splitting every message again (its structure as compact JSON) made each step's estimate grow
    with the conversation. Only for messages whose owner guarantees they stay as they are (a
    run's own deep copies and the turns byom appends): a message is known by the object itself,
    kept alive here so that its ``id`` is never reused by another one. Not thread-safe: one
    run's loop uses it.
    """

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[int, tuple[Message, MessageParts]] = {}

    def of(self, messages: Sequence[Message]) -> tuple[MessageParts, ...]:
        """The parts of each message, split only the first time a message is seen."""
        known = self._known
        out: list[MessageParts] = []
        for message in messages:
            hit = known.get(id(message))
            if hit is None or hit[0] is not message:
                hit = (message, MessageParts.of(message))
                known[id(message)] = hit
            out.append(hit[1])
        return tuple(out)


@dataclass(frozen=True, slots=True)
class RequestParts:
    """A whole request split by how it is counted: its messages, the compact JSON of its
    ``params`` (``""`` when none), whether a tool / format prompt is added, and how many tools
    are provider-defined (server tools)."""

    messages: tuple[MessageParts, ...]
    params: str = ""
    tool_prompt: bool = False
    provider_tools: int = 0

    @classmethod
    def of(
        cls,
        messages: Sequence[Message],
        params: Mapping[str, Any] | None = None,
        *,
        parts: Sequence[MessageParts] | None = None,
    ) -> RequestParts:
        """Split a request. ``parts``: the messages' parts when already known (in order, one
        per message, as :class:`PartsCache` gives them), so they are not split again."""
        if parts is None or len(parts) != len(messages):
            parts = tuple(MessageParts.of(m) for m in messages)
        else:
            parts = tuple(parts)
        params = params or {}
        tools = params.get("tools")
        provider_tools = 0
        if isinstance(tools, Sequence) and not isinstance(tools, (str, bytes)):
            provider_tools = sum(
                1
                for tool in tools
                if isinstance(tool, Mapping)
                and tool.get("type") is not None
                and tool.get("type") not in CLIENT_TOOL_TYPES
            )
        return cls(
            parts,
            compact_json(dict(params)) if params else "",
            any(params.get(name) for name in TOOL_FIELDS),
            provider_tools,
        )

    def text_messages(self) -> list[dict[str, str]]:
        """The text-only view a plain :class:`Estimator` counts: ``{"role", "content"}`` each."""
        return [{"role": m.role, "content": m.text} for m in self.messages]

    def structure_tokens(self, count: Callable[[str], int]) -> int:
        """``count`` applied to each message's structure and to the params (no overheads)."""
        total = sum(count("".join(m.structure)) for m in self.messages if m.structure)
        return total + (count(self.params) if self.params else 0)

    def fixed_tokens(self, *, strict: bool, image_tokens: int | None) -> int:
        """The tool / format prompt and the media, or :class:`UnboundedInput` in strict mode for
        media it cannot bound. ``image_tokens``: the model's worst case per image, if known."""
        images = sum(m.images for m in self.messages)
        media = sum(m.media for m in self.messages)
        if isinstance(image_tokens, bool) or not isinstance(image_tokens, int) or image_tokens < 0:
            image_tokens = None  # not a usable figure: unknown
        if strict:
            if media or self.provider_tools or (images and image_tokens is None):
                raise UnboundedInput()
            per_image = image_tokens or 0
            prompt = TOOL_PROMPT_TOKENS
        else:
            per_image = NON_TEXT_PART_TOKENS if image_tokens is None else image_tokens
            prompt = TOOL_PROMPT_ESTIMATE
        return (
            images * per_image
            + media * NON_TEXT_PART_TOKENS
            + (prompt if self.tool_prompt or self.provider_tools else 0)
        )


def request_input_tokens(
    estimator: Estimator,
    messages: Sequence[Message],
    params: Mapping[str, Any] | None = None,
    *,
    strict: bool = False,
    image_tokens: int | None = None,
    parts: Sequence[MessageParts] | None = None,
) -> int:
    """Input tokens of a whole request — messages, ``params`` and media (R8.5).

    ``strict`` selects the strict rules for what the estimator does not count itself (bytes,
    images bounded by ``image_tokens`` or refused). Raises :class:`UnboundedInput` in strict mode
    for input it cannot bound. See the module docstring for how a custom estimator is used.
    ``parts``: the messages' :class:`MessageParts`, when already known (a run's earlier steps);
    the figure is the same as without them.
    """
    whole = getattr(estimator, "request_tokens", None)
    if callable(whole):
        counted = getattr(estimator, "parts_tokens", None)
        if parts is not None and callable(counted):
            request = RequestParts.of(messages, params, parts=parts)
            return int(counted(request, strict=strict, image_tokens=image_tokens))
        return int(whole(messages, params or {}, strict=strict, image_tokens=image_tokens))
    request = RequestParts.of(messages, params, parts=parts)
    count = utf8_len if strict else char_tokens
    return (
        estimator.input_tokens(request.text_messages())
        + request.structure_tokens(count)
        + request.fixed_tokens(strict=strict, image_tokens=image_tokens)
    )


def _whole_request(
    count: Callable[[str], int],
    message_overhead: int,
    request: RequestParts,
    *,
    strict: bool,
    image_tokens: int | None,
) -> int:
    total = REQUEST_OVERHEAD
    for message in request.messages:
        total += count(message.text) + message_overhead
    return (
        total
        + request.structure_tokens(count)
        + request.fixed_tokens(strict=strict, image_tokens=image_tokens)
    )


@dataclass(frozen=True, slots=True)
class CharEstimator:
    """``ceil(characters / 4)`` per message's text and structure, plus overheads. The default.

    ``input_tokens(messages)`` counts the messages (with their tool calls and parts; an image
    without a model figure as :data:`NON_TEXT_PART_TOKENS`); the core counts whole requests with
    :meth:`request_tokens`.
    """

    chars_per_token: int = CHARS_PER_TOKEN
    message_overhead: int = MESSAGE_OVERHEAD

    def _count(self, text: str) -> int:
        return math.ceil(len(text) / self.chars_per_token)

    def input_tokens(self, messages: Sequence[Message]) -> int:
        return self.request_tokens(messages, None, strict=False)

    def request_tokens(
        self,
        messages: Sequence[Message],
        params: Mapping[str, Any] | None = None,
        *,
        strict: bool = False,
        image_tokens: int | None = None,
    ) -> int:
        return self.parts_tokens(
            RequestParts.of(messages, params), strict=strict, image_tokens=image_tokens
        )

    def parts_tokens(
        self, request: RequestParts, *, strict: bool = False, image_tokens: int | None = None
    ) -> int:
        """:meth:`request_tokens` of a request already split into its parts."""
        return _whole_request(
            self._count, self.message_overhead, request, strict=strict, image_tokens=image_tokens
        )


@dataclass(frozen=True, slots=True)
class StrictEstimator:
    """UTF-8 bytes plus overheads: an upper bound for byte-level BPE tokenizers.

    Counts the bytes of the text and of the compact JSON of everything else byom forwards.
    ``input_tokens(messages)`` applies the strict rules, so an image there (no model figure known)
    raises :class:`UnboundedInput`; the core passes the model's figure to :meth:`request_tokens`.
    """

    message_overhead: int = MESSAGE_OVERHEAD

    def input_tokens(self, messages: Sequence[Message]) -> int:
        return self.request_tokens(messages, None, strict=True)

    def request_tokens(
        self,
        messages: Sequence[Message],
        params: Mapping[str, Any] | None = None,
        *,
        strict: bool = True,
        image_tokens: int | None = None,
    ) -> int:
        return self.parts_tokens(
            RequestParts.of(messages, params), strict=strict, image_tokens=image_tokens
        )

    def parts_tokens(
        self, request: RequestParts, *, strict: bool = True, image_tokens: int | None = None
    ) -> int:
        """:meth:`request_tokens` of a request already split into its parts."""
        return _whole_request(
            utf8_len, self.message_overhead, request, strict=strict, image_tokens=image_tokens
        )


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
