"""Transports: the only code that sends bytes. Each is locked to one provider origin (R2.4)."""

from __future__ import annotations

from byom.core.errors import ByomError


class SendFailed(Exception):
    """A transport-level failure, mapped to a byom error.

    ``sent`` says whether the request may have reached the provider (and so may have been
    charged): ``False`` for a refused connection, ``True`` for a timeout or a cut after sending.
    The original exception is deliberately not chained: it may carry request details.
    """

    def __init__(self, error: ByomError, *, sent: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.sent = sent
