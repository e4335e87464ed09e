"""R2.1 / issue 13 item 2: a key's shape is checked per provider before any request — empty,
a space inside, another provider's key (naming it), a missing prefix — in the core (standard
library only, so the browser can reuse it), and the wizard says which, plainly, in en and nl.

The prefixes are the providers' documented ones: OpenRouter ``sk-or-v1-…`` (openrouter.ai/docs,
API keys), OpenAI ``sk-proj-…`` and older ``sk-…`` (platform.openai.com/api-keys), Anthropic
``sk-ant-api03-…`` (docs.anthropic.com, getting started).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from byom.core.keyshape import KeyShape, check_key_shape, key_owner
from byom.locales import Messages

OPENROUTER = "sk-or-v1-0123456789abcdef0123456789abcdef"
OPENAI = "sk-proj-0123456789abcdefABCDEF"
OPENAI_OLD = "sk-0123456789abcdefABCDEF0123"
ANTHROPIC = "sk-ant-api03-0123456789abcdef-ABCDEF"


@pytest.mark.parametrize(
    ("provider", "key"),
    [
        ("openrouter", OPENROUTER),
        ("openai", OPENAI),
        ("openai", OPENAI_OLD),
        ("anthropic", ANTHROPIC),
        ("gemini", "AIzaSyD-0123456789abcdefghijklmnopqrstu"),
        ("compatible", "anything-my-server-takes"),
        ("compatible", ""),  # optional
        ("ollama", ""),
        ("openrouter", "  " + OPENROUTER + "\n"),  # what a copy-paste adds is not a problem
    ],
)
def test_r2_1_keys_of_the_right_shape_pass(provider: str, key: str) -> None:
    assert check_key_shape(provider, key) is None


@pytest.mark.parametrize(
    ("provider", "key", "expected"),
    [
        ("openrouter", "", KeyShape("empty", "openrouter")),
        ("anthropic", "   ", KeyShape("empty", "anthropic")),
        ("openrouter", "hello my key", KeyShape("space", "openrouter")),
        ("compatible", "two words", KeyShape("space", "compatible")),
        ("openrouter", OPENAI, KeyShape("wrong_provider", "openrouter", "openai", "sk-or-")),
        ("openai", OPENROUTER, KeyShape("wrong_provider", "openai", "openrouter", "sk-")),
        ("openai", ANTHROPIC, KeyShape("wrong_provider", "openai", "anthropic", "sk-")),
        ("anthropic", OPENAI, KeyShape("wrong_provider", "anthropic", "openai", "sk-ant-")),
        ("openrouter", "abc123", KeyShape("wrong_prefix", "openrouter", None, "sk-or-")),
        (
            "anthropic",
            "AIzaSyD-0123456789",
            KeyShape("wrong_provider", "anthropic", "gemini", "sk-ant-"),
        ),
        ("ollama", "sk-or-v1-x", KeyShape("not_needed", "ollama")),
    ],
)
def test_r2_1_wrong_shapes_say_what_is_wrong(provider: str, key: str, expected: KeyShape) -> None:
    shape = check_key_shape(provider, key)
    assert shape == expected
    assert key.strip() not in repr(shape) or not key.strip()  # the key is never in the result


def test_r2_1_key_owner_names_the_most_specific_prefix() -> None:
    assert key_owner(OPENROUTER) == "openrouter"
    assert key_owner(ANTHROPIC) == "anthropic"
    assert key_owner(OPENAI) == "openai"
    assert key_owner("gsk_groq") is None


def test_r2_1_key_shape_lives_in_the_core_and_imports_only_the_standard_library() -> None:
    import byom.core.keyshape as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"__future__", "dataclasses", "typing"}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r2_1_the_wizard_words_each_shape_problem(lang: str) -> None:
    """The wizard's sentence for each problem names the providers and prefixes, never the key,
    in both languages (a wrong-provider key says whose key it is)."""
    from byom.terminal.wizard import Wizard

    wizard = Wizard.__new__(Wizard)
    wizard.tr = Messages(lang)
    wizard.provider = "openai"

    class _App:
        name = "Notes"

    wizard.app = _App()  # type: ignore[assignment]
    wizard._asked = lambda: "OpenAI"  # type: ignore[method-assign]
    wizard.adapter = type("A", (), {"origin": "https://api.openai.com", "base_url": ""})()  # type: ignore[assignment]
    said = wizard._shape_problem(OPENROUTER)
    assert said is not None
    assert "OpenRouter" in said and "sk-or-" in said and "OpenAI" in said and "sk-" in said
    assert OPENROUTER not in said
    assert wizard._shape_problem("hello my key") == wizard.tr("wizard.key.shape.space")
    empty = wizard._shape_problem("")
    assert empty is not None and "sk-" in empty
    wizard.provider = "anthropic"
    wrong = wizard._shape_problem("abc123")
    assert wrong is not None and "Anthropic" in wrong and "sk-ant-" in wrong
