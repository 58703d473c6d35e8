"""Merkle trees over a block's transactions, and inclusion proofs.

Why these choices: leaves and inner nodes carry different prefixes (0x00 and
0x01) so a leaf can never pass for a node; an odd node is promoted unchanged to
the next level (never duplicated), so two different transaction lists cannot
share a root. A proof is the list of sibling hashes from leaf to root; with the
leaf's index and the header's transaction count, it is checked against the
header alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

EMPTY_ROOT = hashlib.sha256(b"gridcoop/empty").digest()


def leaf_hash(body: bytes, sig: bytes) -> bytes:
    """Hash of one transaction as stored: signature length, signature, body."""
    return hashlib.sha256(b"\x00" + bytes((len(sig),)) + sig + body).digest()


def _parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root of the tree over ``leaves`` (``EMPTY_ROOT`` for an empty block)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    sha = hashlib.sha256
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest()
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


@dataclass(frozen=True, slots=True)
class MerkleProof:
    """Evidence that the leaf at ``index`` is in a tree of ``count`` leaves."""

    index: int
    count: int
    siblings: tuple[bytes, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-able form, e.g. to hand to a member's app."""
        return {"index": self.index, "count": self.count,
                "siblings": [s.hex() for s in self.siblings]}


def merkle_proof(leaves: Sequence[bytes], index: int) -> MerkleProof:
    """The proof for ``leaves[index]``."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is outside a tree of {len(leaves)} leaves")
    siblings: list[bytes] = []
    level = list(leaves)
    position = index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            siblings.append(level[sibling])
        nxt = [_parent(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        position //= 2
    return MerkleProof(index, len(leaves), tuple(siblings))


def verify_proof(leaf: bytes, proof: MerkleProof, root: bytes) -> bool:
    """True when ``leaf`` sits at ``proof.index`` of the tree whose root is ``root``."""
    if not 0 <= proof.index < proof.count:
        return False
    node = leaf
    position, width = proof.index, proof.count
    remaining = list(proof.siblings)
    while width > 1:
        sibling = position ^ 1
        if sibling < width:
            if not remaining:
                return False
            other = remaining.pop(0)
            node = _parent(node, other) if position % 2 == 0 else _parent(other, node)
        position //= 2
        width = (width + 1) // 2
    return not remaining and node == root
