"""R6.2: ``byom registry check`` gives the published validator's verdict, plus warnings.

The reference below does what the published ``validate_registry.py`` does: ``yaml.safe_load``
on the file opened as UTF-8 text, then ``Draft202012Validator(schema,
format_checker=FormatChecker())`` with the published schema (the shared fixture), valid exactly
when ``iter_errors`` yields nothing. (The published script stops with an exception on a file it
cannot parse; that is a failing verdict.)

The published schema and example registry live in ``../shared/fixtures/registry`` beside the
clone: without them the tests that need them are skipped (``BYOM_REQUIRE_SHARED=1`` fails them).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

from byom.registry import (  # noqa: E402
    FormatCheckUnavailable,
    check_registry_file,
    check_registry_text,
    known_constitution_tags,
    load_schema,
)
from byom.registry import cli as registry_cli  # noqa: E402
from byom.registry.check import format_path, overclaims  # noqa: E402
from conftest import has_shared, shared_fixture  # noqa: E402

HAVE_REGISTRY = has_shared("registry", "registry.yaml")


def schema_file() -> Path:
    """The published schema (skips the test when ../shared is absent)."""
    return shared_fixture("registry", "registry.schema.json")


def registry_file() -> Path:
    """The published example registry (skips the test when ../shared is absent)."""
    return shared_fixture("registry", "registry.yaml")


def published_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_file().read_text(encoding="utf-8"))
    return schema


def reference_verdict(path: Path) -> bool:
    """The published validator's verdict on the file at ``path``."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except Exception:  # the published script crashes: not a pass
        return False
    validator = jsonschema.Draft202012Validator(
        published_schema(), format_checker=jsonschema.FormatChecker()
    )
    return not list(validator.iter_errors(data))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="byom")
    registry_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def base() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(registry_file().read_text(encoding="utf-8"))
    return data


def dump(data: Any) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


# --- the mutation corpus ----------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


def _app(d: dict[str, Any]) -> dict[str, Any]:
    app: dict[str, Any] = d["apps"][0]
    return app


def _feature(d: dict[str, Any]) -> dict[str, Any]:
    feature: dict[str, Any] = _app(d)["model_powered_features"][0]
    return feature


