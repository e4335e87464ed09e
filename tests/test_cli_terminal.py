"""R5.5, R4.4, pitfall 5 — the ``byom`` connection commands, run as a user would (a separate
process, no terminal unless a pty is asked for) against ``byom sim``."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import byom
import byom.store.vault as vault_module
from byom.app import App
from byom.history_export import HISTORY_FIELDS
from byom.locales import Messages
from byom.sim import Simulator
from r5_pty import APP, APP_ID, Session, base_env, byom_argv, header, plain, walk_wizard

KEY = "sk-or-v1-cli-test-key-0123456789"
FEATURES = [
    byom.Feature("summarize", "worker", "a short summary of the text"),
    byom.Feature("critique", "frontier", "a careful critique of the text"),
]
COLOR = re.compile(r"\x1b\[[0-9;]*(?:3[0-7]|9[0-7]|38;[0-9;]+)m")


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as running:
        yield running


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture()
def data(home: Path) -> Path:
    return home / ".local" / "share" / "byom"


@pytest.fixture()
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)


@pytest.fixture()
def used_app(sim: Simulator, data: Path, no_keyring: None) -> Path:
    """An app that ran on this device: connected with a remembered key, three requests made."""
    sim.reset()
    with App(APP, FEATURES, data_dir=data) as app:
        app.connect(
            "openrouter",
            key=KEY,
            remember=True,
            allow_plain_file=True,
            base_url=sim.openrouter_base,
        )
        for feature, text in (("summarize", "one"), ("summarize", "two"), ("critique", "three")):
            app.chat(feature, [{"role": "user", "content": text}], max_tokens=60)
    return data


def byom_cli(
    home: Path,
    data: Path,
    *args: str,
    stdin: str | None = None,
    lang: str = "en",
    app: str | None = APP_ID,
) -> subprocess.CompletedProcess[str]:
    env = base_env(home, data, lang)
    if app:
        env["BYOM_APP"] = app
    return subprocess.run(
        byom_argv(*args),
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_r4_4_history_json_and_csv_match_the_store_and_carry_no_prompt_text(
    home: Path, used_app: Path
) -> None:
    with App.load(APP_ID, data_dir=used_app) as app:
        records = app.history()
        expected_json = json.loads(app.export_history("json"))
        by_feature = app.totals("feature", period="total")
    assert len(records) == 3

    result = byom_cli(home, used_app, "history", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = json.loads(result.stdout)  # the whole output parses: nothing else is mixed in
    assert rows == expected_json
    assert {r["id"]: r["cost"] for r in rows} == {r.id: format(r.cost, "f") for r in records}
    assert all(Decimal(r["cost"]) > 0 for r in rows)

    result = byom_cli(home, used_app, "history", "--csv")
    assert result.returncode == 0 and result.stderr == ""
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert tuple(reader.fieldnames or ()) == HISTORY_FIELDS
    parsed = list(reader)
    assert [r["id"] for r in parsed] == [r.id for r in records]
    assert [Decimal(r["cost"]) for r in parsed] == [r.cost for r in records]
    assert [int(r["prompt_tokens"]) for r in parsed] == [r.usage.prompt_tokens for r in records]

    result = byom_cli(home, used_app, "history", "--by", "feature", "--json")
    totals = {row["feature"]: Decimal(row["cost"]) for row in json.loads(result.stdout)}
    assert totals == by_feature
    result = byom_cli(home, used_app, "history", "--by", "model", "--csv")
    assert next(csv.reader(io.StringIO(result.stdout))) == ["model", "cost", "requests"]

    # No prompt or reply text anywhere, and no prompt (question) text in machine output.
    for flag in ("--json", "--csv"):
        out = byom_cli(home, used_app, "history", flag).stdout
        for text in ("one", "two", "three", "Simulated reply", "?", "[y/N]", KEY):
            assert f'"{text}"' not in out and f",{text}," not in out
        assert KEY not in out


def test_r4_4_history_shows_a_spend_per_day_chart(home: Path, used_app: Path) -> None:
    result = byom_cli(home, used_app, "history", "--days", "7")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Spend per day (last 7 days)"
    chart = lines[1:8]
    assert len(chart) == 7 and all(re.match(r"\d{4}-\d\d-\d\d  ", line) for line in chart)
    assert "█" in chart[-1] and "$0.0" in chart[-1]  # today, scaled to the widest bar
    assert all("█" not in line for line in chart[:-1])
    assert "3 request(s) recorded" in result.stdout
    nl = byom_cli(home, used_app, "history", "--by", "feature", "--lang", "nl")
    assert "Uitgaven per functie" in nl.stdout and "critique" in nl.stdout


def test_r5_5_status_models_and_model_choice(home: Path, used_app: Path) -> None:
    result = byom_cli(home, used_app, "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["connected"] is True and status["key"] == ["memory", "file"]
    assert status["app"] == {"id": APP_ID, "name": APP}
    assert [f["name"] for f in status["features"]] == ["summarize", "critique"]
    with App.load(APP_ID, data_dir=used_app) as app:
        total = sum((r.cost for r in app.history() if r.cost), Decimal(0))
    assert Decimal(status["spent"]["total"]) == total
    text = byom_cli(home, used_app, "status").stdout
    assert "Connected to openrouter" in text and "summarize" in text
    assert KEY not in text and KEY not in result.stdout

    listed = json.loads(byom_cli(home, used_app, "models", "--category", "worker", "--json").stdout)
    assert listed and all(m["category"] == "worker" for m in listed)
    worker = next(m["id"] for m in listed if "summarize" not in m["used_by"])

    result = byom_cli(home, used_app, "model", "summarize", worker)
    assert result.returncode == 0, result.stderr
    with App.load(APP_ID, data_dir=used_app) as app:
        assert app.model_for("summarize").id == worker

    frontier = "anthropic/claude-sonnet-4.5"
    result = byom_cli(home, used_app, "model", "summarize", frontier)
    assert result.returncode == 1
    assert "needs a worker model" in plain(result.stderr)
    result = byom_cli(home, used_app, "model", "nosuch", worker)
    assert result.returncode == 1 and "has no feature" in result.stderr
    result = byom_cli(home, used_app, "model", "critique", "no/such-model")
    assert result.returncode == 1 and "not in the model list" in result.stderr


def test_pitfall_5_budget_fails_closed_and_reads_dutch_amounts(home: Path, used_app: Path) -> None:
    def allowances() -> list[tuple[Decimal, str]]:
        with App.load(APP_ID, data_dir=used_app) as app:
            return [(a.amount, a.period) for a in app.allowances()]

    result = byom_cli(home, used_app, "budget", "5,00", "--period", "day", "--lang", "nl")
    assert result.returncode == 0, result.stderr
    assert "Budget ingesteld: $ 5,00 per dag" in result.stdout  # Dutch: a decimal comma
    assert allowances() == [(Decimal("5.00"), "day")]
    # Refused, each time: the ceiling stays as it was (never "no ceiling").
    for bad in ("abc", "", "-1", "1,2,3", "NaN", "5 euro 3"):
        result = byom_cli(home, used_app, "budget", bad, "--period", "day")
        assert result.returncode == 1, bad
        assert "not a valid amount" in result.stderr
        assert allowances() == [(Decimal("5.00"), "day")]
    result = byom_cli(home, used_app, "budget", "1.234,50", "--period", "total", "--lang", "nl")
    assert result.returncode == 0
    assert (Decimal("1234.50"), "total") in allowances()
    shown = json.loads(byom_cli(home, used_app, "budget", "--json").stdout)
    assert {(a["period"], a["amount"]) for a in shown} == {("day", "5.00"), ("total", "1234.50")}
    assert byom_cli(home, used_app, "budget", "3", "--period", "session").returncode == 2
    assert byom_cli(home, used_app, "budget", "--clear", "--period", "total").returncode == 0
    assert allowances() == [(Decimal("5.00"), "day")]


def test_r2_3_key_rotate_and_forget(home: Path, used_app: Path, sim: Simulator) -> None:
    key_file = used_app / "keys" / f"{APP_ID}.json"
    assert KEY in key_file.read_text()

    result = byom_cli(home, used_app, "key", "rotate")  # no terminal, no --key-stdin
    assert result.returncode == 2
    assert "--key-stdin" in result.stderr

    # A new key the provider rejects must not cost the user the working one.
    sim.revoke_key("sk-or-v1-revoked-key-0123456789")
    result = byom_cli(
        home, used_app, "key", "rotate", "--key-stdin", stdin="sk-or-v1-revoked-key-0123456789\n"
    )
    assert result.returncode == 1
    assert "Key refused by the server at " + sim.base_url in plain(result.stderr)
    assert KEY in key_file.read_text()
    # Nor does a key of the wrong shape, which is not even sent.
    before = sim.counts()
    result = byom_cli(home, used_app, "key", "rotate", "--key-stdin", stdin="hello my key\n")
    assert result.returncode == 1 and "no spaces" in plain(result.stderr)
    assert sim.counts() == before and KEY in key_file.read_text()

    new = "sk-or-v1-rotated-key-9876543210"
    result = byom_cli(
        home,
        used_app,
        "key",
        "rotate",
        "--key-stdin",
        "--remember",
        "--allow-plain-file",
        stdin=new + "\n",
    )
    assert result.returncode == 0, result.stderr
    content = key_file.read_text()
    assert new in content and KEY not in content
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert new not in result.stdout + result.stderr

    result = byom_cli(home, used_app, "key", "forget")
    assert result.returncode == 0
    assert not key_file.exists()
    status = json.loads(byom_cli(home, used_app, "status", "--json").stdout)
    assert status["connected"] is False and status["key"] == []


def test_r5_5_connect_with_key_on_stdin(
    home: Path, data: Path, sim: Simulator, no_keyring: None
) -> None:
    sim.reset()
    App(APP, FEATURES, data_dir=data).close()  # the app ran once, never connected
    base = ["connect", "--base-url", sim.openrouter_base, "--key-stdin"]
    sim.revoke_key("sk-or-v1-revoked-key-0123456789")
    result = byom_cli(home, data, *base, stdin="sk-or-v1-revoked-key-0123456789\n")
    assert result.returncode == 1 and "Key refused by" in plain(result.stderr)
    # Another provider's key is refused before anything is sent, saying whose it is.
    before = sim.counts()
    result = byom_cli(home, data, *base, stdin="sk-ant-api03-not-for-openrouter\n")
    assert result.returncode == 1 and "Anthropic" in plain(result.stderr)
    assert "sk-or-" in plain(result.stderr) and sim.counts() == before
    result = byom_cli(home, data, *base, stdin=KEY + "\n")
    assert result.returncode == 0, result.stderr
    assert "in memory only" in result.stdout and "--remember" in result.stderr
    assert not (data / "keys").exists()
    result = byom_cli(home, data, *base, "--remember", "--allow-plain-file", stdin=KEY + "\n")
    assert result.returncode == 0
    assert stat.S_IMODE((data / "keys" / f"{APP_ID}.json").stat().st_mode) == 0o600
    assert json.loads(byom_cli(home, data, "status", "--json").stdout)["connected"] is True
    assert KEY not in result.stdout + result.stderr


def test_cli_without_a_terminal_exits_with_guidance_instead_of_waiting(
    home: Path, used_app: Path
) -> None:
    result = byom_cli(home, used_app, "connect")
    assert result.returncode == 2
    assert "interactive terminal" in result.stderr and "--key-stdin" in result.stderr
    result = byom_cli(home, used_app, "history", "--delete")
    assert result.returncode == 2 and "--yes" in result.stderr
    with App.load(APP_ID, data_dir=used_app) as app:
        assert len(app.history()) == 3
    result = byom_cli(home, used_app, "status", app=None)
    assert result.returncode == 2 and "--app" in result.stderr
    result = byom_cli(home, used_app, "status", "--app", "no-such-app")
    assert result.returncode == 1 and "no-such-app" in result.stderr
    result = byom_cli(home, used_app, "status", "--lang", "xx")
    assert result.returncode == 2
    result = byom_cli(home, used_app, "status", "--app", "no-such-app", lang="nl")
    assert "Er heeft geen app met id" in result.stderr
    result = byom_cli(home, used_app, "history", "--delete", "--yes")
    assert result.returncode == 0
    with App.load(APP_ID, data_dir=used_app) as app:
        assert app.history() == [] and app.spent("total") > 0  # pitfall 4: spend still counts


def test_cli_honours_no_color(home: Path, used_app: Path) -> None:
    env = base_env(home, used_app, "en", BYOM_APP=APP_ID)
    outputs = {}
    for name, extra in (("color", {}), ("no_color", {"NO_COLOR": "1"})):
        s = Session(byom_argv("status"), {**env, **extra})
        try:
            assert s.finish() == 0
        finally:
            s.close()
        outputs[name] = s.output()
    assert "Connected to openrouter" in outputs["no_color"]
    assert COLOR.search(outputs["color"])  # the check can fail: colour is there without it
    assert not COLOR.search(outputs["no_color"])


def test_r5_3_byom_connect_runs_the_wizard_in_a_terminal(
    home: Path, data: Path, sim: Simulator, no_keyring: None
) -> None:
    sim.reset()
    App(APP, FEATURES, data_dir=data).close()
    tr = Messages("nl")
    env = base_env(home, data, "nl", BYOM_APP=APP_ID)
    s = Session(byom_argv("connect", "--base-url", sim.openrouter_base), env)
    try:
        walk_wizard(s, tr, allowance=("7,5",), then_run=False)
        assert s.finish() == 0
    finally:
        s.close()
    output = plain(s.output())
    assert header(tr, 9, 9) in output
    assert tr("cli.connect.memory_only", app=APP) in output
    assert not (data / "keys").exists()
    with App.load(APP_ID, data_dir=data) as app:
        assert [(a.amount, a.period) for a in app.allowances()] == [(Decimal("7.5"), "month")]


def test_r3_4_byom_reconcile_fetches_the_real_cost_and_can_clear(
    home: Path, used_app: Path, sim: Simulator
) -> None:
    with App.load(APP_ID, data_dir=used_app) as app:
        sim.push_faults([{"kind": "cut_before_usage"}, {"kind": "cut_before_usage"}])
        for _ in range(2):
            with pytest.raises(Exception):  # noqa: B017  (Interrupted)
                for _item in app.stream(
                    "summarize", [{"role": "user", "content": "x"}], max_tokens=60
                ):
                    pass
        rows = app.unreconciled()
        assert len(rows) == 2
    first, second = rows
    sim.config(generation_delay=0)
    out = byom_cli(home, used_app, "reconcile", "--clear", first.id, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["cleared"] == [first.id]
    assert [r["id"] for r in result["unreconciled"]] == [second.id]
    out = byom_cli(home, used_app, "reconcile", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [r["id"] for r in result["reconciled"]] == [second.id]
    charged = {g["id"]: g["cost"] for g in sim.generations()}
    assert result["reconciled"][0]["cost"] == charged[second.generation_id]
    assert result["unreconciled"] == []
    text = byom_cli(home, used_app, "reconcile", lang="nl")
    assert "Er wacht geen verzoek op zijn kosten." in text.stdout
    bad = byom_cli(home, used_app, "reconcile", "--clear", "nope")
    assert bad.returncode == 1 and "nope" in bad.stderr
