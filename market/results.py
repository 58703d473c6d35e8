"""What a clearing returns: trades, a price, and what was left over, in integers.

Trades and remainders are held as numpy columns (Wh, µ€/kWh, input positions);
:class:`Trade` / :class:`~gridcoop.market.orders.Order` objects are built only
when they are read (``TradeView`` and ``RemainderView`` are ordinary sequences),
so a clearing with 100,000 trades does not pay for 100,000 objects nobody looks
at, and a caller with its own columns (the agent model) reads the columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, overload

import numpy as np
from numpy.typing import NDArray

from gridcoop.market.orders import Order
from gridcoop.units import IntArray, UEur, UEurPerKwh, Wh, payment_ueur


class Trade(NamedTuple):
    """One matched energy between a bid and an offer.

    A named tuple: immutable, hashable, cheap to build by the 100,000, and
    ``pandas.DataFrame(result.trades)`` gives a table with these column names.
    """

    buy_order_id: str
    sell_order_id: str
    buyer: str
    seller: str
    energy_wh: Wh
    price_ueur_per_kwh: UEurPerKwh
    interval: int

    @property
    def value_ueur(self) -> UEur:
        """What the buyer pays the seller (the one payment rule, rounded down)."""
        return UEur(payment_ueur(self.energy_wh, self.price_ueur_per_kwh))


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
    """Trades held as int64 columns; indexing or iterating builds :class:`Trade` objects.

    ``buy_positions`` / ``sell_positions`` index the clearing's input orders.
    """

    __slots__ = ("_source", "buy_positions", "energy_wh", "interval", "price_ueur_per_kwh",
                 "sell_positions")

    def __init__(self, source: OrderSource, buy_positions: IntArray, sell_positions: IntArray,
                 energy_wh: IntArray, price_ueur_per_kwh: IntArray, interval: int) -> None:
        self._source = source
        self.buy_positions = buy_positions
        self.sell_positions = sell_positions
        self.energy_wh = energy_wh
        self.price_ueur_per_kwh = price_ueur_per_kwh
        self.interval = interval

    def __len__(self) -> int:
        return len(self.energy_wh)

    def _trade(self, k: int) -> Trade:
        src = self._source
        b = int(self.buy_positions[k])
        s = int(self.sell_positions[k])
        return Trade(src.order_id(b), src.order_id(s), src.participant(b), src.participant(s),
                     Wh(int(self.energy_wh[k])), UEurPerKwh(int(self.price_ueur_per_kwh[k])),
                     self.interval)

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
        return map(
            Trade, src.order_ids_at(buys), src.order_ids_at(sells), src.participants_at(buys),
            src.participants_at(sells), self.energy_wh.tolist(),
            self.price_ueur_per_kwh.tolist(), [self.interval] * len(buys),
        )

    def __repr__(self) -> str:
        return f"TradeView({len(self)} trades)"


class RemainderView(Sequence[Order]):
    """Unmatched remainders held as (position, remaining Wh); built on access.

    An order that did not trade at all is returned as the very same object.
    """

    __slots__ = ("_filled", "_source", "positions", "remaining_wh")

    def __init__(self, source: OrderSource, positions: IntArray, remaining_wh: IntArray,
                 untouched: NDArray[np.bool_]) -> None:
        self._source = source
        self.positions = positions
        self.remaining_wh = remaining_wh
        self._filled = ~untouched

    def __len__(self) -> int:
        return len(self.positions)

    def _order(self, k: int) -> Order:
        order = self._source.order(int(self.positions[k]))
        if self._filled[k]:
            return order.with_energy(int(self.remaining_wh[k]))
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


@dataclass(frozen=True, slots=True, eq=False)
class ClearingResult:
    """The outcome of one clearing of one delivery interval.

    ``clearing_price_ueur_per_kwh`` is the uniform price of uniform mechanisms
    (``None`` for pay-as-bid, continuous, or when nothing traded); each trade
    carries its own price in every case. ``unmatched`` lists the orders with
    energy left, in input order, each with its remaining ``energy_wh`` and its
    original id, price and sequence. ``path`` says which implementation built it
    (``"fast"`` in the market); it is not part of equality.
    """

    mechanism: str
    interval: int | None
    clearing_price_ueur_per_kwh: UEurPerKwh | None
    volume_wh: Wh
    trades: TradeView
    unmatched: RemainderView
    path: str = "fast"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClearingResult):
            return NotImplemented
        return (
            self.mechanism == other.mechanism
            and self.interval == other.interval
            and self.clearing_price_ueur_per_kwh == other.clearing_price_ueur_per_kwh
            and self.volume_wh == other.volume_wh
            and list(self.trades) == list(other.trades)
            and list(self.unmatched) == list(other.unmatched)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def value_ueur(self) -> UEur:
        """What buyers pay sellers in total (before fees): each trade's payment, summed."""
        return UEur(int(payment_ueur(self.trades.energy_wh,
                                     self.trades.price_ueur_per_kwh).sum()))

    def filled_wh_by_order(self) -> dict[str, int]:
        """Traded Wh per order id (orders that did not trade are absent)."""
        filled: dict[str, int] = {}
        for trade in self.trades:
            filled[trade.buy_order_id] = filled.get(trade.buy_order_id, 0) + trade.energy_wh
            filled[trade.sell_order_id] = filled.get(trade.sell_order_id, 0) + trade.energy_wh
        return filled

    def summary(self) -> dict[str, Any]:
        """Scalars for logs and tables."""
        return {
            "mechanism": self.mechanism,
            "interval": self.interval,
            "clearing_price_ueur_per_kwh": self.clearing_price_ueur_per_kwh,
            "volume_wh": self.volume_wh,
            "trades": len(self.trades),
            "unmatched": len(self.unmatched),
            "path": self.path,
        }
