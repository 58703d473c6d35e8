"""The hour's listing life cycle and the escrow contract (trades, settlement, grid).

A listing is opened by the market or by an aggregator running its community's
local market, and only its owner (or the market) closes, clears and trades in
it. A trade locks the buyer's payment; ``settle`` pays what the meters say was
delivered, refunds the rest and records the shortfall for the grid.
"""

from __future__ import annotations

from gridcoop.ledger.accounting import credit, grid_pays, known, move, need, positive, room
from gridcoop.ledger.codec import INT64_MAX
from gridcoop.ledger.envelope import SignedTx
from gridcoop.ledger.errors import (
    AmountOverflowError,
    DoubleSaleError,
    EscrowError,
    ListingError,
    MalformedTransactionError,
    RoleError,
    SettlementError,
)
from gridcoop.ledger.state import Escrow, Listing, Shortfall, State
from gridcoop.ledger.transactions import (
    GRID_ACCOUNT,
    Bid,
    ClearListing,
    CloseListing,
    EscrowLock,
    EscrowRefund,
    EscrowRelease,
    GridSettlement,
    Offer,
    OpenListing,
    Settle,
    Trade,
)
from gridcoop.units import payment_ueur, released_ueur

OPEN, CLOSED, CLEARED = "AUTHORIZE_OFFERS", "BIDS_CLOSED", "CLEARED"


def _listing(state: State, listing_id: str, wanted: str, action: str,
             issuer: str | None = None) -> Listing:
    listing = state.listings.get(listing_id)
    if listing is None:
        raise ListingError(f"listing {listing_id!r} does not exist; open it first")
    if issuer is not None and issuer != listing.owner and \
            state.members[issuer].role != "market":
        raise RoleError(f"listing {listing_id!r} belongs to {listing.owner}; only its owner "
                        f"or the market may {action} it")
    if listing.state != wanted:
        raise ListingError(f"cannot {action} listing {listing_id!r} in state {listing.state}; "
                           f"it must be {wanted}")
    return listing


def _escrow(state: State, escrow_id: str) -> Escrow:
    escrow = state.escrows.get(escrow_id)
    if escrow is None:
        raise EscrowError(f"escrow {escrow_id} is not open: never locked, or already fully "
                          "released/refunded")
    return escrow


def _add(state: State, table: dict[str, dict[str, int]], listing_id: str, account: str,
         delta: int) -> None:
    inner = table.get(listing_id)
    new = (inner.get(account, 0) if inner is not None else 0) + delta
    if new > INT64_MAX:
        raise AmountOverflowError(f"offered energy in {listing_id!r} would exceed 2**63-1 Wh")
    if inner is None:
        inner = {}
        state.put(table, listing_id, inner)
    if new:
        state.put(inner, account, new)
    else:
        state.drop(inner, account)


def check_new_listing(state: State, listing_id: str, start_s: int, end_s: int) -> None:
    """A listing may be opened (alone or in an auction record): a new id, a positive span."""
    if listing_id in state.listings:
        raise ListingError(f"listing {listing_id!r} already exists; listing ids are unique")
    if end_s <= start_s:
        raise MalformedTransactionError(f"listing {listing_id!r} ends ({end_s}) before "
                                        f"it starts ({start_s})")


def open_listing(state: State, stx: SignedTx, tx: OpenListing) -> None:
    check_new_listing(state, tx.listing_id, tx.start_s, tx.end_s)
    state.put(state.listings, tx.listing_id, Listing(tx.start_s, tx.end_s, OPEN, tx.issuer))


def offer_or_bid(state: State, stx: SignedTx, tx: Offer | Bid) -> None:
    positive(tx.energy_wh, f"{tx.kind}.energy_wh")
    _listing(state, tx.listing_id, OPEN, tx.kind + " in")
    _add(state, state.offers if type(tx) is Offer else state.bids, tx.listing_id, tx.issuer,
         tx.energy_wh)


def close_listing(state: State, stx: SignedTx, tx: CloseListing) -> None:
    listing = _listing(state, tx.listing_id, OPEN, "close", tx.issuer)
    state.put(state.listings, tx.listing_id, Listing(listing.start_s, listing.end_s, CLOSED,
                                                     listing.owner))


def clear_listing(state: State, stx: SignedTx, tx: ClearListing) -> None:
    listing = _listing(state, tx.listing_id, CLOSED, "clear", tx.issuer)
    state.put(state.listings, tx.listing_id, Listing(listing.start_s, listing.end_s, CLEARED,
                                                     listing.owner))
    for table in (state.offers, state.bids):
        if tx.listing_id in table:
            state.drop(table, tx.listing_id)


