"""Ledger replicas held by the aggregators: every block from the bus is verified before it counts.

Three ways to hold them (``CommunityModel(replicas=...)``):

* ``shared``: aggregators in one process share one in-memory replica. It
  verifies each block fully (links, seals, Merkle root, every transaction's
  rules and, under ``full`` signing, every signature); every other aggregator
  checks that the block it received is byte for byte the verified one.
* ``per_aggregator``: each aggregator verifies every block on its own replica,
  as when each runs on its own machine.
* ``process``: the shared replica lives in a child process; aggregators hand it
  the blocks they received and the model goes on while it verifies (on another
  core). Refusals surface at the next step; ``finish`` waits for the last
  verdict and checks the replica's head equals the writer's.
* ``auto``: ``process`` for 200 members or more, else ``shared``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import struct
from multiprocessing.connection import Connection
from typing import Any, Literal

from ledger.errors import LedgerError
from ledger.ledger import Ledger

ReplicaMode = Literal["auto", "shared", "per_aggregator", "process"]
REPLICA_MODES = ("auto", "shared", "per_aggregator", "process")
AUTO_PROCESS_MEMBERS = 200
_HEAD = struct.Struct(">q64s")


class ReplicaRefusedError(RuntimeError):
    """A block from the bus did not verify on a replica: the chain or the bus is corrupt."""


class _Verified:
    """The last block a shared replica was given, to recognise the same bytes again."""

    __slots__ = ("block_bytes", "height")

    def __init__(self) -> None:
        self.height = -1
        self.block_bytes = b""


class LocalReplica:
    """A replica ledger in this process."""

    def __init__(self, genesis: bytes) -> None:
        self.ledger = Ledger.replica(":memory:", genesis, workers=0)

    def verify(self, owner: str, height: int, block_hash: str, block_bytes: bytes) -> None:
        try:
            block = self.ledger.apply_block(block_bytes)
        except LedgerError as exc:
            raise ReplicaRefusedError(f"{owner}: block {height} refused by the replica: "
                                      f"{exc}") from exc
        if block.height != height or block.hash.hex() != block_hash:
            raise ReplicaRefusedError(
                f"{owner}: the message says block {height} {block_hash}, its bytes are block "
                f"{block.height} {block.hash.hex()}")

    def check(self) -> None:
        """Nothing is pending in this process."""

    def head_hash(self) -> str:
        return self.ledger.head_hash

    def close(self) -> None:
        self.ledger.close()


def _serve(conn: Connection, genesis: bytes) -> None:
    """Child process: verify blocks in order, answer each with its height and the verdict."""
    replica = Ledger.replica(":memory:", genesis, workers=0)
    while True:
        data = conn.recv_bytes()
        if not data:
            break
        height, claimed = _HEAD.unpack_from(data)
        try:
            block = replica.apply_block(data[_HEAD.size:])
            if block.height != height or block.hash.hex() != claimed.decode():
                verdict = (f"the message says block {height} {claimed.decode()}, its bytes "
                           f"are block {block.height} {block.hash.hex()}")
            else:
                verdict = ""
        except LedgerError as exc:
            verdict = f"block {height} refused by the replica: {exc}"
        conn.send((height, verdict, replica.head_hash))
    replica.close()
    conn.close()


class ProcessReplica:
    """The shared replica, verifying in a child process while the model runs."""

    def __init__(self, genesis: bytes) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, genesis),
                                        name="gridcoop-replica", daemon=True)
        self._process.start()
        child.close()
        self._sent = 0
        self._answered = 0
        self._head = ""
        self._owner = ""

    def verify(self, owner: str, height: int, block_hash: str, block_bytes: bytes) -> None:
        self._owner = owner
        self._conn.send_bytes(_HEAD.pack(height, block_hash.encode()) + block_bytes)
        self._sent += 1
        self.check()

    def check(self, wait: bool = False) -> None:
        """Collect verdicts (all of them when ``wait``); raise on the first refusal."""
        while self._answered < self._sent and (wait or self._conn.poll()):
            try:
                _height, verdict, head = self._conn.recv()
            except EOFError:
                raise ReplicaRefusedError("the replica process died; see its error above") \
                    from None
            self._answered += 1
            self._head = head
            if verdict:
                raise ReplicaRefusedError(f"{self._owner}: {verdict}")

    def head_hash(self) -> str:
        self.check(wait=True)
        return self._head

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send_bytes(b"")
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.terminate()
        self._conn.close()


Replica = LocalReplica | ProcessReplica


class ReplicaHandle:
    """One aggregator's replica: verifies the blocks it receives from the bus."""

    def __init__(self, replica: Replica, owner: str, verified: _Verified | None = None) -> None:
        self.replica = replica
        self.owner = owner
        self.received = 0
        self._verified = verified if verified is not None else _Verified()

    def receive(self, height: int, block_hash: str, block_bytes: bytes) -> None:
        """Verify a block (or confirm it is the very block already handed to the replica)."""
        last = self._verified
        if not (height == last.height and block_bytes == last.block_bytes):
            self.replica.verify(self.owner, height, block_hash, block_bytes)
            last.height, last.block_bytes = height, block_bytes
        else:
            self.replica.check()
        self.received += 1

    @property
    def head_hash(self) -> str:
        """The replica's head after every block handed to it was verified."""
        return self.replica.head_hash()


def make_replicas(genesis: bytes, owners: list[str], mode: str,
                  members: int) -> tuple[list[ReplicaHandle], list[Any]]:
    """Replica handles for ``owners`` and the replicas behind them (to close at the end)."""
    if mode not in REPLICA_MODES:
        raise ValueError(f"replicas={mode!r}: use one of {', '.join(REPLICA_MODES)}")
    if mode == "auto":
        mode = "process" if members >= AUTO_PROCESS_MEMBERS else "shared"
    if mode == "per_aggregator":
        replicas = [LocalReplica(genesis) for _ in owners]
        return [ReplicaHandle(r, o) for r, o in zip(replicas, owners, strict=True)], replicas
    shared: Replica = ProcessReplica(genesis) if mode == "process" else LocalReplica(genesis)
    verified = _Verified()
    return [ReplicaHandle(shared, owner, verified) for owner in owners], [shared]
