"""The Mesa way: a member subclass whose ``step()`` decides for one agent.

Why an adapter and not a second code path: the model asks every group's
policy for the same ``BidActions``; ``AgentStepBidding`` gives each of its
members its own row of the observation (``self.observation``, a ``BidRow``),
runs their ``step()`` through Mesa's ``AgentSet`` (in member order, so the run
is deterministic), and gathers what each set in ``self.action`` (a ``Bid``).
The result is validated like any vectorised policy's; after clearing each
member gets its ``BidOutcome`` in ``self.outcome`` and its ``learn()`` is called.

Write one like this and name it in the scenario (``policies: {bidding: {prosumer:
mypackage.agents:Shy}}``) or pass the class to ``CommunityModel(policies=...)``::

    class Shy(Prosumer):
        def step(self) -> None:
            o = self.observation
            want = round(max(o.forecast_kwh, 0.0) * 1000)
            self.action = Bid(want, o.feed_in_u + (o.retail_u - o.feed_in_u) // 2, 0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from gridcoop.agents.behaviour.actions import BidActions
from gridcoop.agents.behaviour.errors import ActionError
from gridcoop.agents.behaviour.observations import BidFeedback, BidObservation, IntArray
from gridcoop.agents.behaviour.protocols import Group

if TYPE_CHECKING:
    from gridcoop.agents.model.members import Member


@dataclass(frozen=True, slots=True)
class BidRow:
    """One member's row of a ``BidObservation`` (scalars; prices µ€/kWh)."""

    interval: int
    forecast_kwh: float
    retail_u: int
    feed_in_u: int
    grid_fee_u: int
    price_cap_u: int
    recent_prices_u: IntArray
    tokens: int
    penalties: int
    rank: int


@dataclass(frozen=True, slots=True)
class Bid:
    """One member's order for the interval: Wh and limit µ€/kWh for each side."""

    bid_wh: int
    bid_price_u: int
    offer_wh: int
    offer_price_u: int


@dataclass(frozen=True, slots=True)
class BidOutcome:
    """What one member's last order got (see ``BidFeedback``)."""

    interval: int
    bought_wh: int
    sold_wh: int
    price_u: int
    payoff_u: int


def is_agent_class(spec: Any) -> bool:
    """True for a per-agent policy: a Mesa agent class (a member subclass with ``step()``)."""
    return isinstance(spec, type) and issubclass(spec, mesa.Agent)


class AgentStepBidding:
    """A group of per-agent members seen as one vectorised bidding policy."""

    def __init__(self, agent_class: Any) -> None:
        self.agent_class = agent_class
        self.name = f"{agent_class.__module__}:{agent_class.__qualname__}"
        self.agents: AgentSet | None = None

    def bind(self, members: list[Member], model: mesa.Model) -> None:
        """The group's member agents (made by the model from ``agent_class``)."""
        self.agents = AgentSet(members, random=model.random)

    def setup(self, group: Group) -> None:
        self.group = group

    def decide(self, observation: BidObservation) -> BidActions:
        if self.agents is None:
            raise RuntimeError(f"policy {self.name!r} has no agents bound")
        standing = observation.standing
        ids = observation.member_ids
        for i, agent in enumerate(self.agents):
            agent.action = None
            agent.observation = BidRow(
                observation.interval, float(observation.forecast_kwh[i]), observation.retail_u,
                observation.feed_in_u, observation.grid_fee_u, observation.price_cap_u,
                observation.recent_prices_u,
                0 if standing is None else int(standing.tokens[i]),
                0 if standing is None else int(standing.penalties[i]),
                0 if standing is None else int(standing.rank[i]))
        self.agents.do("step")
        rows: list[Bid] = []
        named: list[str] = []
        for agent in self.agents:
            if not isinstance(agent.action, Bid):
                raise ActionError(self.name, agent.member_id, "action",
                                  f"step() set {type(agent.action).__name__}, expected a Bid")
            rows.append(agent.action)
            named.append(agent.member_id)
        columns = np.array([(b.bid_wh, b.bid_price_u, b.offer_wh, b.offer_price_u)
                            for b in rows], dtype=object).reshape(len(rows), 4)
        bid_wh, bid_u, offer_wh, offer_u = (_numeric(columns[:, j]) for j in range(4))
        return BidActions(bid_wh, bid_u, offer_wh, offer_u,
                          member_ids=tuple(named) if tuple(named) != ids else None)

    def feedback(self, outcome: BidFeedback) -> None:
        if self.agents is None:
            return
        for i, agent in enumerate(self.agents):
            agent.outcome = BidOutcome(outcome.interval, int(outcome.bought_wh[i]),
                                       int(outcome.sold_wh[i]), outcome.price_u,
                                       int(outcome.payoff_u[i]))
        self.agents.do("learn")


def _numeric(column: Any) -> Any:
    """A column of whatever the agents set, as numbers where they are numbers (validated later)."""
    try:
        return np.asarray(column.tolist(), dtype=np.float64 if any(
            isinstance(v, float) for v in column) else np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.asarray(column.tolist(), dtype=object)
