"""A memory snapshot of Python with the byom core imported, made at build time (issue 16).

Booting Pyodide in a page is most of the wait before model features are ready: the WebAssembly
runtime starts, then Python initialises and imports the standard library and byom — seconds on a
modest machine, every visit. Pyodide can instead restore a *memory snapshot*: the state of
Python's memory right after that work, taken once by the build. The page then only instantiates
the runtime and copies the snapshot in.

How the snapshot is made, and why it can be trusted:

* ``byom web build`` runs :file:`snapshot_make.cjs` with Node.js (which the build already needs
  for npm) on the same verified Pyodide files the site ships. It unpacks and imports the byom
  part of the site's Python (:func:`byom.web.build.core_zip`) — never the app's own module, which
  may touch the page at import — so every app built with the same byom shares one snapshot.
* **Reproducible**: entropy, the clock and every path are fixed while it runs, so the same inputs
  give the same bytes on any machine (the build's byte-identical promise holds, and anyone can
  rebuild and compare). It is stored gzip-compressed (fixed header) and content-addressed, with a
  Subresource-Integrity hash on the page like every other file.
* **After restoring**, the page reseeds ``random``, re-reads the time zone and clears import
  caches. What a snapshot fixes for every visitor: ``str`` hashes are not randomised
  (``PYTHONHASHSEED=0``; nothing in a page depends on it), and the allocator's internal seed.
  ``os.urandom``, ``uuid4`` and ``secrets`` ask the browser's crypto at every call, as before.
* **Never required**: no Node.js, a failure or a timeout while making it, or (in the page) a
  browser without ``DecompressionStream`` or a failed restore — each falls back to the ordinary
  boot. The build says so when it cannot make one.

Snapshots are cached by their inputs under the byom cache folder, so rebuilding the same site
does not run Node again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from byom.web import pyodide_dist

SCRIPT = Path(__file__).with_name("snapshot_make.cjs")
#: Bumped when what goes into a snapshot changes in a way its inputs do not show.
FORMAT = 1
#: Where the site's Python zip is unpacked in the page, and so also in the snapshot.
SITE_DIR = "/byom_site"
TIMEOUT = 180.0


def byom_modules(names: list[str]) -> list[str]:
    """The importable byom modules among the zip's file ``names`` (packages before their
    modules, in a fixed order)."""
    modules = []
    for name in sorted(names):
        if not name.startswith("byom/") or not name.endswith(".py"):
            continue
        parts = name[: -len(".py")].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append(".".join(parts))
    return sorted(set(modules), key=lambda m: (m.count("."), m))


def snapshot_key(core: bytes, modules: list[str]) -> str:
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{pyodide_dist.TARBALL_SHA256}|".encode())
    h.update(hashlib.sha256(SCRIPT.read_bytes()).digest())
    h.update(hashlib.sha256(core).digest())
    h.update(json.dumps(modules).encode())
    return h.hexdigest()[:32]


def make_snapshot(
    pyodide_dir: Path,
    core: bytes,
    modules: list[str],
    *,
    quiet: bool = True,
    cache: Path | None = None,
) -> bytes | None:
    """The gzip-compressed memory snapshot with the byom modules of the ``core`` zip imported,
    or ``None`` when it cannot be made here
    (no Node.js, or making it failed): the site then boots Python the ordinary way.

    ``cache``: the folder of made snapshots (default: ``snapshots/`` in the byom cache)."""
    if cache is None:
        cache = pyodide_dist.cache_root() / "snapshots"
    cached = cache / f"{snapshot_key(core, modules)}.bin.gz"
    if cached.is_file():
        return cached.read_bytes()
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        return None
    if not quiet:
        print("byom: making a snapshot of Python for a faster start in the page (once) …")
    with tempfile.TemporaryDirectory(prefix="byom-snapshot-") as tmp:
        zip_path = Path(tmp) / "site.zip"
        zip_path.write_bytes(core)
        out = Path(tmp) / "snapshot.bin"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tmp,
            "TZ": "UTC",
            "LANG": "C",
            "BYOM_SNAP_PYODIDE": str(pyodide_dir),
            "BYOM_SNAP_ZIP": str(zip_path),
            "BYOM_SNAP_IMPORTS": json.dumps(modules),
            "BYOM_SNAP_OUT": str(out),
        }
        try:
            result = subprocess.run(  # noqa: S603 - node from PATH, our own script on stdin
                [node, "-"],
                input=SCRIPT.read_bytes(),
                env=env,
                cwd=tmp,
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if result.returncode != 0 or not out.is_file():
            return None
        data = gzip.compress(out.read_bytes(), compresslevel=9, mtime=0)
    cache.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, cached)
    return data
