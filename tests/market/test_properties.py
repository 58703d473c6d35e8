"""Invariants of every mechanism on random books (hypothesis), in integers."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcoop.market import ClearingResult, Order, Side, clear
from tests.market.helpers import books, by_id
from tests.market.oracle import oracle_clear

MECHANISMS = ["pay_as_clear", "average_bid", "pay_as_bid", "continuous"]
PERIODIC = ["pay_as_clear", "average_bid", "pay_as_bid"]
OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("pay_as_clear", {}), ("average_bid", {}), ("average_bid", {"weighted": False}),
    ("pay_as_bid", {}), ("pay_as_bid", {"pair_price": "offer"}),
    ("pay_as_bid", {"pair_price": "midpoint"}), ("continuous", {}),
]
# average_bid over all buyers may price below an accepted offer's limit (that rule's
# meaning), so it joins only the properties that do not check limits.
ALL_OPTIONS = [*OPTIONS, ("average_bid", {"bids": "all"}),
               ("average_bid", {"bids": "all", "weighted": False})]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def fills(result: ClearingResult) -> dict[str, int]:
    return result.filled_wh_by_order()


def crossing_volume(orders: list[Order]) -> int:
    """max over prices p of min(demand at p, supply at p), straight from the definition."""
    best = 0
    for p in {o.price_ueur_per_kwh for o in orders}:
        demand = sum(o.energy_wh for o in orders if o.is_buy and o.price_ueur_per_kwh >= p)
        supply = sum(o.energy_wh for o in orders if not o.is_buy and o.price_ueur_per_kwh <= p)
        best = max(best, min(demand, supply))
    return best


@SETTINGS
@given(orders=books(), choice=st.sampled_from(ALL_OPTIONS))
def test_fast_path_equals_the_oracle(orders: list[Order],
                                     choice: tuple[str, dict[str, Any]]) -> None:
    mechanism, options = choice
    fast = clear(orders, mechanism, **options)
    oracle = oracle_clear(orders, mechanism, **options)
    assert (fast.path, oracle.path) == ("fast", "oracle")
    assert fast == oracle
    assert fast.clearing_price_ueur_per_kwh == oracle.clearing_price_ueur_per_kwh
    assert [t.price_ueur_per_kwh for t in fast.trades] == [
        t.price_ueur_per_kwh for t in oracle.trades]


@SETTINGS
@given(orders=books(), choice=st.sampled_from(ALL_OPTIONS))
def test_integer_in_integer_out(orders: list[Order], choice: tuple[str, dict[str, Any]]) -> None:
    mechanism, options = choice
    result = clear(orders, mechanism, **options)
    assert type(result.volume_wh) is int
    assert result.clearing_price_ueur_per_kwh is None or type(
        result.clearing_price_ueur_per_kwh) is int
    assert result.trades.energy_wh.dtype.kind == result.trades.price_ueur_per_kwh.dtype.kind == "i"
    for trade in result.trades:
        assert type(trade.energy_wh) is int and type(trade.price_ueur_per_kwh) is int
    for order in result.unmatched:
        assert type(order.energy_wh) is int and type(order.price_ueur_per_kwh) is int
    assert type(result.value_ueur) is int


@SETTINGS
@given(orders=books(), choice=st.sampled_from(OPTIONS))
def test_limits_respected_and_nothing_over_filled(
    orders: list[Order], choice: tuple[str, dict[str, Any]]
) -> None:
    mechanism, options = choice
    result = clear(orders, mechanism, **options)
    index = by_id(orders)
    for trade in result.trades:
        buy, sell = index[trade.buy_order_id], index[trade.sell_order_id]
        assert buy.side is Side.BUY and sell.side is Side.SELL
        assert buy.price_ueur_per_kwh >= sell.price_ueur_per_kwh
        assert trade.energy_wh > 0
        assert (trade.buyer, trade.seller) == (buy.participant, sell.participant)
        if mechanism != "average_bid":  # the pilot's rule may charge a buyer above its bid
            assert sell.price_ueur_per_kwh <= trade.price_ueur_per_kwh <= buy.price_ueur_per_kwh
        else:
            assert trade.price_ueur_per_kwh >= sell.price_ueur_per_kwh
    filled = fills(result)
    left = {o.order_id: o for o in result.unmatched}
    for order in orders:
        got = filled.get(order.order_id, 0)
        rest = left[order.order_id].energy_wh if order.order_id in left else 0
        assert got + rest == order.energy_wh  # exact: nothing over-filled, nothing lost
        if order.order_id in left:  # remainders keep id, price, side, sequence
            kept = left[order.order_id]
            assert (kept.price_ueur_per_kwh, kept.side, kept.sequence, kept.participant) == (
                order.price_ueur_per_kwh, order.side, order.sequence, order.participant)
    assert result.volume_wh == sum(t.energy_wh for t in result.trades)


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(PERIODIC))
def test_periodic_volume_is_the_supply_demand_crossing(orders: list[Order], mechanism: str) -> None:
    assert clear(orders, mechanism).volume_wh == crossing_volume(orders)


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(["pay_as_clear", "average_bid"]))
def test_uniform_price_between_accepted_bids_and_offers(orders: list[Order],
                                                        mechanism: str) -> None:
    """Every accepted bid >= the price >= every accepted offer (pay-as-clear), and the
    price >= every accepted offer (average_bid: the mean of the accepted bids, rounded down,
    is at least the lowest accepted bid)."""
    result = clear(orders, mechanism)
    price = result.clearing_price_ueur_per_kwh
    if not result.trades:
        assert price is None
        return
    assert price is not None
    index = by_id(orders)
    bids = {index[t.buy_order_id].price_ueur_per_kwh for t in result.trades}
    offers = {index[t.sell_order_id].price_ueur_per_kwh for t in result.trades}
    assert all(t.price_ueur_per_kwh == price for t in result.trades)
    if mechanism == "pay_as_clear":
        assert max(offers) <= price <= min(bids)
    else:
        assert max(offers) <= min(bids) <= price <= max(bids)


@SETTINGS
@given(orders=books())
def test_pay_as_clear_price_is_a_competitive_equilibrium(orders: list[Order]) -> None:
    result = clear(orders, "pay_as_clear")
    price = result.clearing_price_ueur_per_kwh
    if price is None:
        return
    for order in result.unmatched:  # no order left out would trade at the price
        if order.is_buy:
            assert order.price_ueur_per_kwh <= price
        else:
            assert order.price_ueur_per_kwh >= price


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(PERIODIC))
def test_price_then_fifo_priority(orders: list[Order], mechanism: str) -> None:
    """A bid that trades means every bid ahead of it in priority is completely filled."""
    result = clear(orders, mechanism)
    filled = fills(result)
    for side in (Side.BUY, Side.SELL):
        ranked = sorted(
            (o for o in orders if o.side is side),
            key=lambda o: ((-1 if side is Side.BUY else 1) * o.price_ueur_per_kwh, o.sequence,
                           orders.index(o)),
        )
        seen_partial = False
        for order in ranked:
            got = filled.get(order.order_id, 0)
            if seen_partial:
                assert got == 0, f"{order.order_id} traded behind a partly filled order"
            if got < order.energy_wh:
                seen_partial = True


@SETTINGS
@given(orders=books(), mechanism=st.sampled_from(MECHANISMS))
def test_money_is_the_payment_rule_per_trade(orders: list[Order], mechanism: str) -> None:
    """What buyers pay is each trade's Wh x µ€/kWh // 1000, summed: the ledger's rule."""
    result = clear(orders, mechanism)
    assert result.value_ueur == sum(
        t.energy_wh * t.price_ueur_per_kwh // 1000 for t in result.trades)


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
    assert again.clearing_price_ueur_per_kwh == first.clearing_price_ueur_per_kwh
    assert sorted(again.unmatched, key=str) == sorted(first.unmatched, key=str)


@SETTINGS
@given(orders=books(unique_sequences=True))
def test_continuous_leaves_an_uncrossed_book(orders: list[Order]) -> None:
    result = clear(orders, "continuous")
    bids = [o.price_ueur_per_kwh for o in result.unmatched if o.is_buy]
    offers = [o.price_ueur_per_kwh for o in result.unmatched if not o.is_buy]
    if bids and offers:
        assert max(bids) < min(offers)
    index = by_id(orders)
    for trade in result.trades:  # the resting (earlier) order sets the price
        buy, sell = index[trade.buy_order_id], index[trade.sell_order_id]
        resting = buy if (buy.sequence, orders.index(buy)) < (sell.sequence,
                                                              orders.index(sell)) else sell
        assert trade.price_ueur_per_kwh == resting.price_ueur_per_kwh


@SETTINGS
@given(orders=books(), split=st.integers(0, 39))
def test_average_bid_does_not_move_when_a_bid_is_split(orders: list[Order], split: int) -> None:
    bids = [o for o in orders if o.is_buy and o.energy_wh >= 2]
    if not bids:
        return
    target = bids[split % len(bids)]
    half = target.energy_wh // 2
    parts = [Order(target.order_id + "-a", target.participant, Side.BUY, half,
                   target.price_ueur_per_kwh, target.interval, target.sequence),
             Order(target.order_id + "-b", target.participant, Side.BUY,
                   target.energy_wh - half, target.price_ueur_per_kwh, target.interval,
                   target.sequence)]
    k = orders.index(target)
    split_book = orders[:k] + parts + orders[k + 1:]
    whole = clear(orders, "average_bid").clearing_price_ueur_per_kwh
    halves = clear(split_book, "average_bid").clearing_price_ueur_per_kwh
    assert halves == whole  # exact: the same sum(price x Wh) // sum(Wh)


@SETTINGS
@given(low=st.integers(0, 10_000_000), spread=st.integers(0, 10_000_000),
       energy_wh=st.integers(1, 100_000))
def test_two_order_pay_as_clear_is_the_integer_midpoint(low: int, spread: int,
                                                        energy_wh: int) -> None:
    """The book that used to depend on float noise: one bid, one offer, equal energy. The
    price is (bid + offer) // 2 exactly, whatever the fraction."""
    high = min(low + spread, 10_000_000)
    orders = [Order("b", "x", Side.BUY, energy_wh, high, 0, 0),
              Order("s", "y", Side.SELL, energy_wh, low, 0, 1)]
    result = clear(orders, "pay_as_clear")
    assert result.clearing_price_ueur_per_kwh == (low + high) // 2
    assert result.volume_wh == energy_wh
