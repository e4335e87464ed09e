"""``byom connect | status | models | model | category | budget | key | history``: the
connection surface (R5.5) for an app that has run on this device, addressed by its id.

Every command takes ``--app ID`` (default ``$BYOM_APP``), ``--data-dir``, ``--base-url`` (a
provider address, e.g. the simulator's ``…/api/v1``) and ``--lang en|nl``. Output for machines
(``--json``, ``--csv``) goes to standard output with nothing else mixed in; human output honours
``NO_COLOR``. Nothing here waits on a prompt without a terminal: such a command exits with code 2
and says what to do instead.

Exit codes: 0 done · 1 refused or failed (the reason is printed) · 2 usage, or a terminal needed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

#: The provider kinds ``byom connect --provider`` takes (``byom.providers.registry.PROVIDERS``,
#: spelled out so that registering the command imports nothing).
PROVIDER_CHOICES = ("openrouter", "openai", "anthropic", "gemini", "ollama", "compatible")

if TYPE_CHECKING:
    from rich.console import Console

    from byom.app import App
    from byom.locales import Messages

Handler = Callable[["_Context"], int]


def register(subparsers: Any) -> None:
    """Add the connection commands. Cheap: nothing but argparse is imported here."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("app selection")
    group.add_argument(
        "--app",
        dest="app_id",
        metavar="ID",
        default=None,
        help="the app's id (default: $BYOM_APP)",
    )
    group.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="byom's data folder (default: $BYOM_DATA_DIR or the user data directory)",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=None,
        help="provider address, e.g. a simulator's http://127.0.0.1:PORT/api/v1",
    )
    group.add_argument(
        "--lang", metavar="LANG", default=None, help="en or nl (default: from LC_ALL/LANG)"
    )

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(
            name, parents=[common], help=help_text, description=help_text
        )
        parser.set_defaults(func=lambda args: _run(args, handler))
        return parser

    connect = add("connect", _connect, "connect an app to your model provider (the wizard)")
    connect.add_argument("--feature", default=None, help="the feature whose model to choose")
    connect.add_argument(
        "--provider",
        choices=PROVIDER_CHOICES,
        default=None,
        help="openrouter, openai, anthropic, gemini, ollama or compatible "
        "(default: the app's last one, else openrouter)",
    )
    connect.add_argument(
        "--key-stdin", action="store_true", help="read the key from standard input (no wizard)"
    )
    connect.add_argument(
        "--remember", action="store_true", help="with --key-stdin: keep the key on this device"
    )
    connect.add_argument(
        "--allow-plain-file",
        action="store_true",
        help="with --remember: consent to a file readable only by you when no keyring exists",
    )
    connect.add_argument(
        "--no-browser", action="store_true", help="browser sign-in: print the address only"
    )

    status = add("status", _status, "show the connection, models, allowances and spend")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    models = add("models", _models, "list the models you can choose")
    models.add_argument("--category", choices=("worker", "frontier"), default=None)
    models.add_argument("--refresh", action="store_true", help="fetch the provider's list first")
    models.add_argument("--json", action="store_true", help="machine-readable output")

    model = add("model", _model, "choose the model a feature uses")
    model.add_argument("feature", metavar="FEATURE")
    model.add_argument("model", metavar="MODEL", help="a model id from `byom models`")
    model.add_argument("--json", action="store_true", help="machine-readable output")

    category = add(
        "category", _category, "set a model's category (your own models count as worker)"
    )
    category.add_argument("model", metavar="MODEL", help="a model id from `byom models`")
    category.add_argument("category", choices=("worker", "frontier"))
    category.add_argument("--json", action="store_true", help="machine-readable output")

    budget = add("budget", _budget, "show or set the allowance (a spending ceiling)")
    budget.add_argument("amount", metavar="AMOUNT", nargs="?", default=None)
    budget.add_argument("--period", choices=("day", "month", "total", "session"), default="month")
    budget.add_argument(
        "--strict", action="store_true", help="strict mode: bound every request from above"
    )
    budget.add_argument("--clear", action="store_true", help="remove the allowance of --period")
    budget.add_argument("--json", action="store_true", help="machine-readable output")

    key = add("key", _key, "forget or replace (rotate) the key")
    key.add_argument("action", choices=("forget", "rotate"))
    key.add_argument(
        "--key-stdin", action="store_true", help="rotate: read the new key from standard input"
    )
    key.add_argument("--remember", action="store_true", help="rotate: keep the new key")
    key.add_argument("--allow-plain-file", action="store_true", help="rotate: see connect")
    key.add_argument("--json", action="store_true", help="machine-readable output")

    reconcile = add(
        "reconcile", _reconcile, "fetch the real cost of requests whose usage never came back"
    )
    clear = reconcile.add_mutually_exclusive_group()
    clear.add_argument("--clear", metavar="ID", default=None, help="stop counting one request")
    clear.add_argument("--clear-all", action="store_true", help="stop counting all of them")
    reconcile.add_argument("--json", action="store_true", help="machine-readable output")

    history = add("history", _history, "spend history: chart, totals, export, delete")
    history.add_argument("--by", choices=("day", "feature", "model", "run"), default=None)
    history.add_argument("--days", type=int, default=14, help="days in the chart (default 14)")
    fmt = history.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="export as CSV")
    fmt.add_argument("--json", action="store_true", help="export as JSON")
    fmt.add_argument("--delete", action="store_true", help="delete the history on this device")
    history.add_argument("--yes", action="store_true", help="confirm --delete without asking")


