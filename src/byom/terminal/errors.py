"""Plain, localized words for every byom error (R5.6).

The text comes from the catalog entry ``error.<code>`` for the error's stable code — never from
the provider's payload, which may echo flagged input. Errors that carry figures (a budget
refusal, a rate limit's wait, which credit ran out) get them formatted for people.
"""

from __future__ import annotations

from byom.core.errors import (
    BudgetExceeded,
    BuiltinUnavailable,
    ByomError,
    InvalidRequest,
    OutOfCredits,
    RateLimited,
)
from byom.locales import Messages
from byom.terminal._format import usd


def describe_error(error: BaseException, tr: Messages, *, app_id: str = "APP") -> str:
    """One or two sentences a person can act on, in the active language."""
    if not isinstance(error, ByomError):
        return tr("error.byom_error")
    if isinstance(error, BudgetExceeded):
        return tr(
            "error.budget_exceeded",
            estimate=usd(error.estimate),
            spent=usd(error.spent),
            allowance=usd(error.allowance),
            period=tr(f"period.{error.period}"),
            app_id=app_id,
        )
    if isinstance(error, RateLimited) and error.retry_after:
        return tr("error.rate_limited.retry", seconds=f"{max(1, round(error.retry_after))}")
    if isinstance(error, OutOfCredits) and error.limit_source == "openrouter_key_limit":
        return tr("error.out_of_credits.key_limit")
    if isinstance(error, BuiltinUnavailable) and error.reason in ("mismatch", "file"):
        return tr(f"error.builtin_unavailable.{error.reason}")
    key = f"error.{error.code}"
    if not tr.has(key):
        key = "error.byom_error"
    text = tr(key, app_id=app_id)
    if isinstance(error, InvalidRequest) and error.message != error.default_message:
        # byom's own words on what to change ("Choose a worker model for summarize first"):
        # never content, and the useful part of the message.
        text = f"{text} {error.message}"
    return text


__all__ = ["describe_error"]
