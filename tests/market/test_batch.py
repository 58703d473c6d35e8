"""OrderBatch: columnar integer input, validated column by column, same results as Orders."""

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
from tests.market.oracle import oracle_clear


def small_batch(**changes: object) -> OrderBatch:
    columns: dict[str, object] = {
        "order_ids": ["b1", "b2", "s1"],
        "participants": ["ana", "rui", "eva"],
        "sides": ["buy", "buy", "sell"],
        "energy_wh": [2_000, 1_000, 2_500],
        "price_ueur_per_kwh": [300_000, 200_000, 100_000],
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
    assert orders[2] == offer("s1", 2_500, 100_000, 2, "eva", interval=5)
    from_batch = clear(batch, mechanism)
    assert from_batch.path == "fast"
    assert from_batch == oracle_clear(orders, mechanism) == clear(orders, mechanism)
    # b1 takes 2 kWh of s1, b2 the last 0.5 kWh: b2 has 0.5 kWh left.
    assert [(o.order_id, o.energy_wh) for o in from_batch.unmatched] == [("b2", 500)]


def test_batch_round_trips_orders_and_accepts_bool_sides() -> None:
    orders = [bid("x", 1_250, 200_000, 7, interval=2), offer("y", 3_000, 100_000, 3, interval=2)]
    batch = OrderBatch.from_orders(orders)
    assert batch.to_orders() == orders
    assert batch.interval == 2 and len(batch) == 2
    same = small_batch(sides=np.array([True, True, False]))
    assert same.to_orders()[0].side is Side.BUY
    assert "bids=2" in repr(same)


def test_take_and_concat_keep_ids_prices_and_sequences() -> None:
    batch = small_batch()
    rest = batch.take(np.array([2, 0]), np.array([7, 8]))
    assert [(o.order_id, o.energy_wh, o.price_ueur_per_kwh, o.sequence) for o in
            rest.to_orders()] == [("s1", 7, 100_000, 2), ("b1", 8, 300_000, 0)]
    both = OrderBatch.concat([rest, small_batch(order_ids=["c1", "c2", "c3"])], 5)
    assert both.order_ids[:3] == ("s1", "b1", "c1") and len(both) == 5
    assert len(OrderBatch.concat([], 3)) == 0


def test_batch_columns_are_read_only() -> None:
    batch = small_batch()
    with pytest.raises(ValueError, match="read-only"):
        batch.price_ueur_per_kwh[0] = 5


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"order_ids": ["b1", "b1", "s1"]}, DuplicateOrderError, "'b1' appears more than once"),
        ({"order_ids": ["b1", "", "s1"]}, InvalidOrderError, r"order_ids\[1\]"),
        ({"participants": ["ana", "rui"]}, InvalidOrderError, "participants has 2 entries"),
        ({"participants": ["ana", 7, "rui"]}, InvalidOrderError, r"participants\[1\].*got 7"),
        ({"participants": ["ana", "rui", b"eva"]}, InvalidOrderError, r"participants\[2\]"),
        ({"sides": ["buy", "hold", "sell"]}, InvalidOrderError, r"sides\[1\]"),
        ({"energy_wh": [2_000, 0, 1_000]}, InvalidOrderError, r"energy_wh\[1\]"),
        ({"energy_wh": [2_000, 1_000]}, InvalidOrderError, "length 3"),
        ({"energy_wh": [2.0, 1.5, 1.0]}, InvalidOrderError, "must be integers"),
        ({"price_ueur_per_kwh": [300_000, -1, 100_000]}, InvalidOrderError, ">= 0"),
        ({"price_ueur_per_kwh": [0.3, 0.2, 0.1]}, InvalidOrderError, "must be integers"),
        ({"price_ueur_per_kwh": ["a", "b", "c"]}, InvalidOrderError, "must be integers"),
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
        clear(small_batch(price_ueur_per_kwh=[30_000_000, 200_000, 100_000]))
    assert clear(small_batch(price_ueur_per_kwh=[30_000_000, 200_000, 100_000]),
                 price_cap_ueur_per_kwh=50_000_000).volume_wh == 2_500
    with pytest.raises(InvalidOrderError, match="one interval"):
        OrderBatch.from_orders([bid("a", 1, 100_000, 0, interval=0),
                                bid("b", 1, 100_000, 0, interval=1)])
