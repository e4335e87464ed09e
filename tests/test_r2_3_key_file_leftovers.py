"""R2.3, break 9: a temporary copy of the consented key file must not outlive a crash, a
``forget_key()`` or a ``rotate_key()``.

The crash is real: a child process writes a key with ``allow_plain_file=True`` and is SIGKILLed
between the fsync and the rename of the key file's temporary copy. No keyring exists here, so the
file path is the one taken (the child also forces it by turning the keyring lookup off).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import byom
import byom.store.vault as vault_module
from byom.core.secret import Secret
from byom.store.vault import KeyVault, keyring_available
from conftest import CANARY_KEY, SUMMARIZE
from test_r2_key_handling import _files_containing

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL and POSIX modes")

ORIGIN = "https://openrouter.ai"
OTHER_KEY = "sk-or-v1-ROTATEDKEY-0b1c2d3e4f5a6b7c8d9e"

_CHILD = textwrap.dedent(
    """
    import os, sys, time

    import byom
    import byom.store.vault as vault

    vault._keyring_module = lambda: None  # force the consented-file path
    real_replace = os.replace

    def stalled_replace(src, dst, *args, **kwargs):
        if str(src).endswith(".tmp"):
            print("STALLED " + os.path.basename(str(src)), flush=True)
            time.sleep(120)  # the parent kills us here: after fsync, before rename
        return real_replace(src, dst, *args, **kwargs)

    os.replace = stalled_replace
    app = byom.App(
        "Paper digest", [byom.Feature("summarize", "worker", "")], data_dir=sys.argv[1]
    )
    app.connect("openrouter", key=sys.argv[2], remember=True, allow_plain_file=True)
    print("NOT STALLED", flush=True)
    """
)


def _temps(data: Path) -> list[Path]:
    keys = data / "keys"
    return sorted(p for p in keys.iterdir() if p.name.endswith(".tmp")) if keys.exists() else []


class _Writer:
    """A child process stalled between fsync and rename of the key file's temporary copy."""

    def __init__(self, data: Path, key: str) -> None:
        src = str(Path(byom.__file__).resolve().parents[1])
        env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(data), key],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line.startswith("STALLED "), f"the child did not reach the rename: {line!r}"
        self.temp = data / "keys" / line.split(" ", 1)[1]

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[list[_Writer]]:
    started: list[_Writer] = []
    yield started
    for each in started:
        each.kill()


def _stalled(writer: list[_Writer], data: Path, key: str = CANARY_KEY) -> _Writer:
    child = _Writer(data, key)
    writer.append(child)
    # The crash window is real: the fsynced temporary copy holds the key in plain text.
    assert child.temp.exists()
    assert CANARY_KEY.encode() in child.temp.read_bytes()
    assert not (data / "keys" / "paper-digest.json").exists()
    return child


def test_r2_3_start_up_removes_the_copy_a_killed_writer_left(writer, tmp_path: Path) -> None:
    assert not keyring_available()
    data = tmp_path / "data"
    child = _stalled(writer, data)
    child.kill()  # SIGKILL between fsync and rename
    assert child.proc.returncode == -signal.SIGKILL
    assert child.temp.exists()  # what the crash leaves behind

    app = byom.App("Paper digest", [SUMMARIZE], data_dir=data)
    try:
        assert _temps(data) == []
        assert not app.connected  # the key never reached the real file
        assert _files_containing(tmp_path, CANARY_KEY.encode()) == []
    finally:
        app.close()
    # A bare KeyVault start-up does the same.
    child2 = _stalled(writer, data)
    child2.kill()
    KeyVault(data, "paper-digest")
    assert _temps(data) == []
    assert _files_containing(tmp_path, CANARY_KEY.encode()) == []


@pytest.mark.parametrize("how", ["forget_key", "rotate_key"])
def test_r2_3_forget_and_rotate_remove_every_leftover(writer, tmp_path: Path, how: str) -> None:
    data = tmp_path / "data"
    child = _stalled(writer, data)  # alive: start-up must leave a live writer's file alone
    app = byom.App("Paper digest", [SUMMARIZE], data_dir=data)
    try:
        assert child.temp.exists(), "start-up broke a write in progress in a live process"
        app.connect("openrouter", key=CANARY_KEY)  # memory only
        if how == "forget_key":
            app.forget_key()
        else:
            app.rotate_key(OTHER_KEY)
            assert app.key_location() == ["memory"]
        assert _temps(data) == []
        child.kill()
        assert _files_containing(tmp_path, CANARY_KEY.encode()) == []
    finally:
        app.close()
    fresh = byom.App("Paper digest", [SUMMARIZE], data_dir=data)
    try:
        assert not fresh.connected
    finally:
        fresh.close()


@pytest.mark.parametrize("planted", ["leftover", "symlink"])
def test_r2_3_a_leftover_never_blocks_a_write_and_temps_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: str
) -> None:
    """A leftover carrying this process's pid (pid reuse after a crash) or a link planted at the
    temporary name: the write still succeeds, never through the link, and stays 0600/0700."""
    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)
    data = tmp_path / "data"
    vault = KeyVault(data, "paper-digest")
    keys = data / "keys"
    keys.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    old_name = keys / f"paper-digest.json.{os.getpid()}.tmp"
    if planted == "leftover":
        old_name.write_text(json.dumps({ORIGIN: "sk-or-v1-stale"}))
    else:
        old_name.symlink_to(outside)

    seen: list[tuple[int, int]] = []
    real_replace = os.replace

    def spy(src: object, dst: object) -> None:
        st = os.lstat(str(src))
        seen.append((stat.S_IMODE(st.st_mode), st.st_mode))
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", spy)
    previous = os.umask(0)  # a strange umask must not widen the file
    try:
        assert vault.put(ORIGIN, Secret(CANARY_KEY), remember=True, allow_file=True) == "file"
    finally:
        os.umask(previous)
    assert seen and all(mode == 0o600 and stat.S_ISREG(full) for mode, full in seen)
    assert stat.S_IMODE((keys / "paper-digest.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert outside.read_text() == "untouched"
    restored = KeyVault(data, "paper-digest").get(ORIGIN)
    assert restored is not None and restored.reveal() == CANARY_KEY
    vault.forget()
    assert list(keys.iterdir()) == []
    assert _files_containing(tmp_path, CANARY_KEY.encode()) == []


def test_r2_3_a_symlink_at_the_key_file_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link planted at ``keys/<app>.json`` is ignored: not read, not reported, not written
    through; a write replaces the link and ``forget`` removes it."""
    monkeypatch.setattr(vault_module, "_keyring_module", lambda: None)
    data = tmp_path / "data"
    keys = data / "keys"
    keys.mkdir(parents=True, mode=0o700)
    outside = tmp_path / "attacker.json"
    planted = json.dumps({ORIGIN: "sk-or-v1-ATTACKERKEY-1234567890abcdef"})
    outside.write_text(planted)
    (keys / "paper-digest.json").symlink_to(outside)

    vault = KeyVault(data, "paper-digest")
    assert vault.get(ORIGIN) is None
    assert vault.where(ORIGIN) == []

    vault.put(ORIGIN, Secret(CANARY_KEY), remember=True, allow_file=True)
    assert outside.read_text() == planted  # never written through the link
    assert not (keys / "paper-digest.json").is_symlink()
    (keys / "paper-digest.json").unlink()
    (keys / "paper-digest.json").symlink_to(outside)
    vault.forget()
    assert not (keys / "paper-digest.json").is_symlink()
    assert outside.read_text() == planted
    assert _files_containing(tmp_path, CANARY_KEY.encode()) == []
