"""Read an app description (TOML or JSON) for ``byom integration init``.

The file is small and flat::

    name = "Notes"
    one_line = "A note-taking app that works offline."
    pinned_version = "v1.2.0"          # optional: the newest known tag by default

    [[features]]
    name = "Summarise a note"
    category = "worker"
    why = "Short summaries need no deep knowledge."   # optional

JSON takes the same keys. ``app_name``/``pinned_constitution_version`` are accepted as aliases.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from byom.integration.document import AppDescription, DeclaredFeature


def read_description_file(path: str | Path) -> dict[str, Any]:
    """Parse ``path`` as TOML (``.toml``) or JSON (anything else); raise ``ValueError`` if bad."""
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    try:
        data: Any = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file}: cannot parse: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a table/object at the top level")
    return data


def parse_feature_option(option: str) -> DeclaredFeature:
    """``"Summarise:worker"`` → a feature. The category follows the last colon."""
    name, sep, category = option.rpartition(":")
    if not sep or not name.strip():
        raise ValueError(f"--feature {option!r}: write it as NAME:CATEGORY, e.g. Summarise:worker")
    return DeclaredFeature(name.strip(), category.strip().casefold())


def build_description(
    data: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    one_line: str | None = None,
    features: Sequence[DeclaredFeature] = (),
    pinned_version: str | None = None,
    builtin: bool | None = None,
) -> AppDescription:
    """Combine a description file's data with command-line values (which take precedence;
    command-line features are added after the file's). Raises ``ValueError`` with a plain
    message when something is missing or invalid."""
    data = dict(data or {})
    declared: list[DeclaredFeature] = []
    raw_features = data.get("features", [])
    if not isinstance(raw_features, list):
        raise ValueError("'features' must be a list of {name, category, why} entries")
    for i, entry in enumerate(raw_features):
        if not isinstance(entry, Mapping):
            raise ValueError(f"features[{i}] must be a table/object with name and category")
        fname, category = entry.get("name"), entry.get("category")
        if not isinstance(fname, str) or not isinstance(category, str):
            raise ValueError(f"features[{i}] needs a name and a category (text)")
        why = entry.get("why", "")
        declared.append(DeclaredFeature(fname.strip(), category.strip().casefold(), str(why)))
    declared += features
    app_name = name or data.get("name") or data.get("app_name")
    if not isinstance(app_name, str) or not app_name.strip():
        raise ValueError("give the app's name (--app-name, or 'name' in the description file)")
    if not declared:
        raise ValueError(
            "declare at least one model-powered feature (--feature NAME:CATEGORY, or "
            "[[features]] in the description file)"
        )
    line = one_line if one_line is not None else data.get("one_line", "")
    version = (
        pinned_version or data.get("pinned_version") or data.get("pinned_constitution_version")
    )
    kwargs: dict[str, Any] = {}
    if version:
        kwargs["pinned_version"] = str(version)
    kwargs["builtin"] = bool(builtin if builtin is not None else data.get("builtin", False))
    return AppDescription(app_name.strip(), tuple(declared), str(line or ""), **kwargs)
