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


class ReplicaHandle:
    """One aggregator's view of a replica ledger."""

    def __init__(self, ledger: Ledger, owner: str) -> None:
        self.ledger = ledger
        self.owner = owner
        self.received = 0

    def receive(self, height: int, block_hash: str, block_bytes: bytes) -> None:
        """Verify and store a block (or confirm it equals the one already verified)."""
        try:
            block = self.ledger.apply_block(block_bytes)
        except LedgerError as exc:
            raise ReplicaRefusedError(
                f"{self.owner}: block {height} refused by the replica: {exc}") from exc
        if block.height != height or block.hash.hex() != block_hash:
            raise ReplicaRefusedError(
                f"{self.owner}: message says block {height} {block_hash}, its bytes are block "
                f"{block.height} {block.hash.hex()}")
        self.received += 1

    @property
    def head_hash(self) -> str:
        return self.ledger.head_hash


def make_replicas(genesis: bytes, owners: list[str], mode: ReplicaMode) -> list[ReplicaHandle]:
    """In-memory replicas for ``owners`` started from the trusted genesis block."""
    if mode == "shared":
        shared = Ledger.replica(":memory:", genesis, workers=0)
        return [ReplicaHandle(shared, owner) for owner in owners]
    return [ReplicaHandle(Ledger.replica(":memory:", genesis, workers=0), owner)
            for owner in owners]
