"""``clear``: the one-call entry point of the clearing house.

It validates the whole input before any mechanism runs (so a bad order never
produces half a result), builds the numpy book, and runs the named mechanism
from the registry. Input and output are integers: Wh and µ€/kWh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from gridcoop.market.batch import OrderBatch
from gridcoop.market.errors import (
    DuplicateOrderError,
    InvalidOrderError,
    MixedIntervalsError,
)
from gridcoop.market.fast import FastBook
from gridcoop.market.orders import (
    DEFAULT_PRICE_CAP_UEUR_PER_KWH,
    MAX_BOOK_PRODUCT,
    Order,
    Side,
    check_price_cap,
    validate_price_cap,
)
from gridcoop.market.registry import check_options, is_crossing_only, run_checked
from gridcoop.market.results import ClearingResult, ListSource, OrderSource
from gridcoop.units import IntArray


def _check_objects(orders: list[Order]) -> None:
    if set(map(type, orders)) <= {Order}:  # the common case, at C speed
        return
    for k, order in enumerate(orders):
        if not isinstance(order, Order):
            raise InvalidOrderError(
                f"item {k} is a {type(order).__name__}, not an Order; build orders with "
                f"market.Order(...) or pass an OrderBatch"
            )


def _duplicate_id(orders: list[Order]) -> str:
    seen: set[str] = set()
    for order in orders:
        if order.order_id in seen:
            return order.order_id
        seen.add(order.order_id)
    return ""  # pragma: no cover - the caller found a duplicate


def _book(source: OrderSource, is_buy: np.ndarray[Any, np.dtype[np.bool_]],
          prices: IntArray, energy_wh: IntArray, sequences: IntArray, interval: int | None,
          cap: int) -> FastBook:
    """Check the price cap and the side totals, then build the book."""
    _check_limits(source.order_id, is_buy, prices, energy_wh, cap)
    return FastBook(source, is_buy, prices, energy_wh, sequences, interval)


def _check_limits(order_id: Callable[[int], str], is_buy: np.ndarray[Any, np.dtype[np.bool_]],
                  prices: IntArray, energy_wh: IntArray, cap: int) -> None:
    """Refuse a price over the cap (naming its order) and a side too large to price exactly."""
    if len(prices) and int(prices.max()) > cap:
        k = int(np.argmax(prices))
        check_price_cap(order_id(k), int(prices[k]), cap)
    largest_side_wh = max(int(energy_wh[is_buy].sum()), int(energy_wh[~is_buy].sum()))
    if largest_side_wh * cap > MAX_BOOK_PRODUCT:
        raise InvalidOrderError(
            f"one side of the book holds {largest_side_wh} Wh, too much to price exactly at a "
            f"cap of {cap} µ€/kWh; split the clearing or check the energy unit"
        )


def _book_from_orders(orders: list[Order], cap: int) -> FastBook:
    _check_objects(orders)
    n = len(orders)
    buy = Side.BUY
    is_buy = np.fromiter((o.side is buy for o in orders), dtype=np.bool_, count=n)
    prices = np.fromiter((o.price_ueur_per_kwh for o in orders), dtype=np.int64, count=n)
    energy = np.fromiter((o.energy_wh for o in orders), dtype=np.int64, count=n)
    sequences = np.fromiter((o.sequence for o in orders), dtype=np.int64, count=n)
    intervals = np.fromiter((o.interval for o in orders), dtype=np.int64, count=n)
    if n and intervals.min() != intervals.max():
        raise MixedIntervalsError(
            f"orders for intervals {sorted(set(intervals.tolist()))} in one clearing; clear "
            f"each delivery interval separately"
        )
    if len({o.order_id for o in orders}) != n:
        raise DuplicateOrderError(
            f"order_id {_duplicate_id(orders)!r} appears more than once in one clearing; give "
            f"every order a unique id"
        )
    return _book(ListSource(orders), is_buy, prices, energy, sequences,
                 int(intervals[0]) if n else None, cap)


def prepare(
    orders: Iterable[Order] | OrderBatch,
    *,
    price_cap_ueur_per_kwh: int = DEFAULT_PRICE_CAP_UEUR_PER_KWH,
) -> FastBook:
    """Validate ``orders`` and build the book a mechanism clears."""
    cap = validate_price_cap(price_cap_ueur_per_kwh)
    if isinstance(orders, OrderBatch):
        return _book(orders, orders.is_buy, orders.price_ueur_per_kwh, orders.energy_wh,
                     orders.sequence, orders.interval if len(orders) else None, cap)
    if isinstance(orders, (str, bytes, Order)):
        raise InvalidOrderError(
            f"clear takes a collection of orders, got a single {type(orders).__name__}; "
            f"wrap it in a list"
        )
    return _book_from_orders(list(orders), cap)


def clear(
    orders: Iterable[Order] | OrderBatch,
    mechanism: str = "pay_as_clear",
    *,
    price_cap_ueur_per_kwh: int = DEFAULT_PRICE_CAP_UEUR_PER_KWH,
    **options: Any,
) -> ClearingResult:
    """Clear one delivery interval's orders with the named mechanism.

    ``orders`` are :class:`Order` objects (all for one interval, unique ids) or
    an :class:`OrderBatch`. ``options`` go to the mechanism (e.g.
    ``weighted=False`` for ``average_bid``, ``pair_price="midpoint"`` for
    ``pay_as_bid``). Raises a :class:`~gridcoop.market.errors.MarketError` subclass for
    bad input, before anything is matched.
    """
    check_options(mechanism, options)
    book = prepare(orders, price_cap_ueur_per_kwh=price_cap_ueur_per_kwh)
    return run_checked(mechanism, book, options)


def trades_nothing(is_buy: np.ndarray[Any, np.dtype[np.bool_]], prices: IntArray,
                   energy_wh: IntArray, mechanism: str, options: Mapping[str, Any]) -> bool:
    """Whether ``clear`` of these columns is sure to trade nothing and raise nothing, so a
    caller may skip it and keep every order: the mechanism trades only crossing prices,
    the best bid is below the best offer, and no price or side total breaks a limit
    ``clear`` checks (those it still reports).

    Why: a region's remainder never crosses, so neither does the central book of a
    one-region community; the checks here are a few column reductions against building
    and clearing a book.
    """
    if not is_crossing_only(mechanism):
        return False
    cap = validate_price_cap(options.get("price_cap_ueur_per_kwh",
                                         DEFAULT_PRICE_CAP_UEUR_PER_KWH))
    bids, offers = prices[is_buy], prices[~is_buy]
    if bids.size and offers.size and int(bids.max()) >= int(offers.min()):
        return False
    try:
        _check_limits(str, is_buy, prices, energy_wh, cap)
    except InvalidOrderError:
        return False
    return True
