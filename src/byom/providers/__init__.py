"""Provider adapters: sans-I/O translators between byom's call path and a provider's wire format.

Standard library only. An adapter builds :class:`~byom.providers.base.HttpRequest` values and
parses response bytes; it never opens a connection.
"""

from byom.providers.base import Adapter, HttpRequest, StreamDecoder, origin_of

__all__ = ["Adapter", "HttpRequest", "StreamDecoder", "make_adapter", "origin_of"]


def make_adapter(provider: str, base_url: str | None = None, **options: object) -> Adapter:
    """The adapter for a provider name (``"openrouter"``, …)."""
    from byom.providers import registry

    return registry.make(provider, base_url, **options)
