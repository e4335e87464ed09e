"""The BYOM app registry: check a ``registry.yaml`` and render it as a static page (R6.2).

Checking needs the ``registry`` extra (``jsonschema[format]``, ``pyyaml``); those are imported
only when a check runs, so importing this package stays cheap.
"""

from __future__ import annotations

from byom.registry.check import (
    Finding,
    FormatCheckUnavailable,
    RegistryReport,
    check_registry_data,
    check_registry_file,
    check_registry_text,
    load_schema,
)
from byom.registry.render import CSP, render_site
from byom.registry.tags import known_constitution_tags

__all__ = [
    "CSP",
    "Finding",
    "FormatCheckUnavailable",
    "RegistryReport",
    "check_registry_data",
    "check_registry_file",
    "check_registry_text",
    "known_constitution_tags",
    "load_schema",
    "render_site",
]
