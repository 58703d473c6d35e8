"""Replicas apply blocks given as bytes, verify them, and refuse tampered or forked blocks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gridcoop.ledger import (
    Block,
    BlockError,
    BlockHeader,
    ForkError,
    KeyPair,
    Ledger,
    MalformedBlockError,
    QuorumError,
    Seal,
    SignedTx,
)
from gridcoop.ledger.block import seal_message
from gridcoop.ledger.merkle import leaf_hash, merkle_root
from gridcoop.ledger.transactions import Transfer
from tests.ledger.conftest import Community, build_community


def _grow(c: Community, blocks: int) -> list[Block]:
    made = []
    for b in range(blocks):
        c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 10 + b)
        c.wallet("bob").transfer(c.accounts["carol"], "eur_u", 5)
        made.append(c.book.seal_block(c.book.head.header.time_s + 900))
    return made


def _replica(c: Community, path: Path) -> Ledger:
    replica = Ledger.replica(path, c.book.block(0).to_bytes(), workers=0)
    replica.apply_block(c.book.block(1).to_bytes())  # the community's registrations
    return replica


def _forge(c: Community, height: int, txs: list[SignedTx], keys: list[KeyPair],
           state_hash: bytes = b"") -> bytes:
    """A block on top of the writer's head, sealed by ``keys``."""
    prev = c.book.block(height - 1)
    header = BlockHeader(c.book.config.chain_id, height, prev.hash,
                         merkle_root([leaf_hash(t.body, t.sig) for t in txs]),
                         prev.header.time_s + 1, len(txs), state_hash)
    seals = [Seal(k.public_key, k.sign(seal_message(header.hash))) for k in keys]
    return Block.build(header, seals, txs).to_bytes()


def test_replica_follows_the_writer(community: Community, tmp_path: Path) -> None:
    c = community
    replica = _replica(c, tmp_path / "replica.sqlite")
    for block in _grow(c, 5):
        replica.apply_block(block.to_bytes())
    assert replica.head_hash == c.book.head_hash
    assert replica.balances() == c.book.balances()
    assert replica.apply_block(c.book.head.to_bytes()).hash == c.book.head.hash  # idempotent
    assert replica.verify().ok
    assert replica.profile(c.accounts["alice"]) is None  # the directory stays with the writer
    replica.close()
    with Ledger.replica(tmp_path / "replica.sqlite", c.book.block(0).to_bytes()) as again:
        assert again.head_hash == c.book.head_hash


def _synchronous(ledger: Ledger) -> int:
    row = ledger.store.db.execute("PRAGMA synchronous").fetchone()
    assert row is not None
    return int(row[0])


def test_a_scratch_replica_skips_the_fsync_at_every_block(community: Community,
                                                           tmp_path: Path) -> None:
    """``power_safe=False`` (the model's replica process, whose file is thrown away):
    SQLite's NORMAL (1) instead of FULL (2), when created and when reopened; the blocks
    verify all the same."""
    c = community
    genesis = c.book.block(0).to_bytes()
    with Ledger.replica(tmp_path / "safe.sqlite", genesis, workers=0) as safe:
        assert _synchronous(safe) == 2
    path = tmp_path / "scratch.sqlite"
    with Ledger.replica(path, genesis, workers=0, power_safe=False) as scratch:
        assert _synchronous(scratch) == 1
        for block in [c.book.block(1), *_grow(c, 3)]:
            scratch.apply_block(block.to_bytes())
        assert scratch.head_hash == c.book.head_hash
    with Ledger.replica(path, genesis, workers=0, power_safe=False) as again:
        assert _synchronous(again) == 1 and again.head_hash == c.book.head_hash


@pytest.mark.parametrize("section", ["header", "seals", "txs"])
def test_tampered_block_is_refused_with_the_reason(block_community: Community, tmp_path: Path,
                                                   section: str) -> None:
    c = block_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    block = _grow(c, 1)[0]
    wire = bytearray(block.to_bytes())
    header_start = 8
    seals_start = header_start + len(block.header_bytes) + 4
    txs_start = seals_start + len(block.seals_bytes()) + 4
    offset = {"header": header_start + 40, "seals": seals_start + 50,
              "txs": txs_start + 30}[section]
    wire[offset] ^= 0x01
    before = replica.state.to_snapshot()
    with pytest.raises(BlockError) as caught:
        replica.apply_block(bytes(wire))
    assert caught.value.reason
    assert replica.state.to_snapshot() == before and replica.height == 1
    replica.apply_block(block.to_bytes())  # the genuine block still applies
    assert replica.head_hash == c.book.head_hash


