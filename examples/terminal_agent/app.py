"""Ask your notes: a small terminal agent over a folder of Markdown notes, on the user's own key.

    python examples/terminal_agent/app.py "How much chain do I let out?"   # ask the notes
    python examples/terminal_agent/app.py                                  # question by question
    python examples/terminal_agent/app.py --list                           # the notes (free)
    python examples/terminal_agent/app.py --search "amber shellac"         # search (free)
    python examples/terminal_agent/app.py --panel                          # model, allowance, key

Options: ``--notes DIR`` (default: the sample notes beside this file), ``--max-cost USD`` (the
ceiling of one question, default 0.05), ``--base-url URL`` (e.g. a ``byom sim``'s ``…/api/v1``),
``--lang en|nl``, ``--data-dir DIR``.

The model gets two tools, ``search_notes(query, limit)`` and ``read_note(name)``, and runs them
through ``App.run`` with ``max_steps=6`` and ``max_cost``: before each step byom reserves that
step's worst case and sends it only if the question's steps so far plus it stay within the
ceiling. Listing and searching need no key, no network and not even byom; the connection
wizard appears the first time a question is asked.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

APP_NAME = "Ask your notes"
FEATURE = "ask"
MAX_STEPS = 6
MAX_TOKENS = 600
DEFAULT_MAX_COST = "0.05"
NOTES = Path(__file__).resolve().parent / "notes"
#: Most notes indexed, and most characters read of one (a notes folder is the user's, not ours).
MAX_NOTES = 2000
MAX_NOTE_CHARS = 200_000
#: Most characters of a note sent to the model in one read.
READ_CHARS = 12_000
SNIPPET_CHARS = 160

TEXTS = {
    "en": {
        "feature": "answers questions from your notes",
        "list": "{count} notes in {folder}",
        "no_notes": "No Markdown notes in {folder}.",
        "no_match": "No note mentions that.",
        "read": "Notes read: {names}",
        "none_read": "No note was read.",
        "prompt": "Ask your notes (Enter to quit): ",
        "bad_amount": "--max-cost takes an amount in dollars, such as 0.05.",
        "no_tty": "Give a question (or --list, --search WORDS) when not in a terminal.",
        "language": "English",
    },
    "nl": {
        "feature": "beantwoordt vragen uit je notities",
        "list": "{count} notities in {folder}",
        "no_notes": "Geen Markdown-notities in {folder}.",
        "no_match": "Geen notitie noemt dat.",
        "read": "Gelezen notities: {names}",
        "none_read": "Er is geen notitie gelezen.",
        "prompt": "Vraag het je notities (Enter om te stoppen): ",
        "bad_amount": "--max-cost verwacht een bedrag in dollars, zoals 0.05.",
        "no_tty": "Geef een vraag (of --list, --search WOORDEN) buiten een terminal.",
        "language": "Dutch",
    },
}

SYSTEM = (
    "You answer questions about the user's own notes, a folder of Markdown files. Use "
    "search_notes to find the notes that matter and read_note to read them before you answer. "
    "Answer briefly, only from what the notes say, and name the notes you used; if the notes do "
    "not say, say so. Answer in {language}."
)


# -- the notes: plain Python, no key, no network, no byom ---------------------------------------


class Notes:
    """The Markdown notes of one folder. The model reaches them only through :meth:`search` and
    :meth:`read`, by the names this index gave them: a name it makes up is looked up, never
    joined to a path, so no file outside the folder can be read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.texts: dict[str, str] = {}
        for path in sorted(folder.rglob("*.md")):
            relative = path.relative_to(folder)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            if len(self.texts) >= MAX_NOTES:
                break
            with path.open(encoding="utf-8", errors="replace") as file:
                self.texts[relative.as_posix()] = file.read(MAX_NOTE_CHARS)
        #: The notes the model read, in order (what the answer is based on).
        self.read_names: list[str] = []

    def title(self, name: str) -> str:
        for line in self.texts[name].splitlines():
            match = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                return match.group(1)
        return Path(name).stem

    def search(self, query: str, limit: int = 5) -> list[dict[str, str]]:
        """Notes that contain the query's words, the most mentions first (a title or file name
        counts three times)."""
        words = {w for w in re.findall(r"[^\W_]+", query.lower()) if len(w) > 1}
        scored: list[tuple[int, str]] = []
        for name, text in self.texts.items():
            body = text.lower()
            heading = f"{name} {self.title(name)}".lower()
            score = sum(body.count(w) + 3 * heading.count(w) for w in words)
            if score:
                scored.append((score, name))
        scored.sort(key=lambda item: (-item[0], item[1]))
        limit = max(1, min(int(limit), 10))
        return [
            {"name": name, "title": self.title(name), "snippet": self.snippet(name, words)}
            for _, name in scored[:limit]
        ]

    def snippet(self, name: str, words: set[str]) -> str:
        text = " ".join(self.texts[name].split())
        lower = text.lower()
        hits = [lower.find(w) for w in words if w in lower]
        start = max(0, min(hits) - SNIPPET_CHARS // 3) if hits else 0
        piece = text[start : start + SNIPPET_CHARS]
        return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(text) else "")

    def find(self, name: str) -> str | None:
        """The note a model means by ``name``: its file name (``.md`` optional, any case), its
        title, or the one note whose file name contains all of its words."""
        key = name.strip().lower().removesuffix(".md")
        for note in self.texts:
            if note.lower().removesuffix(".md") in (key, key.replace(" ", "-")):
                return note
        for note in self.texts:
            if self.title(note).lower() == key:
                return note
        words = re.findall(r"[^\W_]+", key)
        matches = [
            note
            for note in self.texts
            if words and all(w in re.findall(r"[^\W_]+", note.lower()) for w in words)
        ]
        return matches[0] if len(matches) == 1 else None

    def read(self, name: str) -> str:
        found = self.find(name)
        if found is None:
            names = ", ".join(list(self.texts)[:50])
            return f"There is no note by that name. The notes are: {names}."
        if found not in self.read_names:
            self.read_names.append(found)
        text = self.texts[found]
        if len(text) > READ_CHARS:
            text = text[:READ_CHARS] + "\n[The note goes on; only its first part is shown.]"
        return f"# {found}\n\n{text}"


