"""OrderBatch: columnar input, validated column by column, same results as Order lists."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.market import (
    DuplicateOrderError,
    InvalidOrderError,
    OrderBatch,
    PriceCapExceededError,
    Side,
    clear,
)
from tests.market.helpers import bid, offer


def small_batch(**changes: object) -> OrderBatch:
    columns: dict[str, object] = {
        "order_ids": ["b1", "b2", "s1"],
        "participants": ["ana", "rui", "eva"],
        "sides": ["buy", "buy", "sell"],
        "quantity_kwh": [2.0, 1.0, 2.5],
        "price_eur_per_kwh": [0.30, 0.20, 0.10],
        "interval": 5,
        "sequence": [0, 1, 2],
    }
    columns.update(changes)
    return OrderBatch(**columns)  # type: ignore[arg-type]


@pytest.mark.parametrize("mechanism", ["pay_as_clear", "average_bid", "pay_as_bid",
                                       "continuous"])
def test_batch_clears_like_the_equivalent_orders(mechanism: str) -> None:
    batch = small_batch()
    orders = batch.to_orders()
    assert orders[2] == offer("s1", 2.5, 0.10, 2, "eva", interval=5)
    from_batch = clear(batch, mechanism)
    assert from_batch.path == "fast"
    assert from_batch == clear(orders, mechanism, path="reference")
    assert clear(batch, mechanism, path="reference") == from_batch
    # b1 takes 2 kWh of s1, b2 the last 0.5 kWh: b2 has 0.5 kWh left.
    assert [(o.order_id, o.quantity_kwh) for o in from_batch.unmatched] == [("b2", 0.5)]


def test_batch_round_trips_orders_and_accepts_bool_sides() -> None:
    orders = [bid("x", 1.25, 0.2, 7, interval=2), offer("y", 3.0, 0.1, 3, interval=2)]
    batch = OrderBatch.from_orders(orders)
    assert batch.to_orders() == orders
    assert batch.interval == 2 and len(batch) == 2
    same = small_batch(sides=np.array([True, True, False]))
    assert same.to_orders()[0].side is Side.BUY
    assert "bids=2" in repr(same)


def test_batch_columns_are_read_only() -> None:
    batch = small_batch()
    with pytest.raises(ValueError, match="read-only"):
        batch.price_eur_per_kwh[0] = 5.0


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"order_ids": ["b1", "b1", "s1"]}, DuplicateOrderError, "'b1' appears more than once"),
        ({"order_ids": ["b1", "", "s1"]}, InvalidOrderError, r"order_ids\[1\]"),
        ({"participants": ["ana", "rui"]}, InvalidOrderError, "participants has 2 entries"),
        ({"sides": ["buy", "hold", "sell"]}, InvalidOrderError, r"sides\[1\]"),
        ({"quantity_kwh": [2.0, np.nan, 1.0]}, InvalidOrderError, "finite"),
        ({"quantity_kwh": [2.0, 0.0, 1.0]}, InvalidOrderError, r"quantity_kwh\[1\]"),
        ({"quantity_kwh": [2.0, 1.0]}, InvalidOrderError, "length 3"),
        ({"price_eur_per_kwh": [0.3, -0.1, 0.1]}, InvalidOrderError, ">= 0"),
        ({"price_eur_per_kwh": [0.3, np.inf, 0.1]}, InvalidOrderError, "finite"),
        ({"price_eur_per_kwh": ["a", "b", "c"]}, InvalidOrderError, "numbers"),
        ({"interval": -1}, InvalidOrderError, "interval"),
        ({"sequence": [0, -1, 2]}, InvalidOrderError, "sequence"),
        ({"sequence": [0.5, 1, 2]}, InvalidOrderError, "sequence"),
    ],
)
def test_bad_batches_are_rejected(changes: dict[str, object], error: type[Exception],
                                  message: str) -> None:
    with pytest.raises(error, match=message):
        small_batch(**changes)


def test_batch_price_cap_and_mixed_intervals() -> None:
    with pytest.raises(PriceCapExceededError, match="'b1'"):
        clear(small_batch(price_eur_per_kwh=[30.0, 0.2, 0.1]))
    assert clear(small_batch(price_eur_per_kwh=[30.0, 0.2, 0.1]),
                 price_cap_eur_per_kwh=50).volume_kwh == 2.5
    with pytest.raises(InvalidOrderError, match="one interval"):
        OrderBatch.from_orders([bid("a", 1, 0.1, 0, interval=0), bid("b", 1, 0.1, 0, interval=1)])
