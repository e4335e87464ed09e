"""R8.4 in the browser: runs of an agent feature, in Debian Chromium against ``byom sim``.

Reader's "Research this document" (``examples/reader/reader_research.py``) gives the model two
Python tools over the open document, ``search_document`` and ``read_section``, and runs them in
the page through ``App.arun_stream`` under the feature's ceiling. The simulator plays the model:
with ``tool_steps=N`` it calls the offered tools in turn (``search_document``, then
``read_section`` with ids 1, 3, …) for N steps, then answers.

What is checked, each in the real page:

- the run answers, its steps are listed, and the sections it read are links that scroll to them;
- the cost surface shows one row for the run ("Research · 5 steps · $… so far" while it runs),
  its steps inside, and the total equals the simulator's charges and the history rows;
- the leave guard is up from the first step until the run finishes — also at the moment a step
  has landed and the tools are about to run, when no request is in flight;
- cancelling mid-run leaves the step in flight unreconciled (its estimate counts), and the page
  and the cost surface say so;
- a run stopped by its ceiling says so in plain words and never passes it;
- two tabs running research near the allowance never overshoot it together.

And under CPython: the sections the tools see are the page's own (same headings, same anchors),
the sources come from the answer's ``[§N]`` citations or else from what the model read, and an
agent feature's limits can be lowered by the page, never raised.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from decimal import Decimal
from typing import Any

import pytest

from _web_support import CANARY_KEY, READER, Tab, browser, new_context, sim, web_sim, web_site
from byom.core.errors import InvalidAmount, InvalidRequest
from byom.web.app import AgentRun, RunLimits, WebApp
from conftest import wait_until

_FIXTURES = (browser, sim, web_sim, web_site)  # imported for pytest

CHAT = "/api/v1/chat/completions"
PICO = Decimal("1e-12")  # the ledger's unit: amounts the page sets are whole picodollars
QUESTION = "Where do I set the spend limit, and why does it matter?"

#: Installed after Python is up: every cost-surface event, with what the page showed right after
#: it (the leave guard's answer and the run's row) — the moments between steps included.
RECORD_EVENTS = """() => {
  window.__events = [];
  const shown = BYOM._onEvent;
  const run = (id) => document.querySelector('[data-testid=cost-run][data-run="' + id + '"]');
  BYOM._onEvent = function (ev) {
    shown(ev);
    const group = ev.run_id && run(ev.run_id);
    const part = (testid) => group.querySelector('[data-testid=' + testid + ']');
    window.__events.push({
      type: ev.type, run_id: ev.run_id || null, in_flight: ev.in_flight,
      guard: BYOM.leaveGuard(),
      summary: group ? part('cost-run-summary').textContent : null,
      total: group ? part('cost-run-total').getAttribute('value') : null,
    });
  };
}"""


def events(tab: Tab) -> list[dict[str, Any]]:
    return json.loads(tab.ev("() => JSON.stringify(window.__events)"))


def start_research(
    tab: Tab, slot: str = "r", question: str = QUESTION, max_cost: str | None = None
) -> None:
    """Reader's own research action (what the button does), without waiting for it."""
    tab.ev(
        "([q, s, m]) => { window.__runs = window.__runs || {};"
        " Reader.research(q, m ? {maxCost: m} : {}).then(r => { window.__runs[s] = r; }); }",
        [question, slot, max_cost],
    )


def connected_reader(tab: Tab, *, remember: bool = False) -> None:
    """Open the first sample and connect through the research button, then wait for that first
    run (one tool step and the answer, the simulator's default) to finish."""
    tab.open_sample(0)
    tab.page.fill("[data-testid=research-input]", QUESTION)
    tab.page.click("[data-testid=tool-research]")
    tab.connect(CANARY_KEY, remember=remember)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")


def sim_cost(sim: Any, since: int) -> Decimal:
    return sum((Decimal(str(g["cost"])) for g in sim.generations(since)), Decimal(0))


