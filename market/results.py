"""What a clearing returns: trades, a price, and what was left over.

The fast path keeps its trades and remainders as numpy columns and builds
:class:`Trade` / :class:`~gridcoop.market.orders.Order` objects only when they are read
(``TradeView`` and ``RemainderView`` are ordinary sequences), so a clearing with
100,000 trades does not pay for 100,000 objects nobody looks at.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, overload

import numpy as np
from numpy.typing import NDArray

from gridcoop.market.orders import UNITS_PER_KWH, Order


class Trade(NamedTuple):
    """One matched quantity between a bid and an offer.

    A named tuple: immutable, hashable, cheap to build by the 100,000, and
    ``pandas.DataFrame(result.trades)`` gives a table with these column names.
    """

    buy_order_id: str
    sell_order_id: str
    buyer: str
    seller: str
    quantity_kwh: float
    price_eur_per_kwh: float
    interval: int

    @property
    def value_eur(self) -> float:
        return self.quantity_kwh * self.price_eur_per_kwh


class OrderSource(Protocol):
    """Where a clearing's orders live: a list of :class:`Order` or an ``OrderBatch``."""

    def __len__(self) -> int: ...
    def order_id(self, k: int) -> str: ...
    def participant(self, k: int) -> str: ...
    def order(self, k: int) -> Order: ...
    def order_ids_at(self, positions: list[int]) -> list[str]: ...
    def participants_at(self, positions: list[int]) -> list[str]: ...


class ListSource:
    """An :class:`OrderSource` over a list of orders."""

    __slots__ = ("orders",)

    def __init__(self, orders: list[Order]) -> None:
        self.orders = orders

    def __len__(self) -> int:
        return len(self.orders)

    def order_id(self, k: int) -> str:
        return self.orders[k].order_id

    def participant(self, k: int) -> str:
        return self.orders[k].participant

    def order(self, k: int) -> Order:
        return self.orders[k]

    def order_ids_at(self, positions: list[int]) -> list[str]:
        orders = self.orders
        return [orders[k].order_id for k in positions]

    def participants_at(self, positions: list[int]) -> list[str]:
        orders = self.orders
        return [orders[k].participant for k in positions]


class TradeView(Sequence[Trade]):
    """Trades held as columns; indexing or iterating builds :class:`Trade` objects.

    ``buy_positions`` / ``sell_positions`` index the clearing's input orders.
    """

    __slots__ = ("_prices", "_source", "_units", "buy_positions", "interval", "sell_positions")

    def __init__(
        self,
        source: OrderSource,
        buy_positions: NDArray[np.int64],
        sell_positions: NDArray[np.int64],
        units: NDArray[np.int64],
        prices: NDArray[np.float64] | float,
        interval: int,
    ) -> None:
        self._source = source
        self.buy_positions = buy_positions
        self.sell_positions = sell_positions
        self._units = units
        self._prices = prices
        self.interval = interval

    def __len__(self) -> int:
        return len(self._units)

    @property
    def quantity_kwh(self) -> NDArray[np.float64]:
        result: NDArray[np.float64] = self._units / UNITS_PER_KWH
        return result

    @property
    def price_eur_per_kwh(self) -> NDArray[np.float64]:
        if isinstance(self._prices, float):
            return np.full(len(self), self._prices)
        return self._prices

    def _trade(self, k: int) -> Trade:
        src = self._source
        b = int(self.buy_positions[k])
        s = int(self.sell_positions[k])
        price = self._prices if isinstance(self._prices, float) else float(self._prices[k])
        return Trade(
            src.order_id(b), src.order_id(s), src.participant(b), src.participant(s),
            int(self._units[k]) / UNITS_PER_KWH, price, self.interval,
        )

    @overload
    def __getitem__(self, index: int) -> Trade: ...
    @overload
    def __getitem__(self, index: slice) -> list[Trade]: ...
    def __getitem__(self, index: int | slice) -> Trade | list[Trade]:
        if isinstance(index, slice):
            return [self._trade(k) for k in range(*index.indices(len(self)))]
        n = len(self)
        k = index + n if index < 0 else index
        if not 0 <= k < n:
            raise IndexError(f"trade index {index} out of range for {n} trades")
        return self._trade(k)

    def __iter__(self) -> Iterator[Trade]:
        src = self._source
        buys = self.buy_positions.tolist()
        sells = self.sell_positions.tolist()
        interval = self.interval
        prices: list[float] = (
            [self._prices] * len(self) if isinstance(self._prices, float)
            else self._prices.tolist()
        )
        quantities = (self._units / UNITS_PER_KWH).tolist()
        return map(
            Trade, src.order_ids_at(buys), src.order_ids_at(sells), src.participants_at(buys),
            src.participants_at(sells), quantities, prices, [interval] * len(buys),
        )

    def __repr__(self) -> str:
        return f"TradeView({len(self)} trades)"


