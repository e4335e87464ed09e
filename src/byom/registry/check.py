"""Check a ``registry.yaml`` against the registry contract (R6.2).

The verdict — valid or not — is the published validator's: the YAML is read with
``yaml.safe_load``, and the data is validated with ``jsonschema.Draft202012Validator`` and a
``jsonschema.FormatChecker()``; the file is valid exactly when that yields no error. A file that
cannot be read or parsed is invalid (the published script stops with an exception there).

On top of the schema, a few checks catch what a reviewer would: duplicate names or URLs, a
pinned constitution version that is not a released tag, an ``integration_doc_url`` that does not
point at a ``BYOM-INTEGRATION.md``, and descriptions that claim more than the pattern warrants.
Those are *warnings*: they do not change the verdict unless the caller asks for strictness.

Needs the ``registry`` extra (``jsonschema[format]`` and ``pyyaml``); both are imported on use.
Without the format libraries jsonschema silently skips ``format: uri``; the published CI installs
plain ``jsonschema`` and so never checks it. byom refuses to run without them instead
(:class:`FormatCheckUnavailable`), so ``https://exa mple.com`` always fails here.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

from byom.registry.tags import known_constitution_tags

if TYPE_CHECKING:
    from jsonschema import ValidationError  # type: ignore[import-untyped,unused-ignore]

Severity = Literal["error", "warning"]

OVERCLAIM_WORDS: Final[tuple[str, ...]] = (
    "secure",
    "securely",
    "audited",
    "guaranteed",
    "guarantee",
    "guarantees",
    "certified",
    "unhackable",
    "bulletproof",
    "100% safe",
    "completely safe",
    "totally safe",
)
"""Words a listing must not use about the app: a listing is not a security audit."""

_NEGATIONS: Final = frozenset({"not", "no", "never", "isn't", "isnt", "without", "nor"})


class FormatCheckUnavailable(RuntimeError):
    """The schema uses a format that the installed jsonschema cannot check."""


def _formats(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {str(node["format"])} if isinstance(node.get("format"), str) else set()
        for value in node.values():
            found |= _formats(value)
        return found
    if isinstance(node, list):
        return set().union(*(_formats(v) for v in node)) if node else set()
    return set()


# Formats jsonschema checks only with an optional library (the "format" extra) installed.
_FORMATS_NEEDING_LIBRARIES: Final = frozenset(
    {"uri", "uri-reference", "iri", "iri-reference", "date-time", "time", "duration",
     "json-pointer", "relative-json-pointer", "uri-template", "idn-hostname", "color"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a registry file.

    ``path`` names the field (``apps[0].url``; ``(top level)`` for the whole document; ``(file)``
    when the file could not be read). ``code`` is stable and machine-readable; ``message`` is
    plain English. ``detail`` keeps jsonschema's own wording for schema errors.
    """

    path: str
    message: str
    code: str
    severity: Severity
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class RegistryReport:
    """The outcome of checking one registry file."""

    source: str
    errors: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    app_count: int | None = None
    data: Any = field(default=None, repr=False, compare=False)

    @property
    def schema_valid(self) -> bool:
        """The published validator's verdict: no schema error (and the file could be parsed)."""
        return not self.errors

    def ok(self, strict: bool = False) -> bool:
        """Whether the file passes: schema-valid, and without warnings when ``strict``."""
        return self.schema_valid and not (strict and self.warnings)

    def to_dict(self, strict: bool = False) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "source": self.source,
            "valid": self.schema_valid,
            "ok": self.ok(strict),
            "strict": strict,
            "app_count": self.app_count,
            "errors": [asdict(f) for f in self.errors],
            "warnings": [asdict(f) for f in self.warnings],
        }


@cache
def _bundled_schema_text() -> str:
    return (
        resources.files("byom.registry")
        .joinpath("data/registry.schema.json")
        .read_text(encoding="utf-8")
    )


