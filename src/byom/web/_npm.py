"""Fetching a pinned npm package once, for the files a built site self-hosts (Pyodide, wllama).

The callers pin the tarball's hash and every file's hash and check both; these helpers only
run the ordinary ``npm pack`` client and copy chosen files out of the tarball.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path


def npm_pack(spec: str, tarball: str, into: Path, error: type[Exception], hint: str) -> Path:
    """Run ``npm pack <spec>`` into ``into`` and return ``into / tarball``. A missing ``npm``
    or a failed pack raises ``error`` (``hint`` says what to install or set instead)."""
    npm = shutil.which("npm")
    if npm is None:
        raise error(f"npm is needed once to fetch {spec}; {hint}")
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [npm, "pack", spec, "--pack-destination", str(into), "--silent"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    path = into / tarball
    if result.returncode != 0 or not path.is_file():
        raise error(f"npm pack {spec} failed: " + (result.stderr.strip()[-400:] or "?"))
    return path


def extract(
    tarball: Path,
    names: Iterable[str],
    staging: Path,
    error: type[Exception],
    local_name: Callable[[str], str] = str,
) -> None:
    """Copy ``package/<name>`` of ``tarball`` to ``staging / local_name(name)`` for each name;
    a member that is not a regular file raises ``error``."""
    with tarfile.open(tarball, "r:gz") as archive:
        for name in names:
            member = archive.getmember("package/" + name)
            if not member.isfile():
                raise error(f"{name} is not a regular file in the tarball")
            source = archive.extractfile(member)
            assert source is not None
            with source, (staging / local_name(name)).open("wb") as out:
                shutil.copyfileobj(source, out)
