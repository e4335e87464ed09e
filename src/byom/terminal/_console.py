"""Console, text layout and prompts shared by the wizard, the live cost line and the CLI.

Output degrades the way ``rich`` does: ``NO_COLOR`` switches colour off, a non-terminal gets no
cursor movement and no screen clearing. Prompts never run without a terminal: callers check
:func:`interactive` first and exit with guidance instead of hanging on a read.

Catalog texts are plain text; lines starting with ``• `` or ``1. `` become list items with a
hanging indent, so that wrapped lines stay readable at 80 columns.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import TYPE_CHECKING, TextIO

from byom.locales import Messages

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

_ITEM = re.compile(r"^(•|\d+\.)\s+(.*)$")
_CONTROL = {c for c in range(32) if c not in (9, 10)} | {127} | set(range(0x80, 0xA0))


class Cancel(Exception):
    """The user chose to stop (``q``, Ctrl-C or end of input at a prompt)."""


def interactive(stream: TextIO | None = None) -> bool:
    """True when prompts can be answered: standard input is a terminal."""
    stream = sys.stdin if stream is None else stream
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def make_console(*, stderr: bool = True, file: TextIO | None = None) -> Console:
    """A console for human output. ``NO_COLOR`` and non-terminals are honoured by rich."""
    from rich.console import Console

    return Console(stderr=stderr, file=file, highlight=False, emoji=False, markup=False)


def clean(text: str) -> str:
    """Remove terminal control characters (ESC, BEL, CR, C1 …) from text that did not come from
    byom — a model's reply or a provider's model name — so it cannot move the cursor, retitle
    the window or hide what came before. Newlines and tabs stay."""
    if not text:
        return text
    return "".join(
        ch for ch in text if ord(ch) not in _CONTROL and unicodedata.category(ch) != "Cs"
    )


def block(text: str) -> RenderableType:
    """Render a catalog text: paragraphs, and list items with a hanging indent."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = []
    items: Table | None = None
    for line in text.split("\n"):
        match = _ITEM.match(line)
        if match:
            if items is None:
                items = Table.grid(padding=(0, 1))
                items.add_column(no_wrap=True)
                items.add_column()
                parts.append(Padding(items, (0, 0, 0, 1)))
            items.add_row(Text(match.group(1)), Text(match.group(2)))
        else:
            if items is not None and line:
                parts.append(Text(""))  # a paragraph after a list stands apart
            items = None
            parts.append(Text(line))
    return Group(*parts)


class Prompter:
    """Questions on a terminal, with answers in the active language."""

    def __init__(self, console: Console, tr: Messages) -> None:
        self.console = console
        self.tr = tr

    def ask(self, prompt: str) -> str:
        """One line of input; ``Cancel`` on Ctrl-C or end of input."""
        from rich.text import Text

        try:
            return self.console.input(Text(prompt, style="bold")).strip()
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            raise Cancel() from None

    def secret(self, prompt: str) -> str:
        """Hidden input (``getpass``: the terminal does not echo it)."""
        from rich.text import Text

        try:
            return self.console.input(Text(prompt, style="bold"), password=True).strip()
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            raise Cancel() from None

    def yes_no(self, question: str, *, default: bool) -> bool:
        suffix = self.tr("prompt.yes_default" if default else "prompt.no_default")
        yes, no = self.tr.words("answer.yes"), self.tr.words("answer.no")
        while True:
            answer = self.ask(f"{question} {suffix} ").lower()
            if not answer:
                return default
            if answer in yes:
                return True
            if answer in no:
                return False
            self.note(self.tr("prompt.invalid_choice"), style="yellow")

    def pause(self, prompt: str) -> None:
        self.ask(prompt + " ")

    def note(self, text: str, *, style: str | None = None) -> None:
        from rich.text import Text

        # On a terminal, wrap at its width; in a log or a pipe, keep one line per message.
        self.console.print(Text(text, style=style or ""), soft_wrap=not self.console.is_terminal)
