"""Invariants of every mechanism on random books (hypothesis)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcoop.market import ClearingResult, Order, Side, clear, local_money_flows, settle_with_grid
from gridcoop.market.tariffs import TimeOfUseTariff
from tests.market.helpers import TOL, books, by_id

MECHANISMS = ["pay_as_clear", "average_bid", "pay_as_bid", "continuous"]
UNIFORM = ["pay_as_clear", "average_bid"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def fills(result: ClearingResult) -> dict[str, float]:
    return result.filled_kwh_by_order()


def crossing_volume(orders: list[Order]) -> float:
    """max over prices p of min(demand at p, supply at p), straight from the definition."""
    best = 0.0
    for p in {o.price_eur_per_kwh for o in orders}:
        demand = math.fsum(o.quantity_kwh for o in orders if o.is_buy and o.price_eur_per_kwh >= p)
        supply = math.fsum(o.quantity_kwh for o in orders
                           if not o.is_buy and o.price_eur_per_kwh <= p)
        best = max(best, min(demand, supply))
    return best


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(MECHANISMS))
def test_fast_path_equals_reference_path(orders: list[Order], mechanism: str) -> None:
    reference = clear(orders, mechanism, path="reference")
    fast = clear(orders, mechanism, path="fast")
    assert (reference.path, fast.path) == ("reference", "fast")
    assert fast == reference
    # Bit-for-bit, not merely close.
    assert fast.clearing_price_eur_per_kwh == reference.clearing_price_eur_per_kwh
    assert [t.price_eur_per_kwh for t in fast.trades] == [
        t.price_eur_per_kwh for t in reference.trades]


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(MECHANISMS),
       path=st.sampled_from(["reference", "fast"]))
def test_limits_respected_and_nothing_over_filled(
    orders: list[Order], mechanism: str, path: str
) -> None:
    result = clear(orders, mechanism, path=path)
    index = by_id(orders)
    for trade in result.trades:
        buy, sell = index[trade.buy_order_id], index[trade.sell_order_id]
        assert buy.side is Side.BUY and sell.side is Side.SELL
        assert buy.price_eur_per_kwh >= sell.price_eur_per_kwh
        assert trade.quantity_kwh > 0
        assert (trade.buyer, trade.seller) == (buy.participant, sell.participant)
        if mechanism != "average_bid":  # the pilot's rule may charge a buyer above its bid
            assert sell.price_eur_per_kwh <= trade.price_eur_per_kwh <= buy.price_eur_per_kwh
        else:
            assert trade.price_eur_per_kwh >= sell.price_eur_per_kwh - 1e-15
    filled = fills(result)
    left = {o.order_id: o for o in result.unmatched}
    for order in orders:
        got = filled.get(order.order_id, 0.0)
        assert got <= order.quantity_kwh + TOL
        rest = left[order.order_id].quantity_kwh if order.order_id in left else 0.0
        assert got + rest == pytest.approx(order.quantity_kwh, abs=TOL * 4)
        if order.order_id in left:  # remainders keep id, price, side, sequence
            kept = left[order.order_id]
            assert (kept.price_eur_per_kwh, kept.side, kept.sequence, kept.participant) == (
                order.price_eur_per_kwh, order.side, order.sequence, order.participant)
    assert result.volume_kwh == pytest.approx(
        math.fsum(t.quantity_kwh for t in result.trades), abs=TOL)


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(["pay_as_clear", "average_bid", "pay_as_bid"]))
def test_periodic_volume_is_the_supply_demand_crossing(orders: list[Order], mechanism: str) -> None:
    result = clear(orders, mechanism)
    assert result.volume_kwh == pytest.approx(crossing_volume(orders), abs=TOL * (len(orders) + 1))


@SETTINGS
@given(orders=books())
def test_pay_as_clear_price_is_a_competitive_equilibrium(orders: list[Order]) -> None:
    result = clear(orders, "pay_as_clear")
    price = result.clearing_price_eur_per_kwh
    if not result.trades:
        assert price is None
        return
    assert price is not None
    index = by_id(orders)
    assert all(t.price_eur_per_kwh == price for t in result.trades)
    for trade in result.trades:  # every accepted order is willing at the price
        assert index[trade.buy_order_id].price_eur_per_kwh >= price
        assert index[trade.sell_order_id].price_eur_per_kwh <= price
    for order in result.unmatched:  # and no order left out would trade at it
        if order.is_buy:
            assert order.price_eur_per_kwh <= price
        else:
            assert order.price_eur_per_kwh >= price


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(["pay_as_clear", "average_bid", "pay_as_bid"]))
def test_price_then_fifo_priority(orders: list[Order], mechanism: str) -> None:
    """A bid that trades means every bid ahead of it in priority is completely filled."""
    result = clear(orders, mechanism)
    filled = fills(result)
    for side in (Side.BUY, Side.SELL):
        ranked = sorted(
            (o for o in orders if o.side is side),
            key=lambda o: ((-1 if side is Side.BUY else 1) * o.price_eur_per_kwh, o.sequence,
                           orders.index(o)),
        )
        seen_partial = False
        for order in ranked:
            got = filled.get(order.order_id, 0.0)
            if seen_partial:
                assert got == 0.0, f"{order.order_id} traded behind a partly filled order"
            if got < order.quantity_kwh - TOL * 4:
                seen_partial = True


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(MECHANISMS),
       fee=st.sampled_from([0.0, 0.01, 0.033]), hour=st.integers(0, 23),
       payer=st.sampled_from(["buyer", "seller", "shared"]))
def test_money_balances(orders: list[Order], mechanism: str, fee: float, hour: int,
                        payer: str) -> None:
    result = clear(orders, mechanism)
    flows = local_money_flows(result.trades, fee, payer)  # type: ignore[arg-type]
    assert flows.imbalance_eur == pytest.approx(0.0, abs=1e-9)
    assert flows.grid_fees_eur == pytest.approx(fee * result.volume_kwh, abs=1e-9)
    tariff = TimeOfUseTariff(grid_fee_eur_per_kwh=fee)
    settlement = settle_with_grid(result, tariff, hour, fee_payer=payer)  # type: ignore[arg-type]
    assert settlement.local_imbalance_eur == pytest.approx(0.0, abs=1e-9)
    assert settlement.grid_fees_eur == pytest.approx(flows.grid_fees_eur, abs=1e-9)
    # Everything the participants lose together went to the grid: fees and imports,
    # less the feed-in the grid paid them.
    net = math.fsum(settlement.net_eur_by_participant().values())
    expected = (settlement.feed_in_revenue_eur - settlement.grid_import_cost_eur
                - settlement.grid_fees_eur)
    assert net == pytest.approx(expected, abs=1e-9)
    unmatched_buy = math.fsum(o.quantity_kwh for o in result.unmatched if o.is_buy)
    assert settlement.grid_import_kwh == pytest.approx(unmatched_buy, abs=1e-9)


@SETTINGS
@given(orders=books(unique_sequences=True), mechanism=st.sampled_from(MECHANISMS),
       seed=st.integers(0, 2**32 - 1))
def test_same_input_same_output_and_input_order_irrelevant(
    orders: list[Order], mechanism: str, seed: int
) -> None:
    first = clear(orders, mechanism)
    assert clear(list(orders), mechanism) == first
    # With distinct sequences, priority never falls back to input position: a shuffled
    # input gives the same trades, in the same order, and the same remainders.
    shuffled = list(orders)
    random.Random(seed).shuffle(shuffled)
    again = clear(shuffled, mechanism)
    assert list(again.trades) == list(first.trades)
    assert again.clearing_price_eur_per_kwh == first.clearing_price_eur_per_kwh
    assert sorted(again.unmatched, key=str) == sorted(first.unmatched, key=str)


@SETTINGS
@given(orders=books(unique_sequences=True))
def test_continuous_leaves_an_uncrossed_book(orders: list[Order]) -> None:
    result = clear(orders, "continuous")
    bids = [o.price_eur_per_kwh for o in result.unmatched if o.is_buy]
    offers = [o.price_eur_per_kwh for o in result.unmatched if not o.is_buy]
    if bids and offers:
        assert max(bids) < min(offers)
    index = by_id(orders)
    for trade in result.trades:  # the resting (earlier) order sets the price
        buy, sell = index[trade.buy_order_id], index[trade.sell_order_id]
        resting = buy if (buy.sequence, orders.index(buy)) < (sell.sequence,
                                                              orders.index(sell)) else sell
        assert trade.price_eur_per_kwh == resting.price_eur_per_kwh


@SETTINGS
@given(orders=books(), split=st.integers(0, 39))
def test_average_bid_does_not_move_when_a_bid_is_split(orders: list[Order], split: int) -> None:
    bids = [o for o in orders if o.is_buy and o.quantity_kwh >= 0.002]
    if not bids:
        return
    target = bids[split % len(bids)]
    half = target.quantity_kwh / 2
    parts = [Order(target.order_id + "-a", target.participant, Side.BUY, half,
                   target.price_eur_per_kwh, target.interval, target.sequence),
             Order(target.order_id + "-b", target.participant, Side.BUY,
                   target.quantity_kwh - half, target.price_eur_per_kwh, target.interval,
                   target.sequence)]
    k = orders.index(target)
    split_book = orders[:k] + parts + orders[k + 1:]
    whole = clear(orders, "average_bid").clearing_price_eur_per_kwh
    halves = clear(split_book, "average_bid").clearing_price_eur_per_kwh
    if whole is None:
        assert halves is None
    else:
        assert halves == pytest.approx(whole, abs=1e-9)
