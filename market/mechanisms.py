"""The periodic (sealed-bid) mechanisms: one allocation, three price rules.

All three clear the book at gate closure with the same merit-order match
(highest bid first, cheapest offer first, FIFO at equal price, partial fills,
stop when the next bid is below the next offer), so they trade the same
volume between the same orders; they differ only in the price:

* ``pay_as_clear``: one uniform price, the midpoint of the interval of
  market-clearing prices ``[max(last offer, best bid left), min(last bid, best
  offer left)]``. When nothing is left at the margin this is the midpoint of
  the marginal bid and the marginal offer; when the marginal bid is only partly
  filled, the interval collapses to that bid's price (and the same for a
  partly filled offer). Rounded down to the µ€/kWh: ``(low + high) // 2``.
  Every accepted bid is at or above the price, every accepted offer at or
  below it, and no order left out would trade at it.
* ``average_bid``: the pilot's rule, a uniform price equal to the average of
  the buyers' limit prices. Three readings, one default:

  - ``bids="accepted", weighted=True`` (the default): the accepted bids,
    weighted by the kWh each traded (so splitting one bid into several at the
    same price leaves the price unchanged), rounded down:
    ``sum(price * wh) // sum(wh)``. The price is at or above every accepted
    offer, but a buyer whose bid is below the average pays more than its limit.
  - ``weighted=False``: the plain mean over the accepted bids, ``sum(price) // count``.
  - ``bids="all"``: every buyer's bid, traded or not (weighted by the kWh bid,
    or plain with ``weighted=False``: the hourly-auction review's literal "average
    bid price offered by all buyers"). The price may then fall below an accepted
    offer's limit: the seller receives less than it asked, as that rule implies.
* ``pay_as_bid``: each matched pair trades at the bid's price (the buyer pays
  what it bid, the literal meaning; sellers capture the surplus).
  ``pair_price="offer"`` or ``"midpoint"`` select the offer's price or the
  pair's midpoint instead (``(bid + offer) // 2``); bid and offer prices are exact.
"""

from __future__ import annotations

from gridcoop.market.errors import InvalidOptionError
from gridcoop.market.prepared import PAIR_PRICES, PairPrice, PreparedBook
from gridcoop.market.registry import register_mechanism
from gridcoop.market.results import ClearingResult


@register_mechanism("pay_as_clear", crossing_only=True)
def pay_as_clear(book: PreparedBook) -> ClearingResult:
    """Uniform price at the middle of the market-clearing price interval."""
    match = book.merit_order_match()
    price = match.margin.midpoint_price()
    return book.result("pay_as_clear", match.uniform(price), price)


AVERAGE_BID_BASES = ("accepted", "all")


@register_mechanism("average_bid", crossing_only=True)
def average_bid(book: PreparedBook, weighted: bool = True,
                bids: str = "accepted") -> ClearingResult:
    """Uniform price = average limit price of the accepted (or all) bids (the pilot's rule)."""
    if not isinstance(weighted, bool):
        raise InvalidOptionError(f"average_bid: weighted must be True or False, got {weighted!r}")
    if bids not in AVERAGE_BID_BASES:
        raise InvalidOptionError(
            f"average_bid: bids must be one of {', '.join(AVERAGE_BID_BASES)}, got {bids!r}")
    match = book.merit_order_match()
    price = (match.average_accepted_bid_price(weighted) if bids == "accepted"
             else book.average_bid_price(weighted))
    if not match.trade_count:
        price = None
    return book.result("average_bid", match.uniform(price), price)


@register_mechanism("pay_as_bid", crossing_only=True)
def pay_as_bid(book: PreparedBook, pair_price: PairPrice = "bid") -> ClearingResult:
    """Each matched pair at its own price: the bid's unless ``pair_price`` says otherwise."""
    if pair_price not in PAIR_PRICES:
        raise InvalidOptionError(
            f"pay_as_bid: pair_price must be one of {', '.join(PAIR_PRICES)}, got {pair_price!r}"
        )
    match = book.merit_order_match()
    return book.result("pay_as_bid", match.pair_priced(pair_price), None)
