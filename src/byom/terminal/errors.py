"""Plain, localized words for every byom error, for the terminal.

The words are :func:`byom.errors.user_message`'s — the same an app shows on any surface — in the
terminal's active language.
"""

from __future__ import annotations

from byom.errors import user_message
from byom.locales import Messages


def describe_error(
    error: BaseException, tr: Messages, *, app_id: str = "APP", provider: str | None = None
) -> str:
    """One or two sentences a person can act on, in the active language. ``provider`` is the
    kind that answered (``openai``, ``ollama`` …) when the error does not carry it itself: the
    words name that provider, never OpenRouter for another."""
    return user_message(error, tr.lang, app_id=app_id, provider=provider)


__all__ = ["describe_error"]
