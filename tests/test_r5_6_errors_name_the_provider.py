"""R5.6 / issue 15 item 1: an error that names the provider names the one that answered — with
``Terminal(app, provider="ollama")`` a server that is down is not "OpenRouter or the model is
unavailable" — in English and Dutch; for OpenRouter the words stay OpenRouter's."""

from __future__ import annotations

import pytest

from byom.core import errors
from byom.errors import user_message
from byom.locales import Messages
from byom.terminal.errors import describe_error

NAMED = [
    errors.KeyRejected(),
    errors.ModerationFlagged(),
    errors.OutOfCredits(),
    errors.RateLimited(),
    errors.RateLimited(retry_after=7.2),
    errors.ProviderUnavailable(),
    errors.BadResponse(),
    errors.BadRequest(),
    errors.Interrupted(),
]


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("kind", ["openai", "anthropic", "ollama", "compatible"])
@pytest.mark.parametrize("error", NAMED, ids=lambda e: f"{e.code}-{getattr(e, 'retry_after', 0)}")
def test_r5_6_errors_name_the_provider_that_answered(
    error: errors.ByomError, kind: str, lang: str
) -> None:
    tr = Messages(lang)
    text = describe_error(error, tr, app_id="notes", provider=kind)
    assert "OpenRouter" not in text and "openrouter.ai" not in text
    name = tr(f"provider.name.{kind}")
    assert name.lower() in text.lower(), text
    assert text[0].isupper(), text
    assert "{" not in text
    if getattr(error, "retry_after", None):
        assert "7" in text


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r5_6_openrouter_errors_keep_their_words(lang: str) -> None:
    """OpenRouter's errors name OpenRouter; an error whose provider nobody knows names no
    provider at all (never OpenRouter by default)."""
    tr = Messages(lang)
    for error in NAMED:
        named = describe_error(error, tr, provider="openrouter")
        assert named == user_message(error, lang, provider="openrouter")
        assert "OpenRouter" not in describe_error(error, tr)
    assert "OpenRouter" in describe_error(errors.KeyRejected(), tr, provider="openrouter")
