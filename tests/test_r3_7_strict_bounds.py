"""R3.7 / R8.3 / R8.5 / pitfall 21: strict mode bounds everything the provider bills.

Reproduces an adversarial review: an 80 KB ``tools`` schema passed as a param was estimated at
$0.00026 under a $0.10 strict allowance; assistant ``tool_calls`` and Anthropic ``tool_result``
blocks overshot too. The estimate must cover the system prompt, tools, tool calls, tool results,
response schemas, ``name`` fields and every content part — by UTF-8 bytes (of the compact JSON
for structure) in strict mode, by ``ceil(chars / 4)`` in the default mode — and strict mode must
refuse images it cannot bound (``UnboundedInput``) before anything is reserved or sent.

The simulator bills that structure as prompt tokens too (``byom.sim.structure_tokens``:
``ceil(bytes / 3)`` of its compact JSON; images are not billed), so the "charged" side of the
end-to-end tests is what a provider would charge for those bytes.
"""

from __future__ import annotations

import dataclasses
import json
import math
from decimal import Decimal
from typing import Any

import pytest

from byom import Secret
from byom.core.call import Call, CallPath, Connection
from byom.core.catalog import Model, Price
from byom.core.errors import BudgetExceeded, UnboundedInput
from byom.core.estimate import NON_TEXT_PART_TOKENS, CharEstimator, StrictEstimator
from byom.core.features import Feature
from byom.core.ledger import Allowance, Ledger
from byom.core.money import to_pico
from byom.core.store import MemoryStore
from byom.providers.anthropic import AnthropicAdapter
from byom.providers.openrouter import OpenRouterAdapter
from byom.sim import Simulator
from byom.sim import prompt_tokens as sim_prompt_tokens
from conftest import CANARY_KEY, chat_count

NOW = 1_800_000_000.0
#: Claude Haiku 4.5's list price (USD per token), as in the bundled catalogs.
HAIKU_PRICE = Price(
    Decimal("0.000001"),
    Decimal("0.000005"),
    cache_read=Decimal("0.0000001"),
    cache_write=Decimal("0.00000125"),
)
HAIKU = Model("anthropic/claude-haiku-4.5", "Claude Haiku 4.5", "worker", price=HAIKU_PRICE)
OPENROUTER = OpenRouterAdapter("http://127.0.0.1:9/api/v1")
ANTHROPIC = AnthropicAdapter("http://127.0.0.1:9")


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def nbytes(value: Any) -> int:
    """UTF-8 bytes of ``value``'s compact JSON (a string: its own bytes)."""
    return len((value if isinstance(value, str) else compact(value)).encode("utf-8"))


def tools_schema(size: int) -> list[dict[str, Any]]:
    """OpenAI-style function tools whose compact JSON is at least ``size`` bytes."""
    tools: list[dict[str, Any]] = []
    i = 0
    while nbytes(tools) < size:
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": f"lookup_{i}",
                    "description": f"Look up record {i} — données, 日本語, details. " * 12,
                    "parameters": {
                        "type": "object",
                        "properties": {
                            f"field_{j}": {"type": "string", "description": "a field " * 6}
                            for j in range(8)
                        },
                        "required": ["field_0"],
                    },
                },
            }
        )
        i += 1
    return tools


def json_schema_format(size: int) -> dict[str, Any]:
    properties = {}
    while nbytes(properties) < size:
        properties[f"p{len(properties)}"] = {"type": "string", "description": "é value " * 20}
    return {
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": True, "schema": {"type": "object",
                                                                    "properties": properties}},
    }  # fmt: skip


TOOL_CALLS = [
    {
        "id": f"call_{i}",
        "type": "function",
        "function": {"name": "lookup", "arguments": compact({"query": "ünïcode " * 300, "n": i})},
    }
    for i in range(3)
]


