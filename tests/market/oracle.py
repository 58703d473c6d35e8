"""The oracle: the merit-order match in plain Python, easy to read and to trust.

The market runs only its numpy book (:mod:`gridcoop.market.fast`); the property
tests run every mechanism on this book too and require the very same result.
Integer Wh and µ€/kWh, as in the market; derived prices go through the market's
own rounding rules (``midpoint_price``, ``mean_price``), written once.
"""

from __future__ import annotations

import numpy as np

from gridcoop.market import ClearingResult, Order, Side
from gridcoop.market.errors import InvalidAllocationError
from gridcoop.market.prepared import (
    ArrivalColumns,
    Margin,
    MeritOrderMatch,
    PairPrice,
    PreparedBook,
    TradeColumns,
    mean_price,
    midpoint_price,
)
from gridcoop.market.registry import run_mechanism
from gridcoop.market.results import ListSource, RemainderView, TradeView
from gridcoop.units import IntArray, UEurPerKwh, Wh


class OracleMatch(MeritOrderMatch):
    """Merit-order match held as Python lists."""

    def __init__(self, buy_positions: list[int], sell_positions: list[int],
                 energy_wh: list[int], bid_prices: list[int], offer_prices: list[int],
                 accepted_bids: list[tuple[int, int]], margin: Margin) -> None:
        self.buy_positions = buy_positions
        self.sell_positions = sell_positions
        self.energy_wh = energy_wh
        self.bid_prices = bid_prices
        self.offer_prices = offer_prices
        self.accepted_bids = accepted_bids
        self.margin = margin
        self.volume_wh = Wh(sum(energy_wh))

    @property
    def trade_count(self) -> int:
        return len(self.energy_wh)

    def uniform(self, price_ueur_per_kwh: int | None) -> TradeColumns:
        return TradeColumns(self.buy_positions, self.sell_positions, self.energy_wh,
                            0 if price_ueur_per_kwh is None else price_ueur_per_kwh)

    def pair_priced(self, rule: PairPrice) -> TradeColumns:
        if rule == "bid":
            prices = list(self.bid_prices)
        elif rule == "offer":
            prices = list(self.offer_prices)
        else:
            prices = [midpoint_price(a, b)
                      for b, a in zip(self.bid_prices, self.offer_prices, strict=True)]
        return TradeColumns(self.buy_positions, self.sell_positions, self.energy_wh, prices)

    def average_accepted_bid_price(self, weighted: bool) -> UEurPerKwh | None:
        if not self.accepted_bids:
            return None
        if weighted:
            return mean_price(sum(p * wh for p, wh in self.accepted_bids),
                              sum(wh for _, wh in self.accepted_bids))
        return mean_price(sum(p for p, _ in self.accepted_bids), len(self.accepted_bids))


