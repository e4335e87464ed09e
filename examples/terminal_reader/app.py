"""Terminal reader: a free text tool whose two model features run on the user's own key.

    python examples/terminal_reader/app.py FILE                 # interactive menu
    python examples/terminal_reader/app.py FILE stats           # word count and reading time
    python examples/terminal_reader/app.py FILE outline         # headings of the text
    python examples/terminal_reader/app.py FILE summarize       # a worker model's summary
    python examples/terminal_reader/app.py FILE critique        # a frontier model's critique
    python examples/terminal_reader/app.py FILE panel           # model, allowance, key, history

Options: ``--base-url URL`` (e.g. a ``byom sim``'s ``…/api/v1``), ``--lang en|nl``,
``--data-dir DIR``, ``--builtin`` (summarise with the model built into byom when no key is
connected: free, on this device, no network; it reads only the first part of a long text).

The free features need no key, no network and not even byom: byom is imported only when a model
feature is used, and the connection wizard appears then — never at start-up (R5.1). After the
first connection, ``byom status --app terminal-reader`` (or the ``panel`` command) changes the
model, the allowance or the key and shows the spend history.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

APP_NAME = "Terminal reader"
WORDS_PER_MINUTE = 230
MAX_TEXT = 24_000
#: What the built-in model reads of a text: a small model with a 4,096-token context.
BUILTIN_MAX_TEXT = 6_000
FREE = ("stats", "outline")
PAID = ("summarize", "critique")

TEXTS = {
    "en": {
        "title": "{name} — {file}",
        "stats": "{words:,} words · {chars:,} characters · about {minutes} min reading",
        "outline": "Outline",
        "no_outline": "(no headings found; first lines of paragraphs instead)",
        "menu": [
            ("1", "Word count and reading time", ""),
            ("2", "Outline", ""),
            ("3", "Summary", "uses your model · worker"),
            ("4", "Critique", "uses your model · frontier"),
            ("c", "Connection: model, allowance, key, history", ""),
            ("q", "Quit", ""),
        ],
        "summarize": "a short summary of the text",
        "critique": "a careful critique of the text",
        "choice": "Choice: ",
        "no_tty": "Run with a command (stats, outline, summarize, critique) when not in a "
        "terminal.",
        "builtin": "Summary by the built-in model (small, on this device, free); it read the "
        "first {chars:,} characters. Connect a model for a better summary.",
    },
    "nl": {
        "title": "{name} — {file}",
        "stats": "{words:,} woorden · {chars:,} tekens · ongeveer {minutes} min lezen",
        "outline": "Inhoud",
        "no_outline": "(geen kopjes gevonden; in plaats daarvan de eerste regels van alinea's)",
        "menu": [
            ("1", "Woorden tellen en leestijd", ""),
            ("2", "Inhoud", ""),
            ("3", "Samenvatting", "gebruikt je model · worker"),
            ("4", "Kritiek", "gebruikt je model · frontier"),
            ("c", "Verbinding: model, budget, sleutel, geschiedenis", ""),
            ("q", "Stoppen", ""),
        ],
        "summarize": "een korte samenvatting van de tekst",
        "critique": "een zorgvuldige kritiek op de tekst",
        "choice": "Keuze: ",
        "no_tty": "Geef een commando (stats, outline, summarize, critique) buiten een terminal.",
        "builtin": "Samenvatting door het ingebouwde model (klein, op dit apparaat, gratis); het "
        "las de eerste {chars:,} tekens. Verbind een model voor een betere samenvatting.",
    },
}


# -- the free core: no key, no network, no byom -------------------------------------------------


def word_count(text: str) -> int:
    return len(re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", text))


def reading_minutes(words: int) -> int:
    return math.ceil(words / WORDS_PER_MINUTE) if words else 0


def outline(text: str) -> tuple[list[tuple[int, str]], bool]:
    """Markdown (``#``) and underlined headings; else the first line of each paragraph.
    Returns the entries and whether real headings were found."""
    lines = text.splitlines()
    found: list[tuple[int, str]] = []
    in_code = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        match = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"=+\s*", following):
            found.append((1, line.strip()))
        elif line.strip() and re.fullmatch(r"-{2,}\s*", following):
            found.append((2, line.strip()))
    if found:
        return found, True
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    firsts = [(1, p.splitlines()[0][:72]) for p in paragraphs[:12]]
    return firsts, False


def language(override: str | None) -> str:
    if override:
        return "nl" if override.lower().startswith("nl") else "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "nl" if value.lower().startswith("nl") else "en"
    return "en"


def show_stats(text: str, t: dict[str, Any]) -> None:
    words = word_count(text)
    print(t["stats"].format(words=words, chars=len(text), minutes=reading_minutes(words)))


def show_outline(text: str, t: dict[str, Any]) -> None:
    entries, real = outline(text)
    print(t["outline"])
    if not real:
        print(t["no_outline"])
    for level, title in entries:
        print("  " * level + "• " + title)


# -- the model features: through byom and its terminal surface ---------------------------------


class ModelFeatures:
    """Created on first use of a model feature, so the free path never loads byom."""

    def __init__(self, args: argparse.Namespace, t: dict[str, Any]) -> None:
        import byom
        from byom.terminal import Terminal

        self.app = byom.App(
            APP_NAME,
            [
                byom.Feature("summarize", "worker", t["summarize"]),
                byom.Feature("critique", "frontier", t["critique"]),
            ],
            data_dir=args.data_dir,
        )
        self.term = Terminal(self.app, lang=args.lang, base_url=args.base_url)
        self.builtin = bool(args.builtin)
        self.t = t

    def _use_builtin(self, feature: str) -> bool:
        """``--builtin``: a summary with no key connected runs on the built-in model. A connected
        key is the upgrade and wins. When the built-in model is not installed, say how to
        install it and fall back to the connection wizard."""
        if not self.builtin or feature != "summarize":
            return False
        if self.app.connected:
            return self.app.provider == "builtin"
        from byom.errors import BuiltinUnavailable
        from byom.terminal.errors import describe_error

        try:
            self.app.connect("builtin")
        except BuiltinUnavailable as error:
            print(describe_error(error, self.term.tr), file=sys.stderr)
            return False
        return True

    def run(self, feature: str, text: str, lang: str) -> int:
        answer_in = "Dutch" if lang == "nl" else "English"
        builtin = self._use_builtin(feature)
        limit = BUILTIN_MAX_TEXT if builtin else MAX_TEXT
        if builtin:
            print(self.t["builtin"].format(chars=min(len(text), limit)))
        if len(text) > limit:
            text = text[:limit] + "\n\n[The text continues; only the first part is shown.]"
        task = {
            "summarize": "Summarize the text: its main point first, then the key ideas, briefly.",
            "critique": "Critique the text: its strongest points, its weakest arguments or "
            "gaps, and what would improve it most.",
        }[feature]
        messages = [
            {"role": "system", "content": f"{task} Answer in {answer_in}."},
            {"role": "user", "content": text},
        ]
        max_tokens = 200 if builtin else 400 if feature == "summarize" else 800
        reply = self.term.run(feature, messages, max_tokens=max_tokens)
        return 0 if reply is not None else 1

    def panel(self) -> None:
        self.term.panel()

    def close(self) -> None:
        self.term.close()
        self.app.close()


def menu(args: argparse.Namespace, text: str, t: dict[str, Any], lang: str) -> int:
    models: ModelFeatures | None = None
    try:
        while True:
            print()
            print(t["title"].format(name=APP_NAME, file=Path(args.file).name))
            for key, label, note in t["menu"]:
                print(f"  {key}  {label}" + (f"   ({note})" if note else ""))
            try:
                choice = input(t["choice"]).strip().lower()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if choice == "q":
                return 0
            if choice == "1":
                show_stats(text, t)
            elif choice == "2":
                show_outline(text, t)
            elif choice in ("3", "4", "c"):
                models = models or ModelFeatures(args, t)
                if choice == "c":
                    models.panel()
                else:
                    models.run("summarize" if choice == "3" else "critique", text, lang)
    finally:
        if models is not None:
            models.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="terminal_reader", description=__doc__.split("\n")[0])
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("command", nargs="?", choices=(*FREE, *PAID, "panel"), default=None)
    parser.add_argument("--base-url", default=None, help="provider address (e.g. byom sim)")
    parser.add_argument("--lang", default=None, help="en or nl (default: from the locale)")
    parser.add_argument("--data-dir", default=None, help="byom data folder")
    parser.add_argument(
        "--builtin",
        action="store_true",
        help="summarise with the built-in model when no key is connected (free, on this device)",
    )
    args = parser.parse_args(argv)
    lang = language(args.lang)
    t = TEXTS[lang]
    text = Path(args.file).read_text(encoding="utf-8", errors="replace")
    if args.command == "stats":
        show_stats(text, t)
        return 0
    if args.command == "outline":
        show_outline(text, t)
        return 0
    if args.command in (*PAID, "panel"):
        models = ModelFeatures(args, t)
        try:
            if args.command == "panel":
                models.panel()
                return 0
            return models.run(args.command, text, lang)
        finally:
            models.close()
    if not sys.stdin.isatty():
        show_stats(text, t)
        show_outline(text, t)
        print(t["no_tty"], file=sys.stderr)
        return 0
    return menu(args, text, t, lang)


if __name__ == "__main__":
    raise SystemExit(main())
