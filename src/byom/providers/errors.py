"""HTTP status → typed error, shared by every adapter (pitfalls 7 and 8).

The decision is made on the status code. Only 401 becomes :class:`KeyRejected` — the one signal
that a key is stale — and only as a real HTTP status: an error object met inside a 2xx body or
stream (``in_band=True``) never clears a key, whatever code it carries (pitfall 22).
403 is moderation, never a bad key. Words in an error body are never used to decide about the
key; they are used only to tell a context-length 400 from other 400s, and never copied into the
message the user sees.
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

IN_BAND_AUTH_MESSAGE = (
    "The provider reported an authentication problem inside an otherwise successful reply. "
    "Your key was kept; if this repeats, check the key at the provider."
)

_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "context window",
    "exceeds the maximum number of tokens",  # Gemini: "The input token count exceeds …"
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
    in_band: bool = False,
) -> ByomError:
    """Map a provider's HTTP status to byom's error. ``hint`` is the provider's message,
    lower-cased, used only to classify 400/404 — it never reaches the user.

    ``in_band``: ``status`` is a code read from an error object inside a 2xx response, not the
    response's status. Such an error fails the request but never means "bad key": a 401 code
    there becomes :class:`BadResponse` and the key is kept.
    """
    hint = hint.lower()
    if status == 401 and in_band:
        return BadResponse(IN_BAND_AUTH_MESSAGE)
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
