"""The column rules against a row-by-row reference: same balances, or the same refusal at
the same row (hypothesis)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridcoop.ledger import LedgerError
from gridcoop.ledger.columns import ORDER_ROW, SETTLE_ROW, TRADE_ROW, pack_rows
from gridcoop.ledger.record_rules import _changes, _changes_by_row, _spend, _spend_by_row
from gridcoop.ledger.state import AuctionEscrow, MemberRecord
from gridcoop.ledger.transactions import AuctionRecord, SettlementRecord
from gridcoop.units import payment_ueur, released_ueur
from tests.ledger.conftest import OPENING_EUR_U, build_community

NAMES = ("alice", "bob", "carol")
PARTIES = (*NAMES, "zero")
order = st.tuples(st.sampled_from(NAMES), st.integers(0, 1), st.integers(1, 600),
                  st.integers(0, 3_000_000))
trade = st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES), st.integers(1, 600),
                  st.integers(0, 3_000_000))


def _reference(orders: list[tuple[str, int, int, int]],
               trades: list[tuple[str, str, int, int]]) -> tuple[str, int] | dict[str, int]:
    """What the row-by-row rules did: the refusal's kind and row, or each buyer's payment."""
    offered: dict[str, int] = {}
    wanted: dict[str, int] = {}
    for name, side, wh, _ in orders:
        book = wanted if side else offered
        book[name] = book.get(name, 0) + wh
    spend: dict[str, int] = {}
    for index, (seller, buyer, wh, price) in enumerate(trades):
        if seller == buyer:
            return "MalformedTransactionError", index
        if offered.get(seller, 0) < wh:
            return "DoubleSaleError", index
        offered[seller] -= wh
        if wanted.get(buyer, 0) < wh:
            return "ListingError", index
        wanted[buyer] -= wh
        spend[buyer] = spend.get(buyer, 0) + payment_ueur(wh, price)
    if any(amount > OPENING_EUR_U for amount in spend.values()):
        return "InsufficientFundsError", -1
    return spend


@settings(max_examples=60, deadline=None)
@given(st.lists(order, min_size=1, max_size=8), st.lists(trade, max_size=8),
       st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600)), min_size=8, max_size=8))
def test_an_auction_and_its_settlement_match_the_row_by_row_rules(
        orders: list[tuple[str, int, int, int]], trades: list[tuple[str, str, int, int]],
        delivery: list[tuple[int, int]]) -> None:
    c = build_community(":memory:")
    acc = c.accounts
    expected = _reference(orders, trades)
    try:
        record = c.market.auction("a000001", 0, 3_600,
                                  pack_rows(ORDER_ROW, [(acc[n], *rest) for n, *rest in orders]),
                                  pack_rows(TRADE_ROW, [(acc[s], acc[b], wh, p)
                                                        for s, b, wh, p in trades]))
    except LedgerError as exc:
        assert isinstance(expected, tuple), exc
        kind, row = expected
        assert type(exc).__name__ == kind
        if row >= 0:
            assert re.match(rf"trade {row} of", str(exc)), exc
        return
    assert isinstance(expected, dict)
    assert {n: OPENING_EUR_U - c.balance(n) for n in NAMES} == \
        {n: expected.get(n, 0) for n in NAMES}
    # settle: each trade delivers part, the buyer takes part of the rest from the grid
    rows = [(min(d, wh), min(s, wh - min(d, wh))) for (d, s), (_, _, wh, _) in
            zip(delivery, trades, strict=False)]
    before = {n: c.balance(n) for n in NAMES}
    if not trades:
        return
    c.market.settlement(record.txid_hex, 250_000, pack_rows(SETTLE_ROW, rows))
    change = dict.fromkeys(NAMES, 0)
    for (seller, buyer, wh, price), (delivered, short) in zip(trades, rows, strict=True):
        amount = payment_ueur(wh, price)
        paid = released_ueur(amount, delivered, wh)
        change[seller] += paid
        change[buyer] += amount - paid - payment_ueur(short, 250_000)
    assert {n: c.balance(n) - before[n] for n in NAMES} == change


# --- the column path against the row path, over the whole int64 range -------------------

WIDE = st.integers(-2**63, 2**63 - 1)
wide_order = st.tuples(st.sampled_from(PARTIES), st.integers(0, 2), WIDE, WIDE)
wide_trade = st.tuples(st.sampled_from(PARTIES), st.sampled_from(PARTIES), WIDE, WIDE)
ZERO_ENDED = bytes(16)
"""An account whose raw bytes end in zeros (read as ``S16`` they would lose them)."""


def _outcome(rule: Callable[..., Any], *args: Any) -> Any:
    """What a rule returns, or the kind and message of its refusal."""
    try:
        return rule(*args)
    except LedgerError as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=200, deadline=None)
@given(st.lists(wide_order, max_size=6), st.lists(wide_trade, max_size=6),
       st.lists(st.tuples(WIDE, WIDE), min_size=6, max_size=6), WIDE,
       st.sampled_from(["member", "meter", None]))
def test_the_column_rules_agree_with_the_row_rules_for_any_values(
        orders: list[tuple[str, int, int, int]], trades: list[tuple[str, str, int, int]],
        delivery: list[tuple[int, int]], grid_price: int, zero_role: str | None) -> None:
    """Same totals (in Python integers past 2**63), or the same refusal at the same row."""
    c = build_community(":memory:")
    state = c.book.state
    if zero_role is not None:
        state.members[ZERO_ENDED.hex()] = MemberRecord(bytes(32), zero_role, "", "")
    raw = {**{n: bytes.fromhex(c.accounts[n]) for n in NAMES}, "zero": ZERO_ENDED}
    record = AuctionRecord(
        c.accounts["market"], 0, "a1", 0, 3_600,
        b"".join(ORDER_ROW.pack(raw[n], side, e, p) for n, side, e, p in orders),
        b"".join(TRADE_ROW.pack(raw[s], raw[b], e, p) for s, b, e, p in trades))
    spend = _outcome(_spend, state, record)
    assert spend == _outcome(_spend_by_row, state, record)
    if not isinstance(spend, dict):
        return  # only an accepted auction leaves an escrow to settle
    settle = SettlementRecord(c.accounts["market"], 1, "e1", grid_price,
                              b"".join(SETTLE_ROW.pack(*row) for row in delivery[:len(trades)]))
    escrow = AuctionEscrow(c.accounts["market"], record.trades)
    assert _outcome(_changes, escrow, settle) == _outcome(_changes_by_row, escrow, settle)


valid_trade = st.tuples(st.sampled_from(PARTIES), st.sampled_from(PARTIES),
                        st.integers(1, 2**62), st.integers(0, 2**63 - 1)).filter(
    lambda t: t[0] != t[1])


@settings(max_examples=200, deadline=None)
@example(trades=[("alice", "bob", 2**31, 2**31)], delivery=[(True, 2**31, 0)] * 6,
         grid_price=0, zero_role=None, row_missing=False)  # amount x delivered past 2**63
@example(trades=[("alice", "bob", 2**62, 1), ("alice", "carol", 2**62, 1)],
         delivery=[(True, 0, 0)] * 6, grid_price=0, zero_role=None,
         row_missing=False)  # a seller's offers past 2**63 Wh
@given(st.lists(valid_trade, min_size=1, max_size=6),
       st.lists(st.tuples(st.booleans(), WIDE, WIDE), min_size=6, max_size=6),
       st.integers(0, 2**63 - 1), st.sampled_from(["member", "meter", None]), st.booleans())
def test_accepted_auctions_and_their_settlements_agree_with_the_row_rules(
        trades: list[tuple[str, str, int, int]], delivery: list[tuple[bool, int, int]],
        grid_price: int, zero_role: str | None, row_missing: bool) -> None:
    """Books that cover their trades, settled with valid or wild rows (or one row
    short): the same either way."""
    c = build_community(":memory:")
    state = c.book.state
    if zero_role is not None:
        state.members[ZERO_ENDED.hex()] = MemberRecord(bytes(32), zero_role, "", "")
    raw = {**{n: bytes.fromhex(c.accounts[n]) for n in NAMES}, "zero": ZERO_ENDED}
    orders = [(raw[s], 0, e, p) for s, _, e, p in trades] + \
        [(raw[b], 1, e, p) for _, b, e, p in trades]
    record = AuctionRecord(c.accounts["market"], 0, "a1", 0, 3_600,
                           b"".join(ORDER_ROW.pack(*o) for o in orders),
                           b"".join(TRADE_ROW.pack(raw[s], raw[b], e, p) for s, b, e, p in trades))
    spend = _outcome(_spend, state, record)
    assert spend == _outcome(_spend_by_row, state, record)
    rows = []
    for (valid, d, s), (_, _, e, _) in zip(delivery, trades, strict=False):
        if valid:
            d %= e + 1
            s %= e - d + 1
        rows.append(SETTLE_ROW.pack(d, s))
    if row_missing:
        rows.pop()
    settle = SettlementRecord(c.accounts["market"], 1, "e1", grid_price, b"".join(rows))
    escrow = AuctionEscrow(c.accounts["market"], record.trades)
    assert _outcome(_changes, escrow, settle) == _outcome(_changes_by_row, escrow, settle)
