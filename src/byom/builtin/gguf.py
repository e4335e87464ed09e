"""Read the metadata of a GGUF model file (the format llama.cpp runs). Standard library only.

Only what byom shows or checks is kept: scalar and string values (architecture, name, context
length, chat template). Arrays (the vocabulary) are skipped without being read into memory.
Layout (GGUF v2/v3, little-endian): ``b"GGUF"``, ``uint32`` version, ``uint64`` tensor count,
``uint64`` key/value count, then each key (``uint64`` length + UTF-8), a ``uint32`` value type
and the value. A file that does not follow it raises :class:`ValueError` (no content echoed).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

#: Fixed-size value types: type id → struct format.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}
_SCALARS.update({11: "<q", 12: "<d"})
_STRING, _ARRAY = 8, 9
#: Bounds that keep a hostile file from making byom read or allocate without end.
_MAX_KEYS = 1_000_000
_MAX_STRING = 16 * 1024 * 1024

Value = int | float | bool | str


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF file")
    return data


def _unpack(stream: BinaryIO, fmt: str) -> int | float | bool:
    value: int | float | bool = struct.unpack(fmt, _read(stream, struct.calcsize(fmt)))[0]
    return value


def _string(stream: BinaryIO, keep: bool = True) -> str:
    length = int(_unpack(stream, "<Q"))
    if length > _MAX_STRING:
        raise ValueError("GGUF string too long")
    if not keep:
        stream.seek(length, 1)
        return ""
    try:
        return _read(stream, length).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("GGUF string is not UTF-8") from None


def _skip_array(stream: BinaryIO) -> None:
    kind = int(_unpack(stream, "<I"))
    count = int(_unpack(stream, "<Q"))
    if kind in _SCALARS:
        stream.seek(count * struct.calcsize(_SCALARS[kind]), 1)
    elif kind == _STRING:
        for _ in range(count):
            _string(stream, keep=False)
    elif kind == _ARRAY:
        for _ in range(count):
            _skip_array(stream)
    else:
        raise ValueError("unknown GGUF value type")


def read_metadata(path: str | Path) -> dict[str, Value]:
    """The scalar and string metadata of a GGUF file, by key."""
    with open(path, "rb") as raw:
        stream: BinaryIO = raw
        if _read(stream, 4) != b"GGUF":
            raise ValueError("not a GGUF file")
        version = int(_unpack(stream, "<I"))
        if version not in (2, 3):
            raise ValueError("unsupported GGUF version")
        _unpack(stream, "<Q")  # tensor count
        count = int(_unpack(stream, "<Q"))
        if count > _MAX_KEYS:
            raise ValueError("too many GGUF keys")
        out: dict[str, Value] = {}
        for _ in range(count):
            key = _string(stream)
            kind = int(_unpack(stream, "<I"))
            if kind in _SCALARS:
                out[key] = _unpack(stream, _SCALARS[kind])
            elif kind == _STRING:
                out[key] = _string(stream)
            elif kind == _ARRAY:
                _skip_array(stream)
            else:
                raise ValueError("unknown GGUF value type")
        return out


def context_length(metadata: dict[str, Value]) -> int | None:
    """The context length the model was trained for (``<architecture>.context_length``)."""
    arch = metadata.get("general.architecture")
    value = metadata.get(f"{arch}.context_length") if isinstance(arch, str) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


__all__ = ["context_length", "read_metadata"]
