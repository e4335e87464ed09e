"""Figures as people read them: money with significant digits, prices per million tokens,
context sizes, allowances in words. No rich here: plain strings for any surface."""

from __future__ import annotations

from decimal import Decimal

from byom.core.catalog import Catalog, Model
from byom.core.ledger import Allowance
from byom.core.money import format_money, per_million
from byom.locales import Messages


def usd(amount: Decimal | None, tr: Messages | None = None) -> str:
    """:func:`byom.format_money` in the surface's language: ``$0.000056``, ``$0.42``,
    ``$12.50`` (Dutch ``$ 0,42``) — tiny amounts keep two significant digits."""
    return format_money(amount, tr.lang if tr is not None else "en")


def price_per_million(price_per_token: Decimal, tr: Messages | None = None) -> str:
    """A per-token price as dollars per million tokens, every digit kept (``0.075`` stays
    ``$0.075``; ``3`` becomes ``$3.00``), by :func:`byom.format_money`."""
    return format_money(
        per_million(price_per_token), tr.lang if tr is not None else "en", exact=True
    )


def model_prices(model: Model, tr: Messages) -> tuple[str, str]:
    """(input, output) price per million tokens, or "free" / "unknown"."""
    if model.price is None:
        unknown = tr("price.unknown")
        return unknown, unknown
    if model.price.is_free:
        free = tr("price.free")
        return free, free
    return (
        price_per_million(model.price.prompt, tr),
        price_per_million(model.price.completion, tr),
    )


def context(tokens: int | None) -> str:
    """``128000`` → ``128k``; ``1047576`` → ``1M``; unknown → ``?``."""
    if not tokens:
        return "?"
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.3g}M"
    if tokens >= 1000:
        return f"{round(tokens / 1000)}k"
    return str(tokens)


def allowance_text(allowance: Allowance | None, tr: Messages) -> str:
    """``$5.00 per month`` (``strict`` added when set); "no ceiling" for none."""
    if allowance is None:
        return tr("allowance.none")
    text = tr(
        "allowance.amount",
        amount=usd(allowance.amount, tr),
        period=tr(f"period.{allowance.period}"),
    )
    return f"{text} ({tr('allowance.strict')})" if allowance.strict else text


def allowances_text(allowances: list[Allowance], tr: Messages) -> str:
    if not allowances:
        return tr("allowance.none")
    return "; ".join(allowance_text(a, tr) for a in allowances)


def tokens(prompt: int, completion: int, tr: Messages) -> str:
    return tr("live.tokens", prompt=f"{prompt:,}", completion=f"{completion:,}")


# -- runs ---------------------------------------------------------------------------------------

#: Most distinct tool names a step line shows (the rest are counted).
MAX_TOOL_NAMES = 3


def tool_names(names: tuple[str, ...] | list[str], tr: Messages) -> str:
    """The tools a step asked for, by name only (never their arguments): ``search_notes``,
    ``read_note ×2, search_notes``, ``a, b, c, +2 more``. Empty: the step answered."""
    if not names:
        return tr("run.answer")
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    shown = [
        name if count == 1 else f"{name} ×{count}"
        for name, count in list(counts.items())[:MAX_TOOL_NAMES]
    ]
    if len(counts) > MAX_TOOL_NAMES:
        shown.append(tr("run.tools.more", count=len(counts) - MAX_TOOL_NAMES))
    return ", ".join(shown)


def step_text(n: int, max_steps: int, tr: Messages) -> str:
    """``step 3/8``."""
    return tr("run.step", n=n, max_steps=max_steps)


def steps_count(count: int, tr: Messages) -> str:
    """``1 step``, ``3 steps``."""
    return tr("run.steps.one") if count == 1 else tr("run.steps.many", count=count)


#: Provider names as a person reads them (the same in every language byom speaks).
_PROVIDER_NAMES = {
    "openrouter": "OpenRouter",
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Gemini",
}


def provider_name(kind: str | None, tr: Messages) -> str:
    """A provider kind as a person reads it ("OpenAI", "your Ollama server"); OpenRouter when
    none is known."""
    key = f"provider.name.{kind or 'openrouter'}"
    return tr(key) if tr.has(key) else tr("provider.name.openrouter")


def catalog_note(
    catalog: Catalog, tr: Messages, *, offline: bool = False, provider: str | None = None
) -> str:
    """Where the models and prices shown come from, for the list's own source: OpenRouter's
    live list, a provider's listing priced from byom's bundled snapshot, a local Ollama server
    (free), the built-in model (free), an OpenAI-compatible server (the prices the user set), or
    the bundled list. A list fetched earlier and cached (source ``cached``) is the connected
    ``provider``'s."""
    date = (catalog.as_of or "?")[:10]
    if offline:
        return tr("catalog.offline", date=date)
    source = catalog.source
    if source == "cached" and provider:
        source = provider
    if source == "openrouter":
        return tr("catalog.live", date=date)
    if source == "ollama":
        return tr("catalog.local")
    if source == "compatible":
        return tr("catalog.compatible")
    if source == "builtin":
        return tr("catalog.builtin")
    if source in _PROVIDER_NAMES:
        return tr("catalog.listed", provider=_PROVIDER_NAMES[source])
    return tr("catalog.bundled", date=date)
