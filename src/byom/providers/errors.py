"""HTTP status → typed error, shared by every adapter (pitfalls 7 and 8).

The decision is made on the status code. Only 401 becomes :class:`KeyRejected` — the one signal
that a key is stale. 403 is moderation, never a bad key. Words in an error body are never used to
decide about the key; they are used only to tell a context-length 400 from other 400s, and
never copied into the message the user sees.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from byom.core.errors import (
    BadRequest,
    BadResponse,
    ByomError,
    ContextTooLong,
    KeyRejected,
    ModelUnavailable,
    ModerationFlagged,
    OutOfCredits,
    ProviderUnavailable,
    RateLimited,
    RequestTimeout,
)
from byom.providers._wire import retry_after

_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "context window",
)
_MODEL_HINTS = (
    "not a valid model",
    "model not found",
    "no such model",
    "does not exist",
    "unknown model",
    "model_not_found",
    "no endpoints found",
)


def error_for_status(
    status: int,
    headers: Mapping[str, str],
    *,
    hint: str = "",
    limit_source: str | None = None,
) -> ByomError:
    """Map a provider's HTTP status to byom's error. ``hint`` is the provider's message,
    lower-cased, used only to classify 400/404 — it never reaches the user."""
    hint = hint.lower()
    if status == 401:
        return KeyRejected(status=status)
    if status == 402:
        return OutOfCredits(status=status, limit_source=limit_source)
    if status == 403:
        return ModerationFlagged(status=status)
    if status == 408:
        return RequestTimeout(status=status)
    if status == 429:
        return RateLimited(status=status, retry_after=retry_after(headers, time.time()))
    if status == 413 or (status == 400 and any(h in hint for h in _CONTEXT_HINTS)):
        return ContextTooLong(status=status)
    if status == 404 or (status == 400 and any(h in hint for h in _MODEL_HINTS)):
        return ModelUnavailable(status=status)
    if status == 400 or status == 422:
        return BadRequest(status=status)
    if status == 529 or 500 <= status <= 599:
        return ProviderUnavailable(status=status)
    return BadResponse(status=status)
