"""R4.3 / R4.4: the server-side tool uses a call was billed for are figures of its history row.

Anthropic reports web searches it ran inside a request in ``usage.server_tool_use``
(``{"web_search_requests": N}``; in a stream, in the ``message_delta`` event). The shape is the
one in Anthropic's Messages API reference and in the recorded claude-sonnet-4 web-search replies
of ``tests/test_r1_2_wire_real_samples.py``; the simulator sends it when configured with
``web_search_requests``. byom prices the searches (R4.2) and keeps their count — and the count of
server-side tool uses it has no fee for — in the history row, every store and both exports.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.core.store import CallRecord, MemoryStore
from byom.core.usage import Usage
from byom.sim import Simulator
from byom.store.sqlite import SQLiteStore
from byom.web.browser.store import BrowserStore, record_from_json, record_to_json
from conftest import CANARY_KEY, SUMMARIZE, user

SEARCH_FEE = Decimal("0.01")  # the bundled Anthropic price list: USD per web search


@pytest.fixture
def anthropic_app(sim: Simulator, tmp_path: Path) -> Iterator[byom.App]:
    app = byom.App("Paper digest", features=[SUMMARIZE], data_dir=tmp_path / "data")
    app.connect("anthropic", key=CANARY_KEY, base_url=sim.base_url)
    yield app
    app.close()


def _one(reply_or_done: Any) -> byom.Reply:
    return reply_or_done if isinstance(reply_or_done, byom.Reply) else reply_or_done.reply


@pytest.mark.parametrize("stream", [False, True])
def test_r4_3_web_searches_reach_history_and_both_exports(
    anthropic_app: byom.App, sim: Simulator, stream: bool
) -> None:
    sim.config(web_search_requests=2)
    app = anthropic_app
    if stream:
        items = list(app.stream("summarize", user("Look it up."), max_tokens=80))
        reply = _one(items[-1])
    else:
        reply = app.chat("summarize", user("Look it up."), max_tokens=80)
    assert reply.usage.web_search_requests == 2
    model = app.model_for("summarize")
    assert model.price is not None
    tokens = model.price.cost(
        prompt_tokens=reply.usage.prompt_tokens, completion_tokens=reply.usage.completion_tokens
    )
    assert reply.cost_source == "computed" and reply.cost == tokens + 2 * SEARCH_FEE

    # The history row, read back from the SQLite file by a second app, carries the count.
    [record] = app.history()
    assert record.usage.web_search_requests == 2
    assert record.usage.unpriced_tool_requests == 0
    assert record.cost == reply.cost

    exported = json.loads(app.export_history("json"))
    assert exported[0]["web_search_requests"] == 2
    assert exported[0]["unpriced_tool_requests"] == 0
    rows = list(csv.DictReader(io.StringIO(app.export_history("csv"))))
    assert rows[0]["web_search_requests"] == "2" and rows[0]["unpriced_tool_requests"] == "0"


def test_r4_3_web_searches_survive_reopening_the_store(
    anthropic_app: byom.App, sim: Simulator, tmp_path: Path
) -> None:
    sim.config(web_search_requests=3)
    reply = anthropic_app.chat("summarize", user("Search twice."), max_tokens=60)
    store = SQLiteStore(tmp_path / "data")
    try:
        record = store.get_record(anthropic_app.app_id, reply.call_id)
        assert record is not None and record.usage.web_search_requests == 3
    finally:
        store.close()


def test_r4_3_a_call_without_searches_records_zero(anthropic_app: byom.App) -> None:
    anthropic_app.chat("summarize", user("No search."), max_tokens=60)
    [record] = anthropic_app.history()
    assert record.usage.web_search_requests == 0 == record.usage.unpriced_tool_requests
    exported = json.loads(anthropic_app.export_history("json"))
    assert exported[0]["web_search_requests"] == 0


# -- every store keeps both counts ----------------------------------------------------------------


class _Host:
    """IndexedDB rows and the one Web Lock, in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def load(self, app_id: str) -> str:
        prefix = app_id + "|"
        return json.dumps(
            {k[len(prefix) :]: v for k, v in self.rows.items() if k.startswith(prefix)}
        )

    async def write(self, app_id: str, puts: str, deletes: str) -> None:
        for key, value in json.loads(puts).items():
            self.rows[f"{app_id}|{key}"] = value
        for key in json.loads(deletes):
            self.rows.pop(f"{app_id}|{key}", None)

    async def lock(self, name: str) -> Callable[[], None]:
        await self._lock.acquire()
        return self._lock.release


def _record(i: int, usage: Usage) -> CallRecord:
    return CallRecord(
        id=f"h{i}",
        app_id="a",
        feature="summarize",
        provider="anthropic",
        model="claude-haiku-4-5",
        outcome="ok",
        started_at=1_760_000_000.0 + i,
        ended_at=1_760_000_000.5 + i,
        usage=usage,
        cost=None,
        cost_source="unknown",
    )


SEARCHED = Usage(27118, 600, web_search_requests=2, unpriced_tool_requests=1)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "browser"])
def test_r4_3_every_store_keeps_server_tool_counts(kind: str, tmp_path: Path) -> None:
    records = [_record(1, SEARCHED), _record(2, Usage(5, 5))]
    if kind == "browser":
        host = _Host()
        store: Any = BrowserStore(host, "a")
        asyncio.run(store.load())
        for record in records:
            store.add_record(record)
        asyncio.run(store.flush())
        again = BrowserStore(host, "a")  # another tab reads what this one wrote
        asyncio.run(again.load())
        assert again.records("a") == records[::-1]
        return
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path)
    for record in records:
        store.add_record(record)
    store.update_record(dataclasses.replace(records[1], usage=Usage(5, 5, web_search_requests=1)))
    assert store.get_record("a", "h1") == records[0]
    got = store.get_record("a", "h2")
    assert got is not None and got.usage.web_search_requests == 1
    if isinstance(store, SQLiteStore):
        store.close()


def test_r4_3_browser_rows_without_tool_use_are_written_as_before() -> None:
    """A row with no server-side tool use keeps the five-count usage list, so a tab still
    running an older byom reads it; a row with them carries seven and reads back whole."""
    plain = _record(1, Usage(10, 5, 1, 2, 3))
    assert json.loads(record_to_json(plain))["usage"] == [10, 5, 1, 2, 3]
    assert record_from_json(record_to_json(plain)) == plain
    searched = _record(2, SEARCHED)
    assert json.loads(record_to_json(searched))["usage"] == [27118, 600, 0, 0, 0, 2, 1]
    assert record_from_json(record_to_json(searched)) == searched