def group_total(tab: Tab, run_id: str) -> Decimal:
    value = tab.page.get_attribute(
        f'[data-testid=cost-run][data-run="{run_id}"] [data-testid=cost-run-total]', "value"
    )
    return Decimal(value)


def reader_modules() -> tuple[Any, Any]:
    sys.path.insert(0, str(READER))
    try:
        import reader_app
        import reader_research
    finally:
        sys.path.remove(str(READER))
    return reader_app, reader_research


SAMPLES = ["connecting-a-key.md", "lighthouse.md", "rustig-lezen.md"]
TRICKY = "\n".join(
    [
        "Before any heading.",
        "# One **bold** `code` [link](https://example.org)",
        "text",
        "```",
        "# not a heading (code)",
        "```",
        "## Two ##",
        "    # indented: a paragraph line",
        "#no space",
        "### Three",
    ]
)


# ---------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_r8_4_sections_are_the_pages_own_headings(browser, web_site):
    """The research tools split the document where the page's renderer makes headings, and a
    section's anchor is that heading's id: a cited section links to the right place."""
    _, research = reader_modules()
    context = new_context(browser)
    tab = Tab(context, web_site).open()
    headings = "[...document.querySelectorAll('#doc [id^=h-]')].map(e => [e.id, e.textContent])"
    documents = [(name, (READER / "static" / "samples" / name).read_text()) for name in SAMPLES]
    for name, text in [*documents, ("tricky.md", TRICKY)]:
        tab.open_text(name, text)
        shown = [tuple(pair) for pair in tab.ev(headings)]
        sections = research.split_sections(text, name)
        assert [(s.anchor, s.title) for s in sections if s.anchor] == shown, name
        assert [s.id for s in sections] == list(range(1, len(sections) + 1))
    assert [s.title for s in research.split_sections(TRICKY, "T")] == [
        "T",
        "One bold code link",
        "Two",
        "Three",
    ]
    assert len(research.split_sections(TRICKY, "T", plain=True)) == 1, "a .txt has no headings"
    context.close()


def test_r8_4_research_tools_and_sources() -> None:
    _, research = reader_modules()
    text = (READER / "static" / "samples" / SAMPLES[0]).read_text()
    doc = research.Research(text, "Guide")
    found = doc.search_document("credit limit")["matches"]
    assert found[0]["title"] == "Set a limit at the provider" and found[0]["id"] == 4
    assert "limit" in found[0]["snippet"]
    assert doc.search_document("zebra")["matches"] == []
    assert doc.read_section(3)["title"] == "Getting one"
    assert "error" in doc.read_section(99) and "error" in doc.read_section(0)
    tools = {t.name: t for t in doc.tools}
    assert tools["read_section"].parameters["properties"]["id"]["maximum"] == len(doc.sections)
    # No citation in the answer: the sections it read. Citations: those, in order, valid only.
    assert doc.sources("no markers") == ([doc.source(doc.sections[2])], False)
    cited, flag = doc.sources("See [§4], then [§ 2] and [§4]; [§77] is no section.")
    assert flag and [s["id"] for s in cited] == [4, 2]
    assert cited[0] == {"id": 4, "title": "Set a limit at the provider", "anchor": "h-3"}
    assert doc.describe("search_document", {"query": "x" * 200}) == {
        "kind": "search",
        "query": "x" * 80,
    }
    assert doc.describe("read_section", {"id": 3})["title"] == "Getting one"


def test_r8_4_research_feature_is_declared_with_its_ceiling() -> None:
    reader_app, _ = reader_modules()
    declared = reader_app.app.get("research")
    assert declared.feature.category == "worker"
    assert declared.run == RunLimits(6, Decimal("0.05"))
    run, _ = reader_app.app.start_run(
        "research", {"text": "# A\nalpha\n# B\nbeta", "title": "T", "question": "q?", "lang": "nl"}
    )
    assert "Dutch" in run.messages[0]["content"] and "1. A" in run.messages[0]["content"]
    assert run.messages[1] == {"role": "user", "content": "q?"}
    assert [t.name for t in run.tools] == ["search_document", "read_section"]
    with pytest.raises(InvalidRequest):
        reader_app.app.messages("research", {})