# -- plumbing ---------------------------------------------------------------------------------


class _Context:
    def __init__(self, args: argparse.Namespace, app: App, tr: Messages) -> None:
        from byom.terminal._console import make_console

        self.args = args
        self.app = app
        self.tr = tr
        self.out: Console = make_console(stderr=False)
        self.err: Console = make_console(stderr=True)

    def fail(self, text: str, code: int = 1) -> int:
        from rich.text import Text

        self.err.print(Text(text, style="red"), soft_wrap=not self.err.is_terminal)
        return code

    def say(self, text: str, style: str | None = None) -> None:
        from rich.text import Text

        self.out.print(Text(text, style=style or ""), soft_wrap=not self.out.is_terminal)

    def json(self, data: Any) -> int:
        import json

        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return 0


def _run(args: argparse.Namespace, handler: Handler) -> int:
    from byom.core.errors import ByomError, InvalidRequest
    from byom.locales import SUPPORTED, messages

    try:
        tr = messages(args.lang)
    except ValueError:
        english = messages("en")
        sys.stderr.write(
            english("cli.bad_lang", lang=str(args.lang)[:20], choices=", ".join(SUPPORTED)) + "\n"
        )
        return 2
    try:
        import rich  # noqa: F401  (the terminal extra)
    except ModuleNotFoundError:
        sys.stderr.write(tr("cli.needs_rich") + "\n")
        return 2
    app_id = args.app_id or os.environ.get("BYOM_APP")
    if not app_id:
        sys.stderr.write(tr("cli.no_app") + "\n")
        return 2
    from byom.app import App, default_data_dir

    try:
        app = App.load(app_id, data_dir=args.data_dir)
    except InvalidRequest:
        data_dir = args.data_dir or default_data_dir()
        sys.stderr.write(tr("cli.unknown_app", app_id=app_id[:64], data_dir=data_dir) + "\n")
        return 1
    try:
        _use_base_url(app, args.base_url)
        context = _Context(args, app, tr)
        try:
            return handler(context)
        except ByomError as error:
            from byom.terminal.errors import describe_error

            return context.fail(describe_error(error, tr, app_id=app.app_id, provider=app.provider))
    finally:
        app.close()


