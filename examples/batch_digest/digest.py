"""Batch digest: one-line summaries of 20 texts, concurrently, under a $0.001 allowance.

Written from byom's README alone. It connects the user's own provider, sets a strict session
allowance of $0.001, summarises 20 texts with asyncio (byom reserves each request's worst case
before sending it — in strict mode the input is bounded by its bytes and the provider enforces
``max_tokens`` — so what does not fit is refused unsent, never charged), prints the totals and
writes the history as CSV. Switching providers changes only the ``app.connect`` line.

    OPENROUTER_API_KEY=sk-or-... python examples/batch_digest/digest.py history.csv

Offline: start ``byom sim`` and connect with its ``base_url`` (README, "Which base_url").
"""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal

import byom

TOPICS = (
    "tide pools", "bread baking", "bicycle gears", "honey bees", "lighthouses", "volcanoes",
    "paper making", "river deltas", "wind turbines", "coral reefs", "glass blowing",
    "migrating birds", "sourdough", "sundials", "canal locks", "snow crystals", "cave maps",
    "tea growing", "old clocks", "salt marshes",
)  # fmt: skip
TEXTS = [
    f"A short note on {topic}: what it is, how it works, why people care about it, and one "
    f"surprising fact that most visitors to a museum about {topic} never hear."
    for topic in TOPICS
]
ALLOWANCE = Decimal("0.001")


async def summarize(app: byom.App, text: str) -> tuple[str, str]:
    """One summary: ("done", its cost) or ("refused" / "failed", the words to show)."""
    messages = [{"role": "user", "content": f"Summarise in one line:\n\n{text}"}]
    try:
        reply = await app.achat("summarize", messages, max_tokens=60)
    except byom.errors.BudgetExceeded as refused:  # not sent: it could go over the allowance
        return "refused", byom.errors.user_message(refused, "en", app_id=app.app_id)
    except byom.errors.ByomError as error:
        return "failed", byom.errors.user_message(error, "en", app_id=app.app_id)
    return "done", byom.format_money(reply.cost)  # "unknown" when the provider never said


async def main(csv_path: str) -> int:
    app = byom.App(
        "Batch digest",
        app_id="batch-digest",
        features=[byom.Feature("summarize", "worker", "One-line summary")],
    )
    app.connect("openrouter", key=os.environ["OPENROUTER_API_KEY"])
    app.refresh_models()  # the provider's list (a local server's models count as workers)
    app.set_allowance(ALLOWANCE, period="session", strict=True)  # a hard bound, not an estimate
    print(f"Summarising {len(TEXTS)} texts with {app.model_for('summarize').id}")

    results = await asyncio.gather(*(summarize(app, text) for text in TEXTS))
    for topic, (outcome, detail) in zip(TOPICS, results, strict=True):
        print(f"{topic:>16}: {outcome} · {detail}")

    done = sum(1 for outcome, _ in results if outcome == "done")
    refused = sum(1 for outcome, _ in results if outcome == "refused")
    failed = len(results) - done - refused
    by_model = app.totals(by="model")  # this session's known costs
    for model, cost in by_model.items():
        print(f"{model}: {byom.format_money(cost)}")
    with open(csv_path, "w", encoding="utf-8", newline="") as out:
        rows = app.write_history(out, "csv")
    print(
        f"done {done} · refused {refused} · failed {failed} · "
        f"spent {byom.format_money(app.spent())} of {byom.format_money(ALLOWANCE)} · "
        f"{rows} history rows in {csv_path}"
    )
    app.close()
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "history.csv")))
