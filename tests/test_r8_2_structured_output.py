"""Structured output (R8.2): a schema dict or a class with ``model_json_schema()`` (duck-typed:
byom never imports pydantic), asked for in one normalised request field, and the reply checked
against the schema — output that does not fit is ``bad_output``, and the call still costs what
it cost."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import byom
from _scripted import answer, scripted
from byom.core.errors import BadOutput, InvalidRequest
from byom.core.output import OutputSchema, fits, strict_compatible
from byom.core.usage import RawToolCall
from conftest import CANARY_KEY, SUMMARIZE, user

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age"],
}


class Duck:
    """Looks like a pydantic model: a schema and a validator."""

    def __init__(self, **values: Any) -> None:
        self.values = values

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        return PERSON

    @classmethod
    def model_validate(cls, value: Any) -> Duck:
        return cls(**value)


def test_r8_2_request_field_and_names() -> None:
    plain = OutputSchema.of(PERSON)
    assert plain.name == "output"
    fmt = plain.response_format()
    assert fmt == {"type": "json_schema", "json_schema": {"name": "output", "schema": PERSON}}
    strict = dict(PERSON, additionalProperties=False, required=["name", "age", "tags"])
    strict["properties"] = dict(PERSON["properties"])
    assert strict_compatible(strict)
    assert OutputSchema.of(strict).response_format()["json_schema"]["strict"] is True
    assert OutputSchema.of(Duck).name == "Duck"
    for bad in ({}, "x", {"type": object()}):
        with pytest.raises(InvalidRequest):
            OutputSchema.of(bad)


def test_r8_2_parse_text_fenced_text_and_forced_tool() -> None:
    schema = OutputSchema.of(PERSON)
    assert schema.parse('{"name": "Ada", "age": 36}', ())[0] == {"name": "Ada", "age": 36}
    assert schema.parse('```json\n{"name": "Ada", "age": 36}\n```', ())[0]["age"] == 36
    data, rest = schema.parse("", (RawToolCall("t", "output", {"name": "A", "age": 1}),))
    assert data == {"name": "A", "age": 1} and rest == ()
    # The model asked for another tool first: no output yet, the call stays.
    data, rest = schema.parse("", (RawToolCall("t", "search", "{}"),))
    assert data is None and len(rest) == 1
    for text in ("not json", '{"name": "Ada"}', '{"name": "Ada", "age": "old"}', '{"age": true}'):
        with pytest.raises(BadOutput):
            schema.parse(text, ())
    duck = OutputSchema.of(Duck).parse('{"name": "Ada", "age": 3}', ())[0]
    assert isinstance(duck, Duck) and duck.values["name"] == "Ada"


def test_r8_2_fits_subset() -> None:
    ref = {"$defs": {"P": PERSON}, "type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}}
    assert fits({"p": {"name": "x", "age": 1}}, ref)
    assert not fits({"p": {"name": "x"}}, ref)
    assert not fits({"x": 1}, {"type": "object", "additionalProperties": False})
    assert fits(3, {"type": "number"}) and not fits(True, {"type": "integer"})
    assert fits("a", {"enum": ["a", "b"]}) and not fits("c", {"enum": ["a", "b"]})
    assert not fits({"p": {}}, {"properties": {"p": {"$ref": "http://elsewhere/x"}}})


def test_r8_2_app_chat_schema_gives_data_and_bad_output_still_costs(tmp_path: Path) -> None:
    script, kw = scripted(
        [answer('{"name": "Ada", "age": 36}'), answer("I cannot do JSON", cost="0.002")]
    )
    app = byom.App("Forms", [SUMMARIZE], data_dir=tmp_path / "data", **kw)
    app.connect("openrouter", key=CANARY_KEY)
    reply = app.chat("summarize", user("Ada is 36"), schema=PERSON)
    assert reply.data == {"name": "Ada", "age": 36}
    assert script.bodies[0]["response_format"]["json_schema"]["schema"] == PERSON
    with pytest.raises(BadOutput):
        app.chat("summarize", user("again"), schema=PERSON)
    bad = app.history()[0]
    assert bad.outcome == "failed" and bad.error_code == "bad_output"
    assert bad.cost == Decimal("0.002")
    assert app.spent("session") == Decimal("0.003")
    with pytest.raises(InvalidRequest):
        app.chat("summarize", user("x"), schema=PERSON, response_format={"type": "json_object"})
