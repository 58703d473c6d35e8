"""The hour's listing life cycle: offers, bids, gate closure, trades, clearing; no double sale."""

from __future__ import annotations

import pytest

from gridcoop.ledger import (
    DoubleSaleError,
    InsufficientFundsError,
    ListingError,
    MalformedTransactionError,
    RoleError,
)
from tests.ledger.conftest import Community


def _open_with_orders(c: Community) -> None:
    c.market.open_listing("h9", 32_400, 36_000)
    c.wallet("alice").offer("h9", 1_000, 70_000)
    c.wallet("alice").offer("h9", 200, 90_000)  # offers add up: 1,200 Wh offered
    c.wallet("bob").bid("h9", 700, 100_000)
    c.wallet("carol").bid("h9", 800, 100_000)


def test_life_cycle_states(block_community: Community) -> None:
    c = block_community
    _open_with_orders(c)
    assert c.book.state.listings["h9"].state == "AUTHORIZE_OFFERS"
    assert c.book.state.offers["h9"][c.accounts["alice"]] == 1_200
    c.market.close_listing("h9")
    assert c.book.state.listings["h9"].state == "BIDS_CLOSED"
    with pytest.raises(ListingError, match="BIDS_CLOSED"):
        c.wallet("bob").bid("h9", 10, 1)
    c.market.trade("h9", c.accounts["alice"], c.accounts["bob"], 700, 90_000)
    c.market.clear_listing("h9")
    assert c.book.state.listings["h9"].state == "CLEARED"
    assert "h9" not in c.book.state.offers and "h9" not in c.book.state.bids
    with pytest.raises(ListingError, match="CLEARED"):
        c.market.trade("h9", c.accounts["alice"], c.accounts["carol"], 100, 90_000)


def test_energy_is_never_sold_twice(block_community: Community) -> None:
    c = block_community
    _open_with_orders(c)
    c.market.close_listing("h9")
    alice, bob, carol = c.accounts["alice"], c.accounts["bob"], c.accounts["carol"]
    c.market.trade("h9", alice, bob, 700, 90_000)
    # 1,200 offered - 700 sold = 500 left: selling 501 to carol would sell energy twice
    with pytest.raises(DoubleSaleError, match="500 Wh left"):
        c.market.trade("h9", alice, carol, 501, 90_000)
    c.market.trade("h9", alice, carol, 500, 90_000)
    with pytest.raises(DoubleSaleError, match="0 Wh left"):
        c.market.trade("h9", alice, carol, 1, 90_000)
    # bob paid 700 x 90,000 / 1000 = 63,000; carol 500 x 90,000 / 1000 = 45,000 (in escrow)
    assert c.balance("bob") == 937_000 and c.balance("carol") == 955_000


def test_trade_beyond_the_buyers_bid_is_refused(block_community: Community) -> None:
    c = block_community
    _open_with_orders(c)
    c.market.close_listing("h9")
    with pytest.raises(ListingError, match="700 Wh left unmatched"):
        c.market.trade("h9", c.accounts["alice"], c.accounts["bob"], 701, 90_000)


def test_trades_only_between_gate_closure_and_clearing(block_community: Community) -> None:
    c = block_community
    _open_with_orders(c)
    with pytest.raises(ListingError, match="AUTHORIZE_OFFERS"):
        c.market.trade("h9", c.accounts["alice"], c.accounts["bob"], 100, 90_000)
    with pytest.raises(ListingError, match="does not exist"):
        c.market.close_listing("h10")
    with pytest.raises(ListingError, match="does not exist"):
        c.wallet("bob").bid("h10", 1, 1)


def test_listing_ids_are_unique_and_intervals_sane(block_community: Community) -> None:
    c = block_community
    c.market.open_listing("h1", 0, 3_600)
    with pytest.raises(ListingError, match="already exists"):
        c.market.open_listing("h1", 3_600, 7_200)
    with pytest.raises(MalformedTransactionError, match="before"):
        c.market.open_listing("h2", 7_200, 3_600)


def test_trade_checks_payment_parties_and_funds(block_community: Community) -> None:
    c = block_community
    c.market.open_listing("h3", 0, 3_600)
    c.wallet("alice").offer("h3", 50_000, 1)
    c.wallet("bob").bid("h3", 50_000, 1)
    c.market.close_listing("h3")
    alice, bob = c.accounts["alice"], c.accounts["bob"]
    from gridcoop.ledger.transactions import Trade
    wrong_amount = Trade(c.accounts["market"], c.book.next_nonce(c.accounts["market"]), "h3",
                         alice, bob, 1_000, 90_000, 90_001)
    with pytest.raises(MalformedTransactionError, match="// 1000 = 90000"):
        c.book.submit(wrong_amount)
    with pytest.raises(MalformedTransactionError, match="same"):
        c.market.trade("h3", alice, alice, 10, 90_000)
    # 50,000 Wh x 30,000,000 eur_u/kWh / 1000 = 1,500,000,000 eur_u: bob cannot pay
    with pytest.raises(InsufficientFundsError):
        c.market.trade("h3", alice, bob, 50_000, 30_000_000)
    with pytest.raises(MalformedTransactionError, match="positive"):
        c.wallet("alice").offer("h4", 0, 1)


def test_an_aggregator_runs_its_communitys_local_market(block_community: Community) -> None:
    c = block_community
    agg, market = c.wallet("agg"), c.market
    alice, bob = c.accounts["alice"], c.accounts["bob"]
    with pytest.raises(RoleError, match="role 'member'"):
        c.wallet("alice").open_listing("local-1", 0, 3_600)
    agg.open_listing("local-1", 0, 3_600)
    c.wallet("alice").offer("local-1", 300, 50_000)
    c.wallet("bob").bid("local-1", 300, 60_000)
    agg.close_listing("local-1")
    escrow = agg.trade("local-1", alice, bob, 300, 55_000).txid_hex  # 16,500 eur_u locked
    agg.clear_listing("local-1")
    agg.settle(escrow, 300)
    assert c.balance("alice") == 1_016_500 and c.balance("bob") == 983_500
    # the market's own listing and escrows are not the aggregator's to run
    market.open_listing("central-1", 0, 3_600)
    c.wallet("alice").offer("central-1", 100, 50_000)
    c.wallet("bob").bid("central-1", 100, 60_000)
    with pytest.raises(RoleError, match="only its owner or the market"):
        agg.close_listing("central-1")
    market.close_listing("central-1")
    central = market.trade("central-1", alice, bob, 100, 50_000).txid_hex
    with pytest.raises(RoleError, match="arbiter"):
        agg.settle(central, 100)
    market.settle(central, 100)
