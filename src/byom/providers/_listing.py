"""Model listings without prices (OpenAI ``/v1/models``, Anthropic ``/v1/models``): merged with
the known prices so that refreshing the list never turns a known price into an unknown one.
Standard library only, no I/O: the shell reads the bundled snapshot (:mod:`byom.catalogs`) and
hands it to the adapter as ``prices=``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from byom.core.catalog import Catalog, Model


def merge_listing(
    listed: Iterable[tuple[str, str | None]],
    known: Catalog,
    *,
    provider: str,
    source: str,
    aliases: Callable[[str], Iterable[str]] = lambda model_id: (model_id,),
) -> Catalog:
    """The known (bundled) models, then every listed id that is not one of them.

    A listed id takes the price, context length and category of the first known model among
    ``aliases(id)`` (e.g. a dated id → its alias); otherwise its price is unknown (never zero)
    and it has no category until the user assigns one.
    """
    models: dict[str, Model] = {m.id: replace(m, provider=provider) for m in known}
    for model_id, name in listed:
        if model_id in models:
            continue
        match = next((m for m in (known.get(a) for a in aliases(model_id)) if m), None)
        if match is not None:
            models[model_id] = replace(match, id=model_id, name=name or model_id, provider=provider)
        else:
            models[model_id] = Model(
                id=model_id, name=name or model_id, category=None, provider=provider
            )
    return Catalog(tuple(models.values()), as_of=None, source=source)