def load_schema(path: str | Path | None = None) -> dict[str, Any]:
    """The registry schema: the bundled copy of the published contract, or the file at ``path``."""
    if path is None:
        schema: dict[str, Any] = json.loads(_bundled_schema_text())
        return schema
    with open(path, encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def check_registry_file(
    path: str | Path,
    *,
    schema: Mapping[str, Any] | None = None,
    known_tags: Sequence[str] | None = None,
) -> RegistryReport:
    """Check the registry file at ``path``; never raises for a bad file, only reports it."""
    import yaml

    source = str(path)
    try:
        # Read exactly as the published validator does: text mode, UTF-8, yaml.safe_load.
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        return _unreadable(source, "file-missing", "no such file")
    except (OSError, UnicodeDecodeError) as exc:
        return _unreadable(source, "file-unreadable", f"cannot read the file: {exc}")
    except yaml.YAMLError as exc:
        return _unreadable(source, "yaml", f"not valid YAML: {_one_line(str(exc))}")
    return check_registry_data(data, source=source, schema=schema, known_tags=known_tags)


def check_registry_text(
    text: str,
    *,
    source: str = "<text>",
    schema: Mapping[str, Any] | None = None,
    known_tags: Sequence[str] | None = None,
) -> RegistryReport:
    """Check registry YAML given as a string."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return _unreadable(source, "yaml", f"not valid YAML: {_one_line(str(exc))}")
    return check_registry_data(data, source=source, schema=schema, known_tags=known_tags)


def check_registry_data(
    data: Any,
    *,
    source: str = "<data>",
    schema: Mapping[str, Any] | None = None,
    known_tags: Sequence[str] | None = None,
) -> RegistryReport:
    """Check already-loaded registry data (what ``yaml.safe_load`` returned)."""
    from jsonschema import (  # type: ignore[import-untyped,unused-ignore]
        Draft202012Validator,
        FormatChecker,
    )

    contract = dict(schema) if schema is not None else load_schema()
    checker = FormatChecker()
    unchecked = sorted((_formats(contract) & _FORMATS_NEEDING_LIBRARIES) - set(checker.checkers))
    if unchecked:
        raise FormatCheckUnavailable(
            f"cannot check the format(s) {', '.join(unchecked)}: the libraries are missing; "
            "install them with pip install 'byom[registry]' (jsonschema[format])"
        )
    validator = Draft202012Validator(contract, format_checker=checker)
    raw = sorted(validator.iter_errors(data), key=lambda e: _sort_key(e.absolute_path))
    errors = tuple(_schema_finding(err) for err in raw)
    tags = tuple(known_tags) if known_tags is not None else known_constitution_tags()
    warnings = tuple(semantic_findings(data, tags))
    apps = data.get("apps") if isinstance(data, dict) else None
    count = len(apps) if isinstance(apps, list) else None
    return RegistryReport(source, errors, warnings, count, data)


def _unreadable(source: str, code: str, message: str) -> RegistryReport:
    return RegistryReport(source, (Finding("(file)", message, code, "error"),), ())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _sort_key(path: Iterable[str | int]) -> list[tuple[int, str | int]]:
    # Mixed str/int paths cannot be compared directly; tag them so sorting never raises.
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in path]


def format_path(parts: Iterable[str | int]) -> str:
    """``['apps', 0, 'url']`` → ``apps[0].url``; the empty path is ``(top level)``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


# --- plain wording for schema errors -------------------------------------------------------

_TYPE_WORDS: Final = {
    "string": "text",
    "array": "a list",
    "object": "a mapping of fields",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def _describe_value(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, _dt.date | _dt.datetime):
        return f"a date ({value.isoformat()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({_show(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of fields"
    return type(value).__name__


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _schema_finding(err: ValidationError) -> Finding:
    path = format_path(err.absolute_path)
    last = err.absolute_path[-1] if err.absolute_path else None
    kind = str(err.validator)
    value = err.validator_value
    inst = err.instance
    message = err.message
    if kind == "required":
        match = re.match(r"^'(.*)' is a required property$", err.message)
        missing = match.group(1) if match else str(value)
        message = f"the required field '{missing}' is missing"
    elif kind == "additionalProperties" and isinstance(inst, dict):
        allowed = set(err.schema.get("properties", {})) if isinstance(err.schema, dict) else set()
        extra = sorted((str(k) for k in inst if k not in allowed), key=str)
        names = ", ".join(f"'{k}'" for k in extra)
        word = "field" if len(extra) == 1 else "fields"
        message = f"unexpected {word} {names}: the registry contract does not allow it"
        if len(extra) > 1:
            message = message.replace("allow it", "allow them")
    elif kind == "type":
        wanted = value if isinstance(value, list) else [value]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        message = f"must be {words}, not {_describe_value(inst)}"
        if "string" in wanted and not isinstance(inst, list | dict) and inst is not None:
            message += "; put the value in quotes"
    elif kind == "pattern":
        if isinstance(last, str) and last.endswith("url"):
            message = f"must start with https:// (got {_show(inst)})"
        elif isinstance(last, str) and last.endswith("version"):
            message = f"must be a version tag such as v1.2.0 (got {_show(inst)})"
        else:
            message = f"does not match the required pattern {value} (got {_show(inst)})"
    elif kind == "format":
        message = f"is not a valid {str(value).upper()} (got {_show(inst)})"
    elif kind == "maxLength" and isinstance(inst, str):
        message = f"is {len(inst)} characters long; the limit is {value}"
    elif kind == "minLength":
        message = "must not be empty" if value == 1 else f"must be at least {value} characters"
    elif kind == "minItems":
        if last == "model_powered_features":
            message = "must list at least one model-powered feature"
        else:
            message = f"must have at least {value} item(s)"
    elif kind == "enum" and isinstance(value, list):
        message = f"must be one of {', '.join(map(str, value))} (got {_show(inst)})"
    return Finding(path, message, f"schema.{kind}", "error", detail=err.message)


# --- checks beyond the schema ---------------------------------------------------------------


def _norm_name(name: str) -> str:
    return " ".join(name.casefold().split())


def _norm_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").casefold()
    port = f":{parts.port}" if parts.port not in (None, 443) else ""
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.casefold()}://{host}{port}{path}{query}"


def overclaims(text: str) -> list[str]:
    """Claim words in ``text`` that are not negated (``not audited`` is honest, not a claim)."""
    found = []
    lowered = text.casefold()
    for word in OVERCLAIM_WORDS:
        for match in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", lowered):
            before = re.findall(r"[\w']+", lowered[: match.start()])[-2:]
            if not _NEGATIONS.intersection(before):
                found.append(word)
                break
    return found


def semantic_findings(data: Any, known_tags: Sequence[str]) -> list[Finding]:
    """Warnings beyond the schema. Tolerates data of any shape: it checks what is there."""
    out: list[Finding] = []
    apps = data.get("apps") if isinstance(data, dict) else None
    if not isinstance(apps, list):
        return out

    def warn(path: str, code: str, message: str) -> None:
        out.append(Finding(path, message, code, "warning"))

    seen: dict[str, dict[str, int]] = {"name": {}, "url": {}, "integration_doc_url": {}}
    for i, app in enumerate(apps):
        if not isinstance(app, dict):
            continue
        where = f"apps[{i}]"
        for key, normalise in (
            ("name", _norm_name),
            ("url", _norm_url),
            ("integration_doc_url", _norm_url),
        ):
            value = app.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            first = seen[key].setdefault(normalise(value), i)
            if first != i:
                what = "name" if key == "name" else "URL"
                warn(
                    f"{where}.{key}",
                    f"duplicate-{'name' if key == 'name' else 'url'}",
                    f"same {what} as apps[{first}] ({_show(value)})",
                )

        version = app.get("pinned_constitution_version")
        if isinstance(version, str) and version not in known_tags:
            warn(
                f"{where}.pinned_constitution_version",
                "unknown-constitution-tag",
                f"{_show(version)} is not a released constitution tag "
                f"(known: {', '.join(known_tags)})",
            )

        doc = app.get("integration_doc_url")
        if isinstance(doc, str) and doc:
            last = urlsplit(doc).path.rstrip("/").rsplit("/", 1)[-1]
            if last != "BYOM-INTEGRATION.md":
                warn(
                    f"{where}.integration_doc_url",
                    "integration-doc-url",
                    "does not point at a file named BYOM-INTEGRATION.md "
                    "(conventionally docs/BYOM-INTEGRATION.md in the app's repository)",
                )

        texts: list[tuple[str, Any]] = [
            (f"{where}.description", app.get("description")),
            (f"{where}.notes", app.get("notes")),
        ]
        features = app.get("model_powered_features")
        if isinstance(features, list):
            names: dict[str, int] = {}
            for j, feature in enumerate(features):
                if not isinstance(feature, dict):
                    continue
                texts.append(
                    (f"{where}.model_powered_features[{j}].description", feature.get("description"))
                )
                fname = feature.get("name")
                if isinstance(fname, str) and fname.strip():
                    first = names.setdefault(_norm_name(fname), j)
                    if first != j:
                        warn(
                            f"{where}.model_powered_features[{j}].name",
                            "duplicate-feature",
                            f"same feature name as model_powered_features[{first}] "
                            f"({_show(fname)})",
                        )
        for path, text in texts:
            if not isinstance(text, str):
                continue
            words = overclaims(text)
            if words:
                quoted = ", ".join(f'"{w}"' for w in words)
                warn(
                    path,
                    "overclaim",
                    f"claims more than the pattern warrants ({quoted}); a listing says the app "
                    "follows the pattern, it is not a security audit",
                )
    return out
