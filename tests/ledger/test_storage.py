"""Blocks in SQLite: sealing, reopening from an anchored snapshot, determinism, validators."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gridcoop.ledger import (
    BlockError,
    KeyPair,
    Ledger,
    QuorumError,
    StorageError,
)
from tests.ledger.conftest import SEED, Community, build_community


def _activity(c: Community, blocks: int, start_s: int = 3_600) -> None:
    """A deterministic mix of transactions over several blocks."""
    names = ["alice", "bob", "carol"]
    for b in range(blocks):
        for i, name in enumerate(names):
            c.wallet(name).transfer(c.accounts[names[(i + 1 + b % 2) % 3]], "eur_u", 100 + b)
        c.wallet("agg").reward(c.accounts[names[b % 3]], 5, "plugged in")
        c.wallet("meter").meter_attestation(c.accounts[names[b % 3]], b * 900, 900, 50, 0, b)
        c.book.seal_block(start_s + 3_600 * b)


def test_reopen_restores_state_and_continues(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    c = build_community(path, snapshot_interval=4)
    _activity(c, 10)
    head, balances, nonces = c.book.head_hash, c.book.balances(), dict(c.book.state.nonces)
    c.book.close()
    with Ledger.open(path, signers=[c.keys["market"]]) as again:
        assert again.head_hash == head
        assert again.balances() == balances
        assert again.state.nonces == nonces
        assert again.height == 11
        # the state came from the snapshot anchored at height 8, not from genesis
        assert again.loaded_snapshot_height == 8
        again.wallet(c.accounts["alice"]).transfer(c.accounts["bob"], "eur_u", 1)
        again.seal_block(100_000)
        assert again.verify().ok
        assert again.profile(c.accounts["alice"]).display_name == "Alice"  # type: ignore[union-attr]


def test_snapshot_not_matching_its_anchor_is_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    c = build_community(path, snapshot_interval=4)
    _activity(c, 5)
    c.book.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE snapshots SET state = replace(state, 'eur_u', 'eur_x') WHERE height=4")
    with pytest.raises(StorageError, match="snapshot at height 4"):
        Ledger.open(path)


def test_same_seed_and_times_give_the_same_head_hash(tmp_path: Path) -> None:
    heads = []
    for run in range(2):
        c = build_community(tmp_path / f"run{run}.sqlite")
        _activity(c, 6)
        heads.append(c.book.head_hash)
        c.book.close()
    assert heads[0] == heads[1]
    c = build_community(tmp_path / "later.sqlite")
    _activity(c, 6, start_s=3_601)  # one second later: another chain
    assert c.book.head_hash != heads[0]
    c.book.close()
    other = build_community(tmp_path / "other-seed.sqlite", seed=b"another-seed")
    _activity(other, 6)
    assert other.book.head_hash != heads[0]
    other.book.close()


def test_both_signing_policies_give_the_same_balances(tmp_path: Path) -> None:
    results = []
    for signing in ("block", "full"):
        c = build_community(tmp_path / f"{signing}.sqlite", signing=signing)
        _activity(c, 5)
        escrow = c.wallet("alice").escrow_lock(c.accounts["carol"], "eur_u", 777).txid_hex
        c.market.escrow_release(escrow, 700)
        c.book.seal_block(10**6)
        assert c.book.verify().ok
        results.append((c.book.balances(), dict(c.book.state.supply), c.book.head_hash))
        c.book.close()
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]
    assert results[0][2] != results[1][2]  # signatures are part of the chain under 'full'


def test_time_may_not_go_back_and_must_be_an_integer(block_community: Community) -> None:
    c = block_community
    c.book.seal_block(500)
    with pytest.raises(BlockError, match="time_s"):
        c.book.seal_block(499)
    with pytest.raises(BlockError, match="time_s"):
        c.book.seal_block(600.0)  # type: ignore[arg-type]
    c.book.seal_block(500)  # equal time is fine (several intervals per simulated second)


def test_validator_quorum(tmp_path: Path) -> None:
    market = KeyPair.derive(SEED, "market")
    ra1, ra2 = KeyPair.derive(SEED, "ra1"), KeyPair.derive(SEED, "ra2")
    with pytest.raises(QuorumError, match="quorum is 2"):
        Ledger.create(tmp_path / "a.sqlite", authority=market,
                      validators=[market, ra1.public_key, ra2.public_key], quorum=2)
    book = Ledger.create(tmp_path / "b.sqlite", authority=market,
                         validators=[market, ra1, ra2.public_key], quorum=2)
    assert book.config.quorum == 2 and len(book.config.validator_keys) == 3
    block = book.seal_block(0)
    assert len(block.seals) == 2
    book.close()
    # reopened without validator keys it can read, but not seal
    with Ledger.open(tmp_path / "b.sqlite") as reader, \
            pytest.raises(QuorumError, match="holds 0 validator"):
        reader.seal_block(1)
    with Ledger.open(tmp_path / "b.sqlite", signers=[market, ra2]) as writer:
        assert len(writer.seal_block(1).seals) == 2


def test_default_quorum_is_a_majority(tmp_path: Path) -> None:
    keys = [KeyPair.derive(SEED, f"v{i}") for i in range(4)]
    with Ledger.create(tmp_path / "m.sqlite", authority=keys[0], validators=keys) as book:
        assert book.config.quorum == 3


def test_files_and_modes(tmp_path: Path) -> None:
    market = KeyPair.derive(SEED, "market")
    path = tmp_path / "l.sqlite"
    Ledger.create(path, authority=market).close()
    with pytest.raises(StorageError, match="already exists"):
        Ledger.create(path, authority=market)
    with pytest.raises(StorageError, match="no ledger"):
        Ledger.open(tmp_path / "missing.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        Ledger.open(tmp_path / "junk.sqlite")
    with Ledger.open(path, readonly=True) as reader, \
            pytest.raises(StorageError, match="read-only"):
        reader.market.mint(market.account, "eur_u", 1)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_in_memory_ledger(tmp_path: Path) -> None:
    c = build_community(":memory:")
    _activity(c, 3)
    assert c.book.verify().ok
    c.book.close()


def test_discard_pending_rolls_back_to_the_head(block_community: Community) -> None:
    c = block_community
    before = c.book.state.to_snapshot()
    c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 10)
    c.market.open_listing("h1", 0, 3_600)
    assert c.book.discard_pending() == 2
    assert c.book.state.to_snapshot() == before
    assert c.book.seal_block(1).header.tx_count == 0


def test_personal_data_stays_off_the_chain(tmp_path: Path) -> None:
    c = build_community(tmp_path / "l.sqlite")
    chain = b"".join(block.to_bytes() for block in c.book.blocks())
    assert b"Alice" not in chain and b"alice@example.org" not in chain
    assert b"grid-alice" not in chain
    assert c.book.profile(c.accounts["alice"]).contact == "alice@example.org"  # type: ignore[union-attr]
    c.book.close()
