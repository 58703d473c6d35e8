"""The numpy fast path: the reference path's results, vectorised.

Bids and offers are sorted with one stable ``lexsort`` each on (price,
sequence), so ties keep input order exactly as Python's ``sorted`` does. The
match never loops over orders: with ``B`` and ``O`` the cumulative quantities of
the sorted bids and offers (two step functions), bid ``i`` can trade with every
offer priced at or below it, so the traded volume is
``Q = max_i min(B[i], O[c_i - 1])`` with ``c_i = searchsorted(offer_prices,
bid_price_i, "right")``. The trades are the segments between the merged
breakpoints of ``B`` and ``O`` below ``Q``; ``searchsorted`` names the bid and
the offer of each segment. All quantities are int64 units, so the segments are
the reference loop's trades to the last unit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.market.errors import InvalidAllocationError
from gridcoop.market.orders import UNITS_PER_KWH
from gridcoop.market.prepared import (
    ArrivalColumns,
    Margin,
    MeritOrderMatch,
    PairPrice,
    PreparedBook,
    TradeColumns,
)
from gridcoop.market.results import ClearingResult, OrderSource, RemainderView, TradeView

_EMPTY_INT = np.zeros(0, dtype=np.int64)


class FastMatch(MeritOrderMatch):
    """Merit-order match held as numpy columns."""

    def __init__(
        self,
        buy_positions: NDArray[np.int64],
        sell_positions: NDArray[np.int64],
        units: NDArray[np.int64],
        bid_prices: NDArray[np.float64],
        offer_prices: NDArray[np.float64],
        accepted_bid_prices: NDArray[np.float64],
        accepted_bid_units: NDArray[np.int64],
        filled_units: NDArray[np.int64],
        volume_units: int,
        margin: Margin,
    ) -> None:
        self.buy_positions = buy_positions
        self.sell_positions = sell_positions
        self.units = units
        self.bid_prices = bid_prices
        self.offer_prices = offer_prices
        self.accepted_bid_prices = accepted_bid_prices
        self.accepted_bid_units = accepted_bid_units
        self.filled_units = filled_units
        self.volume_units = volume_units
        self.margin = margin

    @property
    def trade_count(self) -> int:
        return len(self.units)

    def uniform(self, price: float | None) -> TradeColumns:
        return TradeColumns(self.buy_positions, self.sell_positions, self.units,
                            0.0 if price is None else price, self.filled_units)

    def pair_priced(self, rule: PairPrice) -> TradeColumns:
        if rule == "bid":
            prices = self.bid_prices
        elif rule == "offer":
            prices = self.offer_prices
        else:
            prices = (self.bid_prices + self.offer_prices) / 2
        return TradeColumns(self.buy_positions, self.sell_positions, self.units, prices,
                            self.filled_units)

    def average_accepted_bid_price(self, weighted: bool) -> float | None:
        if not len(self.accepted_bid_units):
            return None
        if weighted:
            products = self.accepted_bid_prices * self.accepted_bid_units
            return math.fsum(products.tolist()) / int(self.accepted_bid_units.sum())
        return math.fsum(self.accepted_bid_prices.tolist()) / len(self.accepted_bid_prices)


class FastBook(PreparedBook):
    """A validated book as numpy columns indexed by input position."""

    path = "fast"

    def __init__(
        self,
        source: OrderSource,
        is_buy: NDArray[np.bool_],
        prices: NDArray[np.float64],
        units: NDArray[np.int64],
        sequences: NDArray[np.int64],
        interval: int | None,
    ) -> None:
        self.source = source
        self.interval = interval
        self.is_buy = is_buy
        self.prices = prices
        self.units = units
        self.sequences = sequences
        bids = np.flatnonzero(is_buy)
        offers = np.flatnonzero(~is_buy)
        # lexsort is stable: equal (price, sequence) keep ascending input position.
        self.bids: NDArray[np.int64] = bids[np.lexsort((sequences[bids], -prices[bids]))]
        self.offers: NDArray[np.int64] = offers[np.lexsort((sequences[offers], prices[offers]))]

    def __len__(self) -> int:
        return len(self.units)

    def merit_order_match(self) -> FastMatch:
        bids, offers = self.bids, self.offers
        bid_prices, offer_prices = self.prices[bids], self.prices[offers]
        bid_units, offer_units = self.units[bids], self.units[offers]
        volume = 0
        if len(bids) and len(offers):
            cum_b = np.cumsum(bid_units)
            cum_o = np.cumsum(offer_units)
            # Supply available at or below each bid's price.
            reachable = np.searchsorted(offer_prices, bid_prices, side="right")
            supply = cum_o[reachable - 1]
            supply[reachable == 0] = 0
            volume = int(np.minimum(cum_b, supply).max())
        filled = np.zeros(len(self.units), dtype=np.int64)
        if volume == 0:
            margin = Margin(None, None,
                            float(bid_prices[0]) if len(bids) else None,
                            float(offer_prices[0]) if len(offers) else None)
            empty_f = np.zeros(0, dtype=np.float64)
            return FastMatch(_EMPTY_INT, _EMPTY_INT, _EMPTY_INT, empty_f, empty_f, empty_f,
                             _EMPTY_INT, filled, 0, margin)
        kb = int(np.searchsorted(cum_b, volume, side="left"))  # bids fully below volume
        ko = int(np.searchsorted(cum_o, volume, side="left"))
        points = np.concatenate((cum_b[:kb], cum_o[:ko], np.array([volume], dtype=np.int64)))
        points.sort(kind="stable")  # two sorted runs: a linear merge
        keep = np.empty(len(points), dtype=np.bool_)
        keep[0] = True
        np.not_equal(points[1:], points[:-1], out=keep[1:])
        ends = points[keep]
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1]
        bi = np.searchsorted(cum_b, starts, side="right")
        oi = np.searchsorted(cum_o, starts, side="right")
        fill_b = bid_units[: kb + 1].copy()
        fill_b[kb] = volume - (int(cum_b[kb - 1]) if kb else 0)
        fill_o = offer_units[: ko + 1].copy()
        fill_o[ko] = volume - (int(cum_o[ko - 1]) if ko else 0)
        filled[bids[: kb + 1]] = fill_b
        filled[offers[: ko + 1]] = fill_o
        next_b = kb if fill_b[kb] < bid_units[kb] else kb + 1
        next_o = ko if fill_o[ko] < offer_units[ko] else ko + 1
        margin = Margin(
            last_bid=float(bid_prices[kb]),
            last_offer=float(offer_prices[ko]),
            next_bid=float(bid_prices[next_b]) if next_b < len(bids) else None,
            next_offer=float(offer_prices[next_o]) if next_o < len(offers) else None,
        )
        return FastMatch(
            buy_positions=bids[bi], sell_positions=offers[oi], units=ends - starts,
            bid_prices=bid_prices[bi], offer_prices=offer_prices[oi],
            accepted_bid_prices=bid_prices[: kb + 1], accepted_bid_units=fill_b,
            filled_units=filled, volume_units=volume, margin=margin,
        )

    def arrival_columns(self) -> ArrivalColumns:
        order = np.argsort(self.sequences, kind="stable")
        return ArrivalColumns(
            positions=order.tolist(),
            is_buy=self.is_buy[order].tolist(),
            prices=self.prices[order].tolist(),
            units=self.units[order].tolist(),
            sequences=self.sequences[order].tolist(),
        )

    def _checked_fills(
        self, mechanism: str, buys: NDArray[np.int64], sells: NDArray[np.int64],
        units: NDArray[np.int64], filled: NDArray[np.int64] | None,
    ) -> NDArray[np.int64]:
        n = len(self.units)
        if not len(buys) == len(sells) == len(units):
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} returned trade columns of different lengths"
            )
        if len(units) and (
            int(units.min()) <= 0 or min(int(buys.min()), int(sells.min())) < 0
            or max(int(buys.max()), int(sells.max())) >= n
            or not bool(self.is_buy[buys].all()) or bool(self.is_buy[sells].any())
        ):
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} made an invalid trade (a non-positive quantity, "
                f"an unknown position, or a bid and an offer swapped)"
            )
        if filled is None:
            filled = np.zeros(n, dtype=np.int64)
            np.add.at(filled, buys, units)
            np.add.at(filled, sells, units)
        over = np.flatnonzero(filled > self.units)
        if over.size:
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} over-filled order "
                f"{self.source.order_id(int(over[0]))!r}"
            )
        return filled

    def result(
        self, mechanism: str, trades: TradeColumns, clearing_price: float | None
    ) -> ClearingResult:
        buys = np.asarray(trades.buy_positions, dtype=np.int64)
        sells = np.asarray(trades.sell_positions, dtype=np.int64)
        units = np.asarray(trades.units, dtype=np.int64)
        given = None if trades.filled_units is None else np.asarray(trades.filled_units,
                                                                     dtype=np.int64)
        filled = self._checked_fills(mechanism, buys, sells, units, given)
        prices: Any = (float(trades.prices) if isinstance(trades.prices, float)
                       else np.asarray(trades.prices, dtype=np.float64))
        if not isinstance(prices, float) and prices.shape != units.shape:
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} gave {prices.shape} prices for {units.shape} trades"
            )
        remaining = self.units - filled
        left = np.flatnonzero(remaining > 0)
        interval = self.interval if self.interval is not None else 0
        return ClearingResult(
            mechanism=mechanism,
            interval=self.interval,
            clearing_price_eur_per_kwh=clearing_price,
            volume_kwh=int(units.sum()) / UNITS_PER_KWH,
            trades=TradeView(self.source, buys, sells, units, prices, interval),
            unmatched=RemainderView(self.source, left, remaining[left], filled[left] == 0),
            path=self.path,
        )
