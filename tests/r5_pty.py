"""Drive a program in a real pseudo-terminal (pexpect) and see its screen as a person would.

:class:`VT` is a small VT100 screen (80×24 by default) fed with everything the program wrote:
printable text with xterm's delayed auto-wrap, CR/LF/BS/TAB, scrolling, and the CSI sequences
rich and byom emit (cursor position and column, erase in display/line; colours are ignored). It
is what "visible on an 80×24 terminal" is checked against: if a screen were taller, its first
line would have scrolled away.

:class:`Session` wraps ``pexpect.spawn`` with a full log of the output and the screen.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pexpect

from byom.locales import Messages

APP = "Terminal reader"
APP_ID = "terminal-reader"
KEY = "sk-or-v1-wizard-test-key-0123456789abcdef"
INFO_STEPS = ("intro", "key_info", "limit", "threat")
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "terminal_reader" / "app.py"
SAMPLE = ROOT / "examples" / "terminal_reader" / "sample.md"

_CSI = re.compile(r"\x1b\[([?>=]?)([0-9;]*)([ -/]*)([@-~])")
_PARTIAL = re.compile(r"\x1b(?:\[[?>=]?[0-9;]*[ -/]*)?$")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def plain(text: str) -> str:
    """Output without escape sequences, line breaks folded into single spaces (to look for a
    sentence that the terminal width may have wrapped)."""
    text = _OSC.sub("", _CSI.sub("", text))
    return re.sub(r"\s+", " ", text)


class VT:
    """A minimal terminal screen: enough to render what a rich program shows."""

    def __init__(self, rows: int = 24, cols: int = 80) -> None:
        self.rows, self.cols = rows, cols
        self.grid = [[" "] * cols for _ in range(rows)]
        self.row = self.col = 0
        self.wrap_pending = False
        self._tail = ""

    def _scroll(self) -> None:
        self.grid.pop(0)
        self.grid.append([" "] * self.cols)

    def _linefeed(self) -> None:
        if self.row == self.rows - 1:
            self._scroll()
        else:
            self.row += 1

    def _put(self, char: str) -> None:
        if self.wrap_pending:
            self.col = 0
            self._linefeed()
            self.wrap_pending = False
        self.grid[self.row][self.col] = char
        if self.col == self.cols - 1:
            self.wrap_pending = True
        else:
            self.col += 1

    def _csi(self, private: str, params: str, final: str) -> None:
        if private:
            return  # ?25l / ?25h (cursor), ?1049h … : nothing to draw
        numbers = [int(p) if p else 0 for p in params.split(";")] if params else []
        first = numbers[0] if numbers else 0
        self.wrap_pending = False
        if final in "Hf":
            row = (numbers[0] if numbers and numbers[0] else 1) - 1
            col = (numbers[1] if len(numbers) > 1 and numbers[1] else 1) - 1
            self.row, self.col = min(row, self.rows - 1), min(col, self.cols - 1)
        elif final == "G":
            self.col = min(max(first, 1) - 1, self.cols - 1)
        elif final == "A":
            self.row = max(0, self.row - max(first, 1))
        elif final == "B":
            self.row = min(self.rows - 1, self.row + max(first, 1))
        elif final == "C":
            self.col = min(self.cols - 1, self.col + max(first, 1))
        elif final == "D":
            self.col = max(0, self.col - max(first, 1))
        elif final == "J":
            if first == 2 or first == 3:
                self.grid = [[" "] * self.cols for _ in range(self.rows)]
            elif first == 0:
                self.grid[self.row][self.col :] = [" "] * (self.cols - self.col)
                for r in range(self.row + 1, self.rows):
                    self.grid[r] = [" "] * self.cols
            elif first == 1:
                for r in range(self.row):
                    self.grid[r] = [" "] * self.cols
                self.grid[self.row][: self.col + 1] = [" "] * (self.col + 1)
        elif final == "K":
            line = self.grid[self.row]
            if first == 0:
                line[self.col :] = [" "] * (self.cols - self.col)
            elif first == 1:
                line[: self.col + 1] = [" "] * (self.col + 1)
            else:
                self.grid[self.row] = [" "] * self.cols
        # "m" (colours) and anything else: no effect on the text

    def feed(self, data: str) -> None:
        data = self._tail + data
        self._tail = ""
        data = _OSC.sub("", data)
        i = 0
        while i < len(data):
            char = data[i]
            if char == "\x1b":
                match = _CSI.match(data, i)
                if match:
                    self._csi(match.group(1), match.group(2), match.group(4))
                    i = match.end()
                    continue
                if _PARTIAL.match(data, i):
                    self._tail = data[i:]  # an escape split across two reads
                    return
                i += 2  # a two-character escape (ESC 7, ESC 8, …)
                continue
            if char == "\r":
                self.col = 0
                self.wrap_pending = False
            elif char == "\n":
                self._linefeed()
                self.wrap_pending = False
            elif char == "\b":
                self.col = max(0, self.col - 1)
                self.wrap_pending = False
            elif char == "\t":
                self.col = min(self.cols - 1, (self.col // 8 + 1) * 8)
            elif char == "\x07" or ord(char) < 32:
                pass
            else:
                self._put(char)
            i += 1

    def lines(self) -> list[str]:
        return ["".join(row).rstrip() for row in self.grid]

    def text(self) -> str:
        """The screen as text, trailing blank lines kept (a capture shows the full 80×24)."""
        return "\n".join(self.lines()) + "\n"


class Session:
    """A program in a pty of ``rows``×``cols``, with its whole output logged."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cwd: Path = ROOT,
        rows: int = 24,
        cols: int = 80,
        timeout: float = 60,  # per expect: only a hang fails it, never a slow machine
    ) -> None:
        self.log = io.StringIO()
        self.vt = VT(rows, cols)
        self._seen = 0
        self.child = pexpect.spawn(
            argv[0],
            list(argv[1:]),
            env=dict(env),
            cwd=str(cwd),
            dimensions=(rows, cols),
            encoding="utf-8",
            codec_errors="replace",
            timeout=timeout,
        )
        self.child.logfile_read = self.log

    def expect(self, pattern: str | list[str], timeout: float | None = None) -> int:
        """Wait for a regex in the output (pexpect semantics); ``-1`` timeout = default."""
        return int(self.child.expect(pattern, timeout=timeout if timeout is not None else -1))

    def expect_text(self, text: str, timeout: float | None = None) -> None:
        self.expect(re.escape(text), timeout)

    def send(self, text: str) -> None:
        self.child.send(text)

    def enter(self, text: str = "") -> None:
        self.child.send(text + "\r")

    def screen(self) -> str:
        """What the terminal shows now."""
        output = self.log.getvalue()
        self.vt.feed(output[self._seen :])
        self._seen = len(output)
        return self.vt.text()

    def output(self) -> str:
        return self.log.getvalue()

    def finish(self, timeout: float = 60) -> int:
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        status = self.child.exitstatus
        return int(status) if status is not None else 128 + int(self.child.signalstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def base_env(home: Path, data_dir: Path, lang: str = "en", **extra: str) -> dict[str, str]:
    """A clean environment: no locale but ``LANG``, no proxies, no real keyring, our data dir."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "nl_NL.UTF-8" if lang == "nl" else "en_US.UTF-8",
        "BYOM_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Deterministic key storage: no OS keyring, so "remember" means the consented 0600 file.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.update(extra)
    return env


def example_argv(*args: str) -> list[str]:
    return [sys.executable, str(EXAMPLE), str(SAMPLE), *args]


def byom_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "byom", *args]


def capture(lang: str, name: str, screen: str) -> None:
    target = os.environ.get("BYOM_CAPTURE_DIR")
    if not target:
        return
    folder = Path(target) / lang
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(screen, encoding="utf-8")


def header(tr: Messages, n: int, total: int) -> str:
    return tr("wizard.step", app=APP, n=n, total=total)


def fits(screen: str, header: str, prompt: str) -> None:
    """The whole screen is on an 80×24 terminal: its header is still the top line and the
    prompt is shown below it."""
    lines = screen.split("\n")
    assert lines[0] == header, f"screen scrolled or misplaced; top line: {lines[0]!r}"
    assert any(prompt.strip() in line for line in lines[1:]), f"prompt {prompt!r} not on screen"
    assert all(len(line) <= 80 for line in lines)


def walk_wizard(
    s: Session,
    tr: Messages,
    *,
    key: str = KEY,
    remember: bool = False,
    allowance: tuple[str, ...] = ("5",),
    browser: bool = False,
    then_run: bool = True,
    shots: dict[str, str] | None = None,
) -> None:
    """Answer the nine first-time screens, checking each one as it appears."""
    shots = {} if shots is None else shots
    nav = tr("wizard.nav")
    for n, step in enumerate(INFO_STEPS, start=1):
        s.expect_text(tr(f"wizard.{step}.title", app=APP))
        s.expect_text("›")
        screen = s.screen()
        fits(screen, header(tr, n, 9), tr("wizard.nav.first") if n == 1 else nav)
        shots[f"{n:02d}-{step}"] = screen
        s.enter()
    s.expect_text(tr("wizard.key.choice"))
    screen = s.screen()
    fits(screen, header(tr, 5, 9), tr("wizard.key.choice"))
    shots["05-key"] = screen
    if browser:
        s.enter("2")
        s.expect_text(tr("wizard.pkce.received", app=APP)[:30])
        s.expect_text(tr("prompt.enter"))
        shots["05-key-browser"] = s.screen()
        s.enter()
    else:
        s.enter("1")
        s.expect_text(tr("wizard.key.prompt").strip())
        assert s.child.waitnoecho(timeout=60), "the key prompt must switch terminal echo off"
        shots["05-key-hidden"] = s.screen()
        s.enter(key)
    s.expect_text(check_ok(tr))
    s.expect_text(tr("prompt.enter"))
    screen = s.screen()
    fits(screen, header(tr, 6, 9), tr("prompt.enter"))
    shots["06-check"] = screen
    s.enter()
    question = f"{tr('wizard.remember.question')} {tr('prompt.no_default')}"
    s.expect_text(question)
    screen = s.screen()
    fits(screen, header(tr, 7, 9), question)
    shots["07-remember"] = screen
    s.enter(answer_yes(tr) if remember else "")
    model_prompt = tr("wizard.model.prompt", default="1").split("[")[0].strip()
    s.expect_text(model_prompt)
    screen = s.screen()
    fits(screen, header(tr, 8, 9), model_prompt)
    shots["08-model"] = screen
    s.enter()
    s.expect_text(tr("wizard.allowance.amount").strip())
    screen = s.screen()
    fits(screen, header(tr, 9, 9), tr("wizard.allowance.amount"))
    shots["09-allowance"] = screen
    for answer in allowance[:-1]:  # refused inputs: each must be asked again (fail closed)
        s.enter(answer)
        s.expect_text(tr("wizard.allowance.amount").strip())
    s.enter(allowance[-1])
    s.expect_text(tr("wizard.allowance.period").split("[")[0].strip())
    shots["09-allowance-period"] = s.screen()
    s.enter()
    s.expect_text(tr("wizard.done.title"))
    s.expect_text(tr("wizard.done.commands", app_id=APP_ID))
    done = (
        tr("wizard.done.run", feature="\x00").split("\x00")[0] if then_run else tr("wizard.done.ok")
    )
    s.expect_text(done)
    shots["10-done"] = s.screen()
    s.enter()


def before(tr: Messages, key: str, name: str) -> str:
    """The text of ``key`` up to its ``{name}`` placeholder (what precedes an address)."""
    return tr(key, **{name: "\x00"}).split("\x00")[0]


def check_ok(tr: Messages) -> str:
    """The start of the key check's "accepted" line, before it names who was asked."""
    return before(tr, "wizard.check.ok", "asked")


def answer_yes(tr: Messages) -> str:
    return "j" if tr.lang == "nl" else "y"
