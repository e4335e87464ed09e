"""Plain, localized words for every byom error (R5.6).

The text comes from the catalog entry ``error.<code>`` for the error's stable code — never from
the provider's payload, which may echo flagged input. Errors that carry figures (a budget
refusal, a rate limit's wait, which credit ran out) get them formatted for people.
"""

from __future__ import annotations

from byom.core.errors import BudgetExceeded, ByomError, InvalidRequest, OutOfCredits, RateLimited
from byom.locales import Messages
from byom.terminal._format import usd


def describe_error(
    error: BaseException, tr: Messages, *, app_id: str = "APP", provider: str | None = None
) -> str:
    """One or two sentences a person can act on, in the active language.

    ``provider`` is the kind of provider that answered (``openai``, ``ollama`` …): errors that
    name the provider name that one, never OpenRouter for another (the catalog's
    ``error.<code>.other`` entries). Without it the words are OpenRouter's, as before."""
    text = _describe(error, tr, app_id)
    return text if provider in (None, "openrouter") else _for_provider(error, tr, text, provider)


def _for_provider(error: BaseException, tr: Messages, text: str, provider: str | None) -> str:
    code = error.code if isinstance(error, ByomError) else ""
    key = f"error.{code}"
    if isinstance(error, RateLimited) and error.retry_after:
        key = "error.rate_limited.retry"
    if not tr.has(key + ".other"):
        return text
    name = tr(f"provider.name.{provider}") if tr.has(f"provider.name.{provider}") else "?"
    seconds = (
        f"{max(1, round(error.retry_after))}"
        if isinstance(error, RateLimited) and error.retry_after
        else ""
    )
    return tr(key + ".other", provider=name, Provider=name[:1].upper() + name[1:], seconds=seconds)


def _describe(error: BaseException, tr: Messages, app_id: str) -> str:
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