class RemainderView(Sequence[Order]):
    """Unmatched remainders held as (position, remaining units); built on access.

    An order that did not trade at all is returned as the very same object.
    """

    __slots__ = ("_filled", "_remaining", "_source", "positions")

    def __init__(
        self,
        source: OrderSource,
        positions: NDArray[np.int64],
        remaining_units: NDArray[np.int64],
        untouched: NDArray[np.bool_],
    ) -> None:
        self._source = source
        self.positions = positions
        self._remaining = remaining_units
        self._filled = ~untouched

    def __len__(self) -> int:
        return len(self.positions)

    def _order(self, k: int) -> Order:
        order = self._source.order(int(self.positions[k]))
        if self._filled[k]:
            return order.with_quantity(int(self._remaining[k]) / UNITS_PER_KWH)
        return order

    @overload
    def __getitem__(self, index: int) -> Order: ...
    @overload
    def __getitem__(self, index: slice) -> list[Order]: ...
    def __getitem__(self, index: int | slice) -> Order | list[Order]:
        if isinstance(index, slice):
            return [self._order(k) for k in range(*index.indices(len(self)))]
        n = len(self)
        k = index + n if index < 0 else index
        if not 0 <= k < n:
            raise IndexError(f"remainder index {index} out of range for {n} remainders")
        return self._order(k)

    def __iter__(self) -> Iterator[Order]:
        return (self._order(k) for k in range(len(self)))

    def __repr__(self) -> str:
        return f"RemainderView({len(self)} orders)"


class TradeList(list[Trade]):
    """The reference path's trades: a plain list that also remembers input positions."""

    __slots__ = ("buy_positions", "sell_positions")

    def __init__(self, trades: list[Trade], buy_positions: list[int],
                 sell_positions: list[int]) -> None:
        super().__init__(trades)
        self.buy_positions = buy_positions
        self.sell_positions = sell_positions


@dataclass(frozen=True, slots=True)
class TradeArrays:
    """A clearing's trades as numpy columns; positions index the input orders.

    For callers that keep their own columns (an agent model with node arrays)
    and want no per-trade object at all.
    """

    buy_positions: NDArray[np.int64]
    sell_positions: NDArray[np.int64]
    quantity_kwh: NDArray[np.float64]
    price_eur_per_kwh: NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class ClearingResult:
    """The outcome of one clearing of one delivery interval.

    ``clearing_price_eur_per_kwh`` is the uniform price of uniform mechanisms
    (``None`` for pay-as-bid, continuous, or when nothing traded); each trade
    carries its own price in every case. ``unmatched`` lists the orders with
    quantity left, in input order, each with its remaining ``quantity_kwh`` and
    its original id, price and sequence. ``path`` says which implementation ran
    (``"reference"``, ``"fast"``); it is not part of equality.
    """

    mechanism: str
    interval: int | None
    clearing_price_eur_per_kwh: float | None
    volume_kwh: float
    trades: Sequence[Trade]
    unmatched: Sequence[Order]
    path: str = "reference"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClearingResult):
            return NotImplemented
        return (
            self.mechanism == other.mechanism
            and self.interval == other.interval
            and self.clearing_price_eur_per_kwh == other.clearing_price_eur_per_kwh
            and self.volume_kwh == other.volume_kwh
            and len(self.trades) == len(other.trades)
            and len(self.unmatched) == len(other.unmatched)
            and list(self.trades) == list(other.trades)
            and list(self.unmatched) == list(other.unmatched)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def value_eur(self) -> float:
        """What buyers pay sellers in total (before fees)."""
        if isinstance(self.trades, TradeView):
            values = self.trades.quantity_kwh * self.trades.price_eur_per_kwh
            return math.fsum(values.tolist())
        return math.fsum(t.quantity_kwh * t.price_eur_per_kwh for t in self.trades)

    @property
    def average_price_eur_per_kwh(self) -> float | None:
        """Volume-weighted average trade price (``None`` when nothing traded)."""
        return self.value_eur / self.volume_kwh if self.volume_kwh > 0 else None

    def trade_arrays(self) -> TradeArrays:
        """The trades as numpy columns with input positions (either path)."""
        trades = self.trades
        if isinstance(trades, TradeView):
            return TradeArrays(trades.buy_positions, trades.sell_positions,
                               trades.quantity_kwh, trades.price_eur_per_kwh)
        if isinstance(trades, TradeList):
            return TradeArrays(
                np.array(trades.buy_positions, dtype=np.int64),
                np.array(trades.sell_positions, dtype=np.int64),
                np.array([t.quantity_kwh for t in trades], dtype=np.float64),
                np.array([t.price_eur_per_kwh for t in trades], dtype=np.float64),
            )
        raise TypeError(
            "this result's trades carry no input positions (it was not built by clear())"
        )

    def filled_kwh_by_order(self) -> dict[str, float]:
        """Traded kWh per order id (orders that did not trade are absent)."""
        filled: dict[str, float] = {}
        for trade in self.trades:
            filled[trade.buy_order_id] = filled.get(trade.buy_order_id, 0.0) + trade.quantity_kwh
            filled[trade.sell_order_id] = (
                filled.get(trade.sell_order_id, 0.0) + trade.quantity_kwh
            )
        return filled

    def summary(self) -> dict[str, Any]:
        """Scalars for logs and tables."""
        return {
            "mechanism": self.mechanism,
            "interval": self.interval,
            "clearing_price_eur_per_kwh": self.clearing_price_eur_per_kwh,
            "volume_kwh": self.volume_kwh,
            "trades": len(self.trades),
            "unmatched": len(self.unmatched),
            "path": self.path,
        }
