"""Any OpenAI-compatible server (R1.2): LM Studio, vLLM, llama.cpp server, Ollama's ``/v1``, a
hosted compatible API. Sans-I/O.

The same wire format as OpenAI, with the differences such servers have in practice:

* the base URL is the user's (required; e.g. ``http://localhost:11434/v1``);
* a key is optional — without one no ``Authorization`` header is sent at all;
* ``stream_options`` is a per-endpoint flag (``stream_usage=False`` for servers that reject it;
  a stream then reports no usage and its estimate keeps counting until the user clears it);
* output is bounded with ``max_tokens`` (the field every such server knows) unless
  ``max_tokens_field="max_completion_tokens"``;
* there is no bundled price list: models are priced by the user (``App.add_model``), else their
  price is unknown — never zero — and the guard uses the over-estimating fallback.
"""

from __future__ import annotations

from typing import Final

from byom.core.catalog import Catalog
from byom.core.errors import InvalidRequest
from byom.providers.openai import PASSTHROUGH as OPENAI_PASSTHROUGH
from byom.providers.openai import MaxTokensField, OpenAIAdapter

#: OpenAI's fields plus the sampling fields local servers commonly accept.
PASSTHROUGH: Final = OPENAI_PASSTHROUGH | {"top_k", "min_p", "repetition_penalty", "repeat_penalty"}


class CompatibleAdapter(OpenAIAdapter):
    """An OpenAI-compatible endpoint at a user-given base URL; the key is optional."""

    name = "compatible"
    needs_key = True  # a key, when the user gives one, is sent (as a Bearer token)
    key_optional = True
    passthrough = PASSTHROUGH

    def __init__(
        self,
        base_url: str | None = None,
        *,
        stream_usage: bool = True,
        max_tokens_field: MaxTokensField = "max_tokens",
        prices: Catalog | None = None,
    ) -> None:
        if not base_url:
            raise InvalidRequest("An OpenAI-compatible provider needs a base_url.")
        super().__init__(
            base_url,
            stream_usage=stream_usage,
            max_tokens_field=max_tokens_field,
            prices=prices if prices is not None else Catalog(source="compatible"),
        )

    def _listable(self, model_id: str) -> bool:
        return True


__all__ = ["PASSTHROUGH", "CompatibleAdapter"]
