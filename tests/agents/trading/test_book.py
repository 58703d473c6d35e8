"""Orders and trades as columns, through the clearing house and the bus schemas."""

from __future__ import annotations

import gc
from typing import TypeVar

import numpy as np
import pytest

import gridcoop.agents.trading.book as book_module
from gridcoop.agents.bus.messages import decode, encode
from gridcoop.agents.bus.schema import Envelope
from gridcoop.agents.trading.book import (
    Orders,
    Trades,
    build_orders,
    clear_central_orders,
    clear_local_orders,
    orders_from_message,
    orders_to_message,
    trades_from_message,
    trades_to_message,
)
from gridcoop.agents.trading.handed import NodeIndex

IDS = ("h0", "h1", "h2", "h3")
E = TypeVar("E", bound=Envelope)


def _parsed(message: E) -> E:
    """``message`` as a receiver in another process gets it: decoded from its bytes."""
    again = decode(encode(message))
    assert type(again) is type(message)
    return again


def a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_build_orders_skips_small_quantities_and_keeps_arrival_order() -> None:
    orders = build_orders("a1", 0, a(500, 0, 9, 300), a(0, 800, 0, 0), a(90_000, 0, 90_000, 70_000),
                          a(0, 50_000, 0, 0), IDS, min_wh=10)
    assert orders.order_ids == ["a1:h0:b", "a1:h3:b", "a1:h1:o"]
    assert orders.is_buy.tolist() == [True, True, False]
    assert orders.energy_wh.tolist() == [500, 300, 800]


def test_clear_average_bid_hand_worked() -> None:
    # bids: h0 500 Wh @ 0.090, h3 300 Wh @ 0.070; offer: h1 800 Wh @ 0.050.
    orders = build_orders("a1", 0, a(500, 0, 0, 300), a(0, 800, 0, 0),
                          a(90_000, 0, 0, 70_000), a(0, 50_000, 0, 0), IDS, min_wh=10)
    cleared = clear_local_orders(orders, "average_bid", 1, "a1:r0")
    # both bids are accepted; the price is the average of the accepted bids:
    # volume-weighted (0.090*500 + 0.070*300) / 800 = 0.0825 €/kWh
    t = cleared.trades
    assert t.buyer.tolist() == [0, 3] and t.seller.tolist() == [1, 1]
    assert t.energy_wh.tolist() == [500, 300]
    assert cleared.price_u == 82_500 and t.price_u.tolist() == [82_500, 82_500]
    assert len(cleared.remainder) == 0


def test_remainder_carries_unmatched_quantity() -> None:
    orders = build_orders("a1", 0, a(500, 0, 0, 0), a(0, 200, 0, 0), a(90_000, 0, 0, 0),
                          a(0, 50_000, 0, 0), IDS, min_wh=10)
    cleared = clear_local_orders(orders, "pay_as_clear", 1, "x")
    assert cleared.trades.energy_wh.tolist() == [200]
    assert cleared.remainder.order_ids == ["a1:h0:b"]
    assert cleared.remainder.energy_wh.tolist() == [300]
    assert cleared.remainder.price_u.tolist() == [90_000]


def test_one_sided_books_do_not_trade() -> None:
    orders = build_orders("a1", 0, a(500, 10, 0, 0), a(0, 0, 0, 0), a(90_000, 80_000, 0, 0),
                          a(0, 0, 0, 0), IDS, min_wh=10)
    cleared = clear_local_orders(orders, "average_bid", 1, "x")
    assert len(cleared.trades) == 0 and cleared.remainder is orders
    assert len(clear_local_orders(Orders.empty(), "average_bid", 1, "x").trades) == 0


def test_messages_round_trip_exactly() -> None:
    orders = build_orders("a7", 0, a(1234, 0, 0, 1), a(0, 777, 5, 0), a(95_000, 0, 0, 65_001),
                          a(0, 39_000, 41_234, 0), IDS, min_wh=1)
    index = NodeIndex.of(IDS)
    sent = orders_to_message(orders, "a7", "r0", IDS, 3600)
    again = orders_from_message(_parsed(sent), index)  # parsed, as from elsewhere
    assert again.order_ids == orders.order_ids
    for field in ("node", "is_buy", "energy_wh", "price_u"):
        assert np.array_equal(getattr(again, field), getattr(orders, field))
        assert getattr(again, field).dtype == getattr(orders, field).dtype
    trades = clear_local_orders(orders, "pay_as_bid", 7, "a7:r0").trades
    result = trades_to_message(trades, "a7", "pay_as_bid", None, IDS, 3600)
    back = trades_from_message(_parsed(result), index)
    assert back.trade_ids == trades.trade_ids and back.bid_ids == trades.bid_ids
    for field in ("buyer", "seller", "energy_wh", "price_u"):
        assert np.array_equal(getattr(back, field), getattr(trades, field))
        assert getattr(back, field).dtype == getattr(trades, field).dtype


