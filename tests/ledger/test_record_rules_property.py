"""The column rules against a row-by-row reference: same balances, or the same refusal at
the same row (hypothesis)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.ledger import LedgerError
from gridcoop.ledger.columns import ORDER_ROW, SETTLE_ROW, TRADE_ROW, pack_rows
from gridcoop.units import payment_ueur, released_ueur
from tests.ledger.conftest import OPENING_EUR_U, build_community

NAMES = ("alice", "bob", "carol")
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