def test_r8_4_agent_limits_are_lowered_never_raised() -> None:
    limits = RunLimits(6, Decimal("0.05"))
    assert limits.lowered("0.01", 2) == RunLimits(2, Decimal("0.01"))
    assert limits.lowered("5", 60) == limits
    assert limits.lowered(None, None) == limits
    for bad in (0.01, True):
        with pytest.raises(InvalidRequest):
            limits.lowered(bad)
    with pytest.raises(InvalidAmount):
        limits.lowered("lots")
    with pytest.raises(InvalidRequest):
        limits.lowered(None, 0)
    app = WebApp("Limits")
    with pytest.raises(InvalidRequest):
        app.agent("a", max_cost=0.05)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        app.agent("a", max_cost="0")
    with pytest.raises(InvalidRequest):
        app.agent("a", max_cost="1", max_steps=0)

    @app.agent("a", max_cost="1")
    def build(inputs: Any) -> Any:
        return [{"role": "user", "content": "not an AgentRun"}]

    with pytest.raises(InvalidRequest):
        app.start_run("a", {})


def test_r8_4_sync_tools_run_on_the_pages_loop() -> None:
    """Pyodide has no threads: the shell makes a sync tool a coroutine function, so the asyncio
    loop awaits it instead of sending it to a worker thread."""
    from byom.core.tools import from_function
    from byom.web.browser.shell import _in_page

    def lookup(word: str) -> str:
        """Look a word up."""
        return word.upper()

    tool = _in_page(from_function(lookup))
    assert inspect.iscoroutinefunction(tool.function)
    assert tool.parameters == from_function(lookup).parameters
    step = tool.function(word="tide")  # runs to its end at once: it awaits nothing
    with pytest.raises(StopIteration) as done:
        step.send(None)
    assert done.value.value == "TIDE"
    assert AgentRun([{"role": "user", "content": "x"}]).tools == ()