def test_a_message_built_here_gives_back_its_columns_while_it_lives() -> None:
    orders = build_orders("a7", 0, a(1234, 0, 0, 1), a(0, 777, 5, 0), a(95_000, 0, 0, 65_001),
                          a(0, 39_000, 41_234, 0), IDS, min_wh=1)
    message = orders_to_message(orders, "a7", "r0", IDS, 3600)
    assert orders_from_message(message, NodeIndex.of(IDS)) is orders  # the object handed over
    with pytest.raises(ValueError, match="read-only"):
        orders.energy_wh[0] = 1  # shared with the receiver: nobody writes to it
    # an index that does not hold every node (another region's) parses, and refuses
    with pytest.raises(KeyError):
        orders_from_message(message, NodeIndex.of(IDS, slice(2, 4)))
    # ids numbered by another population's tuple (equal, not the same) are parsed
    other = orders_from_message(message, NodeIndex.of(tuple(list(IDS))))
    assert other is not orders and np.array_equal(other.node, orders.node)
    trades = clear_local_orders(orders, "pay_as_bid", 7, "a7:r0").trades
    result = trades_to_message(trades, "a7", "pay_as_bid", None, IDS, 3600)
    assert trades_from_message(result, NodeIndex.of(IDS)) is trades
    table = book_module._HANDED_TRADES._by_message
    assert id(result) in table
    del result
    gc.collect()
    assert not table  # the entry went with its message


def test_unknown_participant_in_a_message_is_refused() -> None:
    orders = build_orders("a1", 0, a(500, 0, 0, 0), a(0, 0, 0, 0), a(90_000, 0, 0, 0),
                          a(0, 0, 0, 0), IDS, min_wh=10)
    with pytest.raises(KeyError):
        orders_from_message(_parsed(orders_to_message(orders, "a1", "r0", IDS, 0)),
                            NodeIndex.of(("h0", "h1"), slice(1, 2)))


def test_central_clears_the_regions_remainders_region_by_region() -> None:
    # Region 0 forwards a bid h0 500 Wh @ 80,001; region 1 offers h2 500 Wh @ 40,000 and
    # h3 300 Wh @ 90,000. h0 x h2 trade 500 Wh, nothing is left at the margin: pay_as_clear
    # is the middle of [40,000, min(80,001, 90,000)], (80,001 + 40,000) // 2 = 60,000
    # (60,000.5 rounded down).
    r0 = build_orders("a1", 0, a(500, 0), a(0, 0), a(80_001, 0), a(0, 0), IDS, min_wh=10)
    r1 = build_orders("a1", 2, a(0, 0), a(500, 300), a(0, 0), a(40_000, 90_000), IDS,
                      min_wh=10)
    cleared = clear_central_orders([r0, Orders.empty(), r1], "pay_as_clear", 1, "a1:central")
    t = cleared.trades
    assert (t.buyer.tolist(), t.seller.tolist(), t.energy_wh.tolist()) == ([0], [2], [500])
    assert cleared.price_u == 60_000 and t.price_u.tolist() == [60_000]
    assert t.trade_ids == ["a1:central:0"] and t.bid_ids == ["a1:h0:b"]
    assert cleared.remainder.order_ids == ["a1:h3:o"]
    assert cleared.remainder.energy_wh.tolist() == [300]


def test_joining_one_part_is_that_part() -> None:
    orders = build_orders("a1", 0, a(500, 0), a(0, 300), a(90_000, 0), a(0, 40_000), IDS,
                          min_wh=10)
    assert Orders.concat([Orders.empty(), orders]) is orders
    assert len(Orders.concat([Orders.empty()])) == 0
    trades = clear_local_orders(orders, "pay_as_clear", 1, "a1:r0").trades
    assert Trades.concat([trades, Trades.empty()]) is trades
    both = Trades.concat([trades, trades])
    assert both.energy_wh.tolist() == trades.energy_wh.tolist() * 2
