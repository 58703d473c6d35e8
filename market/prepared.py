"""The interface a clearing mechanism works against.

``clear`` validates its input once and hands each mechanism a
:class:`PreparedBook`: the orders split into bids and offers in priority order
(best price first, then lowest ``sequence``, then input position), with two
interchangeable implementations, a pure-Python reference (:mod:`gridcoop.market.reference`)
and a numpy fast path (:mod:`gridcoop.market.fast`). A mechanism asks the book for the
merit-order match, prices the trades, and asks the book to build the result; it
never needs to know which path runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gridcoop.market.orders import UNITS_PER_KWH
from gridcoop.market.results import ClearingResult, OrderSource

IntColumn = Sequence[int] | NDArray[np.int64]
FloatColumn = Sequence[float] | NDArray[np.float64]
PairPrice = Literal["bid", "offer", "midpoint"]
PAIR_PRICES: tuple[PairPrice, ...] = ("bid", "offer", "midpoint")


@dataclass(frozen=True, slots=True)
class TradeColumns:
    """Trades as columns: positions of the bid and the offer in the input, units, price(s).

    ``prices`` is one float for a uniform price or one price per trade.
    ``filled_units`` (units filled per input position) is an optional shortcut a
    mechanism may pass when it already knows the fills.
    """

    buy_positions: IntColumn
    sell_positions: IntColumn
    units: IntColumn
    prices: float | FloatColumn
    filled_units: IntColumn | None = None


@dataclass(frozen=True, slots=True)
class Margin:
    """Prices at the edge of a merit-order match.

    ``last_bid`` / ``last_offer``: the marginal (last accepted) bid and offer.
    ``next_bid`` / ``next_offer``: the best bid and offer with quantity left
    (the marginal order itself when it is only partly filled), ``None`` when that
    side is exhausted. After a match ``next_bid < next_offer`` whenever both exist.
    """

    last_bid: float | None
    last_offer: float | None
    next_bid: float | None
    next_offer: float | None

    def price_interval(self) -> tuple[float, float] | None:
        """The prices at which every accepted order is willing and no rejected one is.

        ``[max(last_offer, next_bid), min(last_bid, next_offer)]``; ``None`` when
        nothing traded.
        """
        if self.last_bid is None or self.last_offer is None:
            return None
        low = self.last_offer if self.next_bid is None else max(self.last_offer, self.next_bid)
        high = self.last_bid if self.next_offer is None else min(self.last_bid, self.next_offer)
        return low, high

    def midpoint_price(self) -> float | None:
        """The middle of :meth:`price_interval` (pay-as-clear's convention)."""
        interval = self.price_interval()
        if interval is None:
            return None
        low, high = interval
        return (low + high) / 2


class MeritOrderMatch(ABC):
    """Bids (highest first) matched against offers (cheapest first) while bid >= offer.

    Every periodic mechanism shares this allocation; they differ only in price.
    """

    volume_units: int
    margin: Margin

    @property
    def volume_kwh(self) -> float:
        return self.volume_units / UNITS_PER_KWH

    @property
    @abstractmethod
    def trade_count(self) -> int:
        """Number of (bid, offer) pieces matched."""

    @abstractmethod
    def uniform(self, price: float | None) -> TradeColumns:
        """All trades at one price."""

    @abstractmethod
    def pair_priced(self, rule: PairPrice) -> TradeColumns:
        """Each trade at its own pair's bid price, offer price, or their midpoint."""

    @abstractmethod
    def average_accepted_bid_price(self, weighted: bool) -> float | None:
        """Mean limit price of the bids that traded (by traded kWh when ``weighted``)."""


@dataclass(frozen=True, slots=True)
class ArrivalColumns:
    """The orders in arrival order (``sequence``, then input position), as plain lists.

    For event-driven mechanisms (the continuous auction) that walk orders one by one.
    """

    positions: list[int]
    is_buy: list[bool]
    prices: list[float]
    units: list[int]
    sequences: list[int]


class PreparedBook(ABC):
    """A validated book for one interval, ready to clear.

    ``source`` resolves input positions to orders; ``interval`` is ``None`` only
    for an empty book.
    """

    path: str
    interval: int | None
    source: OrderSource

    @abstractmethod
    def __len__(self) -> int:
        """Number of input orders."""

    @abstractmethod
    def merit_order_match(self) -> MeritOrderMatch:
        """The price-time priority match of all bids against all offers."""

    @abstractmethod
    def arrival_columns(self) -> ArrivalColumns:
        """The orders in arrival order, for event-driven matching."""

    @abstractmethod
    def result(
        self, mechanism: str, trades: TradeColumns, clearing_price: float | None
    ) -> ClearingResult:
        """Check ``trades`` against the book and build the :class:`ClearingResult`.

        Raises :class:`~gridcoop.market.errors.InvalidAllocationError` when a trade
        over-fills an order, pairs two orders of one side, or is not positive.
        """
