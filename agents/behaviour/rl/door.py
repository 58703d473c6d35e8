"""``DoorBidding``: a bidding policy whose chosen members are priced from outside.

Why a policy and not a hook in the model: the learner's members then take the
same path as everyone's (observation, validation, orders, clearing, feedback),
so whatever a learner does is checked and recorded like any policy's action.
Every member of the group is decided by the wrapped policy first; for the
controlled members the door then replaces the limit price with the one the
learner chose (an index on the feed-in -> retail grid of
``gridcoop.agents.behaviour.learning.markups``); quantities stay the wrapped
policy's, from the member's forecast. Feedback goes on to the wrapped policy
and is kept for the environment (fills and payoffs of the controlled members).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.behaviour.actions import BidActions
from gridcoop.agents.behaviour.bidding import TariffShareBidding
from gridcoop.agents.behaviour.errors import PolicyError
from gridcoop.agents.behaviour.learning.markups import limit_prices_u
from gridcoop.agents.behaviour.observations import BidFeedback, BidObservation, IntArray
from gridcoop.agents.behaviour.protocols import Group
from gridcoop.agents.behaviour.validate import validate_bids


class DoorBidding:
    """Prices ``controlled`` members from ``choose(levels)`` indices; the rest as ``inner``."""

    name = "door"

    def __init__(self, controlled: tuple[str, ...], levels: int = 11,
                 inner: Any = None) -> None:
        self.controlled = tuple(controlled)
        self.levels = int(levels)
        self.inner = inner if inner is not None else TariffShareBidding()
        self.rows: IntArray = np.zeros(0, dtype=np.int64)
        self.pending: IntArray = np.zeros(len(self.controlled), dtype=np.int64)
        self.last_observation: BidObservation | None = None
        self.last_feedback: BidFeedback | None = None

    def setup(self, group: Group) -> None:
        index = {m: i for i, m in enumerate(group.member_ids)}
        missing = [m for m in self.controlled if m not in index]
        if missing:
            raise PolicyError(f"policy 'door': member {missing[0]!r} is not in the bidding "
                              f"group {group.name!r} it wraps (members of another kind's "
                              "group cannot be controlled)")
        self.rows = np.array([index[m] for m in self.controlled], dtype=np.int64)
        self.inner.setup(group)

    def act(self, actions: IntArray) -> None:
        """The learner's price indices for the next gate, one per controlled member."""
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        if actions.shape != (len(self.controlled),) or np.any(actions < 0) or np.any(
                actions >= self.levels):
            raise PolicyError(f"policy 'door': actions {actions.tolist()} must be "
                              f"{len(self.controlled)} indices in [0, {self.levels - 1}]")
        self.pending = actions

    def decide(self, observation: BidObservation) -> BidActions:
        base = validate_bids(getattr(self.inner, "name", "inner"), observation,
                             self.inner.decide(observation))
        band = (self.levels, observation.retail_u, observation.feed_in_u)
        bid_u = np.array(base.bid_price_u, dtype=np.int64)
        offer_u = np.array(base.offer_price_u, dtype=np.int64)
        bid_u[self.rows] = limit_prices_u(self.pending, *band)
        offer_u[self.rows] = limit_prices_u(self.pending, *band)
        self.last_observation = observation
        return BidActions(base.bid_wh, bid_u, base.offer_wh, offer_u)

    def feedback(self, outcome: BidFeedback) -> None:
        self.last_feedback = outcome
        self.inner.feedback(outcome)
