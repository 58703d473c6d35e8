"""The control channel's frames between the market process and its workers.

Why binary: every interval a worker hands back its regions' energy flows (one
float per node and quantity) and meter readings; as JSON lists that costs both
sides more CPU than the physics itself. A message is a ZeroMQ multipart: one
small JSON header (the command or reply, plus each array's name, dtype and
shape) followed by one frame with the arrays' raw bytes (``ndarray.tobytes()``),
read back with ``numpy.frombuffer`` without parsing or copying.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["FrameError", "pack", "unpack"]

Arrays = dict[str, NDArray[Any]]


class FrameError(ValueError):
    """A control message whose frames do not match its header (a bug or a foreign sender)."""


def pack(header: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]] | None = None
         ) -> list[bytes]:
    """``header`` as JSON, then (if any) one frame with every array's bytes (C order) one
    after another; the header names each array's dtype and shape."""
    arrays = arrays or {}
    specs = [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()]
    frames = [json.dumps({**header, "arrays": specs}, default=str).encode()]
    if arrays:
        frames.append(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays.values()))
    return frames


def unpack(frames: Sequence[bytes]) -> tuple[dict[str, Any], Arrays]:
    """The header and the arrays of a message made by :func:`pack` (arrays are read-only
    views of the received frame)."""
    if not frames:
        raise FrameError("an empty control message")
    try:
        header = json.loads(frames[0])
    except ValueError as exc:
        raise FrameError(f"the control header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise FrameError("the control header must be a JSON object")
    specs = header.pop("arrays", [])
    if len(frames) != (2 if specs else 1):
        raise FrameError(f"the header describes {len(specs)} arrays but {len(frames) - 1} "
                         "data frames follow it")
    arrays: Arrays = {}
    data, offset = (frames[1] if specs else b""), 0
    for name, dtype, shape in specs:
        kind = np.dtype(dtype)
        count = int(np.prod(shape))
        end = offset + count * kind.itemsize
        if end > len(data):
            raise FrameError(f"array {name!r} ({shape} x {dtype}) runs past the data frame's "
                             f"{len(data)} bytes")
        arrays[name] = np.frombuffer(data, dtype=kind, count=count, offset=offset).reshape(shape)
        offset = end
    if offset != len(data):
        raise FrameError(f"{len(data) - offset} bytes after the last array")
    return header, arrays
