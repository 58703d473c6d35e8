"""The control channel's frames between the market process and its workers.

Why binary: every interval a worker hands back its regions' energy flows (one
float per node and quantity) and meter readings; as JSON lists that costs both
sides more CPU than the physics itself. A message is a ZeroMQ multipart: one
small JSON header (the command or reply, plus each array's name, dtype and
shape) followed by one frame with the arrays' raw bytes (``ndarray.tobytes()``),
read back with ``numpy.frombuffer`` without parsing or copying.

Any frames give a header and arrays or a :class:`FrameError`: the header is
parsed with a depth limit (``pydantic_core.from_json``), arrays may be plain
numbers only (bool, signed and unsigned integers, floats) and their shapes must
fit the data frame exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pydantic_core
from numpy.typing import NDArray

__all__ = ["FrameError", "pack", "unpack"]

Arrays = dict[str, NDArray[Any]]

MAX_HEADER_BYTES = 16 * 1024 * 1024
"""Largest control header read (setups carry the scenario's parameters)."""

_DTYPES = frozenset(f"{order}{kind}{size}" for order in "<>|" for kind, sizes in
                    (("b", (1,)), ("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)), ("f", (2, 4, 8)))
                    for size in sizes)
"""The array types a control message may carry (``dtype.str``): numbers, nothing else."""


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
    views of the received frame). Anything else raises :class:`FrameError`."""
    if not frames:
        raise FrameError("an empty control message")
    if len(frames[0]) > MAX_HEADER_BYTES:
        raise FrameError(f"a control header of {len(frames[0])} bytes is too large")
    try:
        header = pydantic_core.from_json(frames[0], allow_inf_nan=False)
    except ValueError as exc:
        raise FrameError(f"the control header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise FrameError("the control header must be a JSON object")
    _refuse_non_finite(header)
    specs = header.pop("arrays", [])
    if not isinstance(specs, list):
        raise FrameError("the control header's 'arrays' must be a list")
    if len(frames) != (2 if specs else 1):
        raise FrameError(f"the header describes {len(specs)} arrays but {len(frames) - 1} "
                         "data frames follow it")
    arrays: Arrays = {}
    data, offset = (frames[1] if specs else b""), 0
    for spec in specs:
        name, kind, shape = _spec(spec)
        if name in arrays:
            raise FrameError(f"array {name!r} is described twice")
        count = 1
        for extent in shape:
            count *= extent
        end = offset + count * kind.itemsize
        if end > len(data):
            raise FrameError(f"array {name!r} ({shape} x {kind.str}) runs past the data frame's "
                             f"{len(data)} bytes")
        try:
            arrays[name] = np.frombuffer(data, dtype=kind, count=count,
                                         offset=offset).reshape(shape)
        except ValueError as exc:  # an empty array whose other extents overflow numpy's size
            raise FrameError(f"array {name!r} cannot have the shape {shape}: {exc}") from None
        offset = end
    if offset != len(data):
        raise FrameError(f"{len(data) - offset} bytes after the last array")
    return header, arrays


def _refuse_non_finite(value: Any) -> None:
    """No infinite number in a header (JSON has none; ``1e999`` parses to one)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise FrameError("the control header holds a number out of range")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _spec(spec: Any) -> tuple[str, np.dtype[Any], tuple[int, ...]]:
    """One array's (name, dtype, shape) from the header, checked."""
    if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str)
            and isinstance(spec[1], str) and isinstance(spec[2], list)):
        raise FrameError(f"an array must be described as [name, dtype, shape], got {spec!r:.80}")
    name, dtype, shape = spec
    if dtype not in _DTYPES:
        raise FrameError(f"array {name!r:.40} has type {dtype!r:.20}; control messages carry "
                         "plain numbers only")
    if len(shape) > 8 or not all(type(n) is int and 0 <= n < 2**40 for n in shape):
        raise FrameError(f"array {name!r:.40} has a bad shape {shape!r:.80}")
    return name, np.dtype(dtype), tuple(shape)
