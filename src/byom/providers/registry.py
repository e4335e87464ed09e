"""Provider names → adapter classes. Adding a provider is one entry here."""

from __future__ import annotations

from byom.core.errors import InvalidRequest
from byom.providers.base import Adapter


def make(provider: str, base_url: str | None, **options: object) -> Adapter:
    if provider == "openrouter":
        from byom.providers.openrouter import OpenRouterAdapter

        return OpenRouterAdapter(base_url, **options)  # type: ignore[arg-type]
    raise InvalidRequest(f"Unknown provider {provider[:40]!r}.")


PROVIDERS: tuple[str, ...] = ("openrouter",)