def tools_for(notes: Notes) -> list[Callable[..., Any]]:
    """The two tools the model may call. byom builds their schemas from these signatures and
    docstrings; their arguments and results go to the provider only, never to the screen."""

    def search_notes(query: str, limit: int = 5) -> list[dict[str, str]]:
        """Search the user's notes for words; the best matches come first.

        Args:
            query: the words to look for, in any order
            limit: how many notes to return at most (1 to 10)
        """
        return notes.search(query, limit)

    def read_note(name: str) -> str:
        """Read one of the user's notes in full.

        Args:
            name: the note's name, as search_notes gave it
        """
        return notes.read(name)

    return [search_notes, read_note]


def messages_for(question: str, lang: str) -> list[dict[str, str]]:
    language_name = TEXTS[lang]["language"]
    return [
        {"role": "system", "content": SYSTEM.format(language=language_name)},
        {"role": "user", "content": question},
    ]


def language(override: str | None) -> str:
    if override:
        return "nl" if override.lower().startswith("nl") else "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "nl" if value.lower().startswith("nl") else "en"
    return "en"


def show_list(notes: Notes, t: dict[str, str]) -> None:
    if not notes.texts:
        print(t["no_notes"].format(folder=notes.folder))
        return
    print(t["list"].format(count=len(notes.texts), folder=notes.folder))
    for name in notes.texts:
        print(f"  {name} — {notes.title(name)}")


def show_search(notes: Notes, query: str, t: dict[str, str]) -> None:
    found = notes.search(query, 10)
    if not found:
        print(t["no_match"])
    for hit in found:
        print(f"{hit['name']} — {hit['title']}")
        print(f"  {hit['snippet']}")


# -- the agent: through byom and its terminal surface -------------------------------------------


class Agent:
    """Created on the first question, so listing and searching never load byom."""

    def __init__(self, args: argparse.Namespace, notes: Notes, t: dict[str, str]) -> None:
        import byom
        from byom.terminal import Terminal

        self.app = byom.App(
            APP_NAME, [byom.Feature(FEATURE, "worker", t["feature"])], data_dir=args.data_dir
        )
        self.term = Terminal(self.app, lang=args.lang, base_url=args.base_url)
        self.notes = notes
        self.max_cost = args.max_cost
        self.t = t

    def ask(self, question: str, lang: str) -> int:
        self.notes.read_names.clear()
        result = self.term.run_agent(
            FEATURE,
            messages_for(question, lang),
            tools=tools_for(self.notes),
            max_steps=MAX_STEPS,
            max_cost=self.max_cost,
            max_tokens=MAX_TOKENS,
        )
        if result is None:
            return 1
        if self.notes.read_names:
            print(self.t["read"].format(names=", ".join(self.notes.read_names)))
        else:
            print(self.t["none_read"])
        sys.stdout.flush()
        return 0 if result.stopped == "done" else 1

    def panel(self) -> None:
        self.term.panel()

    def close(self) -> None:
        self.term.close()
        self.app.close()


def ask_loop(args: argparse.Namespace, notes: Notes, t: dict[str, str], lang: str) -> int:
    agent: Agent | None = None
    code = 0
    try:
        while True:
            try:
                question = input(t["prompt"]).strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return code
            if not question:
                return code
            agent = agent or Agent(args, notes, t)
            code = agent.ask(question, lang)
            print()
    finally:
        if agent is not None:
            agent.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="terminal_agent", description=__doc__.split("\n")[0])
    parser.add_argument("question", nargs="*", help="what to ask the notes")
    parser.add_argument("--notes", type=Path, default=NOTES, help="folder of Markdown notes")
    parser.add_argument("--list", action="store_true", help="list the notes (no model)")
    parser.add_argument("--search", metavar="WORDS", help="search the notes (no model)")
    parser.add_argument("--panel", action="store_true", help="model, allowance, key, history")
    parser.add_argument("--max-cost", default=DEFAULT_MAX_COST, help="ceiling per question, USD")
    parser.add_argument("--base-url", default=None, help="provider address (e.g. byom sim)")
    parser.add_argument("--lang", default=None, help="en or nl (default: from the locale)")
    parser.add_argument("--data-dir", default=None, help="byom data folder")
    args = parser.parse_args(argv)
    lang = language(args.lang)
    t = TEXTS[lang]
    try:
        if Decimal(args.max_cost) <= 0:
            raise InvalidOperation
    except InvalidOperation:
        print(t["bad_amount"], file=sys.stderr)
        return 2
    notes = Notes(args.notes)
    if args.list:
        show_list(notes, t)
        return 0
    if args.search is not None:
        show_search(notes, args.search, t)
        return 0
    if args.panel or args.question:
        agent = Agent(args, notes, t)
        try:
            if args.panel:
                agent.panel()
                return 0
            return agent.ask(" ".join(args.question), lang)
        finally:
            agent.close()
    if not sys.stdin.isatty():
        show_list(notes, t)
        print(t["no_tty"], file=sys.stderr)
        return 0
    return ask_loop(args, notes, t, lang)


if __name__ == "__main__":
    raise SystemExit(main())
