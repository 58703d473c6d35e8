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

from gridcoop.jsondepth import nests_deeper

_ENCODER: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                                   allow_nan=False, check_circular=False)

INT64_MAX: Final = 2**63 - 1
U32: Final = struct.Struct(">I")
TX_FRAME: Final = struct.Struct(">IB")  # body length, signature length
MAX_JSON_DEPTH: Final = 16
"""Deepest nesting any ledger document has (a snapshot's is 3); deeper input is refused
before the recursive standard decoder sees it."""


def canonical_json(value: Any) -> bytes:
    """Compact, key-sorted, ASCII-only JSON bytes."""
    return _ENCODER.encode(value).encode("ascii")


def parse_json(data: bytes) -> Any:
    """Parse JSON bytes; raise ``ValueError`` for anything that is not UTF-8 JSON.

    Why the depth check: the standard decoder recurses once per nesting level, so
    200,000 nested brackets would end in ``RecursionError``; nothing the ledger
    stores nests deeper than ``MAX_JSON_DEPTH``. Documents with few brackets (every
    header and transaction body) skip the scan.
    """
    if not isinstance(data, bytes | bytearray | memoryview | str):
        raise ValueError(f"expected JSON bytes, got {type(data).__name__}")
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if nests_deeper(raw, MAX_JSON_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(raw)
    except RecursionError as exc:  # defensive: the scan above already bounds the depth
        raise ValueError("JSON nested too deeply") from exc


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
