"""The continuous double auction: orders match on arrival.

Orders are taken in arrival order (``sequence``, then input position). An
arriving bid trades against resting offers priced at or below its limit,
cheapest first and oldest first at equal price, each trade at the resting
offer's price; an arriving offer likewise against resting bids, highest first,
at the resting bid's price. Whatever is left rests in the book. This is the
price-time priority of exchange order books; it has no uniform price, so
``clearing_price_ueur_per_kwh`` is ``None``. Prices are the resting orders'
integer µ€/kWh limits, exact.

Both paths run the same event loop (heaps keyed by price, sequence and
position): it cannot be vectorised, as each arrival depends on all before it.
"""

from __future__ import annotations

import heapq

from gridcoop.market.prepared import PreparedBook, TradeColumns
from gridcoop.market.registry import register_mechanism
from gridcoop.market.results import ClearingResult

# Heap entries: (priority price, sequence, position, remaining Wh, limit price).
Entry = tuple[int, int, int, int, int]
# Trades being built: bid positions, offer positions, Wh, prices (µ€/kWh).
Trades = tuple[list[int], list[int], list[int], list[int]]


@register_mechanism("continuous")
def continuous(book: PreparedBook) -> ClearingResult:
    """Match each order on arrival against the best resting orders."""
    arrivals = book.arrival_columns()
    resting_bids: list[Entry] = []  # highest first: keyed by -price
    resting_offers: list[Entry] = []  # cheapest first: keyed by price
    trades: Trades = ([], [], [], [])
    for pos, is_buy, price, energy_wh, seq in zip(
        arrivals.positions, arrivals.is_buy, arrivals.prices_ueur_per_kwh, arrivals.energy_wh,
        arrivals.sequences, strict=True,
    ):
        if is_buy:
            left = _fill(resting_offers, pos, True, price, energy_wh, trades)
            if left:
                heapq.heappush(resting_bids, (-price, seq, pos, left, price))
        else:
            left = _fill(resting_bids, pos, False, price, energy_wh, trades)
            if left:
                heapq.heappush(resting_offers, (price, seq, pos, left, price))
    return book.result("continuous", TradeColumns(*trades), None)


def _fill(resting: list[Entry], pos: int, is_buy: bool, price: int, energy_wh: int,
          trades: Trades) -> int:
    """Trade an arrival against the other side's best resting orders, each at the resting
    order's price; returns the Wh left. A bid crosses offers at or below its limit, an
    offer crosses bids at or above it (``sign`` turns the second test into the first)."""
    sign = 1 if is_buy else -1
    left = energy_wh
    while left and resting and sign * resting[0][4] <= sign * price:
        key, r_seq, r_pos, r_left, r_price = resting[0]
        quantity = min(left, r_left)
        buys, sells, traded, prices = trades
        buys.append(pos if is_buy else r_pos)
        sells.append(r_pos if is_buy else pos)
        traded.append(quantity)
        prices.append(r_price)
        left -= quantity
        if quantity == r_left:
            heapq.heappop(resting)
        else:
            heapq.heapreplace(resting, (key, r_seq, r_pos, r_left - quantity, r_price))
    return left
