"""The rules of the columnar records: a whole auction, a whole settlement interval.

Why their own module: they keep the guarantees of the per-transaction listing,
trade and settle rules (registered traders, no double sale, no overdraft, one
settlement per escrow) over rows. Every row is checked and every balance
worked out before anything changes, so a refused record leaves the state as it
was, and the error names the row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np

from gridcoop.ledger.accounting import grid_pays, issue, move
from gridcoop.ledger.codec import INT64_MAX
from gridcoop.ledger.columns import BILL_ROW, ORDER_ROW, SETTLE_ROW, TRADE_ROW
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import (
    AmountOverflowError,
    DoubleSaleError,
    EscrowError,
    InsufficientFundsError,
    ListingError,
    MalformedTransactionError,
    RoleError,
    SettlementError,
    UnknownMemberError,
)
from gridcoop.ledger.market_rules import CLEARED, check_new_listing
from gridcoop.ledger.state import AuctionEscrow, Listing, MemberRecord, State
from gridcoop.ledger.transactions import (
    GRID_ACCOUNT,
    AuctionRecord,
    BillingRecord,
    SettlementRecord,
)
from gridcoop.units import IntArray, payment_ueur, released_ueur

TRADER_ROLES = frozenset({"member", "aggregator"})

_ORDERS: Final = np.dtype([("account", "V16"), ("side", "u1"), ("energy_wh", ">i8"),
                           ("price", ">i8")])
_TRADES: Final = np.dtype([("seller", "V16"), ("buyer", "V16"), ("energy_wh", ">i8"),
                           ("price", ">i8")])
_SETTLES: Final = np.dtype([("delivered_wh", ">i8"), ("short_wh", ">i8")])
"""The row layouts of ``columns`` read as numpy records, accounts as raw 16 bytes
(``V16``: ``S16`` would drop an account's trailing zero bytes).

Why the rules read whole columns: a row's unpacking, checks and payment calls cost
more than the rest of recording it. Each rule checks and prices every row in a few
array operations, then walks the rows once for what only a dictionary can do (per
account totals). Whatever that finds wrong, or any product that might not fit in
64 bits, sends the record through the row-by-row rule, which raises the same error
at the same row, or computes in Python integers."""


def _fits(*pairs: tuple[IntArray, int | IntArray]) -> bool:
    """Whether every product of non-negative columns (or a column and a number)
    stays below 2**63, so numpy's int64 arithmetic is exact."""
    return all(not a.size or int(a.max()) * int(np.max(b)) <= INT64_MAX for a, b in pairs)


def _trader(members: Mapping[str, MemberRecord], raw: bytes, row_name: Callable[[int, Any], str],
            index: int, tx: Any, does: str) -> str:
    """The account of a record's row, checked to be a registered member or aggregator;
    an error names the row (``row_name(index, tx)``, built only then)."""
    account = raw.hex()
    member = members.get(account)
    if member is None:
        raise UnknownMemberError(f"{row_name(index, tx)}: account {account} is not "
                                 "registered; register it first")
    if member.role not in TRADER_ROLES:
        raise RoleError(f"{row_name(index, tx)}: account {account} has role "
                        f"{member.role!r}; only members and aggregators {does}")
    return account


def _order_row(index: int, tx: AuctionRecord) -> str:
    return f"order {index} of {tx.listing_id!r}"


def _book(state: State, tx: AuctionRecord) -> tuple[dict[bytes, int], dict[bytes, int]]:
    """Energy offered and bid per account (16 raw bytes), after checking every order row."""
    orders = np.frombuffer(tx.orders, _ORDERS)
    energy, sides = orders["energy_wh"], orders["side"]
    if ((energy <= 0) | (orders["price"] < 0) | (sides > 1)).any():
        return _book_by_row(state, tx)
    members = state.members
    offered: dict[bytes, int] = {}
    wanted: dict[bytes, int] = {}
    for raw, side, energy_wh in zip(orders["account"].tolist(), sides.tolist(),
                                    energy.tolist(), strict=True):
        member = members.get(raw.hex())
        if member is None or member.role not in TRADER_ROLES:
            return _book_by_row(state, tx)
        book = wanted if side else offered
        book[raw] = book.get(raw, 0) + energy_wh
    if max(offered.values(), default=0) > INT64_MAX or max(wanted.values(), default=0) > INT64_MAX:
        return _book_by_row(state, tx)
    return offered, wanted


def _book_by_row(state: State, tx: AuctionRecord) -> tuple[dict[bytes, int], dict[bytes, int]]:
    """``_book`` one row at a time: the refusal it raises names the first wrong row."""
    members = state.members
    offered: dict[bytes, int] = {}
    wanted: dict[bytes, int] = {}
    for index, (raw, side, energy_wh, price) in enumerate(ORDER_ROW.iter_unpack(tx.orders)):
        _trader(members, raw, _order_row, index, tx, "trade")
        if energy_wh <= 0 or price < 0 or side > 1:
            raise MalformedTransactionError(
                f"order {index} of {tx.listing_id!r}: energy must be positive, the price "
                f"non-negative and the side 0 or 1 (got {energy_wh}, {price}, {side})")
        book = wanted if side else offered
        total = book.get(raw, 0) + energy_wh
        if total > INT64_MAX:
            raise AmountOverflowError(f"offered energy in {tx.listing_id!r} would exceed "
                                      "2**63-1 Wh")
        book[raw] = total
    return offered, wanted


def _spend(state: State, tx: AuctionRecord) -> dict[str, int]:
    """What each buyer pays, in the order of its first trade, after checking every trade
    against the book."""
    offered, wanted = _book(state, tx)
    trades = np.frombuffer(tx.trades, _TRADES)
    energy, price = trades["energy_wh"].astype(np.int64), trades["price"].astype(np.int64)
    sellers, buyers = trades["seller"], trades["buyer"]
    if ((energy <= 0) | (price < 0) | (sellers == buyers)).any() or not _fits((energy, price)):
        return _spend_by_row(state, tx)
    spend: dict[bytes, int] = {}
    for seller, buyer, energy_wh, amount in zip(sellers.tolist(), buyers.tolist(),
                                                energy.tolist(),
                                                payment_ueur(energy, price).tolist(), strict=True):
        left = offered.get(seller, 0) - energy_wh
        if left < 0:
            return _spend_by_row(state, tx)
        offered[seller] = left
        left = wanted.get(buyer, 0) - energy_wh
        if left < 0:
            return _spend_by_row(state, tx)
        wanted[buyer] = left
        spend[buyer] = spend.get(buyer, 0) + amount
    return {buyer.hex(): amount for buyer, amount in spend.items()}


def _spend_by_row(state: State, tx: AuctionRecord) -> dict[str, int]:
    """``_spend`` one row at a time, in Python integers: a refusal names the first wrong
    row. Accounts stay 16 raw bytes until the end (an error names the hex)."""
    offered, wanted = _book_by_row(state, tx)
    spend: dict[bytes, int] = {}
    for index, (seller, buyer, energy_wh, price) in enumerate(TRADE_ROW.iter_unpack(tx.trades)):
        if energy_wh <= 0 or price < 0 or seller == buyer:
            raise MalformedTransactionError(
                f"trade {index} of {tx.listing_id!r}: energy must be positive, the price "
                f"non-negative, seller and buyer different")
        left = offered.get(seller, 0) - energy_wh
        if left < 0:
            raise DoubleSaleError(f"trade {index} of {tx.listing_id!r}: seller {seller.hex()} "
                                  f"has {left + energy_wh} Wh left unsold; cannot sell "
                                  f"{energy_wh} Wh")
        offered[seller] = left
        left = wanted.get(buyer, 0) - energy_wh
        if left < 0:
            raise ListingError(f"trade {index} of {tx.listing_id!r}: buyer {buyer.hex()} has "
                               f"{left + energy_wh} Wh left unmatched in its bids; cannot "
                               f"buy {energy_wh} Wh")
        wanted[buyer] = left
        spend[buyer] = spend.get(buyer, 0) + payment_ueur(energy_wh, price)
    return {buyer.hex(): amount for buyer, amount in spend.items()}


def auction(state: State, stx: SignedTx, tx: AuctionRecord) -> None:
    """Open, fill, trade and clear a listing in one step; lock the payments in one escrow."""
    check_new_listing(state, tx.listing_id, tx.start_s, tx.end_s)
    spend = _spend(state, tx)
    balances = state.balances
    after: list[tuple[tuple[str, str], int]] = []
    for buyer, amount in spend.items():
        key = (buyer, "eur_u")
        have = balances.get(key, 0)
        if have < amount:
            raise InsufficientFundsError(f"account {buyer} holds {have} eur_u, its trades in "
                                         f"{tx.listing_id!r} lock {amount}; the balance may "
                                         "not go negative")
        after.append((key, have - amount))
    state.put_all(balances, after)
    state.put(state.listings, tx.listing_id, Listing(tx.start_s, tx.end_s, CLEARED, tx.issuer))
    if tx.trades:
        state.put(state.auction_escrows, stx.txid_hex, AuctionEscrow(tx.issuer, tx.trades))


def _changes(escrow: AuctionEscrow, tx: SettlementRecord) -> tuple[dict[str, int], int]:
    """Per account, what settlement adds (payments, refunds, less grid shortfalls), and
    what the grid receives."""
    trades = np.frombuffer(escrow.trades, _TRADES)
    rows = np.frombuffer(tx.rows, _SETTLES)
    if rows.size != trades.size:
        return _changes_by_row(escrow, tx)
    energy, price = trades["energy_wh"].astype(np.int64), trades["price"].astype(np.int64)
    delivered, short = rows["delivered_wh"].astype(np.int64), rows["short_wh"].astype(np.int64)
    grid_price = tx.grid_price_eur_u_per_kwh
    if ((delivered < 0) | (delivered > energy) | (short < 0) | (short > energy - delivered)).any() \
            or grid_price < 0 or not _fits((energy, price), (short, grid_price)):
        return _changes_by_row(escrow, tx)
    amount = payment_ueur(energy, price)
    if not _fits((amount, delivered)):
        return _changes_by_row(escrow, tx)
    paid = released_ueur(amount, delivered, energy)
    grid = payment_ueur(short, grid_price)
    change: dict[bytes, int] = {}
    get = change.get
    for seller, buyer, to_seller, to_buyer in zip(
            trades["seller"].tolist(), trades["buyer"].tolist(), paid.tolist(),
            (amount - paid - grid).tolist(), strict=True):
        change[seller] = get(seller, 0) + to_seller
        change[buyer] = get(buyer, 0) + to_buyer
    return {account.hex(): delta for account, delta in change.items()}, sum(grid.tolist())


def _changes_by_row(escrow: AuctionEscrow, tx: SettlementRecord) -> tuple[dict[str, int], int]:
    """``_changes`` one row at a time, in Python integers: a refusal names the first
    wrong row."""
    trades = len(escrow.trades) // TRADE_ROW.size
    if len(tx.rows) // SETTLE_ROW.size != trades:
        raise SettlementError(f"escrow {tx.escrow_id} holds {trades} trades; the settlement "
                              f"has {len(tx.rows) // SETTLE_ROW.size} rows")
    change: dict[bytes, int] = {}
    to_grid = 0
    grid_price = tx.grid_price_eur_u_per_kwh
    rows = zip(TRADE_ROW.iter_unpack(escrow.trades), SETTLE_ROW.iter_unpack(tx.rows),
               strict=True)
    for index, ((seller, buyer, energy_wh, price), (delivered, short)) in enumerate(rows):
        if not 0 <= delivered <= energy_wh or not 0 <= short <= energy_wh - delivered:
            raise SettlementError(f"row {index} of escrow {tx.escrow_id}: {delivered} Wh "
                                  f"delivered and {short} Wh short of a {energy_wh} Wh trade")
        amount = payment_ueur(energy_wh, price)
        paid = released_ueur(amount, delivered, energy_wh)
        grid = payment_ueur(short, grid_price)
        change[seller] = change.get(seller, 0) + paid
        change[buyer] = change.get(buyer, 0) + amount - paid - grid
        to_grid += grid
    return {account.hex(): delta for account, delta in change.items()}, to_grid


def settlement(state: State, stx: SignedTx, tx: SettlementRecord) -> None:
    """Pay delivered energy, refund the rest, bill shortfalls at the grid price; close."""
    escrow = state.auction_escrows.get(tx.escrow_id)
    if escrow is None:
        raise EscrowError(f"auction escrow {tx.escrow_id} is not open: never recorded, or "
                          "already settled")
    if tx.issuer != escrow.arbiter and state.members[tx.issuer].role != "market":
        raise RoleError(f"escrow {tx.escrow_id} is settled by the market or its arbiter "
                        f"{escrow.arbiter}")
    change, to_grid = _changes(escrow, tx)
    balances = state.balances
    after: list[tuple[tuple[str, str], int]] = []
    for account, delta in change.items():
        key = (account, "eur_u")
        value = balances.get(key, 0) + delta
        if value < 0:
            raise InsufficientFundsError(f"account {account} would hold {value} eur_u after "
                                         f"settling escrow {tx.escrow_id}; top it up first")
        if value > INT64_MAX:
            raise AmountOverflowError(f"settling escrow {tx.escrow_id} would give {account} "
                                      "more than 2**63-1 eur_u")
        after.append((key, value))
    grid = balances.get((GRID_ACCOUNT, "eur_u"), 0) + to_grid
    if grid > INT64_MAX:
        raise AmountOverflowError("the grid account would exceed 2**63-1 eur_u")
    state.put_all(balances, after)
    if to_grid:
        state.put(balances, (GRID_ACCOUNT, "eur_u"), grid)
    state.drop(state.auction_escrows, tx.escrow_id)


def _bill_row(index: int, tx: BillingRecord) -> str:
    """How an error names a row of a billing record (built only when one is raised)."""
    return f"row {index} of billing {tx.memo!r}"


def billing(state: State, stx: SignedTx, tx: BillingRecord) -> None:
    """Each row as the deposit, feed-in, import, fee and token transactions it replaces.

    A refused row raises, naming the row; the batch that carried the record rolls the
    state back.
    """
    members = state.members
    seen: set[str] = set()
    for index, (raw, deposit, import_wh, import_u, export_wh, export_u, fee_u, tokens_wh) \
            in enumerate(BILL_ROW.iter_unpack(tx.rows)):
        account = _trader(members, raw, _bill_row, index, tx, "are billed")
        if account in seen:
            raise MalformedTransactionError(f"{_bill_row(index, tx)}: account {account} is "
                                            "billed twice")
        seen.add(account)
        amounts = (deposit, import_wh, import_u, export_wh, export_u, fee_u, tokens_wh)
        if min(amounts) < 0 or not any(amounts):
            raise MalformedTransactionError(f"{_bill_row(index, tx)}: amounts must be "
                                            f"non-negative and not all zero, got {amounts}")
        try:
            if deposit:
                issue(state, account, "eur_u", deposit)
            if export_u:
                grid_pays(state, account, export_u)
            if import_u:
                move(state, account, GRID_ACCOUNT, "eur_u", import_u)
            if fee_u:
                move(state, account, tx.issuer, "eur_u", fee_u)
            if tokens_wh:
                issue(state, account, "wh", tokens_wh)
        except (InsufficientFundsError, AmountOverflowError) as exc:
            raise type(exc)(f"{_bill_row(index, tx)}: {exc}") from None
