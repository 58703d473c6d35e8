"""Flip one byte anywhere in a stored block or transaction: ``verify`` names the block and why."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridcoop.ledger.block import BLOCK_VERSION, Block
from gridcoop.ledger.chain import check_link
from gridcoop.ledger.errors import BlockError
from gridcoop.ledger.signatures import SignatureVerifier
from gridcoop.ledger.storage import Store
from gridcoop.ledger.verify import VerifyReport, verify_store
from tests.ledger.conftest import build_community

TAMPERED_HEIGHT = 3


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Six blocks under ``full`` signing with a snapshot every 3 blocks."""
    path = tmp_path_factory.mktemp("tamper") / "ledger.sqlite"
    c = build_community(path, signing="full", snapshot_interval=3)
    for b in range(4):
        c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 100 + b)
        c.wallet("agg").reward(c.accounts["carol"], 2, "plugged in")
        c.book.seal_block(900 * (b + 1))
    assert c.book.height == 5
    c.book.close()
    yield path


def _verify(path: Path) -> VerifyReport:
    store = Store(path, readonly=True)
    try:
        return verify_store(store, SignatureVerifier(0))
    finally:
        store.close()


class _Flipper:
    """Flip a byte of a stored blob, run verify, and put the byte back."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous = OFF")

    def blob(self, table: str, column: str, height: int) -> bytes:
        value: bytes = self.db.execute(f"SELECT {column} FROM {table} WHERE height = ?",
                                       (height,)).fetchone()[0]
        return value

    def put(self, table: str, column: str, height: int, value: bytes) -> None:
        self.db.execute(f"UPDATE {table} SET {column} = ? WHERE height = ?", (value, height))

    def check(self, path: Path, table: str, column: str, height: int, position: int,
              mask: int) -> VerifyReport:
        original = self.blob(table, column, height)
        flipped = bytearray(original)
        flipped[position] ^= mask
        self.put(table, column, height, bytes(flipped))
        try:
            return _verify(path)
        finally:
            self.put(table, column, height, original)


def test_untouched_chain_verifies(chain: Path) -> None:
    report = _verify(chain)
    assert report.ok, report
    assert report.blocks == 6 and report.head_height == 5


@pytest.mark.parametrize(("table", "column"), [("blocks", "header"), ("blocks", "seals"),
                                               ("blocks", "hash"), ("blocks", "txs"),
                                               ("snapshots", "state")])
def test_every_byte_of_a_block_is_covered(chain: Path, table: str, column: str) -> None:
    flipper = _Flipper(chain)
    size = len(flipper.blob(table, column, TAMPERED_HEIGHT))
    rng = random.Random(f"{table}.{column}")
    # every byte of header, seals and hash; every 3rd byte of the larger blobs
    step = 1 if size <= 600 else 3
    reasons = set()
    for position in range(0, size, step):
        report = flipper.check(chain, table, column, TAMPERED_HEIGHT, position,
                               rng.randrange(1, 256))
        assert not report.ok, f"flip at {table}.{column}[{position}] went unnoticed"
        assert report.bad_height == TAMPERED_HEIGHT, report
        assert report.reason
        reasons.add(report.reason.split(":")[0])
    assert _verify(chain).ok
    assert reasons  # e.g. merkle root mismatch, seal does not verify, header cannot be parsed


def test_random_flips_anywhere_name_their_block(chain: Path) -> None:
    flipper = _Flipper(chain)
    rng = random.Random(20260101)
    for _ in range(60):
        height = rng.randrange(0, 6)
        column = rng.choice(["header", "seals", "txs", "hash"])
        size = len(flipper.blob("blocks", column, height))
        report = flipper.check(chain, "blocks", column, height, rng.randrange(size),
                               rng.randrange(1, 256))
        assert not report.ok and report.bad_height == height, (column, height, report)


def test_reasons_are_specific(chain: Path) -> None:
    flipper = _Flipper(chain)
    header = flipper.blob("blocks", "header", TAMPERED_HEIGHT)
    at = header.index(b'"time_s":') + len(b'"time_s":')
    report = flipper.check(chain, "blocks", "header", TAMPERED_HEIGHT, at, 0x02)  # 1800 -> 3800
    assert "stored hash column does not match" in report.reason
    txs = flipper.blob("blocks", "txs", TAMPERED_HEIGHT)
    at = txs.index(b'"amount":') + len(b'"amount":')
    report = flipper.check(chain, "blocks", "txs", TAMPERED_HEIGHT, at, 0x01)
    assert "merkle root mismatch" in report.reason
    report = flipper.check(chain, "blocks", "seals", TAMPERED_HEIGHT, 40, 0x01)
    assert "does not verify" in report.reason
    report = flipper.check(chain, "snapshots", "state", TAMPERED_HEIGHT, 10, 0x01)
    assert "snapshot" in report.reason
    str(report)  # the human form names the block
    assert f"block {TAMPERED_HEIGHT}" in str(report)


def test_missing_block_is_named(chain: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite"
    with sqlite3.connect(chain) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as db:
        db.execute("DELETE FROM blocks WHERE height = 2")
    report = _verify(copy)
    assert not report.ok and report.bad_height == 2 and "missing" in report.reason


def test_a_block_of_another_format_version_is_refused_as_such(tmp_path: Path) -> None:
    """A block written by another version (e.g. version 1, one row per Merkle leaf) is
    refused for its version, not reported as altered."""
    c = build_community(tmp_path / "ledger.sqlite")
    c.wallet("alice").transfer(c.accounts["bob"], "eur_u", 100)
    c.book.seal_block(900)
    genesis, block = list(c.book.blocks())[:2]
    old = Block(dataclasses.replace(block.header, version=1), block.header_bytes, block.seals,
                block.tx_section)
    with pytest.raises(BlockError, match=f"block version 1; this build reads version "
                                         f"{BLOCK_VERSION}"):
        check_link(old, genesis.header, genesis.hash, c.book.config)
    check_link(block, genesis.header, genesis.hash, c.book.config)  # the real one links
    c.book.close()
