"""Declaring a browser app's model features in Python.

An app's Python module creates one :class:`WebApp` named ``app`` and declares each model-powered
feature with the category it needs (never a concrete model) and a function that turns the page's
inputs into chat messages::

    from byom.web import WebApp

    app = WebApp("Reader", app_id="byom-reader")

    @app.feature("summarize", "worker", "Summarize the document", max_tokens=500)
    def summarize(inputs):
        return [{"role": "user", "content": "Summarize:\\n\\n" + inputs["text"]}]

The page calls ``BYOM.run("summarize", {text})``; the shell asks the function for the messages and
runs them through the core's call path (budget check, origin-locked send, real cost, history).
The function runs in the user's browser and sees only what the page passed; it must not log it.
This module is plain Python so apps can test their prompt builders under CPython.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from byom.core.errors import InvalidRequest
from byom.core.features import Category, Feature

Messages = Sequence[Mapping[str, Any]]
Builder = Callable[[Mapping[str, Any]], Messages]


@dataclass(frozen=True, slots=True)
class WebFeature:
    feature: Feature
    build: Builder
    max_tokens: int


class WebApp:
    """An app's name, id and model-powered features."""

    def __init__(self, name: str, *, app_id: str | None = None) -> None:
        from byom.app import app_id_for

        self.name = name
        self.app_id = app_id or app_id_for(name)
        self._features: dict[str, WebFeature] = {}

    def feature(
        self,
        name: str,
        category: Category = "worker",
        description: str = "",
        *,
        max_tokens: int = 800,
    ) -> Callable[[Builder], Builder]:
        """Declare a feature; decorates the function that builds its messages."""
        declared = Feature(name, category, description)
        if name in self._features:
            raise InvalidRequest(f"Feature {name!r} is declared twice.")

        def decorate(build: Builder) -> Builder:
            self._features[name] = WebFeature(declared, build, max_tokens)
            return build

        return decorate

    @property
    def features(self) -> list[Feature]:
        return [f.feature for f in self._features.values()]

    def get(self, name: str) -> WebFeature:
        try:
            return self._features[name]
        except KeyError:
            raise InvalidRequest(f"This app has no feature named {name[:64]!r}.") from None

    def messages(self, name: str, inputs: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """The messages and ``max_tokens`` for one use of a feature."""
        declared = self.get(name)
        built = [dict(m) for m in declared.build(inputs)]
        if not built:
            raise InvalidRequest("A feature produced no messages.")
        return built, declared.max_tokens
