"""The live journal's keys and restart check: random keys in a 0600 key store, and a restart
that verifies seals and Merkle roots since the last checkpoint before it appends."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.experiments.live.journal import Interval, JournalError, LiveJournal
from gridcoop.ledger import KeyPair, Ledger, Member
from gridcoop.ledger.envelope import SignedTx, decode_body, encode_body
from gridcoop.ledger.transactions import MeterAttestation

NODES = ["a", "b"]
INTERVAL_S = 60
STEPS = 3


def _journal(path: Path) -> LiveJournal:
    return LiveJournal(path, nodes=NODES, name="trust", epoch_s=0, interval_s=INTERVAL_S)


def _record(path: Path, steps: int = STEPS) -> int:
    journal = _journal(path)
    try:
        for step in range(journal.next_step, journal.next_step + steps):
            start = step * INTERVAL_S
            txs = [journal.measured(Interval(n, start, INTERVAL_S, 10 + step, 0, step + 1))
                   for n in NODES]
            journal.commit_step(txs, start + INTERVAL_S)
        return journal.ledger.height
    finally:
        journal.close()


def _sql(path: Path, sql: str, *args: object) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql, args)


def _blob(path: Path, column: str, height: int) -> bytes:
    with sqlite3.connect(path) as db:
        value: bytes = db.execute(f"SELECT {column} FROM blocks WHERE height = ?",
                                  (height,)).fetchone()[0]
    return value


def test_keys_are_random_private_files_and_reused_on_restart(tmp_path: Path) -> None:
    head = _record(tmp_path / "one" / "live.sqlite")
    _record(tmp_path / "two" / "live.sqlite", 1)
    store = tmp_path / "one" / "keys"
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    files = sorted(p.name for p in store.iterdir())
    assert "market.pem" in files and "meter__a.pem" in files and len(files) == 3 + 2 * len(NODES)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in store.iterdir())
    one = KeyPair.load(store / "market.pem")
    assert one.account != KeyPair.load(tmp_path / "two" / "keys" / "market.pem").account
    again = _journal(tmp_path / "one" / "live.sqlite")  # same keys, same accounts
    assert again.ledger.height == head and again.authority_keys.account == one.account
    again.close()


def test_a_readable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    _record(path, 1)
    (tmp_path / "keys" / "meter__b.pem").chmod(0o644)
    with pytest.raises(JournalError, match="accessible by other users"):
        _journal(path)


def test_restart_refuses_a_flipped_seal_byte_in_the_head(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    head = _record(path)
    seals = bytearray(_blob(path, "seals", head))
    seals[50] ^= 0x01
    _sql(path, "UPDATE blocks SET seals = ? WHERE height = ?", bytes(seals), head)
    with pytest.raises(JournalError, match=f"does not verify at block {head}: .*seal"):
        _journal(path)
    with Ledger.open(path, readonly=True, workers=0) as book:
        assert book.height == head  # nothing was appended on top


def test_restart_refuses_an_altered_transaction_and_deleted_blocks(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    head = _record(path)
    original = _blob(path, "txs", head)
    txs = bytearray(original)
    txs[-5] ^= 0x01
    _sql(path, "UPDATE blocks SET txs = ? WHERE height = ?", bytes(txs), head)
    with pytest.raises(JournalError, match=f"block {head}: merkle root mismatch"):
        _journal(path)
    _sql(path, "UPDATE blocks SET txs = ? WHERE height = ?", original, head)
    _sql(path, "DELETE FROM blocks WHERE height = ?", head)
    with pytest.raises(JournalError, match=f"at block {head}: missing"):
        _journal(path)


def test_restart_after_a_clean_stop_appends(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    first = _record(path)
    assert _record(path) == first + STEPS
    result = CliRunner().invoke(main, ["ledger", "verify", "--workers", "0", "--checkpoint",
                                       str(path) + ".checkpoint", str(path)])
    assert result.exit_code == 0, result.output


def test_a_reading_re_signed_with_a_seed_derived_key_does_not_verify(tmp_path: Path) -> None:
    """The attack of the trust issue: +500 kWh on a measured reading, re-signed with the key
    the old code derived from the config's name and seed."""
    path = tmp_path / "live.sqlite"
    head = _record(path)
    with Ledger.open(path, readonly=True, workers=0) as book:
        block = book.block(head)
    body, _sig = block.frames()[0]
    tx = decode_body(body)
    assert isinstance(tx, MeterAttestation)
    derived, _ = Member.from_seed(b"gridcoop-live/trust/0", "meter/a", "meter/a", "", "meter")
    forged = MeterAttestation(tx.issuer, tx.nonce, tx.subject, tx.interval_start_s,
                              tx.interval_s, tx.import_wh + 500_000, tx.export_wh, tx.counter)
    stx = SignedTx.build(forged, block.header.chain_id,
                         KeyPair.derive(b"gridcoop-live/trust/0", "member/meter/a"))
    assert encode_body(forged) == stx.body and derived.public_key != b""
    section = stx.to_bytes() + block.tx_section[len(body) + 64 + 5:]
    _sql(path, "UPDATE blocks SET txs = ? WHERE height = ?", section, head)
    result = CliRunner().invoke(main, ["ledger", "verify", "--workers", "0", str(path)])
    assert result.exit_code == 1 and f"INVALID at block {head}" in result.output
