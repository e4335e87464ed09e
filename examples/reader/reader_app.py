"""Reader's model features, in Python. They run in the user's browser under Pyodide.

The free part of Reader (open, read, outline, search, reading time, bookmarks) is plain
JavaScript and needs no key. The five features below are the only ones that use a model; each
asks for a *category*, and the user picks the concrete model when connecting.

Each function only turns what the page passed into chat messages. byom does the rest: the budget
check before sending, the origin-locked request to the user's provider, the real cost, history.
Nothing here logs or stores the text.

"Research this document" is an agent feature: the model searches the open document and reads
sections with two tools (``reader_research``), over several steps, and answers citing the
sections it used. Each run is capped: at most ``RESEARCH_STEPS`` requests and ``RESEARCH_CEILING``
dollars, each step reserved against the ceiling and the user's allowance before it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reader_research import Research

from byom.core.run import RunResult
from byom.core.usage import ToolCall
from byom.web import WebApp
from byom.web.app import AgentRun

app = WebApp("Reader", app_id="byom-reader")

#: Longest document excerpt sent with a request (characters). Longer documents are cut, and the
#: model is told so; the budget estimate is made on what is actually sent.
MAX_DOCUMENT = 24_000
MAX_PASSAGE = 4_000
MAX_QUESTION = 1_000
#: What one research run may take: requests, and dollars (the page states both).
RESEARCH_STEPS = 6
RESEARCH_CEILING = "0.05"

_LANGUAGES = {"nl": "Dutch", "en": "English"}


def _language(inputs: Mapping[str, Any]) -> str:
    return _LANGUAGES.get(str(inputs.get("lang", "en"))[:2], "English")


def _document(inputs: Mapping[str, Any]) -> str:
    text = str(inputs.get("text", ""))
    title = str(inputs.get("title", "")).strip()[:200] or "Untitled"
    if len(text) > MAX_DOCUMENT:
        text = text[:MAX_DOCUMENT] + "\n\n[The document continues; only the first part is shown.]"
    return f"Title: {title}\n\n{text}"


def _on_device(inputs: Mapping[str, Any]) -> bool:
    """Whether the built-in model answers (``inputs["builtin"]``, set by byom). It reads only
    the start of the text (byom bounds it), ~10 tokens a second: what matters goes first."""
    return inputs.get("builtin") is True


def _system(task: str, inputs: Mapping[str, Any], short: str = "") -> dict[str, str]:
    """The instruction; on the built-in model the ``short`` one when there is one: the full
    instruction alone would delay that model's first word by about four seconds."""
    if short and _on_device(inputs):
        language = _language(inputs)
        if language != "English":
            short += f" Answer in {language}."
        return {"role": "system", "content": short}
    return {
        "role": "system",
        "content": (
            f"You help a person read a document they opened in a reading app. {task} "
            f"Answer in {_language(inputs)}. Be concrete and brief; use short paragraphs or a "
            "short list. Only use what the document says unless asked otherwise."
        ),
    }


@app.feature("summarize", "worker", "Summarize the document", max_tokens=450)
def summarize(inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        _system(
            "Summarize the document: its main point first, then the key ideas.",
            inputs,
            short="Summarize this text briefly.",
        ),
        {"role": "user", "content": _document(inputs)},
    ]


@app.feature("explain", "worker", "Explain a selected passage", max_tokens=400)
def explain(inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    passage = str(inputs.get("passage", "")).strip()[:MAX_PASSAGE]
    return [
        _system(
            "Explain the selected passage in plain words: what it says, what any terms mean, "
            "and how it fits the document.",
            inputs,
            short="Explain this passage in plain words.",
        ),
        {
            "role": "user",
            "content": passage
            if _on_device(inputs)
            else _document(inputs) + "\n\nSelected passage:\n" + passage,
        },
    ]


@app.feature("ask", "worker", "Ask the document a question", max_tokens=400)
def ask(inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    question = str(inputs.get("question", "")).strip()[:MAX_QUESTION]
    return [
        _system(
            "Answer the question from the document. If the document does not answer it, say "
            "so plainly.",
            inputs,
            short="Answer the question from this text.",
        ),
        {
            "role": "user",
            "content": f"Question: {question}\n\n{_document(inputs)}"
            if _on_device(inputs)
            else _document(inputs) + "\n\nQuestion: " + question,
        },
    ]


@app.feature("critique", "frontier", "Critique the document", max_tokens=900)
def critique(inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        _system(
            "Give a careful critique: the strongest points, the weakest arguments or gaps, "
            "anything unclear or likely wrong, and what would improve it most.",
            inputs,
        ),
        {"role": "user", "content": _document(inputs)},
    ]


@app.agent(
    "research",
    "worker",
    "Research the document: search it, read sections, answer with sources",
    max_cost=RESEARCH_CEILING,
    max_steps=RESEARCH_STEPS,
    max_tokens=600,
)
def research(inputs: Mapping[str, Any]) -> AgentRun:
    title = str(inputs.get("title", "")).strip()[:200] or "Untitled"
    document = Research(str(inputs.get("text", "")), title, plain=bool(inputs.get("plain")))
    question = str(inputs.get("question", "")).strip()[:MAX_QUESTION]
    system = _system(
        "Research the question in the document with your tools before you answer: "
        "search_document finds the sections that mention some words, read_section reads one "
        "section. Read the sections you rely on; answer only from what you read, and cite "
        "each section you used as [§N] with its number. If the document does not answer the "
        "question, say so.",
        inputs,
    )
    system["content"] += f"\n\nThe document: “{title}”. Its sections:\n" + document.outline()

    def describe(call: ToolCall) -> dict[str, Any] | None:
        return document.describe(call.name, call.arguments)

    def report(result: RunResult) -> dict[str, Any]:
        sources, cited = document.sources(result.text if result.stopped == "done" else "")
        return {"sources": sources, "cited": cited}

    return AgentRun(
        messages=[system, {"role": "user", "content": question}],
        tools=document.tools,
        describe=describe,
        report=report,
    )
