"""The model catalog (R1.4): models, exact per-token prices and categories.

Prices are USD per token as ``Decimal``. A model whose price is not known gets
:data:`FALLBACK_PRICE`, sized above every published price so that the budget guard over-estimates
(fail closed) — it is never treated as free, and never shown as a cost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from byom.core.errors import BadResponse
from byom.core.features import CATEGORIES, Category


@dataclass(frozen=True, slots=True)
class Price:
    """USD per token. ``cache_read`` / ``cache_write`` fall back to ``prompt`` when unknown.

    ``web_search``: USD per web search a provider runs inside the request (a server-side tool,
    billed on top of tokens), or ``None`` when the price list has no figure for it — a reply
    that used searches then has an unknown cost, never one that leaves the fee out.
    """

    prompt: Decimal
    completion: Decimal
    request: Decimal = Decimal(0)
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    web_search: Decimal | None = None

    @property
    def is_free(self) -> bool:
        return self.prompt == 0 and self.completion == 0 and self.request == 0

    def scaled(self, factor: Decimal) -> Price:
        """The same price multiplied (used for routing headroom)."""
        return Price(
            self.prompt * factor,
            self.completion * factor,
            self.request * factor,
            None if self.cache_read is None else self.cache_read * factor,
            None if self.cache_write is None else self.cache_write * factor,
            None if self.web_search is None else self.web_search * factor,
        )

    def cost(
        self,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        cache_write_tokens: int = 0,
        web_search_requests: int = 0,
    ) -> Decimal:
        """Cost of real usage. ``prompt_tokens`` includes cached and cache-write tokens.

        Web searches are added at :attr:`web_search`; callers check :meth:`covers` first (a
        search without a known fee must not be priced at zero)."""
        uncached = max(0, prompt_tokens - cached_tokens - cache_write_tokens)
        read = self.prompt if self.cache_read is None else self.cache_read
        write = self.prompt if self.cache_write is None else self.cache_write
        searches = web_search_requests * (self.web_search or Decimal(0))
        return (
            uncached * self.prompt
            + cached_tokens * read
            + cache_write_tokens * write
            + completion_tokens * self.completion
            + self.request
            + searches
        )

    def covers(self, *, web_search_requests: int = 0, unpriced_tool_requests: int = 0) -> bool:
        """Whether this price knows every fee a reply's usage carries: no server-side tool use
        without a price (a search needs :attr:`web_search`; an unpriced tool is never covered)."""
        if unpriced_tool_requests > 0:
            return False
        return web_search_requests == 0 or self.web_search is not None


#: Over-estimating rate for a model whose price is unknown: $150 per million input tokens and
#: $600 per million output tokens, at or above the most expensive models published in 2026.
FALLBACK_PRICE = Price(prompt=Decimal("0.00015"), completion=Decimal("0.0006"))
#: Over-estimating fee for one server-side tool use whose price is unknown ($0.10; published
#: per-use fees in 2026 are $0.01–$0.035 a web search).
FALLBACK_TOOL_FEE = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class Model:
    """One model the user can choose. ``price`` is ``None`` when unknown.

    ``image_tokens``: the most input tokens one image can cost on this model (its provider's
    resizing rules make this finite), or ``None`` when unknown. Strict mode bounds each image by
    it and refuses images when it is ``None`` (R3.7, R8.3); the default mode uses it when known.

    ``size_bytes``: the model file's size on disk, for models that run on the user's device (the
    built-in provider); ``None`` for remote models.
    """

    id: str
    name: str
    category: Category | None
    context_length: int | None = None
    price: Price | None = None
    provider: str = "openrouter"
    max_completion_tokens: int | None = None
    image_tokens: int | None = None
    size_bytes: int | None = None

    @property
    def guard_price(self) -> Price:
        """The price the budget guard reserves against: the real one, or the fallback."""
        return self.price if self.price is not None else FALLBACK_PRICE


@dataclass(frozen=True, slots=True)
class Catalog:
    """An immutable set of models, with the date it describes (``as_of``, ISO 8601)."""

    models: tuple[Model, ...] = ()
    as_of: str | None = None
    source: str = "bundled"
    _index: dict[str, Model] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({m.id: m for m in self.models})

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._index

    def get(self, model_id: str) -> Model | None:
        return self._index.get(model_id)

    def lookup(self, model_id: str) -> Model:
        """The model, or an unknown-price stand-in (category unknown) for an id not listed."""
        return self._index.get(model_id) or Model(id=model_id, name=model_id, category=None)

    def in_category(self, category: str) -> list[Model]:
        return [m for m in self.models if m.category == category]

    def with_models(self, extra: Iterable[Model]) -> Catalog:
        """A catalog where ``extra`` models replace or add to these (user-priced custom models)."""
        merged = dict(self._index)
        merged.update({m.id: m for m in extra})
        return Catalog(tuple(merged.values()), self.as_of, self.source)

    def with_default_category(self, category: Category) -> Catalog:
        """Give every model that has no category yet ``category`` (the others keep theirs)."""
        models = tuple(m if m.category else replace(m, category=category) for m in self.models)
        return Catalog(models, self.as_of, self.source)

    def with_categories(self, categories: Mapping[str, Category]) -> Catalog:
        """Assign categories from a mapping of model id → category (ids not listed keep theirs)."""
        models = tuple(replace(m, category=categories.get(m.id, m.category)) for m in self.models)
        return Catalog(models, self.as_of, self.source)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not result.is_finite() or result < 0:
        return None
    return result


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def price_from_openrouter(pricing: Any) -> Price | None:
    """Parse OpenRouter's ``pricing`` object (strings, USD per token); ``None`` if unusable.

    A negative or missing prompt/completion price (OpenRouter uses ``"-1"`` for variable-priced
    routers) makes the price unknown, so the guard uses the fallback.
    """
    if not isinstance(pricing, Mapping):
        return None
    prompt, completion = _decimal(pricing.get("prompt")), _decimal(pricing.get("completion"))
    if prompt is None or completion is None:
        return None
    return Price(
        prompt=prompt,
        completion=completion,
        request=_decimal(pricing.get("request")) or Decimal(0),
        cache_read=_decimal(pricing.get("input_cache_read")),
        cache_write=_decimal(pricing.get("input_cache_write")),
        web_search=_decimal(pricing.get("web_search")),
    )


def parse_openrouter_models(
    body: bytes | str | Mapping[str, Any],
    *,
    categories: Mapping[str, Category] | None = None,
    as_of: str | None = None,
    source: str = "openrouter",
) -> Catalog:
    """Parse an OpenRouter ``GET /models`` body into a :class:`Catalog`.

    Malformed entries are skipped, not fatal. A model's category comes from ``categories`` (the
    bundled assignment) or from a ``category`` field in the entry (our snapshot format); models
    with neither are listed with category ``None`` until the user assigns one.
    """
    if isinstance(body, (bytes, str)):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadResponse("The model list could not be read.") from None
    else:
        data = body
    entries = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise BadResponse("The model list could not be read.")
    categories = categories or {}
    models: list[Model] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        model_id: str = entry["id"]
        category = categories.get(model_id, entry.get("category"))
        top = entry.get("top_provider")
        models.append(
            Model(
                id=model_id,
                name=str(entry.get("name") or model_id)[:200],
                category=category if category in CATEGORIES else None,
                context_length=_int(entry.get("context_length")),
                price=price_from_openrouter(entry.get("pricing")),
                provider=source if source != "bundled" else "openrouter",
                max_completion_tokens=_int(top.get("max_completion_tokens"))
                if isinstance(top, Mapping)
                else None,
            )
        )
    return Catalog(tuple(models), as_of=as_of or _str(data, "as_of"), source=source)


def _str(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else None
