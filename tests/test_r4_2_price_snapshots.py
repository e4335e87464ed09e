"""R4.2 / R1.4 (issue 12, part 4): the bundled price snapshots are generated from the
genai-prices database by ``make prices`` (``scripts/prices.py``), each dated and naming its
source version; the runtime reads only byom's own JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from byom.catalogs import SNAPSHOTS, bundled

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("provider", sorted(SNAPSHOTS))
def test_r4_2_each_snapshot_is_dated_and_names_its_source(provider: str) -> None:
    raw = json.loads(resources.files("byom.data").joinpath(SNAPSHOTS[provider]).read_bytes())
    dt.date.fromisoformat(raw["as_of"])
    assert re.match(r"genai-prices \d+\.\d+\.\d+ ", raw["source"]), raw["source"]
    assert raw["generated_by"].startswith("make prices")
    catalog = bundled(provider)
    assert catalog.as_of == raw["as_of"] and len(catalog.models) == len(raw["data"])
    for model in catalog:
        assert model.price is not None and model.price.prompt > 0 and model.price.completion > 0
        assert model.category in ("worker", "frontier") and model.provider == provider


def test_r4_2_the_runtime_does_not_need_genai_prices() -> None:
    code = (
        "import sys, byom.catalogs as c\n"
        "sys.modules['genai_prices'] = None\n"  # importing it would now fail
        "assert all(len(c.bundled(p).models) for p in c.SNAPSHOTS)\n"
        "assert 'genai_prices' not in {m for m in sys.modules if sys.modules[m] is not None}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_r4_2_snapshots_are_exactly_what_make_prices_generates() -> None:
    """With genai-prices installed (``make prices`` installs it, hash-pinned), regenerating
    each snapshot for its own date gives the file byte for byte: nothing was edited by hand."""
    pytest.importorskip("genai_prices")
    files = {**SNAPSHOTS, "compatible": "compatible-hosts.json"}
    for provider in sorted(files):
        raw = json.loads(resources.files("byom.data").joinpath(files[provider]).read_bytes())
        version = raw["source"].split()[1]
        import genai_prices

        if genai_prices.__version__ != version:
            pytest.skip(f"genai-prices {genai_prices.__version__} installed, {version} pinned")
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "prices.py"), "--check",
             "--as-of", raw["as_of"], provider],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr


def test_r4_2_a_price_tier_caps_the_context_instead_of_under_counting() -> None:
    """Gemini 2.5 Pro costs more above 200K prompt tokens: the snapshot lists the base rate and
    a 200K context, so a larger request is refused unsent (issue 15's context check)."""
    pro = bundled("gemini").get("gemini-2.5-pro")
    assert pro is not None and pro.context_length == 200_000
    flash = bundled("gemini").get("gemini-2.5-flash")
    assert flash is not None and flash.context_length is not None
    assert flash.context_length > 200_000  # no tier: the full window


def test_r4_2_known_compatible_hosts_are_priced_others_are_not(tmp_path: Path) -> None:
    """Mistral, DeepSeek, Groq and xAI speak the OpenAI-compatible API: a ``compatible``
    connection to one of their origins prices its listed models from the dated
    ``compatible-hosts.json``; any other server's models stay unpriced (never free)."""
    import byom

    raw = json.loads(resources.files("byom.data").joinpath("compatible-hosts.json").read_bytes())
    dt.date.fromisoformat(raw["as_of"])
    assert raw["source"].startswith("genai-prices ")
    assert set(raw["hosts"]) == {
        "https://api.mistral.ai", "https://api.deepseek.com", "https://api.groq.com",
        "https://api.x.ai",
    }  # fmt: skip
    models = [{"id": "llama-3.3-70b-versatile", "object": "model"},
              {"id": "some-new-model", "object": "model"}]  # fmt: skip
    listing = json.dumps({"object": "list", "data": models}).encode()
    app = byom.App("Hosts", [byom.Feature("summarize", "worker")], data_dir=tmp_path / "d")
    app.connect("compatible", key="gsk_test", base_url="https://api.groq.com/openai/v1")
    catalog = app.adapter.parse_models(listing)
    llama = catalog.get("llama-3.3-70b-versatile")
    assert llama is not None and llama.price is not None and llama.category == "worker"
    assert llama.price.prompt == Decimal("0.00000059")
    new = catalog.get("some-new-model")
    assert new is not None and new.price is None
    app.connect("compatible", key=None, base_url="http://127.0.0.1:8000/v1")
    local = app.adapter.parse_models(listing).get("llama-3.3-70b-versatile")
    assert local is not None and local.price is None
    app.close()
