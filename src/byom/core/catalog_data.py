"""Which bundled models are ``frontier`` and which are ``worker`` (R1.3).

Plain data, so it loads without I/O under CPython and Pyodide alike. A model not listed here has
no category until the user assigns one; adding a model needs no code change in an app.
"""

from __future__ import annotations

from typing import Final

from byom.core.features import Category

BUNDLED_CATEGORIES: Final[dict[str, Category]] = {
    # OpenRouter ids
    "openai/gpt-5": "frontier",
    "openai/gpt-4.1": "frontier",
    "openai/gpt-4o": "frontier",
    "anthropic/claude-opus-4.1": "frontier",
    "anthropic/claude-sonnet-4.5": "frontier",
    "google/gemini-2.5-pro": "frontier",
    "openai/gpt-5-mini": "worker",
    "openai/gpt-4.1-mini": "worker",
    "openai/gpt-4o-mini": "worker",
    "anthropic/claude-haiku-4.5": "worker",
    "google/gemini-2.5-flash": "worker",
    "meta-llama/llama-3.3-70b-instruct": "worker",
    "meta-llama/llama-3.2-3b-instruct:free": "worker",
    "mistralai/mistral-small-3.2-24b-instruct": "worker",
    "deepseek/deepseek-chat-v3.1": "worker",
}
