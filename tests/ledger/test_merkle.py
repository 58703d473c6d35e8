"""Merkle roots and inclusion proofs, checked against a block header alone."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.ledger import verify_inclusion, verify_proof
from gridcoop.ledger.block import seal_message
from gridcoop.ledger.identity import verify_signature
from gridcoop.ledger.merkle import EMPTY_ROOT, MerkleProof, leaf_hash, merkle_proof, merkle_root
from tests.ledger.conftest import Community


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(n)]


def test_small_trees_by_hand() -> None:
    a, b, c = _leaves(3)

    def node(x: bytes, y: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + x + y).digest()

    assert merkle_root([]) == EMPTY_ROOT
    assert merkle_root([a]) == a
    assert merkle_root([a, b]) == node(a, b)
    assert merkle_root([a, b, c]) == node(node(a, b), c)  # odd node promoted, not duplicated
    assert merkle_root([a, b, c]) != merkle_root([a, b, c, c])


@pytest.mark.parametrize("count", list(range(1, 34)))
def test_every_leaf_proves_and_nothing_else_does(count: int) -> None:
    leaves = _leaves(count)
    root = merkle_root(leaves)
    for index, leaf in enumerate(leaves):
        proof = merkle_proof(leaves, index)
        assert verify_proof(leaf, proof, root)
        assert not verify_proof(hashlib.sha256(leaf).digest(), proof, root)
        if count > 1:
            other = (index + 1) % count
            assert not verify_proof(leaf, MerkleProof(other, count, proof.siblings), root) \
                or leaves[other] == leaf
            tampered = (b"\x00" * 32, *proof.siblings[1:])
            assert not verify_proof(leaf, MerkleProof(index, count, tampered), root)


@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=70), st.data())
def test_proofs_hold_for_any_transactions(bodies: list[bytes], data: st.DataObject) -> None:
    leaves = [leaf_hash(body, b"") for body in bodies]
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = merkle_proof(leaves, index)
    assert verify_proof(leaves[index], proof, merkle_root(leaves))
    assert not verify_proof(leaf_hash(bodies[index] + b"!", b""), proof, merkle_root(leaves))


def test_leaf_commits_to_the_signature() -> None:
    assert leaf_hash(b"{}", b"") != leaf_hash(b"{}", b"\x00" * 64)


def test_a_member_checks_its_transaction_against_the_header(block_community: Community) -> None:
    c = block_community
    for amount in range(1, 8):
        c.wallet("alice").transfer(c.accounts["bob"], "eur_u", amount)
    block = c.book.seal_block(60)
    stx, proof, header = c.book.proof(block.height, 4)
    assert stx.tx.amount == 5  # type: ignore[union-attr]
    # the member needs only: the transaction, the proof, the header and the validator keys
    assert verify_inclusion(stx.body, stx.sig, proof, header)
    assert verify_proof(leaf_hash(stx.body, stx.sig), proof, header.merkle_root)
    assert proof.count == header.tx_count == 7
    assert not verify_inclusion(stx.body, stx.sig, MerkleProof(4, 8, proof.siblings), header)
    assert not verify_inclusion(stx.body + b" ", stx.sig, proof, header)
    seals = c.book.block(block.height).seals
    assert all(verify_signature(s.validator_key, s.signature, seal_message(header.hash))
               for s in seals)
    assert c.book.locate(stx.txid_hex) == (block.height, 4)
    assert proof.to_dict()["count"] == 7
