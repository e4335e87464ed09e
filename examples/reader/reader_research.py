"""The open document as numbered sections, and the two tools "Research this document" gives the
model: ``search_document`` and ``read_section``. Plain Python, run in the user's browser.

A section starts at each Markdown heading, exactly where the page's renderer (``reader.js``)
makes one: a line ``#`` … ``######`` outside a fenced code block (none in a ``.txt`` file). Text
before the first heading is a section of its own, titled with the document's title. Section ids
count from 1 in reading order; ``anchor`` is the id of the heading element on the page
(``h-0`` is the first heading), so the page can link a cited section to where it is.

Nothing here logs, stores or sends anything: the tools read the text the page passed in, and
what they return goes only to the provider, as the tool's result, and to the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from byom.core.tools import Tool

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^```")
_WORD = re.compile(r"\w+", re.UNICODE)
_CITATION = re.compile(r"\[§\s*(\d{1,4})\]")
#: Longest section text one ``read_section`` returns (characters); longer ones are cut.
MAX_SECTION = 6_000
#: Most sections one search returns.
MAX_MATCHES = 5
#: Characters of context a search snippet shows around its first match.
SNIPPET = 180
#: Most sections listed in the outline the model is given up front.
MAX_OUTLINE = 200


@dataclass(frozen=True, slots=True)
class Section:
    id: int
    title: str = field(repr=False)
    anchor: str | None
    level: int
    text: str = field(repr=False)


def _plain(text: str) -> str:
    """A heading's text as the page shows it: inline Markdown marks taken out."""
    text = re.sub(r"\[([^\]]+)\]\((?:https?://[^)\s]+)\)", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    text = re.sub(r"\*([^*\s][^*]*)\*|_([^_\s][^_]*)_", lambda m: m.group(1) or m.group(2), text)
    return text.strip()


def split_sections(text: str, title: str, *, plain: bool = False) -> list[Section]:
    """The document's sections, in reading order (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    sections: list[Section] = []
    heading: tuple[str, str | None, int] = (title, None, 0)
    body: list[str] = []
    headings = 0
    in_code = False

    def close() -> None:
        name, anchor, level = heading
        content = "\n".join(body).strip()
        if content or anchor is not None:
            sections.append(Section(len(sections) + 1, name, anchor, level, content))

    for line in lines:
        if not plain and _FENCE.match(line):
            in_code = not in_code
            body.append(line)
            continue
        match = None if plain or in_code else _HEADING.match(line)
        if match:
            close()
            heading = (_plain(match.group(2)), f"h-{headings}", len(match.group(1)))
            headings += 1
            body = []
            continue
        body.append(line)
    close()
    return sections


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if len(w) > 1]


def _snippet(text: str, at: int) -> str:
    """About ``SNIPPET`` characters around ``at``, cut at spaces."""
    start = max(0, at - SNIPPET // 3)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if 0 <= space and start - space < 40 else start
    end = min(len(text), start + SNIPPET)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    piece = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")


class Research:
    """One research run over one document: the sections, the tools, and what was read.

    The tools are bound to this document; the model sees their schemas (``tools``) and the
    outline (``outline``). ``read`` keeps the ids of the sections the model read, in order, so
    the answer's sources can be shown even when the model forgot to cite them."""

    def __init__(self, text: str, title: str, *, plain: bool = False) -> None:
        self.title = title
        self.sections = split_sections(text, title, plain=plain)
        self.read: list[int] = []

    # -- the tools ----------------------------------------------------------------------------

    def search_document(self, query: str) -> dict[str, Any]:
        """Sections that mention the query's words, best first: id, title and a snippet."""
        wanted = list(dict.fromkeys(_words(str(query))))
        scored: list[tuple[int, int, Section, int]] = []
        for section in self.sections:
            haystack = section.text.casefold()
            title = section.title.casefold()
            score, first = 0, -1
            for word in wanted:
                count = len(re.findall(r"\b" + re.escape(word), haystack))
                score += count + 3 * len(re.findall(r"\b" + re.escape(word), title))
                if count and (first < 0 or haystack.find(word) < first):
                    first = haystack.find(word)
            if score:
                scored.append((-score, section.id, section, max(first, 0)))
        scored.sort(key=lambda item: (item[0], item[1]))
        matches = [
            {"id": s.id, "title": s.title, "snippet": _snippet(s.text, at)}
            for _, _, s, at in scored[:MAX_MATCHES]
        ]
        out: dict[str, Any] = {"matches": matches}
        if not matches:
            out["note"] = "No section mentions these words. Pick a section from the outline."
        return out

    def read_section(self, id: int) -> dict[str, Any]:
        """The text of one section."""
        section = self.section(id)
        if section is None:
            return {
                "error": f"There is no section {id}; they are numbered 1 to {len(self.sections)}."
            }
        if section.id not in self.read:
            self.read.append(section.id)
        text = section.text
        if len(text) > MAX_SECTION:
            text = text[:MAX_SECTION] + " [The section continues; only its first part is shown.]"
        return {"id": section.id, "title": section.title, "text": text}

    @property
    def tools(self) -> list[Tool]:
        count = max(1, len(self.sections))
        return [
            Tool(
                "search_document",
                "Search the open document for words. Returns the sections that mention them, "
                "best first, each with its id, title and a short snippet.",
                {
                    "type": "object",
                    "properties": {"query": {"type": "string", "description": "words to look for"}},
                    "required": ["query"],
                },
                self.search_document,
            ),
            Tool(
                "read_section",
                "Read one section of the open document, by its id from the outline or a search.",
                {
                    "type": "object",
                    "properties": {
                        "id": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": count,
                            "description": "the section's id",
                        }
                    },
                    "required": ["id"],
                },
                self.read_section,
            ),
        ]

    # -- for the model and the page -----------------------------------------------------------

    def section(self, id: Any) -> Section | None:
        if isinstance(id, bool) or not isinstance(id, int):
            return None
        return self.sections[id - 1] if 1 <= id <= len(self.sections) else None

    def outline(self) -> str:
        lines = [
            f"{'  ' * max(0, s.level - 1)}{s.id}. {s.title[:120]}"
            for s in self.sections[:MAX_OUTLINE]
        ]
        if len(self.sections) > MAX_OUTLINE:
            lines.append(f"… and {len(self.sections) - MAX_OUTLINE} more sections.")
        return "\n".join(lines) or "(The document is empty.)"

    def describe(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
        """What one tool call did, for the page's list of steps."""
        if name == "search_document":
            return {"kind": "search", "query": str(arguments.get("query", ""))[:80]}
        if name == "read_section":
            section = self.section(arguments.get("id"))
            if section is None:
                return {"kind": "read", "id": None}
            return self.source(section) | {"kind": "read"}
        return None

    def source(self, section: Section) -> dict[str, Any]:
        return {"id": section.id, "title": section.title, "anchor": section.anchor}

    def sources(self, answer: str) -> tuple[list[dict[str, Any]], bool]:
        """The sections the answer cites (``[§3]``), in order of first citation — or, when it
        cites none it may, the sections the model read. The flag says which."""
        cited: list[int] = []
        for match in _CITATION.finditer(answer):
            number = int(match.group(1))
            if self.section(number) is not None and number not in cited:
                cited.append(number)
        ids = cited or self.read
        shown = [self.source(s) for s in (self.section(i) for i in ids) if s is not None]
        return shown, bool(cited)
