"""Bundled, dated price snapshots (R1.4, R4.2): the offline catalog when the provider's list is not
reachable, and the prices for providers whose list carries none (OpenAI, Anthropic, Gemini).
Reading the packaged data file is the shell's job; the core only parses. The direct providers'
snapshots are generated from the genai-prices database by ``make prices`` (scripts/prices.py).

Local models (Ollama) need no snapshot — they are free — and an OpenAI-compatible server's
models are priced by the user; both get an empty bundled catalog.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from importlib import resources

from byom.core.catalog import Catalog, parse_openrouter_models
from byom.core.catalog_data import BUNDLED_CATEGORIES


@cache
def bundled_openrouter() -> Catalog:
    """The OpenRouter snapshot shipped in ``byom/data/openrouter-models.json``."""
    text = resources.files("byom.data").joinpath("openrouter-models.json").read_bytes()
    return parse_openrouter_models(text, categories=BUNDLED_CATEGORIES, source="bundled")


def bundled(provider: str) -> Catalog:
    """The bundled catalog for a provider (empty when byom ships none for it).

    OpenAI, Anthropic and Gemini snapshots live in ``byom/data/<provider>-models.json``; the App
    hands them to the adapters (``prices=``) to price the ids their model lists return.
    """
    if provider == "openrouter":
        return bundled_openrouter()
    if provider in SNAPSHOTS:
        return _bundled_direct(provider)
    return Catalog(source="bundled")


#: Provider → packaged snapshot file (OpenRouter's ``/models`` format, plus ``category``).
SNAPSHOTS: dict[str, str] = {
    "openai": "openai-models.json",
    "anthropic": "anthropic-models.json",
    "gemini": "gemini-models.json",
}


#: Prices of OpenAI-compatible APIs byom knows by origin (Mistral, DeepSeek, Groq, xAI).
HOSTS_FILE = "compatible-hosts.json"


@cache
def bundled_host(origin: str) -> Catalog | None:
    """The bundled price snapshot of a known OpenAI-compatible host (by ``scheme://host``), or
    ``None`` for any other server (its models are priced by the user)."""
    import json

    raw = json.loads(resources.files("byom.data").joinpath(HOSTS_FILE).read_bytes())
    host = raw.get("hosts", {}).get(origin)
    if host is None:
        return None
    catalog = parse_openrouter_models(
        {"data": host["data"]}, as_of=raw.get("as_of"), source="bundled"
    )
    models = tuple(replace(m, provider="compatible") for m in catalog)
    return Catalog(models, as_of=catalog.as_of, source="bundled")


@cache
def _bundled_direct(provider: str) -> Catalog:
    """The packaged, dated price snapshot of a direct provider; categories from the file."""
    text = resources.files("byom.data").joinpath(SNAPSHOTS[provider]).read_bytes()
    catalog = parse_openrouter_models(text, source="bundled")
    models = tuple(replace(m, provider=provider) for m in catalog)
    return Catalog(models, as_of=catalog.as_of, source="bundled")
