"""A columnar book: many orders of one delivery interval as numpy arrays.

For callers with huge books (benchmarks, replayed data sets) building 10^5
:class:`~gridcoop.market.orders.Order` objects only to have ``clear`` take them apart
again is wasted work; an :class:`OrderBatch` is validated once, column by
column, and cleared without any per-order Python object. Energy is integer Wh and
prices integer µ€/kWh, as in :class:`~gridcoop.market.orders.Order`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.market.errors import DuplicateOrderError, InvalidOrderError
from gridcoop.market.orders import MAX_ENERGY_WH, Order, Side


def _frozen(array: NDArray[Any]) -> NDArray[Any]:
    array.setflags(write=False)
    return array


def _text_column(name: str, values: Iterable[object], n: int) -> tuple[str, ...]:
    column = tuple(values)
    if len(column) != n:
        raise InvalidOrderError(f"order batch: {name} has {len(column)} entries, expected {n}")
    if set(map(type, column)) <= {str} and "" not in column:  # the common case, at C speed
        return column  # type: ignore[return-value]
    for k, value in enumerate(column):
        if type(value) is not str or not value:
            raise InvalidOrderError(
                f"order batch: {name}[{k}] must be a non-empty string, got {value!r}"
            )
    return column  # type: ignore[return-value]


def _int_column(name: str, values: object, n: int) -> NDArray[np.int64]:
    """Integers only: a float column is refused, never rounded."""
    raw = np.asarray(values)
    if raw.shape != (n,):
        raise InvalidOrderError(
            f"order batch: {name} must be 1-d of length {n}, got {raw.shape}"
        )
    if n and raw.dtype.kind not in "iu":
        raise InvalidOrderError(f"order batch: {name} must be integers, got {raw.dtype}")
    column: NDArray[np.int64] = raw.astype(np.int64)
    negative = np.flatnonzero(column < 0)
    if negative.size:
        k = int(negative[0])
        raise InvalidOrderError(f"order batch: {name}[{k}] = {column[k]} must be >= 0")
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
        "energy_wh",
        "interval",
        "is_buy",
        "order_ids",
        "participants",
        "price_ueur_per_kwh",
        "sequence",
    )

    def __init__(
        self,
        *,
        order_ids: Iterable[str],
        participants: Iterable[str],
        sides: Iterable[str | Side] | NDArray[np.bool_],
        energy_wh: Sequence[int] | NDArray[np.integer[Any]],
        price_ueur_per_kwh: Sequence[int] | NDArray[np.integer[Any]],
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
        energy = _int_column("energy_wh", energy_wh, n)
        bad = np.flatnonzero((energy < 1) | (energy > MAX_ENERGY_WH))
        if bad.size:
            k = int(bad[0])
            raise InvalidOrderError(
                f"order batch: energy_wh[{k}] = {energy[k]} (order {ids[k]!r}) must be "
                f"between 1 and {MAX_ENERGY_WH} Wh"
            )
        price = _int_column("price_ueur_per_kwh", price_ueur_per_kwh, n)
        if (isinstance(interval, bool) or not isinstance(interval, (int, np.integer))
                or interval < 0):
            raise InvalidOrderError(
                f"order batch: interval must be an integer >= 0, got {interval!r}"
            )
        seq = self._sequence(sequence, n)
        self.order_ids: tuple[str, ...] = ids
        self.participants: tuple[str, ...] = who
        self.is_buy: NDArray[np.bool_] = _frozen(is_buy)
        self.energy_wh: NDArray[np.int64] = _frozen(energy)
        self.price_ueur_per_kwh: NDArray[np.int64] = _frozen(price)
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
            energy_wh=np.array([o.energy_wh for o in listed], dtype=np.int64),
            price_ueur_per_kwh=np.array([o.price_ueur_per_kwh for o in listed], dtype=np.int64),
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
            energy_wh=int(self.energy_wh[k]),
            price_ueur_per_kwh=int(self.price_ueur_per_kwh[k]),
            interval=self.interval,
            sequence=int(self.sequence[k]),
        )

    def to_orders(self) -> list[Order]:
        return [self.order(k) for k in range(len(self))]

    def take(self, positions: NDArray[np.int64], energy_wh: NDArray[np.int64]) -> OrderBatch:
        """The orders at ``positions`` with new energies (remainders), in that order."""
        ids, who, index = self.order_ids, self.participants, positions.tolist()
        return OrderBatch(
            order_ids=[ids[k] for k in index], participants=[who[k] for k in index],
            sides=self.is_buy[positions], energy_wh=energy_wh,
            price_ueur_per_kwh=self.price_ueur_per_kwh[positions], interval=self.interval,
            sequence=self.sequence[positions],
        )

    @classmethod
    def concat(cls, batches: Sequence[OrderBatch], interval: int) -> OrderBatch:
        """One batch of several, in the given order (their sequences kept)."""
        def column(name: str, dtype: type[np.generic]) -> NDArray[Any]:
            return np.concatenate([getattr(b, name) for b in batches] or [np.zeros(0, dtype)])

        return cls(
            order_ids=[i for b in batches for i in b.order_ids],
            participants=[p for b in batches for p in b.participants],
            sides=column("is_buy", np.bool_), energy_wh=column("energy_wh", np.int64),
            price_ueur_per_kwh=column("price_ueur_per_kwh", np.int64), interval=interval,
            sequence=column("sequence", np.int64),
        )

    def __repr__(self) -> str:
        bids = int(self.is_buy.sum())
        return f"OrderBatch(interval={self.interval}, bids={bids}, offers={len(self) - bids})"
