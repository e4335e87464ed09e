"""Issue 15, item 13: the note under a model list names where the list and its prices really
come from — Ollama's list is the user's own server, free; it never says "OpenRouter"."""

from __future__ import annotations

import pytest

from byom.core.catalog import Catalog
from byom.locales import Messages
from byom.terminal._format import catalog_note


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r5_6_each_catalog_source_has_its_own_note(lang: str) -> None:
    tr = Messages(lang)
    notes = {
        source: catalog_note(Catalog(source=source, as_of="2026-11-30T00:00:00Z"), tr)
        for source in ("openrouter", "openai", "anthropic", "ollama", "compatible", "bundled")
    }
    assert "OpenRouter" in notes["openrouter"] and "2026-11-30" in notes["openrouter"]
    assert "OpenAI" in notes["openai"] and "Anthropic" in notes["anthropic"]
    assert "Ollama" in notes["ollama"]
    for source in ("openai", "anthropic", "ollama", "compatible", "bundled"):
        assert "OpenRouter" not in notes[source], (source, notes[source])
    assert len(set(notes.values())) == len(notes)
    offline = catalog_note(Catalog(source="bundled"), tr, offline=True)
    assert "OpenRouter" not in offline and "{" not in offline
