"""The connection panel (R5.5): what is connected, which model each feature uses, the
allowances and what counts against them, the key's whereabouts, and the spend history.

The same figures serve ``byom status`` / ``byom history`` (as text or ``--json``) and the
in-app panel of :meth:`Panel.run`, from which a user changes a model, adjusts the allowance,
rotates or forgets the key and looks at the history.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from byom.core.errors import ByomError
from byom.core.money import from_pico
from byom.locales import Messages
from byom.terminal._console import Cancel, Prompter, clean
from byom.terminal._format import allowance_text, context, model_prices, provider_name, usd
from byom.terminal.chart import bar_lines, last_days

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from byom.app import App

By = Literal["day", "feature", "model", "run"]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def saved_connection(app: App) -> dict[str, Any]:
    text = app.store.get_setting(app.app_id, "connection")
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def status_data(app: App) -> dict[str, Any]:
    """Everything ``byom status`` shows, as JSON-ready data (money as decimal strings)."""
    saved = saved_connection(app)
    features = []
    for feature in app.features.values():
        entry: dict[str, Any] = {
            "name": feature.name,
            "category": feature.category,
            "description": feature.description,
            "model": None,
        }
        try:
            model = app.model_for(feature.name)
        except ByomError:
            model = None
        if model is not None:
            price = model.price
            entry["model"] = {
                "id": model.id,
                "name": model.name,
                "prompt_per_million": None if price is None else _money(price.prompt * 1_000_000),
                "completion_per_million": None
                if price is None
                else _money(price.completion * 1_000_000),
                "context_length": model.context_length,
            }
        features.append(entry)
    allowances = []
    for allowance in app.allowances():
        counts = app.spent(allowance.period)
        allowances.append(
            {
                "period": allowance.period,
                "amount": _money(allowance.amount),
                "strict": allowance.strict,
                "counts": _money(counts),
                "left": _money(max(Decimal(0), allowance.amount - counts)),
            }
        )
    pending = app.unreconciled()
    return {
        "app": {"id": app.app_id, "name": app.name},
        "connected": app.connected,
        "provider": app.provider or saved.get("provider"),
        "base_url": app.adapter.base_url if app.connected else saved.get("base_url"),
        "key": app.key_location(),
        "features": features,
        "allowances": allowances,
        "spent": {p: _money(app.spent(p)) for p in ("day", "month", "total")},
        "unreconciled": {
            "count": len(pending),
            "amount": _money(from_pico(sum(row.counted_pico for row in pending))),
        },
    }


def render_status(app: App, tr: Messages) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from byom.terminal.wizard import where_text

    data = status_data(app)
    name = provider_name(app.provider or data.get("provider"), tr)
    parts: list[RenderableType] = [
        Text(tr("cli.status.title", app=clean(app.name), app_id=app.app_id), style="bold")
    ]
    if app.connected:
        parts.append(Text("✓ " + tr("cli.status.connected", provider=data["provider"])))
    else:
        parts.append(Text(tr("cli.status.not_connected", app_id=app.app_id), style="yellow"))
    if data["base_url"]:
        parts.append(Text(tr("cli.status.endpoint", base_url=data["base_url"])))
    if app.connected:
        parts.append(Text(tr("cli.status.key", where=where_text(app, tr))))
    parts.append(Text(""))
    parts.append(Text(tr("cli.status.features"), style="bold"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for column, justify in (
        ("column.feature", "left"),
        ("column.category", "left"),
        ("column.model", "left"),
        ("column.in", "right"),
        ("column.out", "right"),
        ("column.context", "right"),
    ):
        table.add_column(tr(column), justify=justify, no_wrap=column != "column.model")  # type: ignore[arg-type]
    for feature in app.features.values():
        try:
            model = app.model_for(feature.name)
        except ByomError:
            table.add_row(feature.name, tr(f"category.{feature.category}"), "?", "", "", "")
            continue
        price_in, price_out = model_prices(model, tr)
        table.add_row(
            feature.name,
            tr(f"category.{feature.category}"),
            clean(model.name),
            price_in,
            price_out,
            context(model.context_length),
        )
    parts.append(table)
    parts.append(Text(""))
    parts.append(Text(tr("cli.status.allowances"), style="bold"))
    allowances = app.allowances()
    if allowances:
        grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
        grid.add_column(tr("column.allowance"))
        grid.add_column(tr("column.spent"), justify="right")
        grid.add_column(tr("column.left"), justify="right")
        for allowance in allowances:
            counts = app.spent(allowance.period)
            grid.add_row(
                allowance_text(allowance, tr),
                usd(counts, tr),
                usd(max(Decimal(0), allowance.amount - counts), tr),
            )
        parts.append(grid)
    else:
        if app.provider != "ollama":  # a local Ollama costs nothing: no ceiling to miss
            text = tr("cli.status.no_allowance", app_id=app.app_id, provider=name)
            parts.append(Text(text, style="yellow"))
    spent = {p: usd(app.spent(p), tr) for p in ("day", "month", "total")}
    parts.append(Text(""))
    parts.append(Text(tr("cli.status.spent", **spent)))
    if data["unreconciled"]["count"]:
        parts.append(
            Text(
                tr(
                    "cli.status.unreconciled",
                    count=data["unreconciled"]["count"],
                    amount=usd(Decimal(data["unreconciled"]["amount"]), tr),
                ),
                style="yellow",
            )
        )
    if app.provider != "ollama":
        parts.append(Text(tr("cli.status.best_effort", provider=name), style="dim"))
    return Group(*parts)


# -- history --------------------------------------------------------------------------------------


def totals_rows(app: App, by: By) -> list[tuple[str, Decimal, int]]:
    """(key, known cost, number of requests) per day / feature / model / run (the first 12
    characters of its id; calls outside a run are left out), from history."""
    totals: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for record in app.history():
        if by == "run":
            if record.run_id is None:
                continue
            key = record.run_id[:12]
        elif by == "day":
            key = datetime.fromtimestamp(record.started_at).astimezone().date().isoformat()
        elif by == "feature":
            key = record.feature
        else:
            key = record.model
        counts[key] = counts.get(key, 0) + 1
        totals[key] = totals.get(key, Decimal(0)) + (record.cost or Decimal(0))
    return [(k, totals[k], counts[k]) for k in sorted(totals)]


def render_history(
    app: App,
    tr: Messages,
    *,
    by: By | None = None,
    days: int = 14,
    width: int = 80,
    today: date | None = None,
) -> RenderableType:
    from rich.console import Group
    from rich.text import Text

    records = app.history()
    if not records:
        return Text(tr("cli.history.empty"))
    parts: list[RenderableType] = []
    if by in (None, "day"):
        today = today or datetime.fromtimestamp(time.time()).astimezone().date()
        series = last_days(app.totals("day", period="total"), days, today)
        parts.append(Text(tr("cli.history.title", days=days), style="bold"))
        parts.extend(Text(line) for line in bar_lines(series, width=width, tr=tr))
    if by in ("feature", "model", "run"):
        parts.append(Text(tr("cli.history.by", by=tr(f"by.{by}")), style="bold"))
        rows = totals_rows(app, by)
        lines = bar_lines([(clean(k), v) for k, v, _ in rows], width=width - 8, tr=tr)
        for line, (_, _, count) in zip(lines, rows, strict=True):
            parts.append(Text(f"{line}  ×{count}"))
    if by is None:
        parts.append(Text(""))
        parts.append(Text(tr("cli.history.recent"), style="bold"))
        parts.append(recent_table(records[:8], tr, width=width))
    total = sum((r.cost or Decimal(0) for r in records), Decimal(0))
    parts.append(
        Text(tr("cli.history.summary", count=len(records), total=usd(total, tr)), style="dim")
    )
    parts.append(Text(tr("cli.history.export_hint", app_id=app.app_id), style="dim"))
    return Group(*parts)


def recent_table(records: Sequence[Any], tr: Messages, *, width: int = 80) -> RenderableType:
    """The latest requests as a table designed for ``width`` columns: when, feature, tokens,
    cost and outcome are shown whole (the cost is never the part that is hidden); only the
    model's name gives way, with an ellipsis, when the line would be too wide."""
    from rich import box
    from rich.table import Table

    headers = [
        tr("column.when"),
        tr("column.feature"),
        tr("column.model"),
        tr("column.tokens"),
        tr("column.cost"),
        tr("column.outcome"),
    ]
    rows = []
    for record in records:
        when = datetime.fromtimestamp(record.started_at).astimezone()
        outcome_key = f"outcome.{record.outcome}"
        rows.append(
            [
                when.strftime("%m-%d %H:%M"),
                clean(record.feature)[:24],
                clean(record.model),
                f"{record.usage.prompt_tokens}+{record.usage.completion_tokens}",
                usd(record.cost, tr) if record.cost is not None else "—",
                tr(outcome_key) if tr.has(outcome_key) else clean(record.outcome)[:16],
            ]
        )
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    gap = 2
    model_room = width - sum(widths) + widths[2] - gap * (len(headers) - 1)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for index, header in enumerate(headers):
        right = index in (3, 4)
        if index == 2:
            table.add_column(
                header, overflow="ellipsis", no_wrap=True, max_width=max(6, model_room)
            )
        else:
            table.add_column(
                header,
                justify="right" if right else "left",
                no_wrap=True,
                min_width=widths[index],
            )
    for row in rows:
        table.add_row(*row)
    return table


