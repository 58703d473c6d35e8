"""Large seeded books: the numpy path equals the reference path beyond toy sizes."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.market import Order, OrderBatch, Side, clear
from gridcoop.market.results import TradeView
from tests.market.helpers import TOL


def seeded_book(n: int, seed: int) -> list[Order]:
    rng = np.random.default_rng(seed)
    prices = np.round(rng.uniform(0.01, 0.25, n), 2).tolist()  # ~25 price levels: many ties
    quantities = np.round(rng.uniform(0.001, 5.0, n), 3).tolist()
    sides = rng.random(n) < 0.5
    sequences = rng.integers(0, n // 4, n).tolist()  # repeated sequences on purpose
    return [Order(f"o{k}", f"m{k % 37}", Side.BUY if sides[k] else Side.SELL, quantities[k],
                  prices[k], 0, sequences[k]) for k in range(n)]


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "average_bid", "pay_as_bid",
                                       "continuous"])
@pytest.mark.parametrize("seed", [1, 2])
def test_fast_equals_reference_on_large_books(mechanism: str, seed: int) -> None:
    orders = seeded_book(4_000, seed)
    reference = clear(orders, mechanism, path="reference")
    fast = clear(orders, mechanism, path="fast")
    batch = clear(OrderBatch.from_orders(orders), mechanism)
    assert fast == reference and batch == reference
    assert len(reference.trades) > 500  # a real crossing, not an empty market
    filled = reference.filled_kwh_by_order()
    assert all(filled.get(o.order_id, 0.0) <= o.quantity_kwh + TOL for o in orders)


def test_lazy_views_behave_like_lists() -> None:
    orders = seeded_book(1_000, 3)
    fast = clear(orders, "pay_as_bid", path="fast")
    reference = clear(orders, "pay_as_bid", path="reference")
    trades, expected = fast.trades, list(reference.trades)
    assert isinstance(trades, TradeView)  # the fast path's lazy, columnar view
    assert len(trades) == len(expected)
    assert trades[0] == expected[0] and trades[-1] == expected[-1]
    assert trades[3:7] == expected[3:7]
    assert list(trades.quantity_kwh) == [t.quantity_kwh for t in expected]
    assert list(trades.price_eur_per_kwh) == [t.price_eur_per_kwh for t in expected]
    with pytest.raises(IndexError):
        trades[len(expected)]
    left, expected_left = fast.unmatched, list(reference.unmatched)
    assert left[-1] == expected_left[-1] and left[:3] == expected_left[:3]
    with pytest.raises(IndexError):
        left[-len(expected_left) - 1]
    assert "trades" in repr(trades) and "orders" in repr(left)
    uniform = clear(orders, "pay_as_clear", path="fast").trades
    assert isinstance(uniform, TradeView)
    assert set(uniform.price_eur_per_kwh.tolist()) == {uniform[0].price_eur_per_kwh}
    assert fast.summary()["path"] == "fast"


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "pay_as_bid", "continuous"])
def test_trade_arrays_are_the_same_on_both_paths(mechanism: str) -> None:
    orders = seeded_book(600, 4)
    fast = clear(orders, mechanism, path="fast").trade_arrays()
    reference = clear(orders, mechanism, path="reference").trade_arrays()
    for name in ("buy_positions", "sell_positions", "quantity_kwh", "price_eur_per_kwh"):
        assert np.array_equal(getattr(fast, name), getattr(reference, name))
    assert all(orders[k].side is Side.BUY for k in fast.buy_positions.tolist())
    assert all(orders[k].side is Side.SELL for k in fast.sell_positions.tolist())
