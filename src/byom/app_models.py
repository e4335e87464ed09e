"""The models side of :class:`byom.App`: the catalog a connection offers, the user's own models
and categories, and which model each feature uses.

The catalog is the bundled dated snapshot, overlaid by the provider's live list when fetched
(cached with its date), then the models the user declared; a local server's models count as
``worker`` until the user says otherwise. A feature uses the model the user chose for it, else
its category's default. Everything is saved per provider in the app's settings.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from byom.core.boundary import public_class
from byom.core.call import Connection
from byom.core.catalog import Catalog, Model, Price
from byom.core.errors import ByomError, InvalidRequest
from byom.core.features import CATEGORIES, Category, Feature
from byom.core.money import parse_amount

#: The model a feature uses until the user picks one, per provider and category.
DEFAULT_MODELS: dict[str, dict[str, str]] = {
    "openrouter": {"worker": "openai/gpt-4o-mini", "frontier": "anthropic/claude-sonnet-4.5"},
    "openai": {"worker": "gpt-4o-mini", "frontier": "gpt-4.1"},
    "anthropic": {"worker": "claude-haiku-4-5", "frontier": "claude-sonnet-4-5"},
    "gemini": {"worker": "gemini-2.5-flash", "frontier": "gemini-2.5-pro"},
    # ollama / compatible: no default id — the first model the user's server lists.
    # builtin: no default either — the first installed model (the app's own file, else the
    # built-in one).
}
#: Provider kinds whose models are the user's own (a local Ollama, their own server). Their
#: models have no category in any list, so each counts as a ``worker`` until the user sets
#: another (:meth:`App.set_category`, ``byom category MODEL frontier``).
LOCAL_KINDS = frozenset({"ollama", "compatible"})
LOCAL_DEFAULT_CATEGORY: Category = "worker"
_CATALOG_SETTING = "catalog:"
_MODELS_SETTING = "models:"


@public_class
class AppModels:
    """Mixed into :class:`byom.App` (it reads the App's store, app id, features and connection)."""

    @property
    def catalog(self) -> Catalog:
        """Bundled snapshot, overlaid by the cached live list, then user-defined models."""
        return self._catalog()

    def _catalog(self) -> Catalog:
        provider = self.provider or "openrouter"
        from byom.catalogs import bundled

        if provider == "builtin":  # the models installed on this device (issue 17)
            return self._require().adapter.installed.with_models(self._custom_models())  # type: ignore[attr-defined]
        catalog = bundled(provider)
        cached = self.store.get_setting(self.app_id, _CATALOG_SETTING + provider)
        if cached:
            try:
                saved = json.loads(cached)
                live = self._adapter_for(provider).parse_models(saved["body"].encode())
                catalog = Catalog(live.models, as_of=saved.get("fetched"), source=live.source)
            except (ValueError, KeyError, TypeError, ByomError):
                pass
        catalog = catalog.with_models(self._custom_models())
        if provider in LOCAL_KINDS:
            catalog = catalog.with_default_category(LOCAL_DEFAULT_CATEGORY)
        return catalog

    def refresh_models(self) -> Catalog:
        """Fetch the provider's model list (when it publishes one) and cache it with its date."""
        connection = self._require()
        request = connection.adapter.models_request(connection.key)
        if request is None:
            return self.catalog
        return self._cache_models(connection, self._send(connection, request))

    async def arefresh_models(self) -> Catalog:
        """:meth:`refresh_models` for asyncio (and the browser)."""
        connection = self._require()
        request = connection.adapter.models_request(connection.key)
        if request is None:
            return self.catalog
        return self._cache_models(connection, await self._asend(connection, request))

    def _cache_models(self, connection: Connection, response: Any) -> Catalog:
        if response.status != 200:
            raise connection.adapter.error_for(response.status, response.headers, response.body)
        connection.adapter.parse_models(response.body)  # validate before caching
        self.store.set_setting(
            self.app_id,
            _CATALOG_SETTING + connection.provider,
            json.dumps(
                {
                    "fetched": datetime.now().astimezone().isoformat(timespec="seconds"),
                    "body": response.body.decode("utf-8"),
                }
            ),
        )
        return self.catalog

    def add_model(
        self,
        model_id: str,
        category: Category,
        *,
        prompt_price: Decimal | str | None = None,
        completion_price: Decimal | str | None = None,
        name: str | None = None,
    ) -> Model:
        """Declare a model of the user's own, with its category and price: one the provider's
        list does not have, or a model on the user's own server whose price the user knows.
        Prices are USD per token; when none are given, a listed model keeps its known price and
        a new one's price is unknown (never zero, so the allowance over-estimates it). Saved
        per provider. To change only a listed model's category, :meth:`set_category`.
        """
        if category not in CATEGORIES:
            raise InvalidRequest("category must be frontier or worker")
        listed = self.catalog.get(model_id)
        price = listed.price if listed is not None else None
        if prompt_price is not None or completion_price is not None:
            if prompt_price is None or completion_price is None:
                raise InvalidRequest("Give both the input and the output price, or neither.")
            price = Price(parse_amount(prompt_price), parse_amount(completion_price))
        model = Model(
            id=model_id,
            name=name or (listed.name if listed is not None else model_id),
            category=category,
            context_length=listed.context_length if listed is not None else None,
            price=price,
            provider=self.provider or "custom",
        )
        saved = self._saved_models()
        saved[model_id] = {
            "name": model.name,
            "category": category,
            "context_length": model.context_length,
            "prompt": None if price is None else format(price.prompt, "f"),
            "completion": None if price is None else format(price.completion, "f"),
        }
        self.store.set_setting(self.app_id, _MODELS_SETTING + model.provider, json.dumps(saved))
        return model

    def set_category(self, model_id: str, category: Category) -> Model:
        """Change the category of a listed model (saved on this device, per provider).

        The models of a local Ollama or an OpenAI-compatible server have no category in any
        list: each counts as a ``worker`` until the user sets ``"frontier"`` here (or with
        ``byom category MODEL frontier``). A model byom does not list raises
        :class:`~byom.errors.InvalidRequest` (refresh the list, or :meth:`add_model` it).
        """
        if category not in CATEGORIES:
            raise InvalidRequest("The category must be frontier or worker.")
        if model_id not in self.catalog:
            raise InvalidRequest(
                f"Unknown model {model_id[:100]!r}. Refresh the model list or add it first."
            )
        return self.add_model(model_id, category)

    def _saved_models(self) -> dict[str, dict[str, Any]]:
        text = self.store.get_setting(self.app_id, _MODELS_SETTING + (self.provider or "custom"))
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _custom_models(self) -> list[Model]:
        models = []
        for model_id, entry in self._saved_models().items():
            try:
                price = None
                if entry.get("prompt") is not None and entry.get("completion") is not None:
                    price = Price(
                        parse_amount(Decimal(entry["prompt"])),
                        parse_amount(Decimal(entry["completion"])),
                    )
                models.append(
                    Model(
                        id=model_id,
                        name=str(entry.get("name") or model_id),
                        category=entry["category"] if entry.get("category") in CATEGORIES else None,
                        context_length=entry.get("context_length"),
                        price=price,
                        provider=self.provider or "custom",
                    )
                )
            except (ByomError, ArithmeticError, KeyError, TypeError, AttributeError):
                continue  # a damaged entry is skipped; its model is simply not offered
        return models

    def models(self, category: str | None = None) -> list[Model]:
        catalog = self.catalog
        return list(catalog) if category is None else catalog.in_category(category)

    def feature(self, name: str) -> Feature:
        try:
            return self.features[name]
        except KeyError:
            raise InvalidRequest(f"This app has no feature named {name[:64]!r}.") from None

    def choose_model(self, feature: str, model_id: str) -> Model:
        """Pick the model a feature uses. It must be in the feature's category."""
        wanted = self.feature(feature)
        model = self.catalog.get(model_id)
        if model is None:
            raise InvalidRequest(
                f"Unknown model {model_id[:100]!r}. Refresh the model list or add it first."
            )
        if model.category != wanted.category:
            raise InvalidRequest(
                f"{model_id} is not a {wanted.category} model; {feature} needs a "
                f"{wanted.category} model."
            )
        self.store.set_setting(
            self.app_id, f"model:{self.provider or 'openrouter'}:{feature}", model_id
        )
        return model

    def model_for(self, feature: str) -> Model:
        """The model a feature will use: the user's choice, else the category's default."""
        return self._model_for(feature, self._catalog())

    def _model_for_call(self, feature: str, connection: Connection, version: int | None) -> Model:
        """:meth:`model_for`, from memory while the settings version is ``version`` (the call
        path re-reads the version inside its check-and-reserve and prepares the call again if
        it moved). Keyed by the connection too: connecting elsewhere changes the catalog."""
        if version is None:
            return self.model_for(feature)
        cache = self._call_cache
        if cache is None or cache[0] != version or cache[1] is not connection.adapter:
            cache = self._call_cache = (version, connection.adapter, self._catalog(), {})
        models = cache[3]
        model = models.get(feature)
        if model is None:
            model = models[feature] = self._model_for(feature, cache[2])
        return model

    def _model_for(self, feature: str, catalog: Catalog) -> Model:
        wanted = self.feature(feature)
        provider = self.provider or "openrouter"
        chosen = self.store.get_setting(self.app_id, f"model:{provider}:{feature}")
        if chosen:
            return catalog.lookup(chosen)
        default = DEFAULT_MODELS.get(provider, {}).get(wanted.category)
        if default and default in catalog:
            return catalog.lookup(default)
        candidates = catalog.in_category(wanted.category)
        if not candidates:
            if provider in LOCAL_KINDS and not any(True for _ in catalog):
                raise InvalidRequest(
                    f"No models of your {provider} server are known yet: refresh the model "
                    "list (app.refresh_models(), or byom models --refresh) first."
                )
            if provider in LOCAL_KINDS:
                raise InvalidRequest(
                    f"None of your models is a {wanted.category} model yet: mark one with "
                    f"app.set_category(MODEL, {wanted.category!r}) or byom category MODEL "
                    f"{wanted.category}."
                )
            raise InvalidRequest(f"Choose a {wanted.category} model for {feature} first.")
        return candidates[0]


__all__ = ["DEFAULT_MODELS", "LOCAL_KINDS", "AppModels"]