def _use_base_url(app: App, base_url: str | None) -> None:
    """Point the app at another provider address, when a key for it is remembered."""
    from byom.core.errors import NotConnected

    if not base_url:
        return
    if app.connected and app.adapter.base_url == base_url.rstrip("/"):
        return
    try:
        app.connect(app.provider or "openrouter", base_url=base_url)
    except NotConnected:
        pass


def _interactive() -> bool:
    from byom.terminal._console import interactive

    return interactive()


def _read_key_stdin(ctx: _Context) -> Any:
    from byom.core.secret import Secret

    line = sys.stdin.readline()
    try:
        return Secret(line)
    except ValueError:
        return None


def _key_refused(ctx: _Context, adapter: Any, key: Any, provider: str) -> bool:
    """Check a new key — its shape, then with the provider — before it replaces anything. A
    refusal is about the new key only: the one already in use (if any) stays where it is."""
    from byom.core.errors import KeyRejected
    from byom.terminal.wizard import asked_text, check_key, shape_text

    problem = shape_text(ctx.tr, provider, key.reveal(), app=ctx.app.name)
    if problem is not None:
        ctx.fail(problem)
        return True
    try:
        check_key(adapter, key)
    except KeyRejected:
        ctx.fail(ctx.tr("wizard.check.rejected", asked=asked_text(ctx.tr, provider, adapter)))
        return True
    return False


def _provider(ctx: _Context) -> str:
    """``--provider``, else the kind the app is (or was last) connected to, else OpenRouter."""
    import json

    chosen = getattr(ctx.args, "provider", None)
    if chosen:
        return str(chosen)
    if ctx.app.provider:
        return ctx.app.provider
    try:
        saved = json.loads(ctx.app.store.get_setting(ctx.app.app_id, "connection") or "{}")
    except ValueError:
        saved = {}
    kind = saved.get("provider") if isinstance(saved, dict) else None
    return kind if kind in PROVIDER_CHOICES else "openrouter"


def _base_url(ctx: _Context, provider: str | None = None) -> str | None:
    from byom.terminal.wizard import saved_base_url

    return ctx.args.base_url or saved_base_url(ctx.app, provider)


# -- connect ----------------------------------------------------------------------------------


def _connect(ctx: _Context) -> int:
    from byom.terminal.wizard import Wizard, where_text

    app, tr, args = ctx.app, ctx.tr, ctx.args
    feature = args.feature or next(iter(app.features))
    app.feature(feature)  # an unknown feature fails before anything is asked
    if args.key_stdin:
        from byom.providers import make_adapter

        key = _read_key_stdin(ctx)
        if key is None:
            return ctx.fail(tr("terminal.stdin_key_empty"), 2)
        provider = _provider(ctx)
        adapter = make_adapter(provider, _base_url(ctx, provider))
        if _key_refused(ctx, adapter, key, provider):
            return 1
        app.vault.forget(adapter.origin)
        app.connect(
            provider,
            key=key,
            remember=args.remember,
            base_url=adapter.base_url,
            allow_plain_file=args.allow_plain_file,
        )
        ctx.say(tr("cli.connect.done", where=where_text(app, tr)), style="green")
        if app.key_location() == ["memory"]:
            ctx.err.print(tr("cli.connect.memory_only", app=app.name), soft_wrap=True)
        return 0
    if not _interactive():
        return ctx.fail(tr("cli.no_tty", command="connect", app_id=app.app_id), 2)
    from byom.terminal._console import Cancel, Prompter

    prompt = Prompter(ctx.err, tr)
    if app.connected:
        try:
            again = prompt.yes_no(
                tr("cli.connect.already", app=app.name, where=where_text(app, tr)), default=False
            )
        except Cancel:
            return 1
        if not again:
            return 0
    wizard = Wizard(
        app,
        feature,
        tr=tr,
        console=ctx.err,
        provider=args.provider,
        base_url=_base_url(ctx, _provider(ctx)),
        opener=(lambda url: False) if args.no_browser else None,
        then_run=False,
    )
    if not wizard.run():
        return 1
    if app.key_location() == ["memory"]:
        ctx.err.print(tr("cli.connect.memory_only", app=app.name))
    return 0


