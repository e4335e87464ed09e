"""Just enough Markdown reading for ``BYOM-INTEGRATION.md``: sections, tables, lists, boxes.

Not a general Markdown parser. It understands ``##`` headings (outside fenced code), pipe
tables, top-level list items and ``- [ ]`` task boxes, and keeps the line number of everything
so a problem can be pointed at precisely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

_FENCE: Final = re.compile(r"^ {0,3}(```|~~~)")
_HEADING: Final = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM: Final = re.compile(r"^ {0,1}(?:[-*+]|\d+[.)])\s+(.*)$")
_BOX: Final = re.compile(r"^\[( |x|X)\]\s*(.*)$")
_COMMENT: Final = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(slots=True)
class Line:
    number: int  # 1-based
    text: str


@dataclass(slots=True)
class Section:
    """A ``##`` section: its heading and the lines up to the next ``##`` (or ``#``) heading."""

    heading: str
    line: int
    body: list[Line] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(line.text for line in self.body)


def split_sections(text: str) -> list[Section]:
    """The document's level-2 sections, in order. Headings inside fenced code do not count."""
    sections: list[Section] = []
    current: Section | None = None
    in_fence = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if _FENCE.match(raw):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(raw)
        if heading and len(heading.group(1)) <= 2:
            current = (
                Section(heading.group(2).strip(), number) if len(heading.group(1)) == 2 else None
            )
            if current is not None:
                sections.append(current)
            continue
        if current is not None:
            current.body.append(Line(number, raw))
    return sections


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces: ``"One-line, app"`` → ``"one line app"``."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def slug(text: str) -> str:
    """A label as a comparable key: ``"**Free and open:**"`` → ``"free-and-open"``."""
    return "-".join(normalise(text).split())


def strip_comments(text: str) -> str:
    return _COMMENT.sub("", text)


@dataclass(slots=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number, cells)
    line: int

    def column(self, *words: str) -> int | None:
        """Index of the first column whose header contains any of ``words``."""
        for i, cell in enumerate(self.header):
            if any(w in normalise(cell) for w in words):
                return i
        return None


def _cells(row: str) -> list[str]:
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row)]


def tables(lines: list[Line]) -> list[Table]:
    """Pipe tables in ``lines``: a header row, a ``---`` separator row, then data rows."""
    found: list[Table] = []
    i = 0
    while i < len(lines):
        text = lines[i].text.strip()
        if (
            text.startswith("|")
            and i + 1 < len(lines)
            and re.fullmatch(
                r"\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?", lines[i + 1].text.strip()
            )
        ):
            table = Table(_cells(text), [], lines[i].number)
            i += 2
            while i < len(lines) and lines[i].text.strip().startswith("|"):
                table.rows.append((lines[i].number, _cells(lines[i].text)))
                i += 1
            found.append(table)
            continue
        i += 1
    return found


@dataclass(slots=True)
class Item:
    """A top-level list item; ``checked`` is ``None`` when it is not a task box."""

    line: int
    text: str
    checked: bool | None = None


def list_items(lines: list[Line]) -> tuple[list[Item], list[Line]]:
    """Top-level list items (with their continuation lines) and the lines outside any item.

    An item runs until the next item, or until an unindented line that follows a blank line.
    """
    items: list[Item] = []
    loose: list[Line] = []
    current: Item | None = None
    blank_before = False
    in_fence = False
    for line in lines:
        raw = line.text
        if _FENCE.match(raw):
            in_fence = not in_fence
        if not raw.strip():
            blank_before = True
            continue
        match = None if in_fence else _ITEM.match(raw)
        if match:
            body = match.group(1)
            box = _BOX.match(body)
            if box:
                current = Item(line.number, box.group(2), box.group(1) != " ")
            else:
                current = Item(line.number, body)
            items.append(current)
        elif current is not None and (raw.startswith((" ", "\t")) or not blank_before):
            current.text += " " + raw.strip()
        else:
            current = None
            loose.append(line)
        blank_before = False
    return items, loose


_BOLD_LABEL: Final = re.compile(r"^\s*(\*\*|__)(.+?)\1")
_CODE_LABEL: Final = re.compile(r"^\s*`([^`]+)`")
_PLAIN_LABEL: Final = re.compile(r"^\s*(.+?)(?::\s|\s[—–-]\s)")


def label_and_rest(text: str) -> tuple[str, str]:
    """Split an item into its label and the rest.

    The label is a leading ``**bold**`` or ```code``` span, or else the text before the first
    ``": "`` or dash; an item with neither is all label.
    """
    for pattern in (_BOLD_LABEL, _CODE_LABEL):
        match = pattern.match(text)
        if match:
            return match.group(match.lastindex or 1).strip(), text[match.end() :].strip()
    match = _PLAIN_LABEL.match(text)
    if match:
        return match.group(1).strip(), text[match.end() :].strip()
    return text.strip(), ""
