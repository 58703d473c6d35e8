"""Ledger replicas held by the aggregators: every block from the bus is verified before it counts.

Why a shared mode: aggregators that live in the same process would verify the
same bytes against the same state; with ``shared`` one replica per process
verifies each block fully (links, seals, Merkle root, every transaction's
rules and, under ``full`` signing, every signature) and the other aggregators
of that process check the block they received is byte for byte the verified
one (same hash at the same height). ``per_aggregator`` gives each aggregator
its own full replica, as when each runs in its own process.
"""

from __future__ import annotations

from typing import Literal

from ledger.errors import LedgerError
from ledger.ledger import Ledger

ReplicaMode = Literal["shared", "per_aggregator"]


class ReplicaRefusedError(RuntimeError):
    """A block from the bus did not verify on a replica: the chain or the bus is corrupt."""


class _Verified:
    """The last block a shared replica verified, to recognise the same bytes again."""

    __slots__ = ("block_bytes", "height")

    def __init__(self) -> None:
        self.height = -1
        self.block_bytes = b""


class ReplicaHandle:
    """One aggregator's view of a replica ledger."""

    def __init__(self, ledger: Ledger, owner: str, verified: _Verified | None = None) -> None:
        self.ledger = ledger
        self.owner = owner
        self.received = 0
        self._verified = verified if verified is not None else _Verified()

    def receive(self, height: int, block_hash: str, block_bytes: bytes) -> None:
        """Verify and store a block (or confirm it equals the one already verified)."""
        last = self._verified
        if height == last.height and block_bytes == last.block_bytes:
            if self.ledger.head_hash != block_hash:
                raise ReplicaRefusedError(f"{self.owner}: block {height} says hash {block_hash}, "
                                          f"the verified block has {self.ledger.head_hash}")
            self.received += 1
            return
        try:
            block = self.ledger.apply_block(block_bytes)
        except LedgerError as exc:
            raise ReplicaRefusedError(
                f"{self.owner}: block {height} refused by the replica: {exc}") from exc
        if block.height != height or block.hash.hex() != block_hash:
            raise ReplicaRefusedError(
                f"{self.owner}: message says block {height} {block_hash}, its bytes are block "
                f"{block.height} {block.hash.hex()}")
        last.height, last.block_bytes = height, block_bytes
        self.received += 1

    @property
    def head_hash(self) -> str:
        return self.ledger.head_hash


def make_replicas(genesis: bytes, owners: list[str], mode: ReplicaMode) -> list[ReplicaHandle]:
    """In-memory replicas for ``owners`` started from the trusted genesis block."""
    if mode == "shared":
        shared = Ledger.replica(":memory:", genesis, workers=0)
        verified = _Verified()
        return [ReplicaHandle(shared, owner, verified) for owner in owners]
    return [ReplicaHandle(Ledger.replica(":memory:", genesis, workers=0), owner)
            for owner in owners]
