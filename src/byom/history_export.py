"""History as export text: the fields of one record, and CSV or JSON written as it is read.

Figures only, never content (R4.4): times in local ISO 8601, costs as exact decimal strings.
:meth:`byom.App.write_history` and :meth:`~byom.App.export_history` write through here, a record
at a time, so a long history is never held in memory whole.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal, Protocol

from byom.core.store import CallRecord


class SupportsWrite(Protocol):
    """A text file, or anything else with ``write(str)``."""

    def write(self, text: str, /) -> Any: ...


HISTORY_FIELDS = (
    "id",
    "feature",
    "provider",
    "model",
    "outcome",
    "started_at",
    "ended_at",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "web_search_requests",
    "unpriced_tool_requests",
    "cost",
    "cost_source",
    "error_code",
    "generation_id",
    "finish_reason",
    "run_id",
)


def history_row(record: CallRecord) -> dict[str, Any]:
    """One history record as export fields (times ISO 8601 UTC, cost a decimal string)."""

    def iso(ts: float | None) -> str | None:
        if ts is None:
            return None
        return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")

    return {
        "id": record.id,
        "feature": record.feature,
        "provider": record.provider,
        "model": record.model,
        "outcome": record.outcome,
        "started_at": iso(record.started_at),
        "ended_at": iso(record.ended_at),
        "prompt_tokens": record.usage.prompt_tokens,
        "completion_tokens": record.usage.completion_tokens,
        "cached_tokens": record.usage.cached_tokens,
        "cache_write_tokens": record.usage.cache_write_tokens,
        "reasoning_tokens": record.usage.reasoning_tokens,
        "web_search_requests": record.usage.web_search_requests,
        "unpriced_tool_requests": record.usage.unpriced_tool_requests,
        "cost": None if record.cost is None else format(record.cost, "f"),
        "cost_source": record.cost_source,
        "error_code": record.error_code,
        "generation_id": record.generation_id,
        "finish_reason": record.finish_reason,
        "run_id": record.run_id,
    }


def write_records(
    records: Iterable[CallRecord], file: SupportsWrite, fmt: Literal["csv", "json"] = "csv"
) -> int:
    """Write ``records`` to ``file`` as CSV or JSON text as they are read; returns how many."""
    count = 0
    if fmt == "json":
        for count, record in enumerate(records, start=1):
            text = json.dumps(history_row(record), indent=2).replace("\n", "\n  ")
            file.write(("[\n  " if count == 1 else ",\n  ") + text)
        file.write("\n]" if count else "[]")
        return count
    writer = csv.DictWriter(file, fieldnames=list(HISTORY_FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(history_row(record))
        count += 1
    return count


__all__ = ["HISTORY_FIELDS", "SupportsWrite", "history_row", "write_records"]
