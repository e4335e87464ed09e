"""Released constitution tags, read from the one data file that lists them.

Standard library only, so :mod:`byom.integration` can use it without the registry extras.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Final

TAG_PATTERN: Final = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+$")
"""The shape of a constitution tag: ``v`` and three numbers."""


@cache
def known_constitution_tags() -> tuple[str, ...]:
    """The constitution tags known to be released, oldest first.

    The list lives in ``byom/registry/data/constitution_tags.json``; a new constitution
    release means one new entry there.
    """
    text = (
        resources.files("byom.registry")
        .joinpath("data/constitution_tags.json")
        .read_text(encoding="utf-8")
    )
    tags = json.loads(text)["released"]
    return tuple(str(tag) for tag in tags)