# -- the in-app panel -----------------------------------------------------------------------------


class Panel:
    """An interactive connection panel inside a terminal app (R5.5)."""

    def __init__(
        self,
        app: App,
        *,
        tr: Messages,
        console: Console,
        connect: Callable[[str], bool],
        base_url: str | None = None,
    ) -> None:
        self.app = app
        self.tr = tr
        self.console = console
        self.prompt = Prompter(console, tr)
        self._connect = connect
        self.base_url = base_url

    def run(self) -> None:
        from rich.text import Text

        while True:
            if self.console.is_terminal:
                self.console.clear()
            self.console.print(render_status(self.app, self.tr))
            self.console.print()
            self.console.print(Text(self.tr("panel.menu"), style="bold"))
            try:
                choice = self.prompt.ask(self.tr("panel.prompt")).lower()
            except Cancel:
                return
            try:
                if not choice or choice == "q":
                    return
                if choice == "m":
                    self._model()
                elif choice == "a":
                    self._wizard(next(iter(self.app.features))).choose_allowance()
                elif choice == "r":
                    self._rotate()
                elif choice == "f":
                    if self.prompt.yes_no(
                        self.tr("cli.key.confirm_forget", app=self.app.name), default=False
                    ):
                        self.app.forget_key()
                        self.prompt.note(self.tr("cli.key.forgotten"), style="green")
                        self.prompt.pause(self.tr("prompt.enter"))
                elif choice == "h":
                    if self.console.is_terminal:
                        self.console.clear()
                    self.console.print(render_history(self.app, self.tr, width=self.console.width))
                    self.prompt.pause(self.tr("prompt.enter"))
            except Cancel:
                continue

    def _wizard(self, feature: str) -> Any:
        from byom.terminal.wizard import Wizard

        return Wizard(
            self.app,
            feature,
            tr=self.tr,
            console=self.console,
            base_url=self.base_url,
            steps=(),  # single screens: no "step n of 9" header
            then_run=False,
        )

    def _model(self) -> None:
        names = list(self.app.features)
        feature = names[0]
        if len(names) > 1:
            listing = " · ".join(f"{i} {n}" for i, n in enumerate(names, start=1))
            answer = self.prompt.ask(f"{listing} [1]: ")
            if answer.isdigit() and 1 <= int(answer) <= len(names):
                feature = names[int(answer) - 1]
            elif answer in names:
                feature = answer
        self._wizard(feature).choose_model()

    def _rotate(self) -> None:
        feature = next(iter(self.app.features))
        if not self.app.connected:
            self._connect(feature)
            return
        from byom.terminal.wizard import RECONNECT, Wizard

        Wizard(
            self.app,
            feature,
            tr=self.tr,
            console=self.console,
            base_url=self.base_url,
            steps=RECONNECT,
            then_run=False,
        ).rotate()


__all__ = ["Panel", "render_history", "render_status", "status_data", "totals_rows"]
