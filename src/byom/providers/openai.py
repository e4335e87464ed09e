"""OpenAI chat completions (R1.2). Sans-I/O.

Wire facts (``shared/spec/providers.md``): ``POST https://api.openai.com/v1/chat/completions`` with
a Bearer key. The response carries tokens but no cost, so cost = real tokens × the bundled
catalog price (computed, R4.2): ``prompt_tokens`` includes ``prompt_tokens_details
.cached_tokens`` (billed at the cached-input rate) and ``completion_tokens`` includes
``completion_tokens_details.reasoning_tokens`` (billed as output — never added on top). A stream
reports usage only when asked with ``stream_options: {include_usage: true}``: a final chunk with
``choices: []`` and ``usage`` (earlier chunks carry ``usage: null``); a cut stream may never
deliver it. Output is bounded with ``max_completion_tokens`` (reasoning models refuse the older
``max_tokens``). ``GET /v1/models`` lists ids without prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from byom.core.catalog import Catalog, Price
from byom.core.errors import BadResponse, ByomError, OutOfCredits
from byom.core.secret import Secret
from byom.core.usage import ChatResult, GenerationInfo, KeyInfo
from byom.providers._listing import merge_listing
from byom.providers._openai_style import (
    OpenAIStyleDecoder,
    check_passthrough,
    error_hint,
    error_object,
    parse_chat_completion,
)
from byom.providers._wire import get, loads
from byom.providers.base import HttpRequest, origin_of, post_json, require_key
from byom.providers.errors import error_for_status

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"

#: Request fields an app may pass through ``params``. Left out on purpose: ``n`` (several
#: completions would break the ``max_tokens`` bound), ``service_tier`` (changes the price),
#: ``store`` / ``metadata`` (would keep the conversation at the provider).
PASSTHROUGH: Final = frozenset(
    {
        "temperature",
        "top_p",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "user",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
        "verbosity",
        "safety_identifier",
        "prompt_cache_key",
    }
)

#: OpenAI error ``code`` / ``type`` strings → the HTTP status they stand for (used for errors
#: met inside a 200 stream, where there is no status).
_ERROR_STATUS: Final[Mapping[str, int]] = {
    "invalid_api_key": 401,
    "authentication_error": 401,
    "insufficient_quota": 402,
    "billing_hard_limit_reached": 402,
    "permission_denied": 403,
    "permission_error": 403,
    "model_not_found": 404,
    "timeout": 408,
    "request_too_large": 413,
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "requests": 429,
    "tokens": 429,
    "context_length_exceeded": 400,
    "invalid_request_error": 400,
    "server_error": 500,
    "bad_gateway": 502,
    "service_unavailable": 503,
    "overloaded": 529,
}
_OUT_OF_CREDIT: Final = frozenset(
    {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
)
#: Listed ids that are not chat models (embeddings, speech, images, moderation, legacy).
_NOT_CHAT: Final = (
    "embedding",
    "whisper",
    "tts",
    "dall-e",
    "moderation",
    "transcribe",
    "gpt-image",
    "davinci",
    "babbage",
    "sora",
)

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]


def _kinds(error: Any) -> list[str]:
    out = []
    for name in ("code", "type"):
        value = get(error, name)
        if isinstance(value, str) and len(value) < 64:
            out.append(value.lower())
    return out


class OpenAIAdapter:
    """OpenAI's chat completions wire format (also the base of :class:`CompatibleAdapter`)."""

    name = "openai"
    reports_cost = False
    needs_key = True
    #: Whether the user may connect without a key (a local OpenAI-compatible server).
    key_optional = False
    passthrough: frozenset[str] = PASSTHROUGH

    def __init__(
        self,
        base_url: str | None = None,
        *,
        stream_usage: bool = True,
        max_tokens_field: MaxTokensField = "max_completion_tokens",
        prices: Catalog | None = None,
    ) -> None:
        """``stream_usage``: send ``stream_options.include_usage`` (some compatible servers
        reject it; without it a stream reports no usage and its estimate stays counted).
        ``max_tokens_field``: the request field that bounds output. ``prices``: the snapshot
        merged into listed models (default: the bundled one)."""
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._origin = origin_of(self.base_url)
        if max_tokens_field not in ("max_tokens", "max_completion_tokens"):
            from byom.core.errors import InvalidRequest

            raise InvalidRequest("max_tokens_field must be max_tokens or max_completion_tokens.")
        self.stream_usage = bool(stream_usage)
        self.max_tokens_field: MaxTokensField = max_tokens_field
        self._prices = prices

    @property
    def origin(self) -> str:
        return self._origin

    def _auth(self, key: Secret | None) -> dict[str, Secret]:
        if key is None and self.key_optional:
            return {}
        return {"Authorization": Secret("Bearer " + require_key(key).reveal())}

    # -- chat ---------------------------------------------------------------------------------

    def chat_request(
        self,
        key: Secret | None,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        stream: bool,
        params: Mapping[str, Any],
        max_price: Price | None = None,
    ) -> HttpRequest:
        """``max_price`` is ignored: there is no routing, the catalog price is the price."""
        body: dict[str, Any] = check_passthrough(params, self.passthrough)
        body.update(model=model, messages=list(messages), stream=stream)
        body[self.max_tokens_field] = max_tokens
        if stream and self.stream_usage:
            body["stream_options"] = {"include_usage": True}
        return post_json(
            self.base_url + "/chat/completions",
            body,
            stream=stream,
            secret_headers=self._auth(key),
        )

    def parse_response(self, status: int, headers: Mapping[str, str], body: bytes) -> ChatResult:
        if status != 200:
            raise self.error_for(status, headers, body)
        return parse_chat_completion(self, headers, body)

    def stream_decoder(self) -> OpenAIStyleDecoder:
        return OpenAIStyleDecoder(self)

    # -- errors -------------------------------------------------------------------------------

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        return self._error(status, headers, error_object(body))

    def error_from_object(self, error: Any) -> ByomError:
        """The error for an ``error`` object inside a 200 response or stream."""
        code = get(error, "code")
        status = code if isinstance(code, int) and 400 <= code <= 599 else None
        if status is None:
            status = next((_ERROR_STATUS[k] for k in _kinds(error) if k in _ERROR_STATUS), 502)
        return self._error(status, {}, error, in_band=True)

    def _error(
        self, status: int, headers: Mapping[str, str], error: Any, *, in_band: bool = False
    ) -> ByomError:
        kinds = _kinds(error)
        # OpenAI answers an exhausted quota with 429 ``insufficient_quota``: not a rate limit.
        if status in (400, 402, 403, 429) and any(k in _OUT_OF_CREDIT for k in kinds):
            return OutOfCredits(status=None if in_band else status)
        return error_for_status(
            status, headers, hint=" ".join([error_hint(error), *kinds]), in_band=in_band
        )

    # -- after the fact: none; key check and models via GET /models ----------------------------

    def generation_request(self, key: Secret | None, generation_id: str) -> HttpRequest | None:
        return None

    def parse_generation(self, status: int, body: bytes) -> GenerationInfo | None:
        return None

    def key_info_request(self, key: Secret | None) -> HttpRequest | None:
        """``GET /models`` with the key: a 200 proves the key works (OpenAI reports no limit)."""
        if key is None and self.key_optional:
            return None
        return HttpRequest("GET", self.base_url + "/models", secret_headers=self._auth(key))

    def parse_key_info(self, status: int, headers: Mapping[str, str], body: bytes) -> KeyInfo:
        if status != 200:
            raise self.error_for(status, headers, body)
        return KeyInfo()

    def models_request(self, key: Secret | None = None) -> HttpRequest:
        return HttpRequest("GET", self.base_url + "/models", secret_headers=self._auth(key))

    def parse_models(self, body: bytes) -> Catalog:
        """Listed ids merged with the price snapshot: a listed id without a known price stays
        unknown (never zero) and has no category until the user assigns one."""
        data = get(loads(body), "data")
        if not isinstance(data, list):
            raise BadResponse("The model list could not be read.")
        listed: list[tuple[str, str | None]] = []
        for entry in data:
            model_id = get(entry, "id")
            if isinstance(model_id, str) and model_id and self._listable(model_id):
                listed.append((model_id[:200], None))
        return merge_listing(listed, self._known(), provider=self.name, source=self.name)

    def _listable(self, model_id: str) -> bool:
        lowered = model_id.lower()
        return not any(word in lowered for word in _NOT_CHAT)

    def _known(self) -> Catalog:
        if self._prices is None:
            self._prices = Catalog(source="bundled")  # the shell passes prices=
        return self._prices


__all__ = ["DEFAULT_BASE_URL", "PASSTHROUGH", "OpenAIAdapter"]
