"""Policies the behaviour tests name by import path (as a researcher's package would)."""

from __future__ import annotations

import numpy as np

from gridcoop.agents.behaviour.actions import BidActions
from gridcoop.agents.behaviour.mesa_way import Bid
from gridcoop.agents.behaviour.observations import BidObservation
from gridcoop.agents.behaviour.protocols import PolicyBase
from gridcoop.agents.model.members import Member
from gridcoop.units import ueur_from_eur

SHARE = 0.5


def half_spread_u(feed_in_u: int, retail_u: int) -> int:
    """The ``fixed`` strategy's price at share 0.5, computed as it computes it."""
    feed_in, retail = feed_in_u / 1e6, retail_u / 1e6
    return int(ueur_from_eur(feed_in + SHARE * (retail - feed_in)))


class HalfSpread(Member):
    """Per-agent twin of ``strategy.kind: fixed`` at 0.5: the whole forecast at mid-spread."""

    def step(self) -> None:
        o = self.observation
        price = half_spread_u(o.feed_in_u, o.retail_u)
        self.action = Bid(int(np.rint(max(o.forecast_kwh, 0.0) * 1000)), price,
                          int(np.rint(max(-o.forecast_kwh, 0.0) * 1000)), price)


class Broken(PolicyBase):
    """Returns one malformed field, chosen by ``fault``."""

    name = "broken"

    def __init__(self, fault: str = "nan") -> None:
        super().__init__()
        self.fault = fault

    def decide(self, observation: BidObservation) -> BidActions:
        n = observation.size
        qty = np.full(n, 100, dtype=np.int64)
        price = np.full(n, observation.retail_u, dtype=np.int64)
        ids = None
        if self.fault == "nan":
            price = price.astype(float)
            price[2] = np.nan
        elif self.fault == "negative":
            qty[1] = -5
        elif self.fault == "cap":
            price[3] = observation.price_cap_u + 1
        elif self.fault == "shape":
            qty = qty[:-1]
        elif self.fault == "unknown":
            ids = (*observation.member_ids[:-1], "nobody")
        return BidActions(qty, price, np.zeros(n, dtype=np.int64), price, member_ids=ids)