# -- status, models, model ----------------------------------------------------------------------


def _status(ctx: _Context) -> int:
    from byom.terminal.panel import render_status, status_data

    if ctx.args.json:
        return ctx.json(status_data(ctx.app))
    ctx.out.print(render_status(ctx.app, ctx.tr))
    return 0


def _models(ctx: _Context) -> int:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from byom.core.errors import ByomError
    from byom.terminal._console import clean
    from byom.terminal._format import catalog_note, context, model_prices, provider_name
    from byom.terminal.errors import describe_error

    app, tr, args = ctx.app, ctx.tr, ctx.args
    if args.refresh:
        try:
            app.refresh_models()
            if not args.json:
                ctx.err.print(tr("cli.models.refreshed", provider=provider_name(app.provider, tr)))
        except ByomError as error:
            reason = describe_error(error, tr, app_id=app.app_id, provider=app.provider)
            ctx.err.print(Text(tr("cli.models.refresh_failed", reason=reason), style="yellow"))
    used: dict[str, list[str]] = {}
    for name in app.features:
        try:
            used.setdefault(app.model_for(name).id, []).append(name)
        except ByomError:
            pass
    listed = app.models(args.category)
    if args.json:
        return ctx.json(
            [
                {
                    "id": m.id,
                    "name": m.name,
                    "category": m.category,
                    "prompt_per_million": None
                    if m.price is None
                    else format(m.price.prompt * 1_000_000, "f"),
                    "completion_per_million": None
                    if m.price is None
                    else format(m.price.completion * 1_000_000, "f"),
                    "context_length": m.context_length,
                    "used_by": used.get(m.id, []),
                }
                for m in listed
            ]
        )
    title = (
        tr("cli.models.title", category=tr(f"category.{args.category}"))
        if args.category
        else tr("cli.models.all")
    )
    ctx.say(title, style="bold")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    table.add_column(tr("column.id"), no_wrap=True)
    if not args.category:
        table.add_column(tr("column.category"), no_wrap=True)
    table.add_column(tr("column.in"), justify="right", no_wrap=True)
    table.add_column(tr("column.out"), justify="right", no_wrap=True)
    table.add_column(tr("column.context"), justify="right", no_wrap=True)
    table.add_column("", overflow="ellipsis", no_wrap=True)
    for m in listed:
        price_in, price_out = model_prices(m, tr)
        row = [clean(m.id)]
        if not args.category:
            row.append(tr(f"category.{m.category}") if m.category else "?")
        features = used.get(m.id)
        row += [
            price_in,
            price_out,
            context(m.context_length),
            "← " + ", ".join(features) if features else "",
        ]
        table.add_row(*row, style="bold" if features else None)
    ctx.out.print(table)
    ctx.say(catalog_note(app.catalog, tr, provider=app.provider), style="dim")
    return 0


def _model(ctx: _Context) -> int:
    app, tr, args = ctx.app, ctx.tr, ctx.args
    if args.feature not in app.features:
        return ctx.fail(
            tr(
                "cli.model.unknown_feature",
                app=app.name,
                feature=args.feature[:64],
                features=", ".join(app.features),
            )
        )
    feature = app.features[args.feature]
    model = app.catalog.get(args.model)
    if model is None:
        return ctx.fail(tr("cli.model.unknown_model", model=args.model[:100], app_id=app.app_id))
    if model.category != feature.category:
        return ctx.fail(
            tr(
                "cli.model.wrong_category",
                feature=feature.name,
                category=tr(f"category.{feature.category}"),
                model=model.id,
                app_id=app.app_id,
            )
        )
    app.choose_model(feature.name, model.id)
    if args.json:
        return ctx.json({"feature": feature.name, "model": model.id})
    ctx.say(tr("cli.model.set", feature=feature.name, model=model.name), style="green")
    return 0


