"""Fidelity: the official ``openai`` and ``anthropic`` clients work against ``byom sim`` unchanged,
and the simulator's faults surface as the clients' own exception classes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal

import anthropic
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from byom.sim import Simulator

KEY = "sk-client-test-key"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _clean(sim: Simulator) -> None:
    sim.reset()


def toks(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 3)


MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "Name a colour."},
]
PROMPT_TOKENS = (toks("You answer briefly.") + 3) + (toks("Name a colour.") + 3) + 3


@pytest.fixture(params=["openrouter", "openai"])
def oai(request: pytest.FixtureRequest, sim: Simulator) -> Iterator[tuple[openai.OpenAI, str]]:
    base, model = (
        (sim.openrouter_base, "openai/gpt-4o-mini")
        if request.param == "openrouter"
        else (sim.openai_base, "gpt-4o-mini")
    )
    with openai.OpenAI(base_url=base, api_key=KEY, max_retries=0, timeout=10) as client:
        yield client, model


@pytest.fixture()
def claude(sim: Simulator) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=sim.base_url, api_key=KEY, max_retries=0, timeout=10
    ) as client:
        yield client


def test_openai_client_create(oai: tuple[openai.OpenAI, str], sim: Simulator) -> None:
    client, model = oai
    reply = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=500)
    text = reply.choices[0].message.content
    assert text is not None and text.startswith("Simulated reply: ")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == PROMPT_TOKENS
    assert reply.usage.completion_tokens == toks(text)
    if model.startswith("openai/"):
        extra = reply.usage.model_extra or {}
        expected = PROMPT_TOKENS * Decimal("0.00000015") + toks(text) * Decimal("0.0000006")
        assert Decimal(str(extra["cost"])) == expected
        assert reply.id == sim.generations()[0]["id"]


def test_openai_client_stream_with_usage(oai: tuple[openai.OpenAI, str]) -> None:
    client, model = oai
    whole = client.chat.completions.create(model=model, messages=MESSAGES)
    stream = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    parts: list[str] = []
    finish = None
    usage = None
    for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(parts) == whole.choices[0].message.content
    assert finish == "stop"
    assert usage is not None and whole.usage is not None
    assert usage.prompt_tokens == whole.usage.prompt_tokens
    assert usage.completion_tokens == whole.usage.completion_tokens


def test_openai_client_length_finish(oai: tuple[openai.OpenAI, str]) -> None:
    client, model = oai
    reply = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=3)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 3


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (429, openai.RateLimitError),
        (502, openai.InternalServerError),
    ],
)
def test_openai_client_exceptions(
    oai: tuple[openai.OpenAI, str], sim: Simulator, status: int, exc: type[Exception]
) -> None:
    client, model = oai
    sim.push_faults([{"status": status}])
    with pytest.raises(exc) as info:
        client.chat.completions.create(model=model, messages=MESSAGES)
    assert isinstance(info.value, openai.APIStatusError) and info.value.status_code == status


def test_openai_client_bad_key_and_stream_errors(
    oai: tuple[openai.OpenAI, str], sim: Simulator
) -> None:
    client, model = oai
    with pytest.raises(openai.AuthenticationError):
        client.with_options(api_key="sk-sim-bad-key").chat.completions.create(
            model=model,
            messages=MESSAGES,
        )
    sim.push_faults([{"kind": "midstream_error"}])
    with pytest.raises(openai.APIError, match="upstream error"):
        for _ in client.chat.completions.create(model=model, messages=MESSAGES, stream=True):
            pass
    sim.push_faults([{"kind": "cut_before_usage"}])
    with pytest.raises(openai.APIConnectionError):
        for _ in client.chat.completions.create(model=model, messages=MESSAGES, stream=True):
            pass


def test_openai_client_lists_models(oai: tuple[openai.OpenAI, str]) -> None:
    client, model = oai
    ids = [m.id for m in client.models.list()]
    assert model in ids


def test_anthropic_client_create(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=300,
        system="You answer briefly.",
        messages=[{"role": "user", "content": "Name a colour."}],
    )
    block = message.content[0]
    assert block.type == "text" and block.text.startswith("Simulated reply: ")
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == PROMPT_TOKENS
    assert message.usage.output_tokens == toks(block.text)
    assert message.usage.cache_read_input_tokens == 0


def test_anthropic_client_stream(claude: anthropic.Anthropic) -> None:
    whole = claude.messages.create(
        model="claude-haiku-4-5", max_tokens=300, messages=[{"role": "user", "content": "hi"}]
    )
    with claude.messages.stream(
        model="claude-haiku-4-5", max_tokens=300, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert whole.content[0].type == "text"
    assert text == whole.content[0].text
    assert final.usage.input_tokens == whole.usage.input_tokens
    assert final.usage.output_tokens == whole.usage.output_tokens == toks(text)
    assert final.stop_reason == "end_turn"
    with claude.messages.stream(
        model="claude-haiku-4-5", max_tokens=4, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        short = stream.get_final_message()
    assert short.stop_reason == "max_tokens" and short.usage.output_tokens == 4


def test_anthropic_client_count_tokens(claude: anthropic.Anthropic) -> None:
    count = claude.messages.count_tokens(
        model="claude-haiku-4-5",
        system="You answer briefly.",
        messages=[{"role": "user", "content": "Name a colour."}],
    )
    assert count.input_tokens == PROMPT_TOKENS


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (401, anthropic.AuthenticationError),
        (403, anthropic.PermissionDeniedError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (529, anthropic.InternalServerError),
    ],
)
def test_anthropic_client_exceptions(
    claude: anthropic.Anthropic, sim: Simulator, status: int, exc: type[Exception]
) -> None:
    sim.push_faults([{"status": status}])
    with pytest.raises(exc) as info:
        claude.messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert isinstance(info.value, anthropic.APIStatusError) and info.value.status_code == status


def test_anthropic_client_midstream_error(claude: anthropic.Anthropic, sim: Simulator) -> None:
    sim.push_faults([{"kind": "midstream_error"}])
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        with claude.messages.stream(
            model="claude-haiku-4-5", max_tokens=300, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            stream.get_final_message()
    with pytest.raises(anthropic.AuthenticationError):
        claude.with_options(api_key="sk-sim-bad").messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
