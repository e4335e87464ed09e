"""Generate byom's bundled price snapshots from the ``genai-prices`` package (``make prices``).

Dev-time only. ``genai-prices`` (MIT, https://github.com/pydantic/genai-prices) is a maintained
database of LLM API prices; this script reads its data for the models byom lists and writes
``src/byom/data/<provider>-models.json`` in byom's own format (OpenRouter's ``/models`` shape:
USD per token as exact decimal strings, plus a byom ``category``). The runtime reads only those
files: ``genai-prices`` is never a runtime dependency.

Each snapshot names its date (``as_of``: the prices in force on that day) and its source
(``genai-prices <version>``). Rules:

* A price that changes on a date (``ConditionalPrice`` with a start date) is taken as in force
  on ``as_of``.
* A tiered price (more per token above a prompt size) cannot be expressed in byom's per-token
  price: the snapshot takes the base tier and lists the model's context as the first tier's
  start, so byom refuses (unsent) a request that would be billed at the higher tier rather
  than under-count it.
* Web-search fees (``web_searches_kcount``) become ``web_search`` (USD per search); a model
  whose list has no such fee gets none, so a reply that searched has an unknown cost.
* A model the database does not know, or knows without an input or output price, is an
  error: the snapshot is never written with a guessed price.

Usage: ``python scripts/prices.py [--as-of YYYY-MM-DD] [--check] [provider ...]``.
``--check`` writes nothing and exits 1 when a snapshot differs from what would be generated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "src" / "byom" / "data"
MILLION = Decimal(1_000_000)

#: byom provider → (genai-prices provider id, what the prices are, {model id: (category, most
#: output tokens per request or None)}). The ids are the ones the provider's API takes; order is
#: the order of the list byom shows. The output limits are the providers' published model facts
#: (genai-prices carries none); ``None`` where byom does not know one.
SELECTION: dict[str, tuple[str, str, dict[str, tuple[str, int | None]]]] = {
    "openai": (
        "openai",
        "OpenAI published API prices (standard tier)",
        {
            "gpt-5.1": ("frontier", 128000),
            "gpt-5": ("frontier", 128000),
            "gpt-4.1": ("frontier", 32768),
            "gpt-4o": ("frontier", 16384),
            "o3": ("frontier", 100000),
            "gpt-5-mini": ("worker", 128000),
            "gpt-5-nano": ("worker", 128000),
            "gpt-4.1-mini": ("worker", 32768),
            "gpt-4.1-nano": ("worker", 32768),
            "gpt-4o-mini": ("worker", 16384),
            "o4-mini": ("worker", 100000),
        },
    ),
    "anthropic": (
        "anthropic",
        "Anthropic published API prices; input_cache_write = 5-minute cache write",
        {
            "claude-opus-4-5": ("frontier", 64000),
            "claude-opus-4-1": ("frontier", 32000),
            "claude-opus-4-0": ("frontier", 32000),
            "claude-sonnet-4-5": ("frontier", 64000),
            "claude-sonnet-4-0": ("frontier", 64000),
            "claude-haiku-4-5": ("worker", 64000),
            "claude-3-5-haiku-latest": ("worker", 8192),
        },
    ),
    "gemini": (
        "google",
        "Gemini API published prices (paid tier)",
        {
            "gemini-3.1-pro-preview": ("frontier", None),
            "gemini-2.5-pro": ("frontier", 65536),
            "gemini-3.5-flash": ("worker", None),
            "gemini-3.5-flash-lite": ("worker", None),
            "gemini-3-flash-preview": ("worker", None),
            "gemini-2.5-flash": ("worker", 65536),
            "gemini-2.5-flash-lite": ("worker", 65536),
        },
    ),
}

#: Known hosts of OpenAI-compatible APIs → (genai-prices provider id, what the prices are,
#: models). Written together to ``compatible-hosts.json``; an OpenAI-compatible connection to
#: one of these origins takes its prices from there (any other server is priced by the user).
HOSTS: dict[str, tuple[str, str, dict[str, tuple[str, int | None]]]] = {
    "https://api.mistral.ai": (
        "mistral",
        "Mistral AI published API prices",
        {
            "mistral-large-2512": ("frontier", None),
            "mistral-medium-latest": ("frontier", None),
            "mistral-small-latest": ("worker", None),
            "ministral-8b-latest": ("worker", None),
        },
    ),
    "https://api.deepseek.com": (
        "deepseek",
        "DeepSeek published API prices",
        {"deepseek-reasoner": ("frontier", None), "deepseek-chat": ("worker", None)},
    ),
    "https://api.groq.com": (
        "groq",
        "Groq published API prices",
        {
            "moonshotai/kimi-k2-instruct": ("frontier", None),
            "openai/gpt-oss-120b": ("frontier", None),
            "llama-3.3-70b-versatile": ("worker", None),
            "openai/gpt-oss-20b": ("worker", None),
            "qwen/qwen3-32b": ("worker", None),
            "llama-3.1-8b-instant": ("worker", None),
        },
    ),
    "https://api.x.ai": (
        "x-ai",
        "xAI published API prices",
        {
            "grok-4-0709": ("frontier", None),
            "grok-4-1-fast-reasoning": ("worker", None),
            "grok-4-1-fast-non-reasoning": ("worker", None),
            "grok-code-fast-1": ("worker", None),
            "grok-3-mini": ("worker", None),
        },
    ),
}
HOSTS_FILE = "compatible-hosts.json"

#: What a snapshot's note adds for one provider.
NOTES: dict[str, str] = {
    "openai": " Reasoning tokens are billed as output and are included in completion_tokens.",
    "anthropic": (
        " Ids are Anthropic's aliases; a dated id (claude-...-YYYYMMDD) takes its alias's price."
        " 1-hour cache writes are dearer than the 5-minute rate listed."
    ),
    "gemini": (
        " Thinking tokens are billed as output; cached input is billed at input_cache_read."
        " A versioned id (gemini-...-001) takes its stable name's price."
    ),
}

#: genai-prices price keys byom carries, → the snapshot's ``pricing`` field and the divisor.
FIELDS = {
    "input_mtok": ("prompt", MILLION),
    "output_mtok": ("completion", MILLION),
    "cache_read_mtok": ("input_cache_read", MILLION),
    "cache_write_mtok": ("input_cache_write", MILLION),
    "web_searches_kcount": ("web_search", Decimal(1000)),
    "requests_kcount": ("request", Decimal(1000)),
}


def per_unit(value: Decimal, divisor: Decimal) -> str:
    """USD per token (or per search, per request) as plain decimal text, exactly."""
    text = format((value / divisor).normalize(), "f")
    return text


def entry(
    model: Any, model_id: str, category: str, max_output: int | None, when: dt.datetime
) -> dict[str, Any]:
    """One snapshot entry for ``model_id`` from genai-prices' ``ModelInfo``."""
    from genai_prices.types import TieredPrices

    prices = model.get_prices(when)
    pricing: dict[str, str] = {"request": "0"}
    tier_start: int | None = None
    for key, (field, divisor) in FIELDS.items():
        value = getattr(prices, key, None)
        if value is None:
            continue
        if isinstance(value, TieredPrices):
            starts = [tier.start for tier in value.tiers]
            if starts:
                tier_start = min([*starts, *([tier_start] if tier_start else [])])
            value = value.base
        pricing[field] = per_unit(Decimal(value), divisor)
    if "prompt" not in pricing or "completion" not in pricing:
        raise SystemExit(f"genai-prices has no input and output price for {model_id}")
    context = model.context_window
    if tier_start is not None:
        context = min(context, tier_start) if context else tier_start
    out: dict[str, Any] = {
        "id": model_id,
        "name": model.name or model_id,
        "category": category,
        "context_length": context,
        "pricing": {k: pricing[k] for k in sorted(pricing, key=_field_order)},
    }
    top: dict[str, int] = {}
    if context:
        top["context_length"] = context
    if max_output:
        top["max_completion_tokens"] = max_output
    if top:
        out["top_provider"] = top
    return out