def test_altered_copy_of_a_block_already_held_is_refused(block_community: Community,
                                                         tmp_path: Path) -> None:
    c = block_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    block = _grow(c, 1)[0]
    replica.apply_block(block.to_bytes())
    wire = bytearray(block.to_bytes())
    txs_start = 8 + len(block.header_bytes) + 4 + len(block.seals_bytes()) + 4
    wire[txs_start + 30] ^= 0x01  # same header (and hash), one transaction byte changed
    with pytest.raises(BlockError, match="altered transactions"):
        replica.apply_block(bytes(wire))
    assert replica.head_hash == c.book.head_hash
    assert replica.apply_block(block.to_bytes()).hash == block.hash  # the genuine copy is fine


def test_forked_block_is_refused(block_community: Community, tmp_path: Path) -> None:
    c = block_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    c.book.close()
    twin_path = tmp_path / "twin.sqlite"
    shutil.copy(c.book.store.path, twin_path)
    c.book = Ledger.open(c.book.store.path, signers=[c.keys["market"]])
    twin = Ledger.open(twin_path, signers=[c.keys["market"]])
    ours = _grow(c, 1)[0]
    twin.wallet(c.accounts["carol"]).transfer(c.accounts["alice"], "eur_u", 99)
    theirs = twin.seal_block(10**6)
    replica.apply_block(ours.to_bytes())
    with pytest.raises(ForkError, match="conflicts with our block"):
        replica.apply_block(theirs.to_bytes())
    twin.wallet(c.accounts["carol"]).transfer(c.accounts["alice"], "eur_u", 1)
    with pytest.raises(ForkError, match="does not match block 2"):
        replica.apply_block(twin.seal_block(10**6 + 1).to_bytes())
    assert replica.head_hash == c.book.head_hash
    twin.close()


def test_gap_is_refused(block_community: Community, tmp_path: Path) -> None:
    c = block_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    blocks = _grow(c, 3)
    with pytest.raises(BlockError, match=r"apply blocks 2\.\.3 first"):
        replica.apply_block(blocks[2].to_bytes())


def test_block_sealed_by_an_outsider_or_below_quorum(block_community: Community,
                                                     tmp_path: Path) -> None:
    c = block_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    outsider = KeyPair.derive(b"elsewhere", "mallory")
    with pytest.raises(QuorumError, match="not a validator"):
        replica.apply_block(_forge(c, 2, [], [outsider]))
    with pytest.raises(QuorumError, match="quorum is 1"):
        replica.apply_block(_forge(c, 2, [], []))


def test_validly_sealed_block_with_an_invalid_transaction(block_community: Community,
                                                          tmp_path: Path) -> None:
    c = block_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    alice = c.accounts["alice"]
    overdraft = SignedTx.build(Transfer(alice, c.book.next_nonce(alice), c.accounts["bob"],
                                        "eur_u", 5_000_000, ""), c.book.config.chain_id)
    before = replica.state.to_snapshot()
    with pytest.raises(BlockError, match="transaction 0 is refused: InsufficientFundsError"):
        replica.apply_block(_forge(c, 2, [overdraft], [c.keys["market"]]))
    assert replica.state.to_snapshot() == before


def test_full_policy_replica_checks_issuer_signatures(full_community: Community,
                                                      tmp_path: Path) -> None:
    c = full_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    alice = c.accounts["alice"]
    tx = Transfer(alice, c.book.next_nonce(alice), c.accounts["bob"], "eur_u", 5, "")
    forged = SignedTx.build(tx, c.book.config.chain_id, c.keys["bob"])
    with pytest.raises(BlockError, match="InvalidSignatureError"):
        replica.apply_block(_forge(c, 2, [forged], [c.keys["market"]]))
    unsigned = SignedTx.build(tx, c.book.config.chain_id)
    with pytest.raises(BlockError, match="not signed"):
        replica.apply_block(_forge(c, 2, [unsigned], [c.keys["market"]]))


def test_replica_of_another_chain_is_refused(block_community: Community, tmp_path: Path) -> None:
    c = block_community
    path = tmp_path / "replica.sqlite"
    _replica(c, path).close()
    other = build_community(tmp_path / "other.sqlite", seed=b"other-community")
    with pytest.raises(ForkError, match="another chain"):
        Ledger.replica(path, other.book.block(0).to_bytes())
    other.book.close()


def test_garbage_is_refused_as_malformed(block_community: Community, tmp_path: Path) -> None:
    c = block_community
    replica = _replica(c, tmp_path / "replica.sqlite")
    good = _grow(c, 1)[0].to_bytes()
    for bad, why in [(b"", "magic"), (good[:-3], "truncated"), (good + b"\x00", "extra bytes")]:
        with pytest.raises(MalformedBlockError, match=why):
            replica.apply_block(bad)
