"""A per-agent bidder to copy from, also the benchmark's measure of a Python ``step()``.

``MidSpread`` is the per-agent twin of ``strategy: {kind: fixed, fixed_share: 0.5}``:
each member orders its whole forecast at the middle of the feed-in → retail
spread, so a run with it gives the vectorised run's results and ledger head.
"""

from __future__ import annotations

from gridcoop.agents.behaviour.mesa_way import Bid
from gridcoop.agents.model.members import Member
from gridcoop.units import UEUR_PER_EUR, ueur_from_eur


class MidSpread(Member):
    """Orders the forecast at mid-spread, one agent at a time."""

    def step(self) -> None:
        o = self.observation
        feed_in, retail = o.feed_in_u / UEUR_PER_EUR, o.retail_u / UEUR_PER_EUR
        price = int(ueur_from_eur(feed_in + 0.5 * (retail - feed_in)))
        wh = round(abs(o.forecast_kwh) * 1000)
        self.action = (Bid(wh, price, 0, price) if o.forecast_kwh > 0
                       else Bid(0, price, wh, price))