def _set(get: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> Any:
        get(d)[key] = value
        return d

    return mutate


def _drop(get: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Mutation:
    def mutate(d: dict[str, Any]) -> Any:
        del get(d)[key]
        return d

    return mutate


def _root(d: dict[str, Any]) -> dict[str, Any]:
    return d


def _two_apps(d: dict[str, Any]) -> Any:
    d["apps"].append(copy.deepcopy(d["apps"][0]))
    return d


APP_FIELDS = [
    "name",
    "url",
    "description",
    "pinned_constitution_version",
    "integration_doc_url",
    "source_url",
    "model_powered_features",
]

DATA_MUTATIONS: dict[str, Mutation] = {
    "unchanged": lambda d: d,
    "no apps yet": _set(_root, "apps", []),
    "missing schema_version": _drop(_root, "schema_version"),
    "missing apps": _drop(_root, "apps"),
    **{f"missing app {f}": _drop(_app, f) for f in APP_FIELDS},
    **{f"missing feature {f}": _drop(_feature, f) for f in ("name", "description", "category")},
    "no badge_variant": _drop(_app, "badge_variant"),
    "with notes": _set(_app, "notes", "Launched in 2026."),
    "http url": _set(_app, "url", "http://bedrijfskompas.flkp.nl"),
    "http integration doc": _set(
        _app, "integration_doc_url", "http://x.example/BYOM-INTEGRATION.md"
    ),
    "http source": _set(_app, "source_url", "http://github.com/a/b"),
    "url with a space": _set(_app, "url", "https://exa mple.com"),
    "url upper-case scheme": _set(_app, "url", "HTTPS://example.com"),
    "url with angle brackets": _set(_app, "source_url", "https://github.com/a/<b>"),
    "url non-ascii host": _set(_app, "url", "https://bücher.example/"),
    "url with fragment": _set(_app, "url", "https://example.com/app#start"),
    "url with port and query": _set(_app, "url", "https://example.com:8443/?a=1&b=2"),
    "url only scheme": _set(_app, "url", "https://"),
    "schema_version without v": _set(_root, "schema_version", "1.0.0"),
    "schema_version two parts": _set(_root, "schema_version", "v1.0"),
    "pinned pre-release": _set(_app, "pinned_constitution_version", "v1.2.0-beta"),
    "pinned capital V": _set(_app, "pinned_constitution_version", "V1.2.0"),
    "pinned unreleased but well-formed": _set(_app, "pinned_constitution_version", "v9.9.9"),
    "category medium": _set(_feature, "category", "medium"),
    "category capitalised": _set(_feature, "category", "Worker"),
    "category frontier": _set(_feature, "category", "frontier"),
    "badge_variant blue": _set(_app, "badge_variant", "blue"),
    "badge_variant dark": _set(_app, "badge_variant", "dark"),
    "description 160 chars": _set(_app, "description", "d" * 160),
    "description 161 chars": _set(_app, "description", "d" * 161),
    "description 160 non-ascii chars": _set(_app, "description", "é" * 160),
    "feature description 240 chars": _set(_feature, "description", "f" * 240),
    "feature description 241 chars": _set(_feature, "description", "f" * 241),
    "empty description": _set(_app, "description", ""),
    "empty name": _set(_app, "name", ""),
    "empty feature name": _set(_feature, "name", ""),
    "extra top-level property": _set(_root, "maintainer", "someone"),
    "extra app property": _set(_app, "price", "free"),
    "extra feature property": _set(_feature, "model", "gpt-x"),
    "empty features": _set(_app, "model_powered_features", []),
    "name is a number": _set(_app, "name", 123),
    "apps is a mapping": _set(_root, "apps", {"a": 1}),
    "features is text": _set(_app, "model_powered_features", "Ikigai matching"),
    "schema_version is a number": _set(_root, "schema_version", 1.0),
    "notes is a list": _set(_app, "notes", ["a", "b"]),
    "app is text": _set(_root, "apps", ["just a name"]),
    "feature is null": _set(_app, "model_powered_features", [None]),
    "duplicate app": _two_apps,
    "registry is a list": lambda d: [d],
}

TEXT_MUTATIONS: dict[str, Callable[[str], str]] = {
    "empty file": lambda t: "",
    "only comments": lambda t: "# nothing here\n",
    "yaml syntax error": lambda t: t.replace("apps:", "apps: [", 1),
    "unquoted date as version": lambda t: t.replace(
        "pinned_constitution_version: v1.2.0", "pinned_constitution_version: 2024-01-01"
    ),
    "yes as name": lambda t: t.replace("- name: de bedrijfskompas", "- name: yes"),
    "two documents": lambda t: t + "\n---\nschema_version: v1.0.0\napps: []\n",
    "duplicate key, last wins": lambda t: t.replace(
        "    badge_variant: light-small", "    badge_variant: nope\n    badge_variant: dark"
    ),
    "tab indentation": lambda t: t.replace("    url:", "\turl:", 1),
    "windows line endings": lambda t: t.replace("\n", "\r\n"),
}


def _random_mutations(count: int, seed: int = 6) -> dict[str, Mutation]:
    """Seeded random edits: replace, delete or add at a random place in the document."""
    rng = random.Random(seed)
    values: list[Any] = [
        None,
        0,
        1.5,
        True,
        "",
        "x" * 200,
        "http://a.example",
        "https://a.b/c",
        "https://a b",
        "v1.2.3",
        "v1.2",
        [],
        {},
        ["worker"],
        "worker",
        "dark",
    ]

    def places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [path]
        if isinstance(node, dict):
            for k, v in node.items():
                found += places(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                found += places(v, (*path, i))
        return found

    out: dict[str, Mutation] = {}
    all_places = places(base())[1:]
    for n in range(count):
        path = rng.choice(all_places)
        op = rng.choice(["replace", "replace", "delete", "add"])
        value = copy.deepcopy(rng.choice(values))

        def mutate(
            d: dict[str, Any], path: tuple[Any, ...] = path, op: str = op, value: Any = value
        ) -> Any:
            parent: Any = d
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            if op == "replace":
                parent[key] = value
            elif op == "delete":
                del parent[key]
            elif isinstance(parent, dict):
                parent[f"extra_{key}"] = value
            else:
                parent.append(value)
            return d

        out[f"random {n}: {op} {'/'.join(map(str, path))} = {value!r:.20}"] = mutate
    return out


# Built from the published example at import; without it there is no corpus (the tests using
# it then skip, or fail under BYOM_REQUIRE_SHARED=1, through ``registry_file()``).
RANDOM_MUTATIONS = _random_mutations(60) if HAVE_REGISTRY else {}


def corpus() -> list[tuple[str, str]]:
    cases = [(name, dump(mutate(base()))) for name, mutate in DATA_MUTATIONS.items()]
    cases += [(name, dump(mutate(base()))) for name, mutate in RANDOM_MUTATIONS.items()]
    original = registry_file().read_text(encoding="utf-8")
    cases += [(name, mutate(original)) for name, mutate in TEXT_MUTATIONS.items()]
    return cases


CORPUS = corpus() if HAVE_REGISTRY else []
#: One placeholder case without the fixture, so the test is reported (skipped), not dropped.
CASES = [pytest.param(name, text, id=name) for name, text in CORPUS] or [
    pytest.param("", "", id="no-published-registry")
]


def test_r6_2_corpus_is_large_and_mixed(tmp_path: Path) -> None:
    registry_file()
    deterministic = len(DATA_MUTATIONS) + len(TEXT_MUTATIONS)
    assert deterministic >= 40 and len(CORPUS) >= 100
    verdicts = []
    for i, (_, text) in enumerate(CORPUS):
        path = tmp_path / f"{i}.yaml"
        path.write_bytes(text.encode("utf-8"))
        verdicts.append(reference_verdict(path))
    assert sum(verdicts) >= 15, "too few valid cases to show that valid files pass"
    assert len(verdicts) - sum(verdicts) >= 40, "too few invalid cases"


@pytest.mark.parametrize(("name", "text"), CASES)
def test_r6_2_verdict_equals_published_validator(name: str, text: str, tmp_path: Path) -> None:
    registry_file()
    path = tmp_path / "registry.yaml"
    path.write_bytes(text.encode("utf-8"))
    expected = reference_verdict(path)
    report = check_registry_file(path)
    assert report.schema_valid is expected, (name, [f.message for f in report.errors])
    if not expected:
        assert report.errors and all(f.path and f.message for f in report.errors)


def test_r6_2_shared_fixture_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    registry = registry_file()
    assert reference_verdict(registry)
    report = check_registry_file(registry)
    assert report.schema_valid and report.app_count == 1
    assert report.warnings == ()
    code, out, _ = run(["registry", "check", str(registry), "--strict"], capsys)
    assert code == 0 and "valid, 1 app" in out


def test_r6_2_bundled_schema_has_the_published_constraints() -> None:
    """Only annotations (title, description) may differ from the published schema."""

    def constraints(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, dict):
            return {
                k: constraints(
                    v, in_properties=(k in ("properties", "$defs")) and not in_properties
                )
                for k, v in node.items()
                if in_properties or k not in ("title", "description", "$comment")
            }
        if isinstance(node, list):
            return [constraints(v) for v in node]
        return node

    bundled, published = load_schema(), published_schema()
    assert constraints(bundled) == constraints(published)
    # the comparison is not blind: a changed limit on the 'description' field is noticed
    changed = copy.deepcopy(bundled)
    changed["$defs"]["app"]["properties"]["description"]["maxLength"] = 161
    assert constraints(changed) != constraints(published)


def test_r6_2_format_checking_is_real() -> None:
    """A malformed URI that passes the https pattern must fail, here and in the reference."""
    checker = jsonschema.FormatChecker()
    assert not checker.conforms("https://exa mple.com", "uri")
    assert checker.conforms("https://example.com/a?b=c#d", "uri")
    report = check_registry_text(dump(DATA_MUTATIONS["url with a space"](base())))
    assert not report.schema_valid
    assert [(f.path, f.code) for f in report.errors] == [("apps[0].url", "schema.format")]
    assert "not a valid URI" in report.errors[0].message


def test_r6_2_refuses_to_run_without_uri_checking(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the format libraries jsonschema would skip 'uri' silently: refuse instead."""
    registry = registry_file()
    monkeypatch.delitem(jsonschema.FormatChecker.checkers, "uri")
    with pytest.raises(FormatCheckUnavailable, match="uri"):
        check_registry_text(registry.read_text(encoding="utf-8"))
    code, _, err = run(["registry", "check", str(registry)], capsys)
    assert code == 1 and "byom[registry]" in err


def test_r6_2_errors_are_reported_per_field_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = base()
    app = d["apps"][0]
    app["url"] = "http://bedrijfskompas.flkp.nl"
    app["description"] = "d" * 170
    app["model_powered_features"][0]["category"] = "medium"
    app["extra"] = 1
    del app["source_url"]
    d["schema_version"] = "1.0"
    path = tmp_path / "registry.yaml"
    path.write_text(dump(d), encoding="utf-8")
    code, out, _ = run(["registry", "check", str(path)], capsys)
    assert code == 1
    expected_lines = [
        "INVALID, 6 errors",
        "apps[0]: the required field 'source_url' is missing",
        "apps[0]: unexpected field 'extra': the registry contract does not allow it",
        "apps[0].description: is 170 characters long; the limit is 160",
        "apps[0].model_powered_features[0].category: must be one of frontier, worker "
        "(got 'medium')",
        "apps[0].url: must start with https:// (got 'http://bedrijfskompas.flkp.nl')",
        "schema_version: must be a version tag such as v1.2.0 (got '1.0')",
    ]
    for line in expected_lines:
        assert line in out, (line, out)


def test_r6_2_type_errors_explain_yaml_values(tmp_path: Path) -> None:
    original = registry_file().read_text(encoding="utf-8")
    text = original.replace(
        "pinned_constitution_version: v1.2.0", "pinned_constitution_version: 2024-01-01"
    )
    report = check_registry_text(text)
    assert [f.path for f in report.errors] == ["apps[0].pinned_constitution_version"]
    assert report.errors[0].message == (
        "must be text, not a date (2024-01-01); put the value in quotes"
    )


def test_r6_2_unreadable_files_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["registry", "check", str(tmp_path / "nope.yaml")], capsys)
    assert code == 1 and "no such file" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("apps: [\n", encoding="utf-8")
    code, out, _ = run(["registry", "check", str(bad)], capsys)
    assert code == 1 and "not valid YAML" in out
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("schema_version: v1.0.0\napps: []\nx: caf\xe9\n".encode("latin-1"))
    assert not check_registry_file(latin).schema_valid


# --- checks beyond the schema -------------------------------------------------------------------


def test_r6_2_known_tags_come_from_one_data_file() -> None:
    assert known_constitution_tags() == ("v0.1.0", "v1.0.0", "v1.1.0", "v1.2.0")
    data_file = (
        Path(__file__).resolve().parents[1] / "src/byom/registry/data/constitution_tags.json"
    )
    assert json.loads(data_file.read_text(encoding="utf-8"))["released"] == list(
        known_constitution_tags()
    )


def _warnings(d: Any) -> list[tuple[str, str]]:
    report = check_registry_text(dump(d))
    assert report.schema_valid, report.errors
    return [(f.path, f.code) for f in report.warnings]


def test_r6_2_duplicate_names_and_urls_warn() -> None:
    d = _two_apps(base())
    d["apps"][1]["name"] = "De  Bedrijfskompas"  # same name, other case and spacing
    d["apps"][1]["url"] = "https://BEDRIJFSKOMPAS.flkp.nl/"
    d["apps"][1]["integration_doc_url"] = "https://example.org/docs/BYOM-INTEGRATION.md"
    assert _warnings(d) == [
        ("apps[1].name", "duplicate-name"),
        ("apps[1].url", "duplicate-url"),
    ]


def test_r6_2_unreleased_tag_and_wrong_doc_url_warn() -> None:
    d = base()
    d["apps"][0]["pinned_constitution_version"] = "v1.3.0"
    d["apps"][0]["integration_doc_url"] = "https://github.com/a/b/blob/main/README.md"
    assert _warnings(d) == [
        ("apps[0].pinned_constitution_version", "unknown-constitution-tag"),
        ("apps[0].integration_doc_url", "integration-doc-url"),
    ]
    d["apps"][0]["integration_doc_url"] = "https://raw.example.org/a/BYOM-INTEGRATION.md?plain=1"
    assert ("apps[0].integration_doc_url", "integration-doc-url") not in _warnings(d)


def test_r6_2_overclaiming_descriptions_warn() -> None:
    d = base()
    d["apps"][0]["description"] = "A secure, audited map of companies."
    d["apps"][0]["notes"] = "Guaranteed to keep your key safe."
    d["apps"][0]["model_powered_features"][0]["description"] = "Not audited; plain matching."
    warnings = _warnings(d)
    assert warnings == [("apps[0].description", "overclaim"), ("apps[0].notes", "overclaim")]
    assert overclaims("A secure, audited map") == ["secure", "audited"]
    assert overclaims("It is not audited and never guaranteed.") == []
    assert overclaims("insecure-by-default tools, securities data") == []


def test_r6_2_strict_turns_warnings_into_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = base()
    d["apps"][0]["pinned_constitution_version"] = "v7.0.0"
    path = tmp_path / "registry.yaml"
    path.write_text(dump(d), encoding="utf-8")
    code, out, _ = run(["registry", "check", str(path)], capsys)
    assert code == 0 and "warning  apps[0].pinned_constitution_version" in out
    code, out, _ = run(["registry", "check", str(path), "--strict"], capsys)
    assert code == 1 and "--strict" in out
    code, out, _ = run(["registry", "check", str(path), "--strict", "--json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["valid"] is True and data["ok"] is False
    assert data["warnings"][0]["code"] == "unknown-constitution-tag"


def test_r6_2_json_output_for_invalid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(dump(DATA_MUTATIONS["empty features"](base())), encoding="utf-8")
    code, out, _ = run(["registry", "check", str(path), "--json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["valid"] is False
    assert data["errors"] == [
        {
            "path": "apps[0].model_powered_features",
            "message": "must list at least one model-powered feature",
            "code": "schema.minItems",
            "severity": "error",
            "detail": "[] should be non-empty",
        }
    ]


def test_r6_2_custom_schema_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = published_schema()
    schema["$defs"]["app"]["properties"]["description"]["maxLength"] = 10
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    code, out, _ = run(
        ["registry", "check", str(registry_file()), "--schema", str(schema_path)], capsys
    )
    assert code == 1 and "the limit is 10" in out


def test_r6_2_byom_command_runs_registry_check(capsys: pytest.CaptureFixture[str]) -> None:
    from byom.cli import main

    assert main(["registry", "check", str(registry_file())]) == 0
    assert "valid, 1 app" in capsys.readouterr().out


def test_r6_2_format_path() -> None:
    assert format_path([]) == "(top level)"
    assert format_path(["apps", 0, "model_powered_features", 2, "name"]) == (
        "apps[0].model_powered_features[2].name"
    )