@pytest.mark.browser
def test_r8_4_research_run_answers_with_its_sources_as_links(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    tab.open_sample(0)
    sim.config(tool_steps=4)  # search, read §1, search, read §3, then the answer
    tab.page.fill("[data-testid=research-input]", QUESTION)
    tab.page.click("[data-testid=tool-research]")
    tab.connect(CANARY_KEY)
    tab.poll("document.querySelector('[data-testid=result-foot]').textContent")
    foot = tab.page.inner_text("[data-testid=result-foot]")
    assert "5 steps" in foot and "Cost $" in foot
    assert not tab.page.locator("[data-testid=result-stopped]").count(), "it answered"
    steps = tab.page.locator("[data-testid=result-step]").all_inner_texts()
    assert len(steps) == 5
    assert steps[0].startswith("Searched for “") and steps[-1].startswith("Wrote the answer")
    assert "Read “Getting one”" in steps[3]
    assert "Simulated reply" in tab.page.inner_text("[data-testid=result-body]")
    # The sources: the sections it read, titled as the page shows them, linked to them.
    sources = tab.page.locator("[data-testid=result-sources] [data-testid=source-link]")
    assert sources.all_inner_texts() == ["A plain guide to connecting a key", "Getting one"]
    assert tab.page.locator("[data-testid=result-sources] h3").text_content() == "Sections it read"
    assert sources.nth(1).get_attribute("data-anchor") == "h-2"
    heading = "document.getElementById('h-2').getBoundingClientRect().top"
    assert tab.ev(heading) > 400, "the section starts below the fold"
    sources.nth(1).click()
    tab.poll(f"{heading} >= 0 && {heading} < 160")
    assert tab.ev("document.getElementById('h-2').textContent") == "Getting one"
    # The page stated the feature's ceiling and step limit (from the Python declaration).
    limits = tab.page.inner_text("[data-testid=research-limits]")
    assert "Up to 6 steps" in limits and "$0.05" in limits
    assert tab.csp_violations() == [] and not tab.errors
    assert not any(CANARY_KEY in m for m in tab.console)
    context.close()


@pytest.mark.browser
def test_r8_4_cost_surface_groups_the_run_with_its_running_total_matching_history(
    browser, web_site, sim
):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    connected_reader(tab)
    tab.ev(RECORD_EVENTS)
    sim.config(tool_steps=3)
    mark = sim.mark()
    start_research(tab)
    result = tab.result()
    assert result["ok"] and result["stopped"] == "done" and result["steps"] == 4
    run_id = result["run"]["run_id"]
    group = tab.page.locator(f'[data-testid=cost-run][data-run="{run_id}"]')
    assert group.get_attribute("data-state") == "done"
    summary = group.locator("[data-testid=cost-run-summary]").inner_text()
    total = group_total(tab, run_id)
    shown = group.locator("[data-testid=cost-run-total]").inner_text()
    assert summary == f"Research · 4 steps · {shown}", summary
    assert re.fullmatch(r"\$0\.0\d+", shown) and Decimal(shown[1:]) > 0
    rows = group.locator("[data-testid=cost-row]")
    assert rows.count() == 4, "every step under the run's row"
    assert rows.all_inner_texts()[0].startswith("Step 1")
    assert all(rows.nth(i).get_attribute("data-state") == "landed" for i in range(4))
    values = [Decimal(v.get_attribute("value")) for v in rows.locator("data").all()]
    assert sum(values) == total == Decimal(result["cost"]["exact"])
    assert total == sim_cost(sim, mark), "what the provider charged for the run"
    # While it ran, the row said how many steps and how much so far — after every step.
    landed = [e for e in events(tab) if e["type"] == "steplanded" and e["run_id"] == run_id]
    assert len(landed) == 4
    running = Decimal(0)
    for n, (event, value) in enumerate(zip(landed[:-1], values, strict=False), start=1):
        running += value
        steps = "1 step" if n == 1 else f"{n} steps"
        assert re.fullmatch(rf"Research · {steps} · \$0\.0\d+ so far", event["summary"]), event
        assert Decimal(event["total"]) == running
    # History has the same steps, each a row with the run's id, summing to the same total.
    tab.page.click("[data-testid=open-panel]")
    tab.poll("document.querySelectorAll('[data-testid=history-row]').length >= 6")
    history = tab.page.locator(f'[data-testid=history-row][data-run="{run_id}"]')
    assert history.count() == 4
    assert sum(Decimal(v.get_attribute("value")) for v in history.locator("data").all()) == total
    assert tab.csp_violations() == [] and not tab.errors
    context.close()


@pytest.mark.browser
def test_r8_4_leave_guard_is_up_for_the_whole_run(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    connected_reader(tab)
    assert tab.ev("BYOM.leaveGuard()") is False
    tab.ev(RECORD_EVENTS)
    sim.config(tool_steps=2, stream_hold_after=0)  # every step waits at the simulator
    sent = sim.counts().get(CHAT, 0)
    start_research(tab)
    for step in (1, 2, 3):  # hold each step in flight, look, then let it go
        wait_until(lambda s=step: sim.counts().get(CHAT, 0) == sent + s, f"step {step} sent")
        tab.poll("document.querySelector('[data-testid=cost-run] [data-state=pending]')")
        assert tab.ev("BYOM.leaveGuard()") is True, f"step {step} in flight"
        sim.release()
    result = tab.result()
    assert result["ok"] and result["steps"] == 3
    assert tab.ev("BYOM.leaveGuard()") is False, "the run is over"
    run_id = result["run"]["run_id"]
    seen = [e for e in events(tab) if e["run_id"] == run_id]
    assert seen[0]["type"] == "runstarted" and seen[-1]["type"] == "runfinished"
    # Up through the run-finished event too: since issue 13 the guard holds until the page has
    # the result, i.e. until the run's last figures are written (checked above: then it is down).
    assert all(e["guard"] for e in seen), [(e["type"], e["guard"]) for e in seen]
    between = [e for e in seen if e["type"] == "steplanded"]
    # A step has landed, nothing is in flight, the tools run next: still paid work in progress.
    assert len(between) == 3 and all(e["in_flight"] == 0 and e["guard"] for e in between)
    assert tab.csp_violations() == [] and not tab.errors
    context.close()


@pytest.mark.browser
def test_r8_4_cancel_mid_run_leaves_the_step_unreconciled_and_says_so(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    connected_reader(tab)
    sim.config(tool_steps=2, stream_hold_after=0)
    sent = sim.counts().get(CHAT, 0)
    tab.page.fill("[data-testid=research-input]", QUESTION)
    tab.page.click("[data-testid=tool-research]")
    wait_until(lambda: sim.counts().get(CHAT, 0) == sent + 1, "step 1 sent")
    sim.release()  # step 1 lands; step 2 is held
    wait_until(lambda: sim.counts().get(CHAT, 0) == sent + 2, "step 2 sent")
    tab.poll("document.querySelectorAll('[data-testid=result-step]').length === 1")
    tab.poll("document.querySelector('[data-testid=cost-run] [data-state=pending]')")
    tab.page.click("[data-testid=result-stop]")
    tab.poll("document.querySelector('[data-testid=result-foot]').dataset.stopped === 'cancelled'")
    foot = tab.page.inner_text("[data-testid=result-foot]")
    assert "Stopped by you after 1 step." in foot
    assert "its estimate counts against your allowance" in foot
    group = tab.page.locator("[data-testid=cost-run]").first
    assert group.get_attribute("data-stopped") == "cancelled"
    assert "1 step" in group.locator("[data-testid=cost-run-summary]").inner_text()
    note = group.locator("[data-testid=cost-run-note]").inner_text()
    assert "stopped by you" in note and "cost of 1 step unknown" in note
    rows = group.locator("[data-testid=cost-row]")
    assert [rows.nth(i).get_attribute("data-state") for i in range(rows.count())] == [
        "landed",
        "failed",
    ]
    assert "estimate counted" in rows.nth(1).inner_text()
    status = tab.shell_status()
    assert len(status["unreconciled"]) == 1 and status["unreconciled"][0]["feature"] == "research"
    assert tab.ev("BYOM.leaveGuard()") is False
    # The provider saw the client hang up on step 2 (recorded as cancelled there too).
    wait_until(lambda: any(g["cancelled"] for g in sim.generations()), "the cut recorded")
    sim.config(stream_hold_after=None)
    assert sim.counts().get(CHAT, 0) == sent + 2, "nothing sent after the cancel"
    assert tab.csp_violations() == [] and not tab.errors
    context.close()


@pytest.mark.browser
def test_r8_4_run_stopped_by_its_ceiling_says_so(browser, web_site, sim):
    context = new_context(browser)
    tab = Tab(context, web_site).open().ready()
    connected_reader(tab)
    sim.config(tool_steps=4)
    # A ceiling below one step: nothing is sent, and the refusal says what the step needs.
    sent = sim.counts().get(CHAT, 0)
    start_research(tab, "probe", max_cost="0.000000001")
    probe = tab.result("probe")
    assert probe["stopped"] == "max_cost" and probe["steps"] == 0
    assert sim.counts().get(CHAT, 0) == sent
    first_step = Decimal(probe["error"]["figures"]["estimate"]["exact"])
    # Room for the first step only: the second could pass the ceiling, so it is not sent.
    ceiling = (first_step * Decimal("1.01")).quantize(PICO)
    mark = sim.mark()
    start_research(tab, "capped", max_cost=format(ceiling, "f"))
    capped = tab.result("capped")
    assert capped["ok"] and capped["stopped"] == "max_cost" and capped["steps"] == 1
    assert sim.counts().get(CHAT, 0) == sent + 1
    assert Decimal(capped["counted"]["exact"]) <= ceiling
    assert sim_cost(sim, mark) <= ceiling
    stopped = tab.page.inner_text("[data-testid=result-stopped]")
    assert stopped.startswith("Stopped: the next step could have taken this run past its ceiling")
    assert "so it was not sent" in stopped
    group = tab.page.locator(f'[data-testid=cost-run][data-run="{capped["run"]["run_id"]}"]')
    assert group.get_attribute("data-stopped") == "max_cost"
    assert "stopped at its ceiling" in group.locator("[data-testid=cost-run-note]").inner_text()
    refused = group.locator("[data-testid=cost-row][data-state=refused]")
    assert "over the run's ceiling" in refused.inner_text()
    assert tab.csp_violations() == [] and not tab.errors
    context.close()


@pytest.mark.browser
def test_r8_4_two_tabs_researching_near_the_allowance_never_overshoot_it(browser, web_site, sim):
    context = new_context(browser)
    first = Tab(context, web_site).open().ready()
    connected_reader(first, remember=True)  # so the second tab is connected too
    second = Tab(context, web_site).open().ready()
    second.open_sample(0)
    assert second.shell_status()["connected"] is True
    sim.config(tool_steps=2)
    # What a first step needs, read from a refusal at an allowance of $0.
    first.ev("() => BYOM._setAllowance('0', 'total')")
    start_research(first, "probe")
    probe = first.result("probe")
    assert probe["stopped"] == "allowance" and probe["steps"] == 0
    figures = probe["error"]["figures"]
    spent = Decimal(figures["spent"]["exact"])
    step = Decimal(figures["estimate"]["exact"])
    # Room for one first step, not two; later steps fit only while what landed leaves room.
    allowance = (spent + step * Decimal("1.5")).quantize(PICO)
    mark = sim.mark()
    sent = sim.counts().get(CHAT, 0)
    sim.config(stream_hold_after=0)  # the admitted first step stays in flight until released
    first.ev("(a) => BYOM._setAllowance(a, 'total')", format(allowance, "f"))
    start_research(first, "a")
    start_research(second, "b")
    wait_until(
        lambda: any(
            tab.ev("(s) => !!(window.__runs && window.__runs[s])", s)
            for tab, s in ((first, "a"), (second, "b"))
        ),
        "one run to be stopped while the other's first step is held",
    )
    wait_until(lambda: sim.counts().get(CHAT, 0) == sent + 1, "the admitted step at the sim")
    sim.config(stream_hold_after=None)
    sim.release()
    a, b = first.result("a"), second.result("b")
    refused, admitted = sorted([a, b], key=lambda r: r["steps"])
    assert refused["stopped"] == "allowance" and refused["steps"] == 0
    assert refused["error"]["code"] == "budget_exceeded"
    assert admitted["steps"] >= 1 and admitted["stopped"] in ("done", "allowance")
    charged = sim_cost(sim, mark)
    assert spent + charged <= allowance, "together they stayed within the allowance"
    counted = Decimal(first.shell_status()["allowances"][0]["spent"]["exact"])
    assert counted <= allowance and counted == spent + charged
    assert sim.counts().get(CHAT, 0) == sent + admitted["steps"]
    stopped_tab = first if refused is a else second
    assert "past your allowance" in stopped_tab.page.inner_text("[data-testid=result-stopped]")
    assert first.csp_violations() == [] and second.csp_violations() == []
    context.close()
