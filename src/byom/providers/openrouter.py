"""OpenRouter (R1.1): the first-class provider. Sans-I/O.

Wire facts (see ``shared/spec/providers.md``): OpenAI-style chat completions under
``https://openrouter.ai/api/v1``; usage — including the charged ``cost`` — is always returned, in
the last stream event; keep-alive comment lines; errors as ``{"error": {code, message,
metadata}}``, also inside a 200 stream; ``provider.max_price`` bounds the routed price (USD per
million tokens); ``GET /generation?id=`` reports the cost after the fact (404 for a while);
``GET /key`` describes the key; OAuth PKCE yields a key without copy-paste.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from byom.core.catalog import Catalog, Price, parse_openrouter_models
from byom.core.errors import BadResponse, ByomError, InvalidKey
from byom.core.money import per_million
from byom.core.secret import Secret, clean_key
from byom.core.usage import ChatResult, GenerationInfo, KeyInfo, Usage, safe_label
from byom.providers._openai_style import (
    OpenAIStyleDecoder,
    check_passthrough,
    error_hint,
    error_object,
    parse_chat_completion,
    usage_from_openai_shape,
)
from byom.providers._wire import as_decimal, as_int, dumps, get, loads
from byom.providers.base import HttpRequest, origin_of, post_json, require_key
from byom.providers.errors import error_for_status

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"

#: Request fields an app may pass through ``params`` (anything else is refused, so an app cannot
#: switch off byom's bounds, e.g. by overriding ``max_tokens`` or ``stream``).
PASSTHROUGH = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "repetition_penalty",
        "response_format",
        "tools",
        "tool_choice",
        "reasoning",
        "user",
        "logit_bias",
        "min_p",
        "top_a",
        "transforms",
        "models",
        "route",
        "structured_outputs",
        "parallel_tool_calls",
        "verbosity",
    }
)


class OpenRouterAdapter:
    """OpenRouter's wire format. Attribution headers are sent only if the app opts in."""

    name = "openrouter"
    reports_cost = True
    needs_key = True

    def __init__(
        self,
        base_url: str | None = None,
        *,
        app_url: str | None = None,
        app_title: str | None = None,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._origin = origin_of(self.base_url)
        self._attribution: dict[str, str] = {}
        if app_url:
            self._attribution["HTTP-Referer"] = app_url
        if app_title:
            self._attribution["X-OpenRouter-Title"] = app_title

    @property
    def origin(self) -> str:
        return self._origin

    def _auth(self, key: Secret | None) -> dict[str, Secret]:
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
        body: dict[str, Any] = check_passthrough(params, PASSTHROUGH)
        body.update(model=model, messages=list(messages), max_tokens=max_tokens, stream=stream)
        routing: dict[str, Any] = {}
        if max_price is not None:
            routing["max_price"] = {
                "prompt": per_million(max_price.prompt),
                "completion": per_million(max_price.completion),
            }
        if body.get("tools") or body.get("response_format"):
            # Route only to endpoints that take tools / schemas: one that silently drops them
            # would answer in plain text, which the app cannot use.
            routing["require_parameters"] = True
        if routing:
            body["provider"] = routing
        return post_json(
            self.base_url + "/chat/completions",
            body,
            stream=stream,
            secret_headers=self._auth(key),
            headers=self._attribution,
        )

    def parse_response(self, status: int, headers: Mapping[str, str], body: bytes) -> ChatResult:
        if status != 200:
            raise self.error_for(status, headers, body)
        return parse_chat_completion(self, headers, body)

    def stream_decoder(self) -> OpenAIStyleDecoder:
        return OpenAIStyleDecoder(self)

    # -- errors -------------------------------------------------------------------------------

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        error = error_object(body)
        return error_for_status(
            status, headers, hint=error_hint(error), limit_source=_limit_source(error)
        )

    def error_from_object(self, error: Any) -> ByomError:
        """The error for an ``error`` object met inside a 200 response or stream."""
        code = get(error, "code")
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        message = get(error, "message")
        return error_for_status(
            status,
            {},
            hint=message if isinstance(message, str) else "",
            limit_source=_limit_source(error),
            in_band=True,
        )

    # -- after the fact: generation cost, key info, models -------------------------------------

    def generation_request(self, key: Secret | None, generation_id: str) -> HttpRequest:
        return HttpRequest(
            "GET",
            self.base_url + "/generation?" + urlencode({"id": generation_id}),
            secret_headers=self._auth(key),
        )

    def parse_generation(self, status: int, body: bytes) -> GenerationInfo | None:
        if status == 404:
            return None
        if status != 200:
            raise self.error_for(status, {}, body)
        data = get(loads(body), "data")
        cost = as_decimal(get(data, "total_cost"))
        gen_id = get(data, "id")
        if cost is None or safe_label(gen_id) is None:
            raise BadResponse()
        return GenerationInfo(
            generation_id=gen_id,
            cost=cost,
            usage=Usage(
                prompt_tokens=as_int(
                    get(data, "native_tokens_prompt") or get(data, "tokens_prompt")
                ),
                completion_tokens=as_int(
                    get(data, "native_tokens_completion") or get(data, "tokens_completion")
                ),
                cached_tokens=as_int(get(data, "native_tokens_cached")),
                reasoning_tokens=as_int(get(data, "native_tokens_reasoning")),
            ),
            finish_reason=get(data, "finish_reason")
            if isinstance(get(data, "finish_reason"), str)
            else None,
            cancelled=get(data, "cancelled") is True,
        )

    def key_info_request(self, key: Secret | None) -> HttpRequest:
        return HttpRequest("GET", self.base_url + "/key", secret_headers=self._auth(key))

    def parse_key_info(self, status: int, headers: Mapping[str, str], body: bytes) -> KeyInfo:
        if status != 200:
            raise self.error_for(status, headers, body)
        data = get(loads(body), "data")
        if not isinstance(data, Mapping):
            raise BadResponse()
        label = data.get("label")
        free = data.get("is_free_tier")
        return KeyInfo(
            label=label[:80] if isinstance(label, str) else None,
            limit=as_decimal(data.get("limit")),
            limit_remaining=as_decimal(data.get("limit_remaining")),
            usage=as_decimal(data.get("usage")),
            is_free_tier=free if isinstance(free, bool) else None,
        )

    def models_request(self, key: Secret | None = None) -> HttpRequest:
        return HttpRequest("GET", self.base_url + "/models")

    def parse_models(self, body: bytes) -> Catalog:
        from byom.core.catalog_data import BUNDLED_CATEGORIES

        return parse_openrouter_models(body, categories=BUNDLED_CATEGORIES, source="openrouter")

    # -- OAuth PKCE (R5.4) --------------------------------------------------------------------

    @property
    def auth_site(self) -> str:
        """Where the PKCE authorize page lives: the site root (``https://openrouter.ai``)."""
        base = self.base_url
        return base[: -len("/api/v1")] if base.endswith("/api/v1") else self._origin

    def authorize_url(self, callback_url: str, code_challenge: str) -> str:
        return (
            self.auth_site
            + "/auth?callback_url="
            + quote(callback_url, safe="")
            + "&code_challenge="
            + code_challenge
            + "&code_challenge_method=S256"
        )

    def exchange_request(self, code: str, verifier: Secret) -> HttpRequest:
        body = {"code": code, "code_verifier": verifier.reveal(), "code_challenge_method": "S256"}
        return HttpRequest(
            "POST",
            self.base_url + "/auth/keys",
            headers={"Content-Type": "application/json"},
            body=dumps(body),
        )

    def parse_exchange(self, status: int, headers: Mapping[str, str], body: bytes) -> Secret:
        if status != 200:
            raise self.error_for(status, headers, body)
        key = get(loads(body), "key")
        if not isinstance(key, str):
            raise BadResponse()
        try:
            return clean_key(key)
        except InvalidKey:
            del key
        raise BadResponse("The provider sent a key byom cannot use.")


def pkce_pair() -> tuple[Secret, str]:
    """A fresh PKCE verifier (kept secret) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return Secret(verifier), challenge.rstrip(b"=").decode("ascii")


def _limit_source(error: Any) -> str | None:
    source = get(error, "metadata", "limit_source")
    return source if isinstance(source, str) and len(source) < 64 else None


#: The shared decoder under its former name (it began life here).
_OpenAIStyleDecoder = OpenAIStyleDecoder

__all__ = [
    "DEFAULT_BASE_URL",
    "OpenRouterAdapter",
    "check_passthrough",
    "pkce_pair",
    "usage_from_openai_shape",
]