def tool_conversation(result_size: int = 6_000) -> list[dict[str, Any]]:
    """OpenAI-style: a question, an assistant turn that only calls tools, and the results."""
    return [
        {"role": "system", "content": "You use tools."},
        {"role": "user", "content": "Find it.", "name": "alice"},
        {"role": "assistant", "content": None, "tool_calls": TOOL_CALLS},
        *(
            {
                "role": "tool",
                "tool_call_id": f"call_{i}",
                "content": "résultat " * (result_size // 10),
            }
            for i in range(3)
        ),
    ]


def anthropic_conversation(result_size: int = 20_000) -> list[dict[str, Any]]:
    """Anthropic-style: a ``tool_use`` block, then ``tool_result`` blocks in a user turn."""
    return [
        {"role": "user", "content": "Find it."},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup",
                 "input": {"query": "ünïcode " * 400}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1",
                 "content": [{"type": "text", "text": "résultat " * (result_size // 10)}]},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "x" * result_size},
            ],
        },
    ]  # fmt: skip


def structure_bytes(messages: list[dict[str, Any]]) -> int:
    """Bytes of everything in ``messages`` besides roles and plain text: the fields a provider
    templates (tool calls, tool call ids, names) and the non-text parts, as compact JSON."""
    total = 0
    for message in messages:
        extra = {k: v for k, v in message.items() if k not in ("role", "content")}
        if extra:
            total += nbytes(extra)
        content = message.get("content")
        if isinstance(content, list):
            total += sum(nbytes(p) for p in content if p.get("type") != "text")
    return total


def text_bytes(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += nbytes(content)
        elif isinstance(content, list):
            total += sum(nbytes(p["text"]) for p in content if p.get("type") == "text")
    return total


# -- the core path, no network --------------------------------------------------------------


def make_path(
    strict: Decimal | None = None,
    *,
    estimator: Any = None,
    strict_estimator: Any = None,
) -> CallPath:
    ledger = Ledger(MemoryStore(), "app", clock=lambda: NOW)
    if strict is not None:
        ledger.set_allowance(Allowance(strict, "total", True))
    return CallPath(
        ledger, clock=lambda: NOW, estimator=estimator, strict_estimator=strict_estimator
    )


def begin(
    path: CallPath,
    messages: list[dict[str, Any]],
    *,
    model: Model = HAIKU,
    adapter: Any = OPENROUTER,
    max_tokens: int = 50,
    **params: Any,
) -> Call:
    return path.begin(
        Connection(adapter, Secret("k" * 24)),
        Feature("f"),
        model,
        messages,
        max_tokens=max_tokens,
        stream=False,
        params=params,
    )


def user(text: str = "Hello.") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_r3_7_an_80kb_tools_schema_under_a_010_strict_allowance_is_refused() -> None:
    tools = tools_schema(80 * 1024)
    path = make_path(Decimal("0.10"))
    with pytest.raises(BudgetExceeded) as info:
        begin(path, user("Which record?"), tools=tools, tool_choice="auto")
    # At least what the provider could bill for those bytes (one token per byte), even if it
    # writes them to its prompt cache (the dearer rate the guard reserves at).
    assert info.value.estimate >= HAIKU_PRICE.cache_write * nbytes(tools)
    assert info.value.estimate > Decimal("0.10")
    assert path.ledger.spent("total") == 0  # nothing reserved


def test_r3_7_strict_estimate_bounds_tools_schema_bytes() -> None:
    tools = tools_schema(20_000)
    call = begin(make_path(Decimal("100")), user(), tools=tools, tool_choice="required")
    assert call.estimate.input_tokens >= nbytes(tools) + nbytes("required") + nbytes("Hello.")
    assert call.estimate.amount >= nbytes(tools) * HAIKU_PRICE.prompt


def test_r3_7_legacy_functions_and_function_call_are_bounded() -> None:
    """No adapter forwards them today, but the estimate does not depend on that."""
    from byom.core.estimate import request_input_tokens

    functions = [t["function"] for t in tools_schema(10_000)]
    params = {"functions": functions, "function_call": {"name": "f"}}
    tokens = request_input_tokens(StrictEstimator(), user(), params, strict=True)
    assert tokens >= nbytes(functions) + nbytes({"name": "f"})


def test_r3_7_response_format_schema_is_bounded() -> None:
    fmt = json_schema_format(15_000)
    call = begin(make_path(Decimal("100")), user(), response_format=fmt)
    assert call.estimate.input_tokens >= nbytes(fmt)


def test_r3_7_strict_estimator_bounds_assistant_tool_calls_and_tool_results() -> None:
    messages = tool_conversation()
    assert StrictEstimator().input_tokens(messages) >= text_bytes(messages) + structure_bytes(
        messages
    )
    # Through the core path too.
    call = begin(make_path(Decimal("100")), messages)
    assert call.estimate.input_tokens >= text_bytes(messages) + structure_bytes(messages)


def test_r3_7_strict_estimator_bounds_anthropic_tool_use_and_tool_result_blocks() -> None:
    messages = anthropic_conversation()
    bound = text_bytes(messages) + structure_bytes(messages)
    assert StrictEstimator().input_tokens(messages) >= bound
    call = begin(make_path(Decimal("100")), messages, adapter=ANTHROPIC)
    assert call.estimate.input_tokens >= bound


def test_r3_7_name_fields_and_unknown_parts_are_bounded_by_their_json_bytes() -> None:
    mystery = {"type": "mystery_part", "blob": "ÿ" * 30_000}
    messages = [{"role": "user", "name": "n" * 500, "content": [mystery]}]
    assert StrictEstimator().input_tokens(messages) >= nbytes(mystery) + nbytes({"name": "n" * 500})


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "https://example.org/secret-cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
        {"type": "input_image", "image_url": "https://example.org/secret-cat.png"},
        {"type": "image", "source": {"type": "url", "url": "https://example.org/secret-cat.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"}},
        {  # an image inside an Anthropic tool result
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"},
                }
            ],
        },
    ],
    ids=["image_url", "data_url", "input_image", "anthropic_url", "anthropic_b64", "in_result"],
)
def test_r3_7_strict_refuses_an_image_the_model_cannot_bound(part: dict[str, Any]) -> None:
    path = make_path(Decimal("100"))
    events: list[Any] = []
    path.bus.subscribe(events.append)
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, part]}]
    with pytest.raises(UnboundedInput) as info:
        begin(path, messages)
    assert info.value.code == "unbounded_input"
    assert "secret-cat" not in str(info.value) and "QUJD" not in str(info.value)
    assert path.ledger.spent("total") == 0  # nothing reserved
    assert path.ledger.store.ledger_rows("app", frozenset({"reserved", "committed"})) == []
    (record,) = path.store.records("app")
    assert record.outcome == "refused" and record.error_code == "unbounded_input"
    assert [type(e).__name__ for e in events] == ["Refused"]