def trade(state: State, stx: SignedTx, tx: Trade) -> None:
    positive(tx.energy_wh, "trade.energy_wh")
    if tx.seller == tx.buyer:
        raise MalformedTransactionError(f"trade seller and buyer are the same ({tx.seller})")
    expected = payment_ueur(tx.energy_wh, tx.price_eur_u_per_kwh)
    if tx.amount_eur_u != expected:
        raise MalformedTransactionError(
            f"trade amount {tx.amount_eur_u} eur_u != {tx.energy_wh} Wh x "
            f"{tx.price_eur_u_per_kwh} eur_u/kWh // 1000 = {expected}")
    known(state, tx.seller, "seller")
    known(state, tx.buyer, "buyer")
    _listing(state, tx.listing_id, CLOSED, "trade in", tx.issuer)
    offered = state.offers.get(tx.listing_id, {}).get(tx.seller, 0)
    if tx.energy_wh > offered:
        raise DoubleSaleError(f"seller {tx.seller} has {offered} Wh left unsold in listing "
                              f"{tx.listing_id!r}; cannot sell {tx.energy_wh} Wh")
    wanted = state.bids.get(tx.listing_id, {}).get(tx.buyer, 0)
    if tx.energy_wh > wanted:
        raise ListingError(f"buyer {tx.buyer} has {wanted} Wh left unmatched in its bids in "
                           f"listing {tx.listing_id!r}; cannot buy {tx.energy_wh} Wh")
    have = need(state, tx.buyer, "eur_u", tx.amount_eur_u)
    _add(state, state.offers, tx.listing_id, tx.seller, -tx.energy_wh)
    _add(state, state.bids, tx.listing_id, tx.buyer, -tx.energy_wh)
    state.put(state.balances, (tx.buyer, "eur_u"), have - tx.amount_eur_u)
    state.put(state.escrows, stx.txid_hex, Escrow(tx.buyer, tx.seller, "eur_u", tx.amount_eur_u,
                                                  tx.amount_eur_u, tx.energy_wh, tx.issuer))


def escrow_lock(state: State, stx: SignedTx, tx: EscrowLock) -> None:
    positive(tx.amount, "escrow_lock.amount")
    if tx.payee == tx.issuer:
        raise MalformedTransactionError("an escrow's payee must differ from its payer")
    known(state, tx.payee, "payee")
    have = need(state, tx.issuer, tx.asset, tx.amount)
    state.put(state.balances, (tx.issuer, tx.asset), have - tx.amount)
    state.put(state.escrows, stx.txid_hex,
              Escrow(tx.issuer, tx.payee, tx.asset, tx.amount, tx.amount, tx.energy_wh))


def release_or_refund(state: State, stx: SignedTx, tx: EscrowRelease | EscrowRefund) -> None:
    positive(tx.amount, f"{tx.kind}.amount")
    escrow = _escrow(state, tx.escrow_id)
    release = type(tx) is EscrowRelease
    party = escrow.payer if release else escrow.payee
    if tx.issuer not in (party, escrow.arbiter) and state.members[tx.issuer].role != "market":
        who = "payer" if release else "payee"
        raise RoleError(f"only the market, the escrow's arbiter or its {who} ({party}) may "
                        f"{tx.kind} it")
    if tx.amount > escrow.remaining:
        raise EscrowError(f"escrow {tx.escrow_id} holds {escrow.remaining} {escrow.asset}; "
                          f"cannot {tx.kind} {tx.amount} (beyond its amount)")
    to = escrow.payee if release else escrow.payer
    room(state, to, escrow.asset, tx.amount)
    credit(state, to, escrow.asset, tx.amount)
    left = escrow.remaining - tx.amount
    if left:
        state.put(state.escrows, tx.escrow_id, Escrow(escrow.payer, escrow.payee, escrow.asset,
                                                      escrow.amount, left, escrow.energy_wh,
                                                      escrow.arbiter))
    else:
        state.drop(state.escrows, tx.escrow_id)


def settle(state: State, stx: SignedTx, tx: Settle) -> None:
    escrow = _escrow(state, tx.escrow_id)
    if tx.issuer != escrow.arbiter and state.members[tx.issuer].role != "market":
        raise RoleError(f"escrow {tx.escrow_id} is settled by the market or its arbiter "
                        f"{escrow.arbiter or '(the market)'}")
    if escrow.energy_wh <= 0:
        raise EscrowError(f"escrow {tx.escrow_id} is not for energy; use escrow_release or "
                          "escrow_refund")
    if escrow.remaining != escrow.amount:
        raise EscrowError(f"escrow {tx.escrow_id} was partly released or refunded already; "
                          "settle needs the whole escrow")
    delivered = min(tx.delivered_wh, escrow.energy_wh)
    pay = released_ueur(escrow.amount, delivered, escrow.energy_wh)
    refund = escrow.amount - pay
    room(state, escrow.payee, escrow.asset, pay)
    room(state, escrow.payer, escrow.asset, refund)
    credit(state, escrow.payee, escrow.asset, pay)
    credit(state, escrow.payer, escrow.asset, refund)
    state.drop(state.escrows, tx.escrow_id)
    if delivered < escrow.energy_wh:
        state.put(state.shortfalls, tx.escrow_id,
                  Shortfall(escrow.payer, escrow.payee, escrow.energy_wh - delivered))


def grid_settlement(state: State, stx: SignedTx, tx: GridSettlement) -> None:
    known(state, tx.account, "account")
    if tx.escrow_id:
        shortfall = state.shortfalls.get(tx.escrow_id)
        if shortfall is None:
            raise SettlementError(f"no open shortfall for escrow {tx.escrow_id} (unknown or "
                                  "already settled)")
        if tx.account not in (shortfall.buyer, shortfall.seller):
            raise SettlementError(f"account {tx.account} is neither buyer nor seller of "
                                  f"shortfall {tx.escrow_id}")
        if tx.energy_wh != shortfall.energy_wh:
            raise SettlementError(f"shortfall {tx.escrow_id} is {shortfall.energy_wh} Wh, "
                                  f"not {tx.energy_wh} Wh")
    if tx.direction == "import":
        move(state, tx.account, GRID_ACCOUNT, "eur_u", tx.amount_eur_u)
    else:
        grid_pays(state, tx.account, tx.amount_eur_u)
    if tx.escrow_id:
        state.drop(state.shortfalls, tx.escrow_id)
