"""Notes: a tiny terminal notebook whose one model feature runs on the user's own key.

    .venv/bin/python examples/notes/notes.py add "Call the plumber on Tuesday"
    .venv/bin/python examples/notes/notes.py list
    .venv/bin/python examples/notes/notes.py summarize

Adding and listing need no key, no network and no byom. ``summarize`` opens byom's connection
wizard on first use (who pays, where to get a key, a limit at the provider, the key itself,
whether to remember it, the model, the allowance), then prints the summary and what it cost.

Written from byom's README alone. To use another provider, change the one ``Terminal(...)``
line: ``provider="openai"``, ``"anthropic"``, ``"gemini"``, ``"ollama"`` or ``"compatible"``.
To try it offline, start ``byom sim`` and set ``NOTES_BASE_URL`` to the address for your
provider kind (``…/api/v1`` for OpenRouter, ``…/v1`` for OpenAI or a compatible server, the
bare address for Anthropic, Gemini and Ollama).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

NOTES_FILE = Path(os.environ.get("NOTES_FILE", Path.home() / ".notes.json"))
#: None: the provider's own address. For the simulator, its base URL (see the docstring).
BASE_URL = os.environ.get("NOTES_BASE_URL") or None


def load() -> list[str]:
    if not NOTES_FILE.is_file():
        return []
    notes = json.loads(NOTES_FILE.read_text(encoding="utf-8"))
    return [str(note) for note in notes]


def save(notes: list[str]) -> None:
    NOTES_FILE.write_text(json.dumps(notes, indent=1), encoding="utf-8")


def summarize(notes: list[str]) -> int:
    import byom
    from byom.terminal import Terminal

    app = byom.App(
        "Notes",
        features=[byom.Feature("summarize", "worker", "a short summary of your notes")],
        app_id="notes-example",
    )
    messages = [
        {"role": "system", "content": "Summarize these notes in three short bullet points."},
        {"role": "user", "content": "\n".join(f"- {note}" for note in notes)},
    ]
    with app, Terminal(app, provider="openrouter", base_url=BASE_URL) as term:
        reply = term.run("summarize", messages, max_tokens=300)
    return 0 if reply is not None else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notes", description="A tiny terminal notebook.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("add", help="add a note").add_argument("text")
    commands.add_parser("list", help="list the notes")
    commands.add_parser("summarize", help="summarize the notes with your own model")
    args = parser.parse_args(argv)
    notes = load()
    if args.command == "add":
        save([*notes, args.text])
        print(f"{len(notes) + 1} notes.")
        return 0
    if args.command == "list":
        for number, note in enumerate(notes, start=1):
            print(f"{number}. {note}")
        return 0
    if not notes:
        print('No notes yet. Add one with: notes.py add "…"', file=sys.stderr)
        return 1
    return summarize(notes)


if __name__ == "__main__":
    raise SystemExit(main())