@pytest.mark.parametrize(
    "part",
    [
        {"type": "input_audio", "input_audio": {"data": "QUJD", "format": "wav"}},
        {
            "type": "file",
            "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,"},
        },
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "QUJD"},
        },
    ],
    ids=["audio", "file", "pdf_document"],
)
def test_r3_7_strict_refuses_other_media_bytes_cannot_bound(part: dict[str, Any]) -> None:
    with pytest.raises(UnboundedInput):
        begin(make_path(Decimal("100")), [{"role": "user", "content": [part]}])
    # The default mode estimates it (a flat figure), it does not refuse.
    call = begin(make_path(), [{"role": "user", "content": [part]}])
    assert call.estimate.input_tokens >= NON_TEXT_PART_TOKENS


def test_r3_7_strict_refuses_provider_defined_server_tools() -> None:
    """A server tool (Anthropic web search) pulls results and fees into the same request."""
    tools = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    with pytest.raises(UnboundedInput):
        begin(make_path(Decimal("100")), user(), adapter=ANTHROPIC, tools=tools)
    call = begin(make_path(), user(), adapter=ANTHROPIC, tools=tools)
    assert call.estimate.input_tokens > math.ceil(nbytes(tools) / 4)


def test_r3_7_strict_bounds_each_image_by_the_models_worst_case() -> None:
    model = dataclasses.replace(HAIKU, image_tokens=5_000)
    image = {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Compare."}, image, image]}]
    call = begin(make_path(Decimal("100")), messages, model=model)
    assert call.estimate.input_tokens >= 2 * 5_000 + nbytes("Compare.")
    assert call.estimate.input_tokens < 2 * 5_000 + 200  # the figure, not a flat guess on top
    assert call.estimate.amount >= 2 * 5_000 * HAIKU_PRICE.prompt
    # A free model (a local one) has nothing to bound: its images are admitted.
    free = Model("llama3.2:3b", "Llama", "worker", price=Price(Decimal(0), Decimal(0)))
    assert dataclasses.replace(free, image_tokens=None).image_tokens is None
    assert begin(make_path(Decimal("100")), messages, model=free).estimate.amount == 0


def test_r3_7_a_zero_image_figure_admits_images_at_no_token_cost() -> None:
    model = dataclasses.replace(HAIKU, image_tokens=0)
    image = {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}}
    call = begin(make_path(Decimal("100")), [{"role": "user", "content": [image]}], model=model)
    assert call.estimate.input_tokens < 100


