"""``clear``: the one-call entry point of the clearing house.

It validates the whole input before any mechanism runs (so a bad order never
produces half a result), picks the reference or the fast path, and runs the
named mechanism from the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from gridcoop.market.batch import OrderBatch
from gridcoop.market.errors import (
    DuplicateOrderError,
    InvalidOptionError,
    InvalidOrderError,
    MixedIntervalsError,
    PriceCapExceededError,
)
from gridcoop.market.fast import FastBook
from gridcoop.market.orders import (
    DEFAULT_PRICE_CAP_EUR_PER_KWH,
    MAX_BOOK_QUANTITY_KWH,
    UNITS_PER_KWH,
    Order,
    Side,
    check_price_cap,
    validate_price_cap,
)
from gridcoop.market.prepared import PreparedBook
from gridcoop.market.reference import ReferenceBook
from gridcoop.market.registry import check_options, run_mechanism
from gridcoop.market.results import ClearingResult, ListSource

PATHS = ("auto", "fast", "reference")
#: Books with at least this many orders take the numpy path when ``path="auto"``.
#: Below it the pure-Python path is faster (numpy's fixed cost per call dominates);
#: measured by ``gridcoop bench market`` (``crossover`` figures).
FAST_PATH_MIN_ORDERS = 100
_MAX_BOOK_UNITS = MAX_BOOK_QUANTITY_KWH * UNITS_PER_KWH


def _check_objects(orders: list[Order]) -> None:
    if set(map(type, orders)) <= {Order}:  # the common case, at C speed
        return
    for k, order in enumerate(orders):
        if not isinstance(order, Order):
            raise InvalidOrderError(
                f"item {k} is a {type(order).__name__}, not an Order; build orders with "
                f"market.Order(...) or pass an OrderBatch"
            )


def _duplicate_id(orders: list[Order]) -> str | None:
    seen: set[str] = set()
    for order in orders:
        if order.order_id in seen:
            return order.order_id
        seen.add(order.order_id)
    return None


def _raise_duplicate(order_id: str) -> None:
    raise DuplicateOrderError(
        f"order_id {order_id!r} appears more than once in one clearing; give every order a "
        f"unique id (a replaced order keeps its id but replaces the old one)"
    )


def _raise_mixed(intervals: Iterable[int]) -> None:
    raise MixedIntervalsError(
        f"orders for intervals {sorted(set(intervals))} in one clearing; clear each delivery "
        f"interval separately (or use an OrderBook per interval)"
    )


def _check_totals(bid_units: float, offer_units: float) -> None:
    if max(bid_units, offer_units) > _MAX_BOOK_UNITS:
        raise InvalidOrderError(
            f"one side of the book holds more than {MAX_BOOK_QUANTITY_KWH:g} kWh; "
            f"split the clearing or check the quantity unit"
        )


def _reference_book(orders: list[Order], cap: float) -> ReferenceBook:
    _check_objects(orders)
    intervals = {o.interval for o in orders}
    if len(intervals) > 1:
        _raise_mixed(intervals)
    duplicate = _duplicate_id(orders)
    if duplicate is not None:
        _raise_duplicate(duplicate)
    for order in orders:
        check_price_cap(order, cap)
    book = ReferenceBook(orders, intervals.pop() if intervals else None)
    _check_totals(sum(book.units[k] for k in book.bids),
                  sum(book.units[k] for k in book.offers))
    return book


def _fast_book_from_orders(orders: list[Order], cap: float) -> FastBook:
    _check_objects(orders)
    n = len(orders)
    buy = Side.BUY
    is_buy = np.fromiter((o.side is buy for o in orders), dtype=np.bool_, count=n)
    prices = np.fromiter((o.price_eur_per_kwh for o in orders), dtype=np.float64, count=n)
    quantities = np.fromiter((o.quantity_kwh for o in orders), dtype=np.float64, count=n)
    sequences = np.fromiter((o.sequence for o in orders), dtype=np.int64, count=n)
    intervals = np.fromiter((o.interval for o in orders), dtype=np.int64, count=n)
    if n and intervals.min() != intervals.max():
        _raise_mixed(intervals.tolist())
    if len({o.order_id for o in orders}) != n:
        _raise_duplicate(_duplicate_id(orders) or "")
    if n and prices.max() > cap:
        check_price_cap(orders[int(np.argmax(prices))], cap)
    return _fast_book(ListSource(orders), is_buy, prices, quantities, sequences,
                      int(intervals[0]) if n else None)


def _fast_book(
    source: ListSource | OrderBatch, is_buy: np.ndarray[Any, np.dtype[np.bool_]],
    prices: np.ndarray[Any, np.dtype[np.float64]],
    quantities: np.ndarray[Any, np.dtype[np.float64]],
    sequences: np.ndarray[Any, np.dtype[np.int64]], interval: int | None,
) -> FastBook:
    units = np.rint(quantities * UNITS_PER_KWH).astype(np.int64)
    _check_totals(float(units[is_buy].sum(dtype=np.float64)),
                  float(units[~is_buy].sum(dtype=np.float64)))
    return FastBook(source, is_buy, prices, units, sequences, interval)


def _batch_book(batch: OrderBatch, cap: float, path: str) -> PreparedBook:
    over = np.flatnonzero(batch.price_eur_per_kwh > cap)
    if over.size:
        raise PriceCapExceededError(
            f"order {batch.order_ids[int(over[0])]!r}: price "
            f"{float(batch.price_eur_per_kwh[over[0]])!r} €/kWh is above the market's cap of "
            f"{cap!r} €/kWh; check the unit or raise price_cap_eur_per_kwh"
        )
    if path == "reference":
        return _reference_book(batch.to_orders(), cap)
    return _fast_book(batch, batch.is_buy, batch.price_eur_per_kwh, batch.quantity_kwh,
                      batch.sequence, batch.interval if len(batch) else None)


def prepare(
    orders: Iterable[Order] | OrderBatch,
    *,
    path: str = "auto",
    price_cap_eur_per_kwh: float = DEFAULT_PRICE_CAP_EUR_PER_KWH,
) -> PreparedBook:
    """Validate ``orders`` and build the book a mechanism clears.

    ``path="auto"`` takes the fast path for an ``OrderBatch`` and for at least
    :data:`FAST_PATH_MIN_ORDERS` orders; ``"fast"`` / ``"reference"`` force one.
    """
    if path not in PATHS:
        raise InvalidOptionError(f"path must be one of {', '.join(PATHS)}, got {path!r}")
    cap = validate_price_cap(price_cap_eur_per_kwh)
    if isinstance(orders, OrderBatch):
        return _batch_book(orders, cap, path)
    if isinstance(orders, (str, bytes, Order)):
        raise InvalidOrderError(
            f"clear takes a collection of orders, got a single {type(orders).__name__}; "
            f"wrap it in a list"
        )
    listed = list(orders)
    use_fast = path == "fast" or (path == "auto" and len(listed) >= FAST_PATH_MIN_ORDERS)
    if use_fast:
        return _fast_book_from_orders(listed, cap)
    return _reference_book(listed, cap)


def clear(
    orders: Iterable[Order] | OrderBatch,
    mechanism: str = "pay_as_clear",
    *,
    path: str = "auto",
    price_cap_eur_per_kwh: float = DEFAULT_PRICE_CAP_EUR_PER_KWH,
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
    book = prepare(orders, path=path, price_cap_eur_per_kwh=price_cap_eur_per_kwh)
    return run_mechanism(mechanism, book, options)
