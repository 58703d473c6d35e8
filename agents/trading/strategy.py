"""How members price their bids and offers, vectorised over all members.

Why shares of the feed-in → retail spread: no rational member sells below the
feed-in tariff or buys above retail, so every strategy prices inside that band;
``zero_intelligence`` (Gode & Sunder style, with fixed per-member markups)
gives a market with realistic price dispersion from a seed alone.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.scenario.schema import Strategy
from gridcoop.units import ueur_from_eur

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]



class PricingStrategy:
    """Per-member limit prices in integer micro-euros per kWh."""

    def __init__(self, strategy: Strategy, n: int, rng: np.random.Generator) -> None:
        self.strategy = strategy
        self._rng = rng
        if strategy.kind == "fixed":
            self.seller_share = np.full(n, strategy.fixed_share)
            self.buyer_share = np.full(n, strategy.fixed_share)
        else:
            self.seller_share = rng.uniform(*strategy.seller_share, size=n)
            self.buyer_share = rng.uniform(*strategy.buyer_share, size=n)

    def prices_u(
        self, retail_eur_per_kwh: float, feed_in_eur_per_kwh: float
    ) -> tuple[IntArray, IntArray]:
        """(bid price, offer price) of every member for one auction, µ€/kWh."""
        spread = retail_eur_per_kwh - feed_in_eur_per_kwh
        bid_share, offer_share = self.buyer_share, self.seller_share
        jitter = self.strategy.jitter
        if self.strategy.kind == "zero_intelligence" and jitter > 0:
            noise = self._rng.uniform(-jitter, jitter, size=(2, bid_share.size))
            bid_share = np.clip(bid_share + noise[0], 0.0, 1.0)
            offer_share = np.clip(offer_share + noise[1], 0.0, 1.0)
        return (ueur_from_eur(feed_in_eur_per_kwh + bid_share * spread),
                ueur_from_eur(feed_in_eur_per_kwh + offer_share * spread))


def retail_price_table(
    periods: list[tuple[float, float, float]], market_minutes: int
) -> FloatArray:
    """Retail €/kWh for each market interval of a day, from (start_h, end_h, price) periods.

    An interval takes the price of the period its start falls in.
    """
    starts_h = np.arange(0, 1440, market_minutes) / 60.0
    prices = np.empty(starts_h.size)
    for start_h, end_h, price in periods:
        prices[(starts_h >= start_h) & (starts_h < end_h)] = price
    return prices