def _category(ctx: _Context) -> int:
    app, tr, args = ctx.app, ctx.tr, ctx.args
    if args.model not in app.catalog:
        return ctx.fail(tr("cli.model.unknown_model", model=args.model[:100], app_id=app.app_id))
    model = app.set_category(args.model, args.category)
    if args.json:
        return ctx.json({"model": model.id, "category": model.category})
    ctx.say(
        tr("cli.category.set", model=model.id, category=tr(f"category.{args.category}")),
        style="green",
    )
    return 0


# -- budget -------------------------------------------------------------------------------------


def _budget(ctx: _Context) -> int:
    from byom.core.errors import InvalidAmount
    from byom.core.money import parse_amount
    from byom.terminal._format import allowance_text, provider_name
    from byom.terminal.panel import status_data

    app, tr, args = ctx.app, ctx.tr, ctx.args
    if args.clear or (args.amount is not None and args.amount.lower() in tr.words("answer.none")):
        app.set_allowance(None, args.period)
        if args.json:
            return ctx.json(status_data(app)["allowances"])
        ctx.say(tr("cli.budget.cleared", period=tr(f"period.{args.period}")), style="green")
        return 0
    if args.amount is None:
        if args.json:
            return ctx.json(status_data(app)["allowances"])
        allowances = app.allowances()
        if not allowances:
            ctx.say(tr("cli.budget.none"))
        for allowance in allowances:
            ctx.say(allowance_text(allowance, tr))
        ctx.say(tr("cli.status.best_effort", provider=provider_name(app.provider, tr)), style="dim")
        return 0
    if args.period == "session":
        return ctx.fail(tr("cli.budget.session"), 2)
    try:
        amount = parse_amount(args.amount, decimal_comma=tr.decimal_comma)
    except InvalidAmount:
        return ctx.fail(tr("cli.budget.invalid", amount=args.amount[:40]))
    new = app.set_allowance(amount, args.period, args.strict)
    if args.json:
        return ctx.json(status_data(app)["allowances"])
    ctx.say(tr("cli.budget.set", allowance=allowance_text(new, tr)), style="green")
    ctx.say(tr("cli.status.best_effort", provider=provider_name(app.provider, tr)), style="dim")
    return 0


# -- key ----------------------------------------------------------------------------------------


def _key(ctx: _Context) -> int:
    from byom.terminal.wizard import RECONNECT, Wizard, where_text

    app, tr, args = ctx.app, ctx.tr, ctx.args
    if args.action == "forget":
        app.forget_key()
        if args.json:
            return ctx.json({"forgotten": True, "key": app.key_location()})
        ctx.say(tr("cli.key.forgotten"), style="green")
        return 0
    if not app.connected:
        return ctx.fail(tr("cli.key.not_connected", app=app.name, app_id=app.app_id))
    if args.key_stdin:
        key = _read_key_stdin(ctx)
        if key is None:
            return ctx.fail(tr("terminal.stdin_key_empty"), 2)
        if _key_refused(ctx, app.adapter, key, app.provider or "openrouter"):
            return 1
        app.rotate_key(key, remember=args.remember, allow_plain_file=args.allow_plain_file)
        if args.json:
            return ctx.json({"rotated": True, "key": app.key_location()})
        ctx.say(tr("cli.key.rotated"), style="green")
        return 0
    if not _interactive():
        return ctx.fail(tr("cli.no_tty", command="key rotate", app_id=app.app_id), 2)
    wizard = Wizard(
        app,
        next(iter(app.features)),
        tr=tr,
        console=ctx.err,
        base_url=app.adapter.base_url,
        steps=RECONNECT,
        then_run=False,
    )
    if not wizard.rotate():
        return 1
    ctx.err.print(tr("cli.key.rotated") + " " + tr("cli.status.key", where=where_text(app, tr)))
    return 0


# -- reconcile ----------------------------------------------------------------------------------