class OracleBook(PreparedBook):
    """A book as a list of orders, sorted with Python's ``sorted``."""

    path = "oracle"

    def __init__(self, orders: list[Order]) -> None:
        self.orders = orders
        self.source = ListSource(orders)
        self.interval = orders[0].interval if orders else None
        bids = [k for k, o in enumerate(orders) if o.side is Side.BUY]
        offers = [k for k, o in enumerate(orders) if o.side is Side.SELL]
        # Priority: best price, then lowest sequence, then input position.
        self.bids = sorted(bids, key=lambda k: (-orders[k].price_ueur_per_kwh,
                                                orders[k].sequence, k))
        self.offers = sorted(offers, key=lambda k: (orders[k].price_ueur_per_kwh,
                                                    orders[k].sequence, k))

    def __len__(self) -> int:
        return len(self.orders)

    def average_bid_price(self, weighted: bool) -> UEurPerKwh | None:
        bids = [self.orders[k] for k in self.bids]
        if not bids:
            return None
        if weighted:
            return mean_price(sum(o.price_ueur_per_kwh * o.energy_wh for o in bids),
                              sum(o.energy_wh for o in bids))
        return mean_price(sum(o.price_ueur_per_kwh for o in bids), len(bids))

    def merit_order_match(self) -> OracleMatch:
        orders, bids, offers = self.orders, self.bids, self.offers
        buys: list[int] = []
        sells: list[int] = []
        traded: list[int] = []
        bid_prices: list[int] = []
        offer_prices: list[int] = []
        accepted: list[tuple[int, int]] = []
        i = j = 0
        left_b = orders[bids[0]].energy_wh if bids else 0
        left_o = orders[offers[0]].energy_wh if offers else 0
        while i < len(bids) and j < len(offers):
            bid, offer = orders[bids[i]], orders[offers[j]]
            if bid.price_ueur_per_kwh < offer.price_ueur_per_kwh:
                break
            wh = min(left_b, left_o)
            buys.append(bids[i])
            sells.append(offers[j])
            traded.append(wh)
            bid_prices.append(bid.price_ueur_per_kwh)
            offer_prices.append(offer.price_ueur_per_kwh)
            if len(accepted) == i:  # first piece of bid i
                accepted.append((bid.price_ueur_per_kwh, 0))
            accepted[i] = (accepted[i][0], accepted[i][1] + wh)
            left_b -= wh
            left_o -= wh
            if left_b == 0:
                i += 1
                left_b = orders[bids[i]].energy_wh if i < len(bids) else 0
            if left_o == 0:
                j += 1
                left_o = orders[offers[j]].energy_wh if j < len(offers) else 0
        margin = Margin(
            last_bid=bid_prices[-1] if traded else None,
            last_offer=offer_prices[-1] if traded else None,
            next_bid=orders[bids[i]].price_ueur_per_kwh if i < len(bids) else None,
            next_offer=orders[offers[j]].price_ueur_per_kwh if j < len(offers) else None,
        )
        return OracleMatch(buys, sells, traded, bid_prices, offer_prices, accepted, margin)

    def arrival_columns(self) -> ArrivalColumns:
        orders = self.orders
        positions = sorted(range(len(orders)), key=lambda k: (orders[k].sequence, k))
        return ArrivalColumns(
            positions=positions,
            is_buy=[orders[k].side is Side.BUY for k in positions],
            prices_ueur_per_kwh=[orders[k].price_ueur_per_kwh for k in positions],
            energy_wh=[orders[k].energy_wh for k in positions],
            sequences=[orders[k].sequence for k in positions],
        )

    def result(self, mechanism: str, trades: TradeColumns,
               clearing_price_ueur_per_kwh: int | None) -> ClearingResult:
        orders = self.orders
        buys = [int(k) for k in trades.buy_positions]
        sells = [int(k) for k in trades.sell_positions]
        traded = [int(u) for u in trades.energy_wh]
        given = trades.prices_ueur_per_kwh
        prices = [given] * len(traded) if isinstance(given, int) else [int(p) for p in given]
        filled = [0] * len(orders)
        for b, s, wh in zip(buys, sells, traded, strict=True):
            if wh <= 0 or orders[b].side is not Side.BUY or orders[s].side is not Side.SELL:
                raise InvalidAllocationError(f"oracle: invalid trade {b}, {s}, {wh} Wh")
            filled[b] += wh
            filled[s] += wh
        left = [k for k, o in enumerate(orders) if filled[k] < o.energy_wh]
        if any(filled[k] > o.energy_wh for k, o in enumerate(orders)):
            raise InvalidAllocationError("oracle: an order is over-filled")

        def column(values: list[int]) -> IntArray:
            return np.array(values, dtype=np.int64)

        return ClearingResult(
            mechanism=mechanism, interval=self.interval,
            clearing_price_ueur_per_kwh=None if clearing_price_ueur_per_kwh is None
            else UEurPerKwh(clearing_price_ueur_per_kwh),
            volume_wh=Wh(sum(traded)),
            trades=TradeView(self.source, column(buys), column(sells), column(traded),
                             column(prices), self.interval or 0),
            unmatched=RemainderView(self.source, column(left),
                                    column([orders[k].energy_wh - filled[k] for k in left]),
                                    np.array([filled[k] == 0 for k in left], dtype=np.bool_)),
            path=self.path,
        )


def oracle_clear(orders: list[Order], mechanism: str = "pay_as_clear",
                 **options: object) -> ClearingResult:
    """Clear valid ``orders`` on the oracle book with a registered mechanism."""
    return run_mechanism(mechanism, OracleBook(orders), options)
