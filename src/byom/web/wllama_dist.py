"""Self-hosted wllama (llama.cpp in WebAssembly) for the built-in model's browser runtime.

Like Pyodide (:mod:`byom.web.pyodide_dist`), wllama is never committed and never loaded from a
CDN: ``byom web build`` copies it into sites built with ``builtin = true``. The files come from
the npm package ``@wllama/wllama`` (MIT), fetched once with the ordinary ``npm pack`` client into
``~/.cache/byom/wllama-<version>/`` and checked twice: the tarball against the registry's
``integrity`` (:data:`TARBALL_SHA512`, the ``dist.integrity`` npm publishes), and every file the
site ships against :data:`FILE_SHA256`. A mismatch stops the build; nothing is trusted on first
use. ``$BYOM_WLLAMA_TARBALL`` may name a local copy of the tarball (offline builds).

Compat mode is off (``setCompat(null)`` in ``builtin.js``): wllama's compat build is for browsers
without JSPI or WebAssembly Memory64 (Safari) and would be fetched from a CDN, which the page's
CSP forbids. Those browsers are told the built-in model cannot run there; the providers still
work.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from byom.web._npm import Pinned, ensure
from byom.web.pyodide_dist import cache_root

PACKAGE = "@wllama/wllama"
VERSION = "3.13.0"
#: ``dist.integrity`` of ``@wllama/wllama@3.13.0`` on registry.npmjs.org (SHA-512, base64).
TARBALL_SHA512 = (
    "sha512-ZvoRdQAn+E+18EvQ9qS036gudiI9rbZRBJgG/"
    "qNICPPwrA0Y6SMMdbziz/j7K/0WxcbJlhaRraVIYsnEy732NA=="
)
#: The files a site needs (the tarball also carries sources, typings and the CommonJS build).
FILE_SHA256: dict[str, str] = {
    "esm/index.js": "fffd95c16ca191f31f4303664a05189c43d0cb20c52b67276c04e8857b138b64",
    "esm/wasm/wllama.wasm": "79ac5be917b71d50571a4f584436a9f6baf6b6e57719d094ed8bd950e9a65780",
}


class WllamaUnavailable(RuntimeError):
    """wllama could not be fetched or did not match the pinned hashes."""


def _integrity(path: Path) -> str:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha512").digest()
    return "sha512-" + base64.b64encode(digest).decode()


def _tarball_check(path: Path) -> tuple[str, str, str]:
    return _integrity(path), TARBALL_SHA512, "integrity"


def _flat(name: str) -> str:
    return name.replace("/", "__")


PINNED = Pinned(
    label="wllama",
    package=PACKAGE,
    version=VERSION,
    tarball=f"wllama-wllama-{VERSION}.tgz",
    tarball_env="BYOM_WLLAMA_TARBALL",
    tarball_check=_tarball_check,
    files=FILE_SHA256,
    cache_name=f"wllama-{VERSION}",
    error=WllamaUnavailable,
    local_name=_flat,
)


def file_path(directory: Path, name: str) -> Path:
    """Where the cached copy of package file ``name`` (a key of :data:`FILE_SHA256`) is."""
    return directory / _flat(name)


def ensure_wllama(*, quiet: bool = True) -> Path:
    """Return the cache directory holding the verified wllama files, fetching them if needed."""
    return ensure(PINNED, cache_root(), quiet=quiet)


__all__ = [
    "FILE_SHA256",
    "PACKAGE",
    "TARBALL_SHA512",
    "VERSION",
    "WllamaUnavailable",
    "ensure_wllama",
    "file_path",
]
