"""R4.4 / issue 13 item 6 (terminal): the history table is designed for an 80-column terminal.
When, feature, tokens, cost and outcome are shown whole — "summarize", "Tokens", "Outcome",
never "summari…", "Toke…", "Outco…" — and the cost is never the hidden part: only a long model
name gives way, with an ellipsis. Driven through ``byom history`` in a real 80×24 pty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import byom
from byom.locales import Messages
from byom.sim import Simulator
from r5_pty import Session, base_env, byom_argv, capture

FEATURES = [
    byom.Feature("summarize", "worker", "Five-bullet summary"),
    byom.Feature("critique", "frontier", "A hard-nosed critique"),
]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as running:
        yield running


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_r4_4_history_table_fits_80_columns_and_never_hides_the_cost(
    sim: Simulator, tmp_path: Path, lang: str
) -> None:
    sim.reset()
    home = tmp_path / "home"
    data = home / ".local" / "share" / "byom"
    home.mkdir()
    with byom.App("Paper digest", FEATURES, data_dir=data) as app:
        app.connect("openrouter", key="sk-or-v1-history-width", base_url=sim.openrouter_base)
        app.choose_model("critique", "anthropic/claude-sonnet-4.5")
        for feature in ("summarize", "critique"):
            app.chat(feature, [{"role": "user", "content": "word " * 4000}], max_tokens=900)
        rows = app.history()
    tr = Messages(lang)
    s = Session(byom_argv("history", "--app", "paper-digest"), base_env(home, data, lang))
    try:
        s.expect_text(tr("cli.history.recent"))
        s.finish()
        screen = s.screen()
    finally:
        s.close()
    capture(lang, "14-history", screen)
    lines = screen.split("\n")
    head = next(i for i, line in enumerate(lines) if line.startswith(tr("column.when")))
    header = lines[head]
    for column in ("when", "feature", "model", "tokens", "cost", "outcome"):
        assert tr(f"column.{column}") in header.split(), header
    assert "…" not in header
    for line, record in zip(lines[head + 2 :], rows, strict=False):
        assert len(line) <= 80
        cells = re.split(r"\s{2,}", line.strip())
        assert record.feature in cells, line  # whole, never "summari…"
        assert f"{record.usage.prompt_tokens}+{record.usage.completion_tokens}" in cells, line
        cost = [c for c in cells if c.startswith("$")]
        assert cost and "…" not in cost[0], line
        assert tr(f"outcome.{record.outcome}") == cells[-1], line
