"""Order validation and the input checks of clear(): each bad case has its own error."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.market import (
    DuplicateOrderError,
    InvalidOptionError,
    InvalidOrderError,
    MarketError,
    MixedIntervalsError,
    Order,
    PriceCapExceededError,
    Side,
    UnknownMechanismError,
    clear,
    mechanism_names,
)
from tests.market.helpers import bid, offer

GOOD = {"order_id": "o1", "participant": "ana", "side": "buy", "energy_wh": 1_500,
        "price_ueur_per_kwh": 120_000, "interval": 4, "sequence": 9}


def make(**changes: object) -> Order:
    return Order(**{**GOOD, **changes})  # type: ignore[arg-type]


def test_a_valid_order_is_normalised() -> None:
    order = make(side="sell", energy_wh=np.int64(2), price_ueur_per_kwh=np.int32(0),
                 interval=np.int64(4), sequence=np.int32(9))
    assert order.side is Side.SELL and str(order.side) == "sell"
    assert order.energy_wh == 2 and type(order.energy_wh) is int
    assert order.price_ueur_per_kwh == 0 and type(order.price_ueur_per_kwh) is int
    assert type(order.interval) is int and type(order.sequence) is int
    assert not order.is_buy
    assert make(energy_wh=1).energy_wh == 1  # one Wh, the resolution itself, is allowed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"energy_wh": 1.5}, "integer"),
        ({"energy_wh": 1_000.0}, "integer"),
        ({"energy_wh": -1}, ">= 0"),
        ({"energy_wh": 0}, "between 1 and"),
        ({"energy_wh": 2_000_000_000}, "between 1 and"),
        ({"energy_wh": "3"}, "integer"),
        ({"energy_wh": True}, "bool"),
        ({"price_ueur_per_kwh": 0.12}, "integer"),
        ({"price_ueur_per_kwh": -1}, ">= 0"),
        ({"price_ueur_per_kwh": None}, "integer"),
        ({"side": "hold"}, "'buy' or 'sell'"),
        ({"side": 1}, "'buy' or 'sell'"),
        ({"order_id": ""}, "order_id"),
        ({"order_id": 5}, "order_id"),
        ({"participant": ""}, "participant"),
        ({"interval": -1}, ">= 0"),
        ({"interval": 1.5}, "integer"),
        ({"sequence": True}, "integer"),
        ({"sequence": -3}, ">= 0"),
    ],
)
def test_bad_orders_are_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOrderError, match=message):
        make(**changes)


def test_orders_are_immutable() -> None:
    order = make()
    with pytest.raises(AttributeError):
        order.energy_wh = 5  # type: ignore[misc]


def test_clear_rejects_bad_books_and_leaves_input_alone() -> None:
    good = [bid("b", 1_000, 200_000, 0), offer("s", 1_000, 100_000, 1)]
    cases: list[tuple[list[Any], type[MarketError], str]] = [
        ([*good, bid("b", 2, 300_000, 2)], DuplicateOrderError, "'b' appears more than once"),
        ([*good, bid("x", 2, 300_000, 2, interval=1)], MixedIntervalsError, r"\[0, 1\]"),
        ([*good, offer("y", 2, 10_500_000, 2)], PriceCapExceededError, "above the market's cap"),
        ([*good, ("b2", "buy", 1.0)], InvalidOrderError, "not an Order"),
    ]
    for orders, error, message in cases:
        before = list(orders)
        with pytest.raises(error, match=message):
            clear(orders)
        assert orders == before


def test_price_cap_is_configurable() -> None:
    orders = [bid("b", 1_000, 12_000_000, 0), offer("s", 1_000, 11_000_000, 1)]
    with pytest.raises(PriceCapExceededError):
        clear(orders)
    result = clear(orders, price_cap_ueur_per_kwh=20_000_000)
    assert result.clearing_price_ueur_per_kwh == 11_500_000
    with pytest.raises(PriceCapExceededError):
        clear([bid("b", 1, 500_000, 0)], price_cap_ueur_per_kwh=400_000)
    with pytest.raises(InvalidOrderError, match="price_cap"):
        clear([], price_cap_ueur_per_kwh=0.5)  # type: ignore[arg-type]


def test_a_book_too_large_to_price_exactly_is_refused() -> None:
    # 10 orders of 1 GWh on one side under a cap of 10^9 µ€/kWh: 10^10 Wh x 10^9 = 10^19
    # > 2^62, so average_bid's sum(price x Wh) could overflow int64. At the default cap
    # (10^7 µ€/kWh) the product is 10^17: fine.
    orders = [bid(f"b{k}", 1_000_000_000, 100_000, k) for k in range(10)]
    with pytest.raises(InvalidOrderError, match="too much to price exactly"):
        clear(orders, price_cap_ueur_per_kwh=1_000_000_000)
    assert clear(orders).volume_wh == 0


def test_clear_rejects_unknown_mechanisms_and_options() -> None:
    orders = [bid("b", 1_000, 200_000, 0), offer("s", 1_000, 100_000, 1)]
    with pytest.raises(UnknownMechanismError, match=r"registered mechanisms: .*pay_as_clear"):
        clear(orders, "vickrey")
    with pytest.raises(InvalidOptionError, match="does not accept"):
        clear(orders, "pay_as_clear", weighted=True)
    with pytest.raises(InvalidOptionError, match="pair_price"):
        clear(orders, "pay_as_bid", pair_price="seller")
    with pytest.raises(InvalidOptionError, match="weighted"):
        clear(orders, "average_bid", weighted="yes")
    with pytest.raises(InvalidOrderError, match="single Order"):
        clear(orders[0])  # type: ignore[arg-type]
    assert "vickrey" not in mechanism_names()


def test_errors_are_one_family() -> None:
    for error in (InvalidOrderError, DuplicateOrderError, PriceCapExceededError,
                  MixedIntervalsError, UnknownMechanismError, InvalidOptionError):
        assert issubclass(error, MarketError)
    assert str(UnknownMechanismError("no such thing")) == "no such thing"
