"""The learners' actions: a grid of limit prices inside the feed-in -> retail band.

Why a grid of shares of the band: no member gains from buying above retail or
selling below feed-in, so every action prices inside the band, and the same
action means the same markup whatever the hour's tariff. Prices are integer
µ€/kWh (floor of the share of the spread), rewards integer µ€.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.units import payment_ueur

IntArray = NDArray[np.int64]


def limit_prices_u(action: IntArray, levels: int, retail_u: int, feed_in_u: int) -> IntArray:
    """Limit price of action ``j`` (of ``levels``), µ€/kWh.

    ``feed_in + floor(j (retail - feed_in) / (levels - 1))``: 0 is the feed-in
    tariff, ``levels - 1`` retail.
    """
    spread = max(int(retail_u) - int(feed_in_u), 0)
    return (int(feed_in_u) + (action.astype(np.int64) * spread) // (levels - 1)).astype(np.int64)


def surplus_ueur(bought_wh: IntArray, paid_ueur: IntArray, sold_wh: IntArray,
                 earned_ueur: IntArray, retail_u: int, feed_in_u: int) -> IntArray:
    """What each member's trades of one auction saved against the grid, in µ€ (>= 0 when
    every trade cleared inside the band): a buyer's energy at retail minus what it paid,
    plus a seller's earnings minus its energy at feed-in."""
    saved = payment_ueur(bought_wh, retail_u) - paid_ueur
    gained = earned_ueur - payment_ueur(sold_wh, feed_in_u)
    return (saved + gained).astype(np.int64)
