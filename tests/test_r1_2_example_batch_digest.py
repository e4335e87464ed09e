"""Issue 15, acceptance — R1.2, R3.3, R3.5, R4.4: ``examples/batch_digest/digest.py`` (an asyncio
batch of 20 summaries under a $0.001 allowance, with totals and a CSV export, written from the
README alone) runs against the simulator for every provider kind, unchanged but for its
``connect`` line. Whatever the prices, the allowance holds: what the simulator charged and what
byom counts both stay within $0.001, and what did not fit was refused before it was sent."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import byom
from byom.sim import Simulator

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "batch_digest" / "digest.py"
CONNECT = 'app.connect("openrouter", key=os.environ["OPENROUTER_API_KEY"])'
ALLOWANCE = Decimal("0.001")
CHAT_PATHS = ("/api/v1/chat/completions", "/v1/chat/completions", "/v1/messages", "/api/chat")
GEMINI_CHAT = ":generateContent"  # Gemini's path names the model: /v1beta/models/ID:generate…


def _connect_line(kind: str, sim: Simulator) -> str:
    base = sim.base_url_for(kind)
    if kind == "ollama":
        return f'app.connect("ollama", base_url="{base}")'
    if kind == "compatible":
        return f'app.connect("compatible", key="sk-local", base_url="{base}")'
    return f'app.connect("{kind}", key="sk-test-batch", base_url="{base}")'


@pytest.mark.parametrize(
    "kind", ["openrouter", "openai", "anthropic", "gemini", "ollama", "compatible"]
)
def test_r1_2_batch_digest_runs_unchanged_on_every_provider_kind(
    kind: str, sim: Simulator, tmp_path: Path
) -> None:
    source = EXAMPLE.read_text(encoding="utf-8")
    assert source.count(CONNECT) == 1
    variant = source.replace(CONNECT, _connect_line(kind, sim))
    changed = [
        (a, b) for a, b in zip(source.splitlines(), variant.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1  # the connect line, nothing else
    script = tmp_path / "digest.py"
    script.write_text(variant, encoding="utf-8")
    out_csv = tmp_path / "history.csv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BYOM_", "OPENROUTER"))}
    env |= {
        "BYOM_DATA_DIR": str(tmp_path / "data"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    mark = sim.mark()
    result = subprocess.run(
        [sys.executable, str(script), str(out_csv)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(
        r"done (\d+) · refused (\d+) · failed (\d+) · spent (\S+) of \$0\.001 · (\d+) history",
        result.stdout,
    )
    assert summary, result.stdout
    done, refused, failed = (int(summary.group(i)) for i in (1, 2, 3))
    assert done + refused == 20 and failed == 0
    assert "E-" not in result.stdout  # money is written by format_money, never as an exponent

    # The allowance held, by the simulator's own account and by byom's.
    charged = sim.charged(since=mark)
    assert charged <= ALLOWANCE, (charged, result.stdout[-600:])
    spent = Decimal(summary.group(4).lstrip("$"))  # as format_money wrote it (rounded)
    assert spent <= ALLOWANCE
    sent = sum(
        count
        for path, count in sim.counts().items()
        if path in CHAT_PATHS or path.endswith(GEMINI_CHAT)
    )
    assert sent == done  # every refusal was refused before it was sent

    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8"))))
    answered = [r for r in rows if r["outcome"] in ("ok", "truncated")]  # cut at max_tokens
    assert len(answered) == done and all(Decimal(r["cost"]) >= 0 for r in answered)
    assert byom.format_money(sum(Decimal(r["cost"]) for r in answered)) == summary.group(4)
    if kind == "compatible":
        # A compatible server's prices are unknown until the user gives them: the allowance
        # reserves the high fallback price, so under $0.001 nothing is sent (fail closed).
        assert done == 0 and "allowance" in result.stdout
    else:
        assert done >= 1
    if kind in ("openrouter", "openai", "ollama"):
        assert done == 20 or refused > 0
    if kind == "ollama":
        assert done == 20 and spent == 0  # a local model costs nothing
