"""The interface a clearing mechanism works against, and the market's rounding rules.

``clear`` validates its input once and hands each mechanism a
:class:`PreparedBook`: the orders split into bids and offers in priority order
(best price first, then lowest ``sequence``, then input position). A mechanism
asks the book for the merit-order match, prices the trades, and asks the book to
build the result. The market runs one implementation, the numpy columns of
:mod:`gridcoop.market.fast`; the tests hold a plain-Python one as an oracle.

Prices are integer µ€/kWh and energies integer Wh. Every derived price has one
stated rounding rule, always down (towards the buyers, never outside the range of
prices it is derived from):

* pay-as-clear's midpoint: ``(low + high) // 2``;
* average_bid's kWh-weighted mean: ``sum(price * wh) // sum(wh)``; unweighted:
  ``sum(price) // count``;
* pay-as-bid's pair price: the bid's or the offer's price, exact; the pair's
  midpoint ``(bid + offer) // 2``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gridcoop.market.results import ClearingResult, OrderSource
from gridcoop.units import IntArray, UEurPerKwh, Wh

IntColumn = Sequence[int] | IntArray
PairPrice = Literal["bid", "offer", "midpoint"]
PAIR_PRICES: tuple[PairPrice, ...] = ("bid", "offer", "midpoint")


def midpoint_price(low_ueur_per_kwh: int, high_ueur_per_kwh: int) -> UEurPerKwh:
    """The middle of two prices, rounded down: ``(low + high) // 2``."""
    return UEurPerKwh((low_ueur_per_kwh + high_ueur_per_kwh) // 2)


def mean_price(price_sum: int, count_or_wh: int) -> UEurPerKwh:
    """A mean price, rounded down: ``sum // count`` (``sum(price * wh) // sum(wh)``)."""
    return UEurPerKwh(price_sum // count_or_wh)


@dataclass(frozen=True, slots=True)
class TradeColumns:
    """Trades as columns: positions of the bid and the offer in the input, Wh, price(s).

    ``prices_ueur_per_kwh`` is one int for a uniform price or one price per trade.
    ``filled_wh`` (Wh filled per input position) is an optional shortcut a mechanism
    may pass when it already knows the fills.
    """

    buy_positions: IntColumn
    sell_positions: IntColumn
    energy_wh: IntColumn
    prices_ueur_per_kwh: int | IntColumn
    filled_wh: IntColumn | None = None


@dataclass(frozen=True, slots=True)
class Margin:
    """Prices (µ€/kWh) at the edge of a merit-order match.

    ``last_bid`` / ``last_offer``: the marginal (last accepted) bid and offer.
    ``next_bid`` / ``next_offer``: the best bid and offer with energy left
    (the marginal order itself when it is only partly filled), ``None`` when that
    side is exhausted. After a match ``next_bid < next_offer`` whenever both exist.
    """

    last_bid: int | None
    last_offer: int | None
    next_bid: int | None
    next_offer: int | None

    def price_interval(self) -> tuple[int, int] | None:
        """The prices at which every accepted order is willing and no rejected one is.

        ``[max(last_offer, next_bid), min(last_bid, next_offer)]``; ``None`` when
        nothing traded.
        """
        if self.last_bid is None or self.last_offer is None:
            return None
        low = self.last_offer if self.next_bid is None else max(self.last_offer, self.next_bid)
        high = self.last_bid if self.next_offer is None else min(self.last_bid, self.next_offer)
        return low, high

    def midpoint_price(self) -> UEurPerKwh | None:
        """The middle of :meth:`price_interval`, rounded down (pay-as-clear's price)."""
        interval = self.price_interval()
        return None if interval is None else midpoint_price(*interval)


class MeritOrderMatch(ABC):
    """Bids (highest first) matched against offers (cheapest first) while bid >= offer.

    Every periodic mechanism shares this allocation; they differ only in price.
    """

    volume_wh: Wh
    margin: Margin

    @property
    @abstractmethod
    def trade_count(self) -> int:
        """Number of (bid, offer) pieces matched."""

    @abstractmethod
    def uniform(self, price_ueur_per_kwh: int | None) -> TradeColumns:
        """All trades at one price."""

    @abstractmethod
    def pair_priced(self, rule: PairPrice) -> TradeColumns:
        """Each trade at its own pair's bid price, offer price, or their midpoint (down)."""

    @abstractmethod
    def average_accepted_bid_price(self, weighted: bool) -> UEurPerKwh | None:
        """Mean limit price of the bids that traded (by traded Wh when ``weighted``),
        rounded down."""


@dataclass(frozen=True, slots=True)
class ArrivalColumns:
    """The orders in arrival order (``sequence``, then input position), as plain lists.

    For event-driven mechanisms (the continuous auction) that walk orders one by one.
    """

    positions: list[int]
    is_buy: list[bool]
    prices_ueur_per_kwh: list[int]
    energy_wh: list[int]
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
    def average_bid_price(self, weighted: bool) -> UEurPerKwh | None:
        """Mean limit price of every bid in the book, traded or not (by bid Wh when
        ``weighted``), rounded down; ``None`` without bids."""

    @abstractmethod
    def result(
        self, mechanism: str, trades: TradeColumns, clearing_price_ueur_per_kwh: int | None
    ) -> ClearingResult:
        """Check ``trades`` against the book and build the :class:`ClearingResult`.

        Raises :class:`~gridcoop.market.errors.InvalidAllocationError` when a trade
        over-fills an order, pairs two orders of one side, or is not positive.
        """