def _reconcile(ctx: _Context) -> int:
    """R3.4: an unreconciled request counts its estimate until the provider reports its real
    cost (``/generation``) or the user explicitly clears it."""
    from byom.core.errors import InvalidRequest
    from byom.core.money import format_money, from_pico

    app, tr, args = ctx.app, ctx.tr, ctx.args
    open_rows = app.unreconciled()
    cleared: list[str] = []
    if args.clear or args.clear_all:
        wanted = {r.id for r in open_rows} if args.clear_all else {args.clear}
        unknown = wanted - {r.id for r in open_rows}
        if unknown:
            return ctx.fail(tr("cli.reconcile.unknown", call_id=sorted(unknown)[0][:40]))
        for call_id in sorted(wanted):
            try:
                app.clear_unreconciled(call_id)  # only an unreconciled row of this app (R3.4)
            except InvalidRequest:  # reconciled or cleared meanwhile, e.g. by another process
                if args.clear_all:
                    continue
                return ctx.fail(tr("cli.reconcile.unknown", call_id=call_id[:40]))
            cleared.append(call_id)
    reconciled = []
    if not cleared and open_rows and app.connected:
        reconciled = app.reconcile()
    remaining = app.unreconciled()
    if args.json:
        return ctx.json(
            {
                "reconciled": [
                    {"id": r.id, "cost": None if r.cost is None else format(r.cost, "f")}
                    for r in reconciled
                ],
                "cleared": cleared,
                "unreconciled": [
                    {
                        "id": r.id,
                        "feature": r.feature,
                        "model": r.model,
                        "counted": format(from_pico(r.counted_pico), "f"),
                        "generation_id": r.generation_id,
                    }
                    for r in remaining
                ],
            }
        )
    for record in reconciled:
        ctx.say(
            tr(
                "cli.reconcile.done", call_id=record.id[:8], cost=format_money(record.cost, tr.lang)
            ),
            style="green",
        )
    for call_id in cleared:
        ctx.say(tr("cli.reconcile.cleared", call_id=call_id[:8]))
    if not remaining:
        ctx.say(tr("cli.reconcile.none"))
        return 0
    for row in remaining:
        ctx.say(
            tr(
                "cli.reconcile.open",
                call_id=row.id,
                feature=row.feature,
                model=row.model,
                amount=format_money(from_pico(row.counted_pico), tr.lang),
            )
        )
    ctx.say(tr("cli.reconcile.hint", app_id=app.app_id))
    return 0


# -- history ------------------------------------------------------------------------------------


def _history(ctx: _Context) -> int:
    import csv
    import io

    from byom.terminal.panel import render_history, totals_rows

    app, tr, args = ctx.app, ctx.tr, ctx.args
    if args.delete:
        if not args.yes:
            if not _interactive():
                return ctx.fail(tr("cli.no_tty_confirm", command="history --delete"), 2)
            from byom.terminal._console import Cancel, Prompter

            try:
                sure = Prompter(ctx.err, tr).yes_no(
                    tr("cli.history.confirm_delete", app=app.name), default=False
                )
            except Cancel:
                return 1
            if not sure:
                return 1
        count = app.delete_history()
        ctx.say(tr("cli.history.deleted", count=count), style="green")
        return 0
    if args.by and (args.csv or args.json):
        rows = [
            {args.by: key, "cost": format(cost, "f"), "requests": n}
            for key, cost, n in totals_rows(app, args.by)
        ]
        if args.json:
            return ctx.json(rows)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[args.by, "cost", "requests"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(out.getvalue())
        return 0
    if args.csv or args.json:
        app.write_history(sys.stdout, "csv" if args.csv else "json")
        if args.json:
            sys.stdout.write("\n")
        sys.stdout.flush()
        return 0
    days = max(1, min(args.days, 366))
    ctx.out.print(render_history(app, tr, by=args.by, days=days, width=min(ctx.out.width, 100)))
    return 0


__all__ = ["register"]
