"""Large seeded books: the numpy path equals the plain-Python oracle beyond toy sizes."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.market import Order, OrderBatch, Side, clear
from tests.market.oracle import oracle_clear


def seeded_book(n: int, seed: int) -> list[Order]:
    rng = np.random.default_rng(seed)
    # ~25 price levels (whole cents in µ€/kWh): many ties.
    prices = (np.rint(rng.uniform(0.01, 0.25, n) * 100).astype(np.int64) * 10_000).tolist()
    energies = np.rint(rng.uniform(1, 5_000, n)).astype(np.int64).tolist()
    sides = rng.random(n) < 0.5
    sequences = rng.integers(0, n // 4, n).tolist()  # repeated sequences on purpose
    return [Order(f"o{k}", f"m{k % 37}", Side.BUY if sides[k] else Side.SELL, energies[k],
                  prices[k], 0, sequences[k]) for k in range(n)]


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "average_bid", "pay_as_bid",
                                       "continuous"])
@pytest.mark.parametrize("seed", [1, 2])
def test_fast_equals_the_oracle_on_large_books(mechanism: str, seed: int) -> None:
    orders = seeded_book(4_000, seed)
    oracle = oracle_clear(orders, mechanism)
    fast = clear(orders, mechanism)
    batch = clear(OrderBatch.from_orders(orders), mechanism)
    assert fast == oracle and batch == oracle
    assert len(oracle.trades) > 500  # a real crossing, not an empty market
    filled = oracle.filled_wh_by_order()
    assert all(filled.get(o.order_id, 0) <= o.energy_wh for o in orders)


def test_lazy_views_behave_like_lists() -> None:
    orders = seeded_book(1_000, 3)
    fast = clear(orders, "pay_as_bid")
    trades, expected = fast.trades, list(oracle_clear(orders, "pay_as_bid").trades)
    assert len(trades) == len(expected)
    assert trades[0] == expected[0] and trades[-1] == expected[-1]
    assert trades[3:7] == expected[3:7]
    assert trades.energy_wh.tolist() == [t.energy_wh for t in expected]
    assert trades.price_ueur_per_kwh.tolist() == [t.price_ueur_per_kwh for t in expected]
    with pytest.raises(IndexError):
        trades[len(expected)]
    left, expected_left = fast.unmatched, list(oracle_clear(orders, "pay_as_bid").unmatched)
    assert left[-1] == expected_left[-1] and left[:3] == expected_left[:3]
    assert left.remaining_wh.tolist() == [o.energy_wh for o in expected_left]
    with pytest.raises(IndexError):
        left[-len(expected_left) - 1]
    assert "trades" in repr(trades) and "orders" in repr(left)
    uniform = clear(orders, "pay_as_clear").trades
    assert set(uniform.price_ueur_per_kwh.tolist()) == {uniform[0].price_ueur_per_kwh}
    assert fast.summary()["path"] == "fast"


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "pay_as_bid", "continuous"])
def test_trade_columns_are_the_oracle_s(mechanism: str) -> None:
    orders = seeded_book(600, 4)
    fast = clear(orders, mechanism).trades
    oracle = oracle_clear(orders, mechanism).trades
    for name in ("buy_positions", "sell_positions", "energy_wh", "price_ueur_per_kwh"):
        assert np.array_equal(getattr(fast, name), getattr(oracle, name))
    assert all(orders[k].side is Side.BUY for k in fast.buy_positions.tolist())
    assert all(orders[k].side is Side.SELL for k in fast.sell_positions.tolist())