def test_r8_5_default_mode_estimates_every_billed_input_not_zero() -> None:
    path = make_path()  # no allowance: the default chars/4 estimator
    tools = tools_schema(20_000)
    call = begin(path, user(), tools=tools)
    assert call.estimate.input_tokens >= math.ceil(len(compact(tools)) / 4)
    fmt = json_schema_format(8_000)
    call = begin(path, user(), response_format=fmt)
    assert call.estimate.input_tokens >= math.ceil(len(compact(fmt)) / 4)
    messages = tool_conversation()
    structure_chars = sum(
        len(compact({k: v for k, v in m.items() if k not in ("role", "content")}))
        for m in messages
        if set(m) - {"role", "content"}
    )
    assert CharEstimator().input_tokens(messages) >= math.ceil(structure_chars / 4)
    call = begin(path, messages)
    assert call.estimate.input_tokens >= math.ceil(structure_chars / 4)
    blocks = anthropic_conversation()
    non_text = sum(
        len(compact(p))
        for m in blocks
        if isinstance(m["content"], list)
        for p in m["content"]
        if p["type"] != "text"
    )
    assert CharEstimator().input_tokens(blocks) >= math.ceil(non_text / 4)


def test_r8_5_default_mode_image_is_the_flat_estimate_or_the_models_figure() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}}
    messages = [{"role": "user", "content": [image]}]
    flat = begin(make_path(), messages).estimate.input_tokens
    assert flat >= NON_TEXT_PART_TOKENS
    known = begin(make_path(), messages, model=dataclasses.replace(HAIKU, image_tokens=9_000))
    assert known.estimate.input_tokens == flat - NON_TEXT_PART_TOKENS + 9_000


def test_r3_7_a_custom_estimator_keeps_working_and_cannot_drop_the_structure() -> None:
    """A user's estimator (``input_tokens(messages)`` only) counts the text; the core adds the
    rest, by bytes in strict mode and by chars/4 otherwise, and still refuses unbounded images."""

    class OnePerWord:
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def input_tokens(self, messages: Any) -> int:
            self.seen.append(messages)
            return sum(len(str(m["content"]).split()) for m in messages)

    default, strict = OnePerWord(), OnePerWord()
    tools = tools_schema(10_000)
    messages = tool_conversation(600)
    call = begin(make_path(estimator=default), messages, tools=tools)
    assert call.estimate.input_tokens >= math.ceil((nbytes(tools) + 0) / 4)
    # It was given the messages' text, not their tool calls (which the core counted).
    assert all(set(m) == {"role", "content"} for m in default.seen[-1])
    assert all(isinstance(m["content"], str) for m in default.seen[-1])
    call = begin(make_path(Decimal("100"), strict_estimator=strict), messages, tools=tools)
    assert call.estimate.input_tokens >= nbytes(tools) + structure_bytes(messages)
    image = {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}}
    with pytest.raises(UnboundedInput):
        begin(make_path(Decimal("100"), strict_estimator=strict), [
            {"role": "user", "content": [image]}
        ])  # fmt: skip


# -- end to end, against the simulator ------------------------------------------------------


def committed_rows(app: Any) -> list[Any]:
    return app.store.ledger_rows(app.app_id, frozenset({"committed"}))


