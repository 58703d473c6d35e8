"""Canonical bytes: the one serialisation that is hashed and signed.

Why compact JSON with sorted keys: it is deterministic, readable in an export,
and encoded by the C accelerator of the standard library (a few microseconds
per transaction). Decoders re-encode and compare, so only the canonical form is
ever accepted (no malleable whitespace, key order or number spellings).
"""

from __future__ import annotations

import json
import struct
from typing import Any, Final

_ENCODER: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                                   allow_nan=False, check_circular=False)

INT64_MAX: Final = 2**63 - 1
U32: Final = struct.Struct(">I")
TX_FRAME: Final = struct.Struct(">IB")  # body length, signature length


def canonical_json(value: Any) -> bytes:
    """Compact, key-sorted, ASCII-only JSON bytes."""
    return _ENCODER.encode(value).encode("ascii")


def parse_json(data: bytes) -> Any:
    """Parse JSON bytes; raise ``ValueError`` for anything that is not UTF-8 JSON."""
    return json.loads(data)


def frame_tx(body: bytes, sig: bytes) -> bytes:
    """One transaction in a block's transaction section: lengths, signature, body."""
    return TX_FRAME.pack(len(body), len(sig)) + sig + body


def unframe_txs(data: bytes, count: int) -> list[tuple[bytes, bytes]]:
    """Split a transaction section into ``count`` (body, signature) pairs.

    Raises ``ValueError`` naming the offset when the section is truncated, has
    extra bytes, or holds a signature that is neither empty nor 64 bytes.
    """
    out: list[tuple[bytes, bytes]] = []
    offset = 0
    size = len(data)
    frame = TX_FRAME.size
    for index in range(count):
        if offset + frame > size:
            raise ValueError(f"transaction {index} is truncated at byte {offset}")
        body_len, sig_len = TX_FRAME.unpack_from(data, offset)
        if sig_len not in (0, 64):
            raise ValueError(f"transaction {index} has a {sig_len}-byte signature "
                             "(expected 0 or 64)")
        start = offset + frame
        end = start + sig_len + body_len
        if end > size:
            raise ValueError(f"transaction {index} is truncated at byte {offset}")
        out.append((data[start + sig_len:end], data[start:start + sig_len]))
        offset = end
    if offset != size:
        raise ValueError(f"{size - offset} unexpected bytes after transaction {count - 1}")
    return out
