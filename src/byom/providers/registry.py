"""Provider names → adapter classes. Adding a provider is one entry here.

``compatible`` (any OpenAI-compatible server) has no default address: it needs a ``base_url``.
The others default to the provider's public API (Ollama: the local server). ``builtin`` is the
model that runs on the user's device: no address, no key (:mod:`byom.providers.builtin`).
"""

from __future__ import annotations

from typing import Literal, get_args

from byom.core.errors import InvalidRequest
from byom.providers.base import Adapter, check_base_url


def make(provider: str, base_url: str | None, **options: object) -> Adapter:
    """The adapter for ``provider`` at ``base_url`` (its public API when ``None``). A given
    ``base_url`` is checked first (:func:`~byom.providers.base.check_base_url`)."""
    if base_url is not None:
        base_url = check_base_url(base_url)
    if provider == "openrouter":
        from byom.providers.openrouter import OpenRouterAdapter

        return OpenRouterAdapter(base_url, **options)  # type: ignore[arg-type]
    if provider == "openai":
        from byom.providers.openai import OpenAIAdapter

        return OpenAIAdapter(base_url, **options)  # type: ignore[arg-type]
    if provider == "anthropic":
        from byom.providers.anthropic import AnthropicAdapter

        return AnthropicAdapter(base_url, **options)  # type: ignore[arg-type]
    if provider == "gemini":
        from byom.providers.gemini import GeminiAdapter

        return GeminiAdapter(base_url, **options)  # type: ignore[arg-type]
    if provider == "ollama":
        from byom.providers.ollama import OllamaAdapter

        return OllamaAdapter(base_url, **options)
    if provider == "compatible":
        from byom.providers.compatible import CompatibleAdapter

        if not base_url:
            raise InvalidRequest("An OpenAI-compatible provider needs a base_url.")
        return CompatibleAdapter(base_url, **options)  # type: ignore[arg-type]
    if provider == "builtin":
        from byom.providers.builtin import BuiltinAdapter

        return BuiltinAdapter(base_url, **options)  # type: ignore[arg-type]
    raise InvalidRequest(f"Unknown provider {provider[:40]!r}.")


#: The provider kinds, as a type: ``App.connect("openruoter")`` is a type error, not a runtime one.
ProviderKind = Literal[
    "openrouter", "openai", "anthropic", "gemini", "ollama", "compatible", "builtin"
]
PROVIDERS: tuple[str, ...] = get_args(ProviderKind)