def test_r8_5_the_simulator_bills_tools_tool_calls_and_results(make_app, sim: Simulator) -> None:
    """The 'charged' side is honest: tool schemas and tool traffic are billed as prompt."""
    app = make_app()
    messages = tool_conversation()
    tools = tools_schema(6_000)
    reply = app.chat("summarize", messages, max_tokens=20, tools=tools)
    texts = [m["content"] or "" for m in messages]
    assert reply.usage.prompt_tokens >= sim_prompt_tokens(texts) + math.ceil(nbytes(tools) / 3)


def test_r3_7_sim_80kb_tools_schema_is_refused_and_never_sent(make_app, sim: Simulator) -> None:
    app = make_app()
    app.choose_model("summarize", "anthropic/claude-haiku-4.5")
    app.set_allowance(Decimal("0.10"), period="total", strict=True)
    tools = tools_schema(80 * 1024)
    with pytest.raises(BudgetExceeded) as info:
        app.chat("summarize", user("Which record?"), max_tokens=50, tools=tools)
    assert info.value.estimate >= HAIKU_PRICE.prompt * nbytes(tools)  # ≥ one token per byte
    assert chat_count(sim) == 0
    assert app.spent("total") == 0


def test_r3_7_sim_strict_reservations_cover_what_tool_traffic_is_billed(
    make_app, sim: Simulator
) -> None:
    """The review's overshoot: under a strict allowance, requests with tool schemas, tool calls,
    tool results and a response schema never cost more than the allowance, and each one's
    reservation covers its real cost."""
    app = make_app()
    app.choose_model("summarize", "anthropic/claude-haiku-4.5")
    allowance = Decimal("0.075")
    app.set_allowance(allowance, period="total", strict=True)
    tools = tools_schema(30_000)
    fmt = json_schema_format(10_000)
    sent = 0
    for i in range(10):
        messages = [*tool_conversation(300), {"role": "user", "content": f"Again {i}."}]
        try:
            app.chat("summarize", messages, max_tokens=50, tools=tools, response_format=fmt)
            sent += 1
        except BudgetExceeded:
            pass
    assert sent > 0
    charged = sum(Decimal(str(g["cost"])) for g in sim.generations())
    assert charged <= allowance
    messages = [*tool_conversation(300), {"role": "user", "content": "Again 0."}]
    # One token per byte of everything forwarded, at the guard price: what no provider exceeds.
    worst = text_bytes(messages) + structure_bytes(messages) + nbytes(tools) + nbytes(fmt)
    for row in committed_rows(app):
        assert row.estimate_pico >= row.counted_pico
        assert row.estimate_pico >= to_pico(worst * HAIKU_PRICE.cache_write)


def test_r3_7_sim_anthropic_tool_result_blocks_are_bounded(make_app, sim: Simulator) -> None:
    app = make_app(connect=False)
    app.connect("anthropic", key=CANARY_KEY, base_url=sim.base_url)
    app.choose_model("summarize", "claude-haiku-4-5")
    app.set_allowance(Decimal("5"), period="total", strict=True)
    tools = [
        {"name": "lookup", "description": "Look a record up. " * 200,
         "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}},
    ]  # fmt: skip
    messages = [{"role": "system", "content": "You use tools."}, *anthropic_conversation()]
    reply = app.chat("summarize", messages, max_tokens=50, tools=tools)
    assert reply.usage.prompt_tokens > sim_prompt_tokens(["You use tools.", "Find it."])
    (row,) = committed_rows(app)
    assert row.estimate_pico >= row.counted_pico > 0
    worst = text_bytes(messages) + structure_bytes(messages) + nbytes(tools)
    assert row.estimate_pico >= to_pico(worst * HAIKU_PRICE.cache_write)


def test_r8_5_sim_default_mode_reserves_for_tool_traffic(make_app, sim: Simulator) -> None:
    app = make_app()
    app.choose_model("summarize", "anthropic/claude-haiku-4.5")
    tools = tools_schema(30_000)
    app.chat("summarize", tool_conversation(), max_tokens=20, tools=tools)
    (row,) = committed_rows(app)
    # chars/4 of the schema alone, at the guard price, is in the reservation.
    floor = math.ceil(len(compact(tools)) / 4) * HAIKU_PRICE.cache_write * 10**12
    assert row.estimate_pico >= floor