def _field_order(name: str) -> int:
    order = ["prompt", "completion", "request", "input_cache_read", "input_cache_write"]
    return order.index(name) if name in order else len(order)


def entries(
    source_id: str, models: dict[str, tuple[str, int | None]], as_of: dt.date
) -> list[dict[str, Any]]:
    """The snapshot entries of ``models`` from genai-prices provider ``source_id``."""
    from genai_prices import data

    source = next(p for p in data.providers if p.id == source_id)
    when = dt.datetime.combine(as_of, dt.time(12), tzinfo=dt.UTC)
    out = []
    for model_id, (category, max_output) in models.items():
        model = source.find_model(model_id)
        if model is None:
            raise SystemExit(f"genai-prices does not know {source_id} model {model_id}")
        out.append(entry(model, model_id, category, max_output, when))
    return out


def hosts_snapshot(as_of: dt.date) -> dict[str, Any]:
    """``compatible-hosts.json``: one snapshot per known OpenAI-compatible host."""
    import genai_prices

    return {
        "as_of": as_of.isoformat(),
        "source": f"genai-prices {genai_prices.__version__} "
        "(MIT, https://github.com/pydantic/genai-prices), USD per token",
        "generated_by": "make prices (scripts/prices.py)",
        "note": (
            "Prices for OpenAI-compatible APIs byom knows by their origin. A connection of kind "
            "'compatible' to one of these origins lists these models with these prices; any "
            "other server's models are priced by the user. Same format and rules as the other "
            "snapshots."
        ),
        "hosts": {
            origin: {"source": label, "data": entries(source_id, models, as_of)}
            for origin, (source_id, label, models) in HOSTS.items()
        },
    }


def snapshot(provider: str, as_of: dt.date) -> dict[str, Any]:
    """The whole snapshot file for ``provider`` as of ``as_of``."""
    import genai_prices

    source_id, label, models = SELECTION[provider]
    version = genai_prices.__version__
    return {
        "as_of": as_of.isoformat(),
        "source": f"genai-prices {version} (MIT, https://github.com/pydantic/genai-prices): "
        f"{label}, USD per token; input_cache_read = cached input; web_search = USD per search",
        "generated_by": "make prices (scripts/prices.py)",
        "note": (
            "Offline price snapshot bundled with byom, generated from the genai-prices "
            "database, in the OpenRouter /models format plus a byom 'category' per model. The "
            "provider's own model list carries no prices: listed models take these prices by "
            "id, and a model not in this file has an unknown price (the budget guard then uses "
            "its over-estimating fallback). Where a provider charges more above a prompt size, "
            "the base rate is listed and context_length is that size, so a larger request is "
            "refused unsent rather than under-counted."
        )
        + NOTES.get(provider, ""),
        "data": entries(source_id, models, as_of),
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("providers", nargs="*", default=[*sorted(SELECTION), "compatible"])
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for provider in args.providers:
        if provider == "compatible":
            path = DATA / HOSTS_FILE
            text = render(hosts_snapshot(args.as_of))
        elif provider in SELECTION:
            path = DATA / f"{provider}-models.json"
            text = render(snapshot(provider, args.as_of))
        else:
            parser.error(f"unknown provider {provider!r}")
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(DATA.parent.parent.parent)}")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
