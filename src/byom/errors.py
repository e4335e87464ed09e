"""byom's public errors: every failure that leaves byom's API is one of these.

Catch :class:`ByomError` for all of them; branch on ``error.code`` (stable, listed in
:data:`ERROR_CODES`); show :func:`user_message` to the user. Each class's docstring says when it
is raised and what the user can do. The classes live in the standard-library-only core
(:mod:`byom.core.errors`) so the browser runs them too, but carry this module's name:
tracebacks and ``repr`` say ``byom.errors.KeyRejected``.
"""

from __future__ import annotations

from typing import Any

from byom.core.errors import (
    ERROR_CODES,
    AppIdTaken,
    BadOutput,
    BadRequest,
    BadResponse,
    BudgetExceeded,
    BuiltinUnavailable,
    ByomError,
    Cancelled,
    ContextTooLong,
    EgressBlocked,
    InternalError,
    Interrupted,
    InvalidAmount,
    InvalidBaseUrl,
    InvalidKey,
    InvalidRequest,
    KeyRejected,
    KeyStorageUnavailable,
    ModelUnavailable,
    ModerationFlagged,
    NotConnected,
    OutOfCredits,
    ProviderUnavailable,
    RateLimited,
    RequestTimeout,
    RunCeilingReached,
    StoreUnavailable,
    ToolFailed,
    UnboundedInput,
    error_class,
)

__all__ = [
    "ERROR_CODES",
    "AppIdTaken",
    "BadOutput",
    "BadRequest",
    "BadResponse",
    "BudgetExceeded",
    "BuiltinUnavailable",
    "ByomError",
    "Cancelled",
    "ContextTooLong",
    "EgressBlocked",
    "InternalError",
    "Interrupted",
    "InvalidAmount",
    "InvalidBaseUrl",
    "InvalidKey",
    "InvalidRequest",
    "KeyRejected",
    "KeyStorageUnavailable",
    "ModelUnavailable",
    "ModerationFlagged",
    "NotConnected",
    "OutOfCredits",
    "ProviderUnavailable",
    "RateLimited",
    "RequestTimeout",
    "RunCeilingReached",
    "StoreUnavailable",
    "ToolFailed",
    "UnboundedInput",
    "error_class",
    "user_message",
]


def _sentence(tr: Any, key: str, **values: str) -> str:
    """The catalog text, with a sentence that opens on the provider's name ("the provider …")
    capitalised."""
    text: str = tr(key, **values)
    if tr(key).startswith("{provider}"):
        text = text[:1].upper() + text[1:]
    return text


def user_message(
    error: BaseException,
    lang: str | None = None,
    *,
    app_id: str = "APP",
    provider: str | None = None,
) -> str:
    """The plain words an app can show a user for ``error``, in English or Dutch, as they are.

    ``lang`` is a language tag (``"nl"``, ``"nl_NL.UTF-8"``); ``None`` follows the environment
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``). The text comes from byom's catalog entry for the
    error's ``code`` — never from the provider's payload, which may echo flagged input — with the
    figures an error carries written by :func:`byom.format_money` (a budget refusal's estimate,
    spent and allowance), a rate limit's wait, and, for :class:`InvalidRequest`, byom's own
    words on what to change. ``app_id`` fills the ``byom … --app`` hints. The provider named is
    ``provider`` (a kind: ``"ollama"``, …), else the one the error came from (``error.provider``,
    set by :class:`byom.App`), else "the provider". Anything that is not a ``ByomError`` gets the
    generic sentence, so an app can pass any exception.
    """
    from byom.core.money import format_money
    from byom.locales import Messages, normalize, resolve

    language = (normalize(lang) or "en") if lang else resolve(None)
    tr = Messages(language)
    if not isinstance(error, ByomError):
        return tr("error.byom_error")
    if isinstance(error, BudgetExceeded):
        return tr(
            "error.budget_exceeded",
            estimate=format_money(error.estimate, language),
            spent=format_money(error.spent, language),
            allowance=format_money(error.allowance, language),
            period=tr(f"period.{error.period}"),
            app_id=app_id,
        )
    kind = provider or error.provider
    name_key = f"provider.name.{kind}"
    name = tr(name_key if kind and tr.has(name_key) else "provider.name.unknown")
    if isinstance(error, RateLimited) and error.retry_after:
        seconds = f"{max(1, round(error.retry_after))}"
        return _sentence(tr, "error.rate_limited.retry", seconds=seconds, provider=name)
    if isinstance(error, OutOfCredits) and error.limit_source == "openrouter_key_limit":
        return tr("error.out_of_credits.key_limit")
    if isinstance(error, BuiltinUnavailable) and error.reason in ("mismatch", "file"):
        return tr(f"error.builtin_unavailable.{error.reason}")
    key = f"error.{error.code}"
    if isinstance(error, OutOfCredits) and kind == "openrouter":
        key = "error.out_of_credits.openrouter"  # where to add credit, with its address
    if not tr.has(key):
        key = "error.byom_error"
    text = _sentence(tr, key, app_id=app_id, provider=name)
    if isinstance(error, InvalidRequest) and error.message != error.default_message:
        # byom's own words on what to change ("Choose a worker model for summarize first"):
        # never content, and the useful part of the message. (English: they are written by
        # byom's code, not the catalog.)
        text = f"{text} {error.message}"
    return text
