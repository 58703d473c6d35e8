"""The numpy fast path: the reference path's results, vectorised.

Bids and offers are sorted with one stable ``lexsort`` each on (price,
sequence), so ties keep input order exactly as Python's ``sorted`` does. The
match never loops over orders: with ``B`` and ``O`` the cumulative quantities of
the sorted bids and offers (two step functions), bid ``i`` can trade with every
offer priced at or below it, so the traded volume is
``Q = max_i min(B[i], O[c_i - 1])`` with ``c_i = searchsorted(offer_prices,
bid_price_i, "right")``. The trades are the segments between the merged
breakpoints of ``B`` and ``O`` below ``Q``; ``searchsorted`` names the bid and
the offer of each segment. All energies are int64 Wh, so the segments are
a price-time priority loop's trades to the last Wh (the tests' oracle is that loop).
Prices are int64 µ€/kWh throughout; derived prices follow the rounding rules of
:mod:`gridcoop.market.prepared`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.market.errors import InvalidAllocationError
from gridcoop.market.prepared import (
    ArrivalColumns,
    Margin,
    MeritOrderMatch,
    PairPrice,
    PreparedBook,
    TradeColumns,
    mean_price,
)
from gridcoop.market.results import ClearingResult, OrderSource, RemainderView, TradeView
from gridcoop.units import IntArray, UEurPerKwh, Wh

_EMPTY_INT = np.zeros(0, dtype=np.int64)


class FastMatch(MeritOrderMatch):
    """Merit-order match held as numpy columns."""

    def __init__(
        self,
        buy_positions: IntArray,
        sell_positions: IntArray,
        energy_wh: IntArray,
        bid_prices: IntArray,
        offer_prices: IntArray,
        accepted_bid_prices: IntArray,
        accepted_bid_wh: IntArray,
        filled_wh: IntArray,
        volume_wh: Wh,
        margin: Margin,
    ) -> None:
        self.buy_positions = buy_positions
        self.sell_positions = sell_positions
        self.energy_wh = energy_wh
        self.bid_prices = bid_prices
        self.offer_prices = offer_prices
        self.accepted_bid_prices = accepted_bid_prices
        self.accepted_bid_wh = accepted_bid_wh
        self.filled_wh = filled_wh
        self.volume_wh = volume_wh
        self.margin = margin

    @property
    def trade_count(self) -> int:
        return len(self.energy_wh)

    def uniform(self, price_ueur_per_kwh: int | None) -> TradeColumns:
        return TradeColumns(self.buy_positions, self.sell_positions, self.energy_wh,
                            0 if price_ueur_per_kwh is None else price_ueur_per_kwh,
                            self.filled_wh)

    def pair_priced(self, rule: PairPrice) -> TradeColumns:
        if rule == "bid":
            prices = self.bid_prices
        elif rule == "offer":
            prices = self.offer_prices
        else:
            prices = (self.bid_prices + self.offer_prices) // 2  # midpoint_price, vectorised
        return TradeColumns(self.buy_positions, self.sell_positions, self.energy_wh, prices,
                            self.filled_wh)

    def average_accepted_bid_price(self, weighted: bool) -> UEurPerKwh | None:
        if not len(self.accepted_bid_wh):
            return None
        if weighted:  # exact in int64: clear() bounds side energy x price cap by 2**62
            return mean_price(int(np.dot(self.accepted_bid_prices, self.accepted_bid_wh)),
                              int(self.accepted_bid_wh.sum()))
        return mean_price(int(self.accepted_bid_prices.sum()), len(self.accepted_bid_prices))


class FastBook(PreparedBook):
    """A validated book as numpy columns indexed by input position (prices in µ€/kWh)."""

    path = "fast"

    def __init__(
        self,
        source: OrderSource,
        is_buy: NDArray[np.bool_],
        prices: IntArray,
        energy_wh: IntArray,
        sequences: IntArray,
        interval: int | None,
    ) -> None:
        self.source = source
        self.interval = interval
        self.is_buy = is_buy
        self.prices = prices
        self.energy_wh = energy_wh
        self.sequences = sequences
        bids = np.flatnonzero(is_buy)
        offers = np.flatnonzero(~is_buy)
        # lexsort is stable: equal (price, sequence) keep ascending input position.
        self.bids: IntArray = bids[np.lexsort((sequences[bids], -prices[bids]))]
        self.offers: IntArray = offers[np.lexsort((sequences[offers], prices[offers]))]

    def __len__(self) -> int:
        return len(self.energy_wh)

    def merit_order_match(self) -> FastMatch:
        bids, offers = self.bids, self.offers
        bid_prices, offer_prices = self.prices[bids], self.prices[offers]
        bid_wh, offer_wh = self.energy_wh[bids], self.energy_wh[offers]
        volume = 0
        if len(bids) and len(offers):
            cum_b = np.cumsum(bid_wh)
            cum_o = np.cumsum(offer_wh)
            # Supply available at or below each bid's price.
            reachable = np.searchsorted(offer_prices, bid_prices, side="right")
            supply = cum_o[reachable - 1]
            supply[reachable == 0] = 0
            volume = int(np.minimum(cum_b, supply).max())
        filled = np.zeros(len(self.energy_wh), dtype=np.int64)
        if volume == 0:
            margin = Margin(None, None,
                            int(bid_prices[0]) if len(bids) else None,
                            int(offer_prices[0]) if len(offers) else None)
            return FastMatch(_EMPTY_INT, _EMPTY_INT, _EMPTY_INT, _EMPTY_INT, _EMPTY_INT,
                             _EMPTY_INT, _EMPTY_INT, filled, Wh(0), margin)
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
        fill_b = bid_wh[: kb + 1].copy()
        fill_b[kb] = volume - (int(cum_b[kb - 1]) if kb else 0)
        fill_o = offer_wh[: ko + 1].copy()
        fill_o[ko] = volume - (int(cum_o[ko - 1]) if ko else 0)
        filled[bids[: kb + 1]] = fill_b
        filled[offers[: ko + 1]] = fill_o
        next_b = kb if fill_b[kb] < bid_wh[kb] else kb + 1
        next_o = ko if fill_o[ko] < offer_wh[ko] else ko + 1
        margin = Margin(
            last_bid=int(bid_prices[kb]),
            last_offer=int(offer_prices[ko]),
            next_bid=int(bid_prices[next_b]) if next_b < len(bids) else None,
            next_offer=int(offer_prices[next_o]) if next_o < len(offers) else None,
        )
        return FastMatch(
            buy_positions=bids[bi], sell_positions=offers[oi], energy_wh=ends - starts,
            bid_prices=bid_prices[bi], offer_prices=offer_prices[oi],
            accepted_bid_prices=bid_prices[: kb + 1], accepted_bid_wh=fill_b,
            filled_wh=filled, volume_wh=Wh(volume), margin=margin,
        )

    def average_bid_price(self, weighted: bool) -> UEurPerKwh | None:
        prices, energy = self.prices[self.is_buy], self.energy_wh[self.is_buy]
        if not len(prices):
            return None
        if weighted:  # exact in int64: clear() bounds side energy x price cap by 2**62
            return mean_price(int(np.dot(prices, energy)), int(energy.sum()))
        return mean_price(int(prices.sum()), len(prices))

    def arrival_columns(self) -> ArrivalColumns:
        order = np.argsort(self.sequences, kind="stable")
        return ArrivalColumns(
            positions=order.tolist(),
            is_buy=self.is_buy[order].tolist(),
            prices_ueur_per_kwh=self.prices[order].tolist(),
            energy_wh=self.energy_wh[order].tolist(),
            sequences=self.sequences[order].tolist(),
        )

    def _checked_fills(
        self, mechanism: str, buys: IntArray, sells: IntArray,
        wh: IntArray, filled: IntArray | None,
    ) -> IntArray:
        n = len(self.energy_wh)
        if not len(buys) == len(sells) == len(wh):
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} returned trade columns of different lengths"
            )
        if len(wh) and (
            int(wh.min()) <= 0 or min(int(buys.min()), int(sells.min())) < 0
            or max(int(buys.max()), int(sells.max())) >= n
            or not bool(self.is_buy[buys].all()) or bool(self.is_buy[sells].any())
        ):
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} made an invalid trade (a non-positive quantity, "
                f"an unknown position, or a bid and an offer swapped)"
            )
        if filled is None:
            filled = np.zeros(n, dtype=np.int64)
            np.add.at(filled, buys, wh)
            np.add.at(filled, sells, wh)
        over = np.flatnonzero(filled > self.energy_wh)
        if over.size:
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} over-filled order "
                f"{self.source.order_id(int(over[0]))!r}"
            )
        return filled

    def result(
        self, mechanism: str, trades: TradeColumns, clearing_price_ueur_per_kwh: int | None
    ) -> ClearingResult:
        buys = np.asarray(trades.buy_positions, dtype=np.int64)
        sells = np.asarray(trades.sell_positions, dtype=np.int64)
        wh = np.asarray(trades.energy_wh, dtype=np.int64)
        given = None if trades.filled_wh is None else np.asarray(trades.filled_wh,
                                                                 dtype=np.int64)
        filled = self._checked_fills(mechanism, buys, sells, wh, given)
        raw = np.asarray(trades.prices_ueur_per_kwh)
        if raw.size and raw.dtype.kind not in "iu":
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} gave {raw.dtype} prices; prices are integer µ€/kWh"
            )
        prices = (np.full(len(wh), raw, dtype=np.int64) if raw.ndim == 0
                  else raw.astype(np.int64))
        if prices.shape != wh.shape:
            raise InvalidAllocationError(
                f"mechanism {mechanism!r} gave {prices.shape} prices for {wh.shape} trades"
            )
        remaining = self.energy_wh - filled
        left = np.flatnonzero(remaining > 0)
        interval = self.interval if self.interval is not None else 0
        return ClearingResult(
            mechanism=mechanism,
            interval=self.interval,
            clearing_price_ueur_per_kwh=None if clearing_price_ueur_per_kwh is None
            else UEurPerKwh(clearing_price_ueur_per_kwh),
            volume_wh=Wh(int(wh.sum())),
            trades=TradeView(self.source, buys, sells, wh, prices, interval),
            unmatched=RemainderView(self.source, left, remaining[left], filled[left] == 0),
            path=self.path,
        )
