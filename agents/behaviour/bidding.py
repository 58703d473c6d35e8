"""Built-in bidding policies, vectorised over a group of members.

``tariff_share`` is the community's long-standing behaviour: order the
forecast (times ``quantity_share``) and price it at a per-member share of the
feed-in → retail spread (``gridcoop.agents.trading.strategy``), so routing
members through it changes no result. ``adaptive`` starts from the same
shares and moves each member's share toward the last clearing price after
every auction: a buyer left unfilled bids above it next time, a filled one
shades down toward it (sellers the mirror image), as in the adaptive traders
of the agent-based market literature. ``learning_rate: 0`` is ``tariff_share``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.behaviour.actions import BidActions
from gridcoop.agents.behaviour.observations import BidFeedback, BidObservation, FloatArray
from gridcoop.agents.behaviour.protocols import Group, PolicyBase
from gridcoop.agents.scenario.schema import Strategy
from gridcoop.agents.trading.strategy import PricingStrategy
from gridcoop.units import UEUR_PER_EUR


class TariffShareBidding(PolicyBase):
    """Forecast quantities at fixed or zero-intelligence shares of the tariff spread.

    Parameters are those of the scenario's ``strategy:`` section (given as
    keywords, or a whole ``strategy=Strategy(...)``).
    """

    name = "tariff_share"

    def __init__(self, strategy: Strategy | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.strategy = strategy if strategy is not None else Strategy(**params)
        self.pricing: PricingStrategy | None = None

    def setup(self, group: Group) -> None:
        super().setup(group)
        self.pricing = PricingStrategy(self.strategy, len(group.member_ids), group.rng)

    def quantities_wh(self, observation: BidObservation) -> tuple[Any, Any]:
        """(bid, offer) Wh: the share of the forecast on its side, whole Wh."""
        share = self.strategy.quantity_share
        forecast = observation.forecast_kwh
        bid_kwh = np.maximum(forecast, 0.0) * share
        offer_kwh = np.maximum(-forecast, 0.0) * share
        return (np.rint(bid_kwh * 1000).astype(np.int64),
                np.rint(offer_kwh * 1000).astype(np.int64))

    def decide(self, observation: BidObservation) -> BidActions:
        if self.pricing is None:
            raise RuntimeError(f"policy {self.name!r} used before setup()")
        bid_wh, offer_wh = self.quantities_wh(observation)
        bid_u, offer_u = self.pricing.prices_u(observation.retail_u / UEUR_PER_EUR,
                                               observation.feed_in_u / UEUR_PER_EUR)
        return BidActions(bid_wh, bid_u, offer_wh, offer_u)


class AdaptiveBidding(TariffShareBidding):
    """``tariff_share`` whose shares follow the clearing price (``learning_rate``, ``margin``).

    After each auction, with ``p`` the clearing price as a share of the spread:
    unfilled buyers move toward ``p + margin``, filled ones toward ``p``;
    unfilled sellers toward ``p - margin``, filled ones toward ``p``; each by
    ``learning_rate`` of the distance. Both parameters are assumptions (no
    pilot figure); ``learning_rate: 0`` keeps the tariff shares.
    """

    name = "adaptive"

    def __init__(self, strategy: Strategy | None = None, learning_rate: float = 0.3,
                 margin: float = 0.05, **params: Any) -> None:
        super().__init__(strategy, **params)
        if not 0.0 <= learning_rate <= 1.0 or not 0.0 <= margin <= 1.0:
            raise ValueError("adaptive bidding: learning_rate and margin must be in [0, 1]")
        self.learning_rate = learning_rate
        self.margin = margin
        self._spread: tuple[int, int] | None = None

    def decide(self, observation: BidObservation) -> BidActions:
        self._spread = (observation.feed_in_u, observation.retail_u)
        return super().decide(observation)

    def feedback(self, outcome: BidFeedback) -> None:
        pricing, spread = self.pricing, self._spread
        if pricing is None or spread is None or outcome.price_u < 0 or not self.learning_rate:
            return
        feed_in, retail = spread
        p = float(np.clip((outcome.price_u - feed_in) / max(retail - feed_in, 1), 0.0, 1.0))
        pricing.buyer_share = self._move(pricing.buyer_share, outcome.bid_wh,
                                         outcome.bought_wh, p, p + self.margin)
        pricing.seller_share = self._move(pricing.seller_share, outcome.offer_wh,
                                          outcome.sold_wh, p, p - self.margin)

    def _move(self, share: FloatArray, asked: Any, got: Any, filled_target: float,
              unfilled_target: float) -> FloatArray:
        active = asked > 0
        target = np.where(got >= asked, filled_target, np.clip(unfilled_target, 0.0, 1.0))
        moved = share + self.learning_rate * (target - share)
        return np.where(active, moved, share)
