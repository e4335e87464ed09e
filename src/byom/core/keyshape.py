"""The shape of a key, per provider kind, checked before any request (standard library only).

A key typed into the wrong box is the commonest first mistake: an OpenAI key pasted where an
OpenRouter key belongs, a sentence instead of a key, an empty field. Sending it anyway gives an
unhelpful answer (or, offline, none), so every surface checks the shape first and says what is
wrong in plain words. This module decides *what* is wrong; the shells word it (en/nl).

The rules are the prefixes the providers document for their keys (facts, not guesses):

============  ==================  ===========================================================
kind          a key starts with   notes
============  ==================  ===========================================================
openrouter    ``sk-or-``          ``sk-or-v1-…``
openai        ``sk-``             ``sk-proj-…``, ``sk-svcacct-…``, older ``sk-…``; not the two
                                  prefixes of the providers below
anthropic     ``sk-ant-``         ``sk-ant-api03-…``
gemini        ``AIza``            a Google API key (Google AI Studio)
ollama        (no key)            a local Ollama server takes no key: none is asked for
compatible    anything            optional; the user's own server decides
============  ==================  ===========================================================

No I/O, no network: the browser shell runs this unchanged under Pyodide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

#: What can be wrong with a key's shape.
ShapeProblem = Literal["empty", "space", "wrong_provider", "wrong_prefix", "not_needed"]

#: The documented prefix of each provider's keys (the most specific first when detecting).
PREFIXES: Final[dict[str, str]] = {
    "openrouter": "sk-or-",
    "anthropic": "sk-ant-",
    "openai": "sk-",
    "gemini": "AIza",
}
#: Kinds whose key may be left out (their server decides).
OPTIONAL: Final = frozenset({"compatible"})
#: Kinds that never take a key.
KEYLESS: Final = frozenset({"ollama"})
#: Characters a copy-paste adds around a key; removed before the checks (as ``clean_key`` does).
_AROUND: Final = " \t\r\n\u00a0\u200b\u200c\u200d\u2060\ufeff"


@dataclass(frozen=True, slots=True)
class KeyShape:
    """Why a key cannot be right for ``provider``. ``other`` names the provider whose key it
    looks like (for ``wrong_provider``); ``prefix`` is the prefix ``provider`` expects."""

    problem: ShapeProblem
    provider: str
    other: str | None = None
    prefix: str | None = None


def key_owner(key: str) -> str | None:
    """The provider kind whose documented prefix ``key`` starts with, if any."""
    text = key.strip(_AROUND)
    for kind in ("openrouter", "anthropic", "openai", "gemini"):
        if text.startswith(PREFIXES[kind]):
            return kind
    return None


def check_key_shape(provider: str, key: str) -> KeyShape | None:
    """``None`` when ``key`` has the shape of a ``provider`` key; else what is wrong.

    Surrounding whitespace (what a copy-paste adds) is not a problem: it is removed before the
    key is used. A space *inside* is (``"hello my key"``), as is an empty key where one is
    needed, a key for another provider (``wrong_provider``, naming it) and a key without the
    provider's prefix (``wrong_prefix``). For a provider that takes no key (Ollama) any key is
    ``not_needed``. The key itself never appears in the result.
    """
    text = key.strip(_AROUND)
    if provider in KEYLESS:
        return KeyShape("not_needed", provider) if text else None
    if not text:
        return None if provider in OPTIONAL else KeyShape("empty", provider)
    if any(ch.isspace() for ch in text):
        return KeyShape("space", provider)
    expected = PREFIXES.get(provider)
    if expected is None:  # compatible: the user's own server decides
        return None
    owner = key_owner(text)
    if owner is not None and owner != provider:
        return KeyShape("wrong_provider", provider, other=owner, prefix=expected)
    if not text.startswith(expected):
        return KeyShape("wrong_prefix", provider, prefix=expected)
    return None


__all__ = ["KEYLESS", "OPTIONAL", "PREFIXES", "KeyShape", "ShapeProblem", "check_key_shape"]
