"""The learning bidders on the behaviour interface: actions, feedback, determinism, lookup."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.agents.behaviour import BidFeedback, BidObservation, Decision, Group
from gridcoop.agents.behaviour.learning.policies import QLearningBidding, RothErevBidding
from gridcoop.agents.behaviour.learning.roth_erev import LearningError
from gridcoop.agents.behaviour.resolve import make
from gridcoop.agents.behaviour.validate import validate_bids
from gridcoop.streams import streams

IDS = ("a", "b", "c")
RETAIL, FEED_IN = 250_000, 80_000


def group(seed: int = 0) -> Group:
    return Group(Decision.BIDDING, "test", IDS, np.arange(3, dtype=np.int64),
                 streams(seed).rng("learning.bids", 0))


def observation(interval: int = 5) -> BidObservation:
    return BidObservation(interval, IDS, np.arange(3, dtype=np.int64),
                          np.array([1.0, -0.5, 0.0]), RETAIL, FEED_IN, 5_000, 1_000_000)


def feedback(actions: Any, interval: int = 5, payoff: tuple[int, int, int] = (60_000, 0, 0)
             ) -> BidFeedback:
    return BidFeedback(interval, IDS, actions.bid_wh, actions.offer_wh,
                       np.array([1000, 0, 0]), np.array([0, 0, 0]), 190_000,
                       np.array(payoff, dtype=np.int64))


@pytest.mark.parametrize("policy", ["roth_erev", "q_learning"])
def test_actions_are_valid_orders_on_the_grid(policy: str) -> None:
    bidder = make(Decision.BIDDING, policy, {"levels": 5})
    bidder.setup(group())
    actions = validate_bids(policy, observation(), bidder.decide(observation()))
    assert actions.bid_wh.tolist() == [1000, 0, 0]
    assert actions.offer_wh.tolist() == [0, 500, 0]
    grid = {80_000, 122_500, 165_000, 207_500, 250_000}
    assert set(actions.bid_price_u.tolist()) <= grid
    assert set(actions.offer_price_u.tolist()) <= grid


def test_roth_erev_feedback_reinforces_the_buyer_only() -> None:
    bidder = RothErevBidding(levels=3, recency=0.1, experimentation=0.2,
                             initial_propensity=100.0)
    bidder.setup(group())
    actions = bidder.decide(observation())
    chosen = (int(actions.bid_price_u[0]) - FEED_IN) * 2 // (RETAIL - FEED_IN)
    bidder.feedback(feedback(actions))
    assert bidder.sides is not None
    buy, sell = bidder.sides
    expected = [100.0, 100.0, 100.0]  # 0.9 q + 0.2 q / 2 for the others, 0.9 q + 0.8 R chosen
    expected[chosen] = 0.9 * 100 + 0.8 * 60_000
    assert buy.kernel.propensity[0].tolist() == pytest.approx(expected)  # type: ignore[attr-defined]
    # b and c did not bid; b's offer was reinforced by 0 payoff, c sent nothing
    assert buy.kernel.propensity[1:].tolist() == [[100.0] * 3] * 2  # type: ignore[attr-defined]
    offered = sell.kernel.propensity[1]  # type: ignore[attr-defined]
    assert sorted(offered.tolist()) == pytest.approx([90.0, 100.0, 100.0])
    assert sell.kernel.propensity[2].tolist() == [100.0] * 3  # type: ignore[attr-defined]


def test_feedback_for_another_interval_is_ignored() -> None:
    bidder = QLearningBidding(levels=3)
    bidder.setup(group())
    actions = bidder.decide(observation(5))
    bidder.feedback(feedback(actions, interval=6))
    assert bidder.sides is not None
    assert not bidder.sides[0].kernel.q.any()  # type: ignore[attr-defined]


def test_q_learning_updates_the_hour_state() -> None:
    bidder = QLearningBidding(levels=3, learning_rate=0.5, epsilon=0.0, epsilon_min=0.0)
    bidder.setup(group())
    actions = bidder.decide(observation(29))  # 29 % 24 = state 5; greedy on zeros: action 0
    assert actions.bid_price_u.tolist()[0] == FEED_IN
    bidder.feedback(feedback(actions, interval=29))
    assert bidder.sides is not None
    q = bidder.sides[0].kernel.q  # type: ignore[attr-defined]
    assert q[0, 5].tolist() == [30_000.0, 0.0, 0.0]
    assert q.sum() == 30_000.0


@pytest.mark.parametrize("policy", ["roth_erev", "q_learning"])
def test_same_seed_same_prices(policy: str) -> None:
    def prices(seed: int) -> list[list[int]]:
        bidder = make(Decision.BIDDING, policy, {})
        bidder.setup(group(seed))
        out = []
        for interval in range(30):
            actions = bidder.decide(observation(interval))
            bidder.feedback(feedback(actions, interval))
            out.append(actions.bid_price_u.tolist() + actions.offer_price_u.tolist())
        return out

    assert prices(1) == prices(1)
    assert prices(1) != prices(2)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(LearningError, match="levels=1"):
        RothErevBidding(levels=1)
    with pytest.raises(LearningError, match="recency"):
        RothErevBidding(recency=2.0)
    with pytest.raises(LearningError, match="states=0"):
        QLearningBidding(states=0)
