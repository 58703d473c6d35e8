"""Order validation and the input checks of clear(): each bad case has its own error."""

from __future__ import annotations

import math
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

GOOD = {"order_id": "o1", "participant": "ana", "side": "buy", "quantity_kwh": 1.5,
        "price_eur_per_kwh": 0.12, "interval": 4, "sequence": 9}


def make(**changes: object) -> Order:
    return Order(**{**GOOD, **changes})  # type: ignore[arg-type]


def test_a_valid_order_is_normalised() -> None:
    order = make(side="sell", quantity_kwh=2, price_eur_per_kwh=-0.0,
                 interval=np.int64(4), sequence=np.int32(9))
    assert order.side is Side.SELL and str(order.side) == "sell"
    assert order.quantity_kwh == 2.0 and type(order.quantity_kwh) is float
    assert order.price_eur_per_kwh == 0.0 and math.copysign(1, order.price_eur_per_kwh) == 1
    assert type(order.interval) is int and type(order.sequence) is int
    assert not order.is_buy
    assert make(quantity_kwh=1e-9).quantity_kwh == 1e-9  # the resolution itself is allowed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity_kwh": math.nan}, "finite"),
        ({"quantity_kwh": math.inf}, "finite"),
        ({"quantity_kwh": -1.0}, "at least"),
        ({"quantity_kwh": 0.0}, "at least"),
        ({"quantity_kwh": 1e-10}, "at least"),
        ({"quantity_kwh": 2e6}, "per-order limit"),
        ({"quantity_kwh": "3"}, "number"),
        ({"quantity_kwh": True}, "number"),
        ({"price_eur_per_kwh": math.nan}, "finite"),
        ({"price_eur_per_kwh": -math.inf}, "finite"),
        ({"price_eur_per_kwh": -0.01}, ">= 0"),
        ({"price_eur_per_kwh": None}, "number"),
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
        order.quantity_kwh = 5.0  # type: ignore[misc]


@pytest.mark.parametrize("path", ["reference", "fast"])
def test_clear_rejects_bad_books_and_leaves_input_alone(path: str) -> None:
    good = [bid("b", 1, 0.2, 0), offer("s", 1, 0.1, 1)]
    cases: list[tuple[list[Any], type[MarketError], str]] = [
        ([*good, bid("b", 2, 0.3, 2)], DuplicateOrderError, "'b' appears more than once"),
        ([*good, bid("x", 2, 0.3, 2, interval=1)], MixedIntervalsError, r"\[0, 1\]"),
        ([*good, offer("y", 2, 10.5, 2)], PriceCapExceededError, "above the market's cap"),
        ([*good, ("b2", "buy", 1.0)], InvalidOrderError, "not an Order"),
    ]
    for orders, error, message in cases:
        before = list(orders)
        with pytest.raises(error, match=message):
            clear(orders, path=path)
        assert orders == before


def test_price_cap_is_configurable() -> None:
    orders = [bid("b", 1, 12.0, 0), offer("s", 1, 11.0, 1)]
    with pytest.raises(PriceCapExceededError):
        clear(orders)
    result = clear(orders, price_cap_eur_per_kwh=20.0)
    assert result.clearing_price_eur_per_kwh == 11.5
    with pytest.raises(PriceCapExceededError):
        clear([bid("b", 1, 0.5, 0)], price_cap_eur_per_kwh=0.4)
    with pytest.raises(InvalidOrderError, match="price_cap"):
        clear([], price_cap_eur_per_kwh=math.nan)


def test_clear_rejects_unknown_mechanisms_paths_and_options() -> None:
    orders = [bid("b", 1, 0.2, 0), offer("s", 1, 0.1, 1)]
    with pytest.raises(UnknownMechanismError, match=r"registered mechanisms: .*pay_as_clear"):
        clear(orders, "vickrey")
    with pytest.raises(InvalidOptionError, match="path"):
        clear(orders, path="gpu")
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


def test_auto_path_switches_by_size() -> None:
    from gridcoop.market import FAST_PATH_MIN_ORDERS

    small = [bid(f"b{k}", 1, 0.2, k) for k in range(FAST_PATH_MIN_ORDERS - 1)]
    assert clear(small).path == "reference"
    assert clear([*small, offer("s", 1, 0.1, 999)]).path == "fast"
