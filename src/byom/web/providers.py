"""The providers a built page can connect to, and the ``connect-src`` origins each one needs.

An app lists the ones it offers in ``byom-app.toml`` (``providers = [...]``); ``byom web build``
writes exactly their origins into the page's ``connect-src`` and the audit checks that list
(:func:`expected_connect_src`). Only providers that answer calls made straight from a web page
(CORS) are here:

- ``openrouter``: ``https://openrouter.ai`` (a key, or the sign-in: OAuth PKCE).
- ``openai``: ``https://api.openai.com``.
- ``anthropic``: ``https://api.anthropic.com``; the page sends Anthropic's opt-in header
  ``anthropic-dangerous-direct-browser-access: true``, without which Anthropic refuses a page.
- ``gemini``: ``https://generativelanguage.googleapis.com``; the key goes in ``x-goog-api-key``,
  never in the URL.
- ``ollama``: ``http://localhost:11434`` and ``http://127.0.0.1:11434``; no key. Ollama answers
  a page only if its origin is in ``OLLAMA_ORIGINS`` (the wizard says how to set it).
- ``compatible``: ``http://localhost:*``, ``http://127.0.0.1:*`` and their ``https`` twins — an
  OpenAI-compatible server on the user's own machine, loopback only (why:
  :mod:`byom.web.browser.loopback`); the key is optional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from byom.web.browser.loopback import LOOPBACK_HOSTS, is_loopback_url

#: Where a compatible server is looked for when the app names no address of its own.
DEFAULT_COMPATIBLE_URL: Final = "http://localhost:8000/v1"

#: Every provider a page can offer: the option the wizard shows (``config.json``) and the
#: origins the page's ``connect-src`` allows for it.
PROVIDER_OPTIONS: Final[Mapping[str, Mapping[str, Any]]] = {
    "openrouter": {
        "id": "openrouter",
        "provider": "openrouter",
        "label": "OpenRouter",
        "base_url": "https://openrouter.ai/api/v1",
        "pkce": True,
    },
    "openai": {
        "id": "openai",
        "provider": "openai",
        "label": "OpenAI",
        "base_url": "https://api.openai.com/v1",
    },
    "anthropic": {
        "id": "anthropic",
        "provider": "anthropic",
        "label": "Anthropic",
        "base_url": "https://api.anthropic.com",
        # Anthropic answers calls from a page only with this opt-in header.
        "options": {"direct_browser_access": True},
    },
    "gemini": {
        "id": "gemini",
        "provider": "gemini",
        "label": "Google Gemini",
        "base_url": "https://generativelanguage.googleapis.com",
    },
    "ollama": {
        "id": "ollama",
        "provider": "ollama",
        "label": "Ollama",
        "base_url": "http://localhost:11434",
        "keyless": True,
    },
    "compatible": {
        "id": "compatible",
        "provider": "compatible",
        "label": "OpenAI-compatible server",
        "base_url": DEFAULT_COMPATIBLE_URL,
        "loopback": True,
        "key_optional": True,
    },
}

#: The ``connect-src`` sources each provider needs.
PROVIDER_ORIGINS: Final[Mapping[str, tuple[str, ...]]] = {
    "openrouter": ("https://openrouter.ai",),
    "openai": ("https://api.openai.com",),
    "anthropic": ("https://api.anthropic.com",),
    "gemini": ("https://generativelanguage.googleapis.com",),
    "ollama": ("http://localhost:11434", "http://127.0.0.1:11434"),
    "compatible": tuple(
        f"{scheme}://{host}:*" for host in LOOPBACK_HOSTS for scheme in ("http", "https")
    ),
}


def expected_connect_src(providers: Iterable[str]) -> list[str]:
    """The ``connect-src`` sources for ``providers`` (declared names), in a fixed order, no
    repeats. Unknown names raise ``KeyError``."""
    out: list[str] = []
    for name in providers:
        for origin in PROVIDER_ORIGINS[name]:
            if origin not in out:
                out.append(origin)
    return out


__all__ = [
    "DEFAULT_COMPATIBLE_URL",
    "PROVIDER_OPTIONS",
    "PROVIDER_ORIGINS",
    "expected_connect_src",
    "is_loopback_url",
]
