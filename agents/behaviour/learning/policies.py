"""Learning bidders: the forecast quantity, priced by a learner on a grid of markups.

Why keep the quantity rule of ``tariff_share``: what a member needs to buy or
sell comes from its physics; what it learns is the price to ask, the decision
the agent-based market literature studies. Each member has two learners, one
for its bids and one for its offers (a member buys in some intervals and sells
in others, and the best markup differs). After clearing, each learner on the
side a member traded on is reinforced by the member's payoff against the grid
tariffs (``BidFeedback.payoff_u``, µ€, never below 0 for a trade inside the band).

Parameters (scenario ``policies:`` or keywords): ``levels`` (actions on the
feed-in -> retail grid, default 11, i.e. steps of 10 %), the learner's
parameters, and any of the ``strategy:`` section's (``quantity_share``...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

import numpy as np

from gridcoop.agents.behaviour.actions import BidActions
from gridcoop.agents.behaviour.bidding import TariffShareBidding
from gridcoop.agents.behaviour.learning.markups import limit_prices_u
from gridcoop.agents.behaviour.learning.qlearning import QLearner, QParams
from gridcoop.agents.behaviour.learning.roth_erev import LearningError, RothErev, RothErevParams
from gridcoop.agents.behaviour.observations import (
    BidFeedback,
    BidObservation,
    BoolArray,
    IntArray,
)
from gridcoop.agents.behaviour.protocols import Group
from gridcoop.agents.scenario.schema import Strategy


class SideLearner(Protocol):
    """One side's learners (bids or offers) of every member of the group."""

    def choose(self, interval: int, rng: np.random.Generator) -> IntArray: ...

    def reinforce(self, interval: int, chosen: IntArray, payoff_u: IntArray,
                  active: BoolArray) -> None: ...


class RothErevSide:
    """Roth-Erev for one side; rewards are payoffs floored at 0 (propensities are shares)."""

    def __init__(self, members: int, levels: int, params: RothErevParams) -> None:
        self.kernel = RothErev(members, levels, params)

    def choose(self, interval: int, rng: np.random.Generator) -> IntArray:
        return self.kernel.choose(rng)

    def reinforce(self, interval: int, chosen: IntArray, payoff_u: IntArray,
                  active: BoolArray) -> None:
        self.kernel.update(chosen, np.maximum(payoff_u, 0).astype(np.float64), mask=active)


class QSide:
    """Q-learning for one side; the state is the interval's place in a ``states`` cycle."""

    def __init__(self, members: int, levels: int, states: int, params: QParams) -> None:
        self.kernel = QLearner(members, states, levels, params)
        self.states = states

    def _state(self, interval: int) -> IntArray:
        return np.full(self.kernel.q.shape[0], interval % self.states, dtype=np.int64)

    def choose(self, interval: int, rng: np.random.Generator) -> IntArray:
        return self.kernel.choose(self._state(interval), rng)

    def reinforce(self, interval: int, chosen: IntArray, payoff_u: IntArray,
                  active: BoolArray) -> None:
        self.kernel.update(self._state(interval), chosen, payoff_u.astype(np.float64),
                           next_state=self._state(interval + 1), mask=active)


class _GridBidding(TariffShareBidding, ABC):
    """Quantities as ``tariff_share``; prices from one learner per side (buy, sell)."""

    def __init__(self, strategy: Strategy | None = None, levels: int = 11,
                 **params: Any) -> None:
        super().__init__(strategy, **params)
        if not 2 <= int(levels) <= 1001:
            raise LearningError(f"{self.name}: levels={levels}; give 2 to 1001 price levels")
        self.levels = int(levels)
        self.sides: tuple[SideLearner, SideLearner] | None = None
        self._last: tuple[int, IntArray, IntArray] | None = None  # interval, bid, offer actions

    def setup(self, group: Group) -> None:
        super().setup(group)
        n = len(group.member_ids)
        self.sides = (self.side(n), self.side(n))

    @abstractmethod
    def side(self, members: int) -> SideLearner:
        """A fresh learner for one side of ``members`` members."""

    def decide(self, observation: BidObservation) -> BidActions:
        if self.sides is None:
            raise RuntimeError(f"policy {self.name!r} used before setup()")
        bid_wh, offer_wh = self.quantities_wh(observation)
        buy, sell = self.sides
        bid_action = buy.choose(observation.interval, self.rng)
        offer_action = sell.choose(observation.interval, self.rng)
        self._last = (observation.interval, bid_action, offer_action)
        band = (self.levels, observation.retail_u, observation.feed_in_u)
        return BidActions(bid_wh, limit_prices_u(bid_action, *band), offer_wh,
                          limit_prices_u(offer_action, *band))

    def feedback(self, outcome: BidFeedback) -> None:
        if self.sides is None or self._last is None or outcome.interval != self._last[0]:
            return  # nothing priced yet, or not the auction this policy last priced
        interval, bid_action, offer_action = self._last
        payoff = np.asarray(outcome.payoff_u, dtype=np.int64)
        buy, sell = self.sides
        buy.reinforce(interval, bid_action, payoff, np.asarray(outcome.bid_wh) > 0)
        sell.reinforce(interval, offer_action, payoff, np.asarray(outcome.offer_wh) > 0)
        self._last = None


def _split(params: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Take the learner's own parameters out of ``params`` (the rest is ``strategy:``)."""
    return {name: params.pop(name) for name in names if name in params}


class RothErevBidding(_GridBidding):
    """Modified Roth-Erev over the price grid (``recency``, ``experimentation``,
    ``initial_propensity`` in µ€)."""

    name = "roth_erev"

    def __init__(self, strategy: Strategy | None = None, levels: int = 11,
                 **params: Any) -> None:
        own = _split(params, ("recency", "experimentation", "initial_propensity"))
        self.learner_params = RothErevParams(**own)
        super().__init__(strategy, levels, **params)

    def side(self, members: int) -> SideLearner:
        return RothErevSide(members, self.levels, self.learner_params)


class QLearningBidding(_GridBidding):
    """Tabular Q-learning over the price grid, one state per interval of a ``states`` cycle
    (24 with hourly markets: the hour of the day), epsilon-greedy."""

    name = "q_learning"

    def __init__(self, strategy: Strategy | None = None, levels: int = 11, states: int = 24,
                 **params: Any) -> None:
        own = _split(params, ("learning_rate", "discount", "epsilon", "epsilon_decay",
                              "epsilon_min", "initial_q"))
        self.learner_params = QParams(**own)
        if not 1 <= int(states) <= 10_000:
            raise LearningError(f"q_learning: states={states}; give 1 to 10000")
        self.states = int(states)
        super().__init__(strategy, levels, **params)

    def side(self, members: int) -> SideLearner:
        return QSide(members, self.levels, self.states, self.learner_params)
