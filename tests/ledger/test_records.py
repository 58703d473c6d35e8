"""Columnar records: one auction, one settlement interval, each row provable and checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridcoop.ledger import (
    BlockError,
    DoubleSaleError,
    EscrowError,
    InsufficientFundsError,
    Ledger,
    ListingError,
    MalformedTransactionError,
    RoleError,
    SettlementError,
    SignedTx,
    UnknownMemberError,
)
from gridcoop.ledger.block import Block, verify_inclusion
from gridcoop.ledger.columns import (
    BILL_ROW,
    ORDER_ROW,
    SETTLE_ROW,
    TRADE_ROW,
    RowProof,
    head_of,
    pack_rows,
    row_proof,
    rows_root,
    verify_row,
)
from gridcoop.ledger.envelope import decode_body, encode_body
from gridcoop.ledger.transactions import (
    GRID_ACCOUNT,
    AuctionRecord,
    BillingRecord,
    SettlementRecord,
)
from tests.ledger.conftest import OPENING_EUR_U, Community

A, B = "a" * 32, "b" * 32
AUCTION = AuctionRecord(A, 3, "a000001", 3_600, 7_200,
                        pack_rows(ORDER_ROW, [(A, 0, 500, 80_000), (B, 1, 400, 90_000)]),
                        pack_rows(TRADE_ROW, [(A, B, 400, 85_000)]))
RECORD_EXAMPLES: list[AuctionRecord | SettlementRecord | BillingRecord] = [
    AUCTION, SettlementRecord(A, 4, "d" * 64, 95_000, pack_rows(SETTLE_ROW, [(350, 50)])),
    BillingRecord(A, 5, "day 0", pack_rows(BILL_ROW, [(B, 0, 700, 140_000, 0, 0, 7_000, 300)]))]


@pytest.mark.parametrize("tx", RECORD_EXAMPLES, ids=lambda tx: tx.kind)
def test_a_record_is_a_canonical_head_then_its_rows(
        tx: AuctionRecord | SettlementRecord | BillingRecord) -> None:
    body = encode_body(tx)
    head = head_of(body)
    assert body[len(head):len(head) + 1] == b"\n" and b"\n" not in head
    assert decode_body(body) == tx
    stx = SignedTx(tx, body)
    assert len(stx.txid_hex) == 64 and stx.head == head  # the txid and signature cover the head


def test_an_altered_or_truncated_row_is_refused() -> None:
    body = encode_body(AUCTION)
    altered = body[:-1] + bytes([body[-1] ^ 1])
    with pytest.raises(MalformedTransactionError, match="Merkle root"):
        decode_body(altered)
    with pytest.raises(MalformedTransactionError, match="truncated"):
        decode_body(body[:-3])
    with pytest.raises(MalformedTransactionError, match="after the last column"):
        decode_body(body + b"\x00")
    with pytest.raises(MalformedTransactionError, match="needs its columns"):
        decode_body(head_of(body))


def test_each_row_is_proven_by_the_root_in_the_head() -> None:
    tx = AUCTION
    proof = row_proof(tx.orders, ORDER_ROW, 1)
    head = decode_body(encode_body(tx))
    assert isinstance(head, AuctionRecord)
    root = bytes.fromhex(json.loads(head_of(encode_body(tx)))["orders_root"])
    row = tx.orders[ORDER_ROW.size:]
    assert verify_row(row, proof, root)
    assert not verify_row(row[:-1] + b"\x01", proof, root)


def test_a_row_past_the_first_leaf_is_proven_with_its_leaf_rows() -> None:
    rows = pack_rows(SETTLE_ROW, [(i, 1) for i in range(70)])  # leaves of 32, 32 and 6 rows
    root = rows_root(rows, SETTLE_ROW)
    proof = row_proof(rows, SETTLE_ROW, 65)
    assert proof.offset == 1 and len(proof.leaf_rows) == 6 * SETTLE_ROW.size
    assert proof.path.index == 2 and proof.path.count == 3
    assert verify_row(SETTLE_ROW.pack(65, 1), proof, root)
    assert not verify_row(SETTLE_ROW.pack(64, 1), proof, root)  # another row of the same leaf
    forged = RowProof(SETTLE_ROW.pack(66, 1) * 6, 0, proof.path)  # rows not in the column
    assert not verify_row(SETTLE_ROW.pack(66, 1), forged, root)
    assert rows_root(rows[:-1] + b"\x02", SETTLE_ROW) != root


def _auction(c: Community, listing: str, trades: list[tuple[str, str, int, int]],
             orders: list[tuple[str, int, int, int]] | None = None) -> SignedTx:
    acc = c.accounts
    if orders is None:
        orders = [(acc[s], 0, wh, 80_000) for s, _, wh, _ in trades] + \
                 [(acc[b], 1, wh, 99_000) for _, b, wh, _ in trades]
    rows = [(acc[s], acc[b], wh, price) for s, b, wh, price in trades]
    return c.market.auction(listing, 3_600, 7_200, pack_rows(ORDER_ROW, orders),
                            pack_rows(TRADE_ROW, rows))


def test_an_auction_locks_payments_and_its_settlement_pays_refunds_and_bills(
        community: Community) -> None:
    c = community
    record = _auction(c, "a000001", [("alice", "bob", 500, 80_000), ("carol", "bob", 300,
                                                                       90_000)])
    assert c.balance("bob") == OPENING_EUR_U - 40_000 - 27_000
    assert c.book.state.listings["a000001"].state == "CLEARED"
    c.book.seal_block(3_600)
    # alice delivered 400 of 500 Wh; bob took the 100 Wh short from the grid at 0.1 EUR/kWh
    c.market.settlement(record.txid_hex, 100_000, pack_rows(SETTLE_ROW, [(400, 100), (300, 0)]))
    assert c.balance("alice") == OPENING_EUR_U + 32_000
    assert c.balance("carol") == OPENING_EUR_U + 27_000
    assert c.balance("bob") == OPENING_EUR_U - 32_000 - 27_000 - 10_000
    assert c.book.balance(GRID_ACCOUNT) == 10_000
    with pytest.raises(EscrowError, match="already settled"):  # no double settlement
        c.market.settlement(record.txid_hex, 100_000, pack_rows(SETTLE_ROW, [(0, 0), (0, 0)]))
    c.book.seal_block(7_200)
    assert c.book.verify().ok


@pytest.mark.parametrize(("trades", "orders", "error", "why"), [
    ([("alice", "bob", 600, 80_000)], [("alice", 0, 500, 1), ("bob", 1, 600, 1)],
     DoubleSaleError, "500 Wh left unsold"),
    ([("alice", "bob", 500, 80_000)], [("alice", 0, 500, 1), ("bob", 1, 400, 1)],
     ListingError, "400 Wh left unmatched"),
    ([("alice", "bob", 500, 4_000_000)], None, InsufficientFundsError, "balance may not go"),
    ([("alice", "alice", 500, 80_000)], None, MalformedTransactionError, "seller and buyer"),
    ([], [("meter", 0, 500, 1)], RoleError, "only members and aggregators"),
])
def test_a_bad_auction_is_refused_whole(block_community: Community,
                                        trades: list[tuple[str, str, int, int]],
                                        orders: list[tuple[str, int, int, int]] | None,
                                        error: type[Exception], why: str) -> None:
    c = block_community
    before = c.book.balances()
    book = None if orders is None else [(c.accounts[a], s, wh, p) for a, s, wh, p in orders]
    with pytest.raises(error, match=why):
        _auction(c, "a000002", trades, book)
    assert c.book.balances() == before and "a000002" not in c.book.state.listings
    assert c.book.pending_count == 0


def test_an_order_of_an_unknown_account_and_a_reused_listing_are_refused(
        block_community: Community) -> None:
    c = block_community
    with pytest.raises(UnknownMemberError, match="not registered"):
        c.market.auction("a000003", 0, 3_600, pack_rows(ORDER_ROW, [("f" * 32, 0, 5, 1)]), b"")
    _auction(c, "a000003", [("alice", "bob", 5, 80_000)])
    with pytest.raises(ListingError, match="already exists"):
        _auction(c, "a000003", [("alice", "bob", 5, 80_000)])


def test_a_settlement_that_overdraws_or_over_delivers_is_refused(
        block_community: Community) -> None:
    c = block_community
    record = _auction(c, "a000004", [("alice", "bob", 500, 80_000)])
    with pytest.raises(SettlementError, match="501 Wh delivered"):
        c.market.settlement(record.txid_hex, 1, pack_rows(SETTLE_ROW, [(501, 0)]))
    with pytest.raises(SettlementError, match="1 trades; the settlement has 2"):
        c.market.settlement(record.txid_hex, 1, pack_rows(SETTLE_ROW, [(5, 0), (5, 0)]))
    with pytest.raises(InsufficientFundsError, match="top it up"):
        c.market.settlement(record.txid_hex, 10**10, pack_rows(SETTLE_ROW, [(0, 500)]))
    c.market.settlement(record.txid_hex, 1, pack_rows(SETTLE_ROW, [(500, 0)]))


def test_a_replica_applies_records_and_refuses_an_altered_row(tmp_path: Path,
                                                             community: Community) -> None:
    c = community
    record = _auction(c, "a000005", [("alice", "bob", 500, 80_000)])
    block = c.book.seal_block(3_600)
    c.market.settlement(record.txid_hex, 1, pack_rows(SETTLE_ROW, [(500, 0)]))
    last = c.book.seal_block(7_200)
    stx, proof, header = c.book.proof(block.height, 0)
    assert verify_inclusion(stx.body, stx.sig, proof, header)
    replica = Ledger.replica(tmp_path / "replica.sqlite", c.book.block(0).to_bytes())
    for height in range(1, block.height):
        replica.apply_block(c.book.block(height).to_bytes())
    wire = block.to_bytes()
    at = wire.index(b"\n", wire.index(b'"kind":"auction"')) + 20  # inside the first order row
    tampered = wire[:at] + bytes([wire[at] ^ 0x40]) + wire[at + 1:]
    with pytest.raises(BlockError, match="Merkle root"):
        replica.apply_block(Block.from_bytes(tampered))
    replica.apply_block(wire)
    replica.apply_block(last.to_bytes())
    assert replica.head_hash == c.book.head_hash
    replica.close()
