"""Bundled, dated price snapshots (R1.4): the offline catalog when the provider's list is not
reachable. Reading the packaged data file is the shell's job; the core only parses."""

from __future__ import annotations

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
    """The bundled catalog for a provider (empty when byom ships none for it)."""
    if provider == "openrouter":
        return bundled_openrouter()
    return Catalog(source="bundled")
