"""Small pieces the audit run and its checks share: what one use of a feature led to, how long a
page may take to start, and how evidence text is cut and money written."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from byom.audit.network import Recorded

#: How long a loading page may take to become ready and show its ``app.prepare`` controls, at
#: least: an app that boots a runtime (Pyodide) on a busy two-core machine needs far more than
#: the wizard's timeout. Only an app that never gets ready waits this long.
BOOT_SECONDS = 90.0


@dataclass(slots=True)
class Outcome:
    """What one use of a feature led to."""

    kind: str  # "admitted" | "refused" | "wizard" | "dialog" | "none" | "no-control" | "timeout"
    requests: list[Recorded] = field(default_factory=list)

    @property
    def statuses(self) -> list[int | None]:
        return [r.status for r in self.requests]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _plain(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text if text not in ("", "-0") else "0"


def _clip(text: str, width: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


__all__ = ["BOOT_SECONDS", "Outcome"]
