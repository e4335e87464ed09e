"""Self-hosted Pyodide: fetched once through npm into a cache, verified against pinned hashes.

A BYOM page must not load code from a CDN at run time (the key lives in that page), so the build
copies Pyodide into the site. The files come from the npm ``pyodide`` package, fetched with the
ordinary ``npm pack`` client into ``~/.cache/byom/pyodide-<version>/`` (``$BYOM_CACHE_DIR``
overrides the root) and checked twice: the tarball against :data:`TARBALL_SHA256`, every file the
site ships against :data:`FILE_SHA256`. A mismatch stops the build; nothing is trusted on first
use. Pyodide is never committed to the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from byom.web._npm import Pinned, ensure, sha256_file

VERSION = "314.0.7"
#: SHA-256 of ``pyodide-314.0.7.tgz`` as published on the npm registry.
TARBALL_SHA256 = "66b7949e5a0cba2250b586d7e368bf12fb482800748d182c4618254b685ffaa0"
#: The files a site needs (the package also carries consoles, typings and source maps we skip).
FILE_SHA256: dict[str, str] = {
    "pyodide.js": "3141b814715a72e59b51b1b18b9ceae5bf19f7c852417e431bb0a34feadf825c",
    "pyodide.asm.mjs": "f7cdc8ece80678ceb712f8e65ebe6d3a83203a180c399865f49612a051693635",
    "pyodide.asm.wasm": "cc36e3cab04fdfc9a63ff13eb52eae2b911bf46c025cc7b281f394bd3de1d5e6",
    "python_stdlib.zip": "fa1957e5777068fc4f7437f96d860ae2fbe9c19732ba06c84e004ec16dd7dd7a",
    "pyodide-lock.json": "5dc2fc119108bc148c7457dc86e7675b5c87e1cafd420b9c34c1eaef7b36c010",
}


class PyodideUnavailable(RuntimeError):
    """Pyodide could not be fetched or did not match the pinned hashes."""


def cache_root() -> Path:
    """``$BYOM_CACHE_DIR``, else ``$XDG_CACHE_HOME/byom``, else ``~/.cache/byom``."""
    env = os.environ.get("BYOM_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "byom"


def _tarball_check(path: Path) -> tuple[str, str, str]:
    return sha256_file(path), TARBALL_SHA256, "SHA-256"


PINNED = Pinned(
    label="Pyodide",
    package="pyodide",
    version=VERSION,
    tarball=f"pyodide-{VERSION}.tgz",
    tarball_env="BYOM_PYODIDE_TARBALL",
    tarball_check=_tarball_check,
    files=FILE_SHA256,
    cache_name=f"pyodide-{VERSION}",
    error=PyodideUnavailable,
)


def ensure_pyodide(*, quiet: bool = True) -> Path:
    """Return the cache directory holding the verified Pyodide files, fetching them if needed.

    ``$BYOM_PYODIDE_TARBALL`` may name a local copy of the npm tarball (offline builds); it is
    verified like a download.
    """
    return ensure(PINNED, cache_root(), quiet=quiet)


__all__ = ["FILE_SHA256", "TARBALL_SHA256", "VERSION", "PyodideUnavailable", "ensure_pyodide"]
