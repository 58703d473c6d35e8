"""A columnar book: many orders of one delivery interval as numpy arrays.

For callers with huge books (benchmarks, replayed data sets) building 10^5
:class:`~gridcoop.market.orders.Order` objects only to have ``clear`` take them apart
again is wasted work; an :class:`OrderBatch` is validated once, column by
column, and cleared without any per-order Python object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.market.errors import DuplicateOrderError, InvalidOrderError
from gridcoop.market.orders import (
    MAX_QUANTITY_KWH,
    QUANTITY_RESOLUTION_KWH,
    Order,
    Side,
)


def _frozen(array: NDArray[Any]) -> NDArray[Any]:
    array.setflags(write=False)
    return array


def _text_column(name: str, values: Iterable[object], n: int) -> tuple[str, ...]:
    column = tuple(values)
    if len(column) != n:
        raise InvalidOrderError(f"order batch: {name} has {len(column)} entries, expected {n}")
    for k, value in enumerate(column):
        if type(value) is not str or not value:
            raise InvalidOrderError(
                f"order batch: {name}[{k}] must be a non-empty string, got {value!r}"
            )
    return column  # type: ignore[return-value]


def _float_column(name: str, values: object, n: int) -> NDArray[np.float64]:
    try:
        column = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidOrderError(f"order batch: {name} must be numbers ({exc})") from None
    if column.shape != (n,):
        raise InvalidOrderError(
            f"order batch: {name} must be 1-d of length {n}, got {column.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(column))
    if bad.size:
        raise InvalidOrderError(
            f"order batch: {name}[{bad[0]}] must be finite, got {column[bad[0]]!r}"
        )
    return column


def _first_duplicate(ids: Sequence[str]) -> str:
    seen: set[str] = set()
    for order_id in ids:
        if order_id in seen:
            return order_id
        seen.add(order_id)
    raise AssertionError("no duplicate found")  # pragma: no cover - caller checked


class OrderBatch:
    """Validated, immutable columns of orders for one delivery interval.

    ``sides`` is a boolean array (True = buy) or a sequence of ``"buy"``/``"sell"``
    (or :class:`Side`); ``sequence`` defaults to the position in the batch.
    """

    __slots__ = (
        "interval",
        "is_buy",
        "order_ids",
        "participants",
        "price_eur_per_kwh",
        "quantity_kwh",
        "sequence",
    )

    def __init__(
        self,
        *,
        order_ids: Iterable[str],
        participants: Iterable[str],
        sides: Iterable[str | Side] | NDArray[np.bool_],
        quantity_kwh: Sequence[float] | NDArray[np.floating[Any]],
        price_eur_per_kwh: Sequence[float] | NDArray[np.floating[Any]],
        interval: int = 0,
        sequence: Sequence[int] | NDArray[np.integer[Any]] | None = None,
    ) -> None:
        ids = tuple(order_ids)
        n = len(ids)
        _text_column("order_ids", ids, n)
        if len(set(ids)) != n:
            raise DuplicateOrderError(
                f"order batch: order_id {_first_duplicate(ids)!r} appears more than once; "
                f"order ids must be unique within a clearing"
            )
        who = _text_column("participants", participants, n)
        is_buy = self._sides(sides, n)
        quantity = _float_column("quantity_kwh", quantity_kwh, n)
        small = np.flatnonzero((quantity < QUANTITY_RESOLUTION_KWH) | (quantity > MAX_QUANTITY_KWH))
        if small.size:
            k = int(small[0])
            raise InvalidOrderError(
                f"order batch: quantity_kwh[{k}] = {quantity[k]!r} (order {ids[k]!r}) must be "
                f"between {QUANTITY_RESOLUTION_KWH:g} and {MAX_QUANTITY_KWH:g} kWh"
            )
        price = _float_column("price_eur_per_kwh", price_eur_per_kwh, n)
        negative = np.flatnonzero(price < 0)
        if negative.size:
            k = int(negative[0])
            raise InvalidOrderError(
                f"order batch: price_eur_per_kwh[{k}] = {price[k]!r} (order {ids[k]!r}) "
                f"must be >= 0"
            )
        price += 0.0  # -0.0 -> 0.0, as Order does
        if (isinstance(interval, bool) or not isinstance(interval, (int, np.integer))
                or interval < 0):
            raise InvalidOrderError(
                f"order batch: interval must be an integer >= 0, got {interval!r}"
            )
        seq = self._sequence(sequence, n)
        self.order_ids: tuple[str, ...] = ids
        self.participants: tuple[str, ...] = who
        self.is_buy: NDArray[np.bool_] = _frozen(is_buy)
        self.quantity_kwh: NDArray[np.float64] = _frozen(quantity)
        self.price_eur_per_kwh: NDArray[np.float64] = _frozen(price)
        self.sequence: NDArray[np.int64] = _frozen(seq)
        self.interval: int = int(interval)

    @staticmethod
    def _sides(sides: Iterable[str | Side] | NDArray[np.bool_], n: int) -> NDArray[np.bool_]:
        if isinstance(sides, np.ndarray) and sides.dtype == np.bool_:
            column = sides.copy()
        else:
            text = np.array([str(s) for s in sides], dtype=object)
            column = text == "buy"
            unknown = np.flatnonzero(~column & (text != "sell"))
            if unknown.size:
                k = int(unknown[0])
                raise InvalidOrderError(
                    f"order batch: sides[{k}] must be 'buy' or 'sell', got {text[k]!r}"
                )
            column = column.astype(np.bool_)
        if column.shape != (n,):
            raise InvalidOrderError(f"order batch: sides must have {n} entries, got {column.shape}")
        return column

    @staticmethod
    def _sequence(
        sequence: Sequence[int] | NDArray[np.integer[Any]] | None, n: int
    ) -> NDArray[np.int64]:
        if sequence is None:
            return np.arange(n, dtype=np.int64)
        raw = np.asarray(sequence)
        if raw.shape != (n,) or (n and raw.dtype.kind not in "iu"):
            raise InvalidOrderError(
                f"order batch: sequence must be {n} integers, got shape {raw.shape} "
                f"of {raw.dtype}"
            )
        seq = raw.astype(np.int64)
        if n and int(seq.min()) < 0:
            raise InvalidOrderError("order batch: sequence numbers must be >= 0")
        return seq

    @classmethod
    def from_orders(cls, orders: Iterable[Order]) -> OrderBatch:
        """Columns of existing orders (all for one interval)."""
        listed = list(orders)
        intervals = {o.interval for o in listed}
        if len(intervals) > 1:
            raise InvalidOrderError(
                f"order batch: orders span intervals {sorted(intervals)}; one batch holds one "
                f"interval"
            )
        return cls(
            order_ids=[o.order_id for o in listed],
            participants=[o.participant for o in listed],
            sides=np.array([o.side is Side.BUY for o in listed], dtype=np.bool_),
            quantity_kwh=[o.quantity_kwh for o in listed],
            price_eur_per_kwh=[o.price_eur_per_kwh for o in listed],
            interval=intervals.pop() if intervals else 0,
            sequence=np.array([o.sequence for o in listed], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.order_ids)

    def order_id(self, k: int) -> str:
        return self.order_ids[k]

    def participant(self, k: int) -> str:
        return self.participants[k]

    def order_ids_at(self, positions: list[int]) -> list[str]:
        ids = self.order_ids
        return [ids[k] for k in positions]

    def participants_at(self, positions: list[int]) -> list[str]:
        who = self.participants
        return [who[k] for k in positions]

    def order(self, k: int) -> Order:
        """The k-th order as an :class:`Order` object."""
        return Order(
            order_id=self.order_ids[k],
            participant=self.participants[k],
            side=Side.BUY if self.is_buy[k] else Side.SELL,
            quantity_kwh=float(self.quantity_kwh[k]),
            price_eur_per_kwh=float(self.price_eur_per_kwh[k]),
            interval=self.interval,
            sequence=int(self.sequence[k]),
        )

    def to_orders(self) -> list[Order]:
        return [self.order(k) for k in range(len(self))]

    def __repr__(self) -> str:
        bids = int(self.is_buy.sum())
        return f"OrderBatch(interval={self.interval}, bids={bids}, offers={len(self) - bids})"
