"""Leak scanning for the canary suites (R2.5): every view of an exception an error tracker, a
``logging.exception`` or ``pytest --showlocals`` would record, and every file byom wrote.

An exception is scanned through its ``str``, ``repr``, ``args``, attributes, its whole
``__cause__`` / ``__context__`` chain (suppressed or not: the objects are reachable), the locals
of every frame of every traceback in that chain, and ``TracebackException(capture_locals=True)``.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from conftest import CANARY_KEY

#: Marks of the prompt canary and of the simulator's reply text.
PROMPT_MARK = "CANARY-PROMPT"
REPLY_MARK = "Simulated reply"


def _text(value: object) -> str:
    try:
        shown = repr(value)
    except Exception as exc:  # a hostile repr is a finding of its own, not a crash of the scan
        shown = f"<repr failed: {type(exc).__name__}>"
    if isinstance(value, str):
        return shown + "\n" + value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return shown + "\n" + bytes(value).decode("latin-1")
    return shown


def _package_dirs() -> tuple[str, ...]:
    """Where byom and its HTTP stack are installed: judged by their real folders, never by a
    path fragment (a checkout cloned into a folder named ``byom`` holds the tests too)."""
    import importlib

    folders = []
    for name in ("byom", "httpx", "httpcore", "h11", "anyio"):
        module = importlib.import_module(name)
        folders.append(str(Path(module.__file__ or "").resolve().parent) + "/")
    return tuple(folder.replace("\\", "/") for folder in folders)


_PACKAGES = _package_dirs()


@functools.lru_cache(maxsize=4096)
def _is_library_file(filename: str) -> bool:
    return str(Path(filename).resolve()).replace("\\", "/").startswith(_PACKAGES)


def _library_frame(frame: FrameType) -> bool:
    """A frame of byom, httpx, httpcore or h11 (not the test's or the caller's own)."""
    return _is_library_file(frame.f_code.co_filename)


def exception_views(exc: BaseException) -> Iterator[tuple[str, str, bool]]:
    """``(where, text, library)`` for everything an exception carries; ``library`` is False for
    locals of frames that are not byom's or its HTTP stack's (the caller's own data)."""
    seen: set[int] = set()
    stack: list[tuple[str, BaseException | None]] = [("exc", exc)]
    while stack:
        where, error = stack.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield f"{where} str", _text(str(error)), True
        yield f"{where} repr", _text(error), True
        for index, arg in enumerate(error.args):
            yield f"{where} args[{index}]", _text(arg), True
        for name, value in getattr(error, "__dict__", {}).items():
            yield f"{where}.{name}", _text(value), True
        for name in ("object", "reason"):  # UnicodeError's payload
            if hasattr(error, name):
                yield f"{where}.{name}", _text(getattr(error, name)), True
        tb = error.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            library = _library_frame(frame)
            for name, value in frame.f_locals.items():
                yield (
                    f"{where} frame {frame.f_code.co_qualname} local {name}",
                    _text(value),
                    library,
                )
            tb = tb.tb_next
        stack.append((f"{where}.__cause__", error.__cause__))
        stack.append((f"{where}.__context__", error.__context__))
    formatted = traceback.TracebackException.from_exception(exc, capture_locals=True).format()
    yield "TracebackException(capture_locals=True)", "".join(formatted), False


def assert_exception_clean(
    exc: BaseException, *, key: str = CANARY_KEY, caller_has_key: bool = False
) -> None:
    """No view of ``exc`` holds the key; no byom/HTTP-stack view holds the prompt or reply.

    ``caller_has_key``: the calling code passed the key itself (``connect(key=...)``), so its
    own frames hold it; only byom's and the HTTP stack's views are searched for it then."""
    for where, text, library in exception_views(exc):
        if library or not caller_has_key:
            assert key not in text, f"the key leaked through {where}"
        if library:
            assert PROMPT_MARK not in text, f"the prompt leaked through {where}"
            assert REPLY_MARK not in text, f"the reply text leaked through {where}"


def assert_exception_chain_cut(exc: BaseException) -> None:
    """A byom error leaves the API with no chain at all (not merely a suppressed one)."""
    assert exc.__cause__ is None, "__cause__ is set"
    assert exc.__context__ is None, "__context__ is set (suppressed is not enough)"


def assert_files_clean(*folders: Path, key: str = CANARY_KEY) -> None:
    """No file under ``folders`` (SQLite with its WAL and SHM, key files, leftovers, temp
    files) holds the key, the prompt or the reply text."""
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert key.encode() not in data, f"the key leaked into {path.name}"
                assert PROMPT_MARK.encode() not in data, f"the prompt leaked into {path.name}"
                assert REPLY_MARK.encode() not in data, f"reply text leaked into {path.name}"
