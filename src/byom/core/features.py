"""Features and model categories (R1.3).

An app declares what its model-powered features are and which *category* of model each needs;
it never names a concrete model. The user picks the model within the category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, get_args

Category = Literal["frontier", "worker"]
CATEGORIES: Final[tuple[str, ...]] = get_args(Category)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Feature:
    """A model-powered feature of an app.

    ``name`` is a short identifier (lowercase letters, digits, ``_ . -``), ``category`` is
    ``"frontier"`` (strongest, expensive; only where deep knowledge or hard reasoning matters) or
    ``"worker"`` (cheap, fast, capable; the default), ``description`` is shown to the user.
    """

    name: str
    category: Category = "worker"
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                "feature name must be 1-64 characters of lowercase letters, digits, '_', '.', '-'"
            )
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
