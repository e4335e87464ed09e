"""Message catalogs for byom's surfaces, and the choice of language.

Every text a user reads in the terminal (and, later, on the web page) lives in one catalog per
language — :mod:`byom.locales.en` and :mod:`byom.locales.nl` — under the same keys, with the same
``{placeholders}``. A test compares the catalogs, so a key missing in one language fails the build
instead of showing a raw key to a user.

The language comes from an explicit override (a ``--lang`` flag), else from the POSIX locale
variables in their order of precedence — ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` — the first one
that is set and not empty decides. ``nl_NL.UTF-8``, ``nl_BE`` and ``nl`` all select Dutch; any
language byom has no catalog for falls back to English.

Catalog texts are plain text, never markup: a surface decides how to style them. Lines that
start with ``• `` or ``1. `` are list items; a surface may indent them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from importlib import import_module

SUPPORTED: tuple[str, ...] = ("en", "nl")
DEFAULT = "en"
_ENV_ORDER = ("LC_ALL", "LC_MESSAGES", "LANG")


def normalize(tag: str | None) -> str | None:
    """``"nl_NL.UTF-8"`` → ``"nl"``; ``None`` for an empty tag, ``C``/``POSIX`` or an unsupported
    language."""
    if not tag:
        return None
    base = tag.split(".", 1)[0].split("@", 1)[0].replace("-", "_").split("_", 1)[0].lower()
    return base if base in SUPPORTED else None


def detect(env: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for: the first non-empty of ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG`` decides (POSIX precedence); English when it names none we have."""
    env = os.environ if env is None else env
    for name in _ENV_ORDER:
        value = env.get(name)
        if value:
            return normalize(value) or DEFAULT
    return DEFAULT


def resolve(override: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """An explicit choice (``--lang nl``) wins over the environment."""
    if override:
        chosen = normalize(override)
        if chosen is None:
            raise ValueError(f"unsupported language {override[:20]!r}; use one of {SUPPORTED}")
        return chosen
    return detect(env)


@cache
def catalog(lang: str) -> Mapping[str, str]:
    """The catalog of one supported language (``KeyError`` for others)."""
    if lang not in SUPPORTED:
        raise KeyError(lang)
    module = import_module(f"byom.locales.{lang}")
    messages: Mapping[str, str] = module.MESSAGES
    return messages


class Messages:
    """Localized texts for one language: ``tr("wizard.intro.title", app="Reader")``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._catalog = catalog(lang)
        self._fallback = catalog(DEFAULT)

    @property
    def decimal_comma(self) -> bool:
        """Whether users of this language write a decimal comma (``2,50``)."""
        return self.lang == "nl"

    def __call__(self, key: str, **values: object) -> str:
        text = self._catalog.get(key)
        if text is None:
            text = self._fallback.get(key, key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._catalog

    def words(self, key: str) -> frozenset[str]:
        """A comma-separated catalog entry as a set of lower-case words (answers to a prompt)."""
        return frozenset(w.strip().lower() for w in self(key).split(",") if w.strip())

    def __repr__(self) -> str:
        return f"Messages({self.lang!r})"


def messages(override: str | None = None, env: Mapping[str, str] | None = None) -> Messages:
    """The :class:`Messages` for an override or the environment's locale."""
    return Messages(resolve(override, env))


__all__ = ["DEFAULT", "SUPPORTED", "Messages", "catalog", "detect", "messages", "normalize"]
