"""The replica's child process: ``python -m gridcoop.agents.runtime.replica_worker``
(started by the model).

Why a plain subprocess with pipes (not ``multiprocessing``): it starts the same
way from any parent (a script, a REPL, stdin, a test runner) without
re-importing the parent's main module, and it imports only the ledger.

Protocol on stdin: frames of ``>q64sI`` (height, claimed block hash as hex,
length) followed by that many bytes; the first frame (height -1) carries the
genesis block, a frame of length 0 ends the process. On stdout: one line of
JSON per block, ``{"height": h, "verdict": "" or why it was refused, "head": hex}``.

Why a file: the replica's chain lives in an SQLite file in a private temporary
folder (removed at the end), not in memory, so the process's memory stays
bounded however long the run; SQLite keeps only its page cache in memory.
"""

from __future__ import annotations

import json
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

HEADER = struct.Struct(">q64sI")


def read_frame(stream: BinaryIO) -> tuple[int, str, bytes] | None:
    """The next frame, or None at the end."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    height, claimed, length = HEADER.unpack(head)
    if not length:
        return None
    data = stream.read(length)
    if len(data) < length:
        return None
    return height, claimed.decode("ascii"), data


def check_block(replica: Any, height: int, claimed: str, data: bytes,
                errors: type[Exception]) -> str:
    """Verify and store one block on ``replica``; the reason it is refused, or "".

    A block at a height the replica already holds must be byte for byte the
    one it holds (the ledger would accept any block with the same header).
    """
    if 0 <= height <= replica.height:
        if replica.block(height).to_bytes() != data:
            return (f"block {height} differs from the block {height} this replica verified "
                    "(altered in transit?)")
        return ""
    try:
        block = replica.apply_block(data)
    except errors as exc:
        return f"block {height} refused by the replica: {exc}"
    if block.height != height or block.hash.hex() != claimed:
        return (f"the message says block {height} {claimed}, its bytes are block "
                f"{block.height} {block.hash.hex()}")
    return ""


def main() -> None:
    from gridcoop.ledger.errors import LedgerError
    from gridcoop.ledger.ledger import Ledger

    stdin = sys.stdin.buffer
    first = read_frame(stdin)
    if first is None:
        return
    with tempfile.TemporaryDirectory(prefix="gridcoop-replica-") as folder:
        # a scratch copy, removed at the end: an fsync at every block would buy nothing
        replica = Ledger.replica(Path(folder) / "replica.sqlite", first[2], workers=0,
                                 power_safe=False)
        print(json.dumps({"height": 0, "verdict": "", "head": replica.head_hash}), flush=True)
        while (frame := read_frame(stdin)) is not None:
            height, claimed, data = frame
            verdict = check_block(replica, height, claimed, data, LedgerError)
            print(json.dumps({"height": height, "verdict": verdict, "head": replica.head_hash}),
                  flush=True)
        replica.close()


if __name__ == "__main__":
    main()
