"""Who prices the members' orders: the bidding policy of each group, asked at every gate.

Why groups: a scenario may let prosumers learn while everyone else keeps the
tariff shares, or plug a researcher's policy into one member kind. Each group
gets its own observation (its rows of the forecast), its policy decides, the
actions are validated (``gridcoop.agents.behaviour.validate``) and scattered
back into the community's arrays. With no ``policies:`` section there is one
group, ``all``, priced by ``tariff_share`` from the ``strategy`` stream, which
is exactly the behaviour from before policies existed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.behaviour.actions import BidActions
from gridcoop.agents.behaviour.bidding import TariffShareBidding
from gridcoop.agents.behaviour.mesa_way import AgentStepBidding, is_agent_class
from gridcoop.agents.behaviour.observations import (
    RECENT_PRICES,
    BidFeedback,
    BidObservation,
    Standing,
)
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.behaviour.resolve import load
from gridcoop.agents.behaviour.validate import validate_bids
from gridcoop.agents.scenario.policies import BIDDING_GROUPS, PolicyChoice
from gridcoop.agents.scenario.schema import Scenario
from gridcoop.market import DEFAULT_PRICE_CAP_UEUR_PER_KWH
from gridcoop.streams import streams
from gridcoop.units import sum_by

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(slots=True)
class BidGroup:
    """One policy and the members (node indices, ascending) it decides for."""

    name: str
    nodes: IntArray
    policy: Any
    member_ids: tuple[str, ...]
    last: BidActions | None = None


def _policy_for(choice: Any, scenario: Scenario) -> Any:
    """A policy object from a scenario choice, a class, or an object given in Python."""
    if isinstance(choice, PolicyChoice):
        factory = load(Decision.BIDDING, choice.policy)
        params = dict(choice.params)
    else:
        factory, params = choice, {}
    if is_agent_class(factory):
        return AgentStepBidding(factory)
    if isinstance(factory, type):
        if issubclass(factory, TariffShareBidding):
            fields = type(scenario.strategy).model_fields
            ours = {k: params.pop(k) for k in list(params) if k in fields}
            strategy = type(scenario.strategy).model_validate(
                {**scenario.strategy.model_dump(), **ours})
            return factory(strategy, **params)
        return factory(**params)
    return factory  # already a policy object (Python API)


class BiddingGroups:
    """The bidding groups of a community and what they last bid and got."""

    def __init__(self, scenario: Scenario, size: int, rng: np.random.Generator,
                 kinds: IntArray | None = None, node_ids: Sequence[str] | None = None,
                 given: Mapping[str, Any] | None = None) -> None:
        choices: dict[str, Any] = dict(scenario.policies.bidding)
        choices.update(given or {})
        ids = tuple(node_ids) if node_ids is not None else tuple(str(i) for i in range(size))
        kind_of = np.zeros(size, dtype=np.int64) - 1 if kinds is None else np.asarray(kinds)
        taken = np.zeros(size, dtype=bool)
        self.groups: list[BidGroup] = []
        for g, name in enumerate(BIDDING_GROUPS[1:]):
            if name not in choices:
                continue
            if kinds is None:
                raise ValueError(f"policies.bidding.{name}: member kinds are unknown here")
            nodes = np.flatnonzero(kind_of == g)
            taken[nodes] = True
            self._add(name, nodes, _policy_for(choices[name], scenario), ids, scenario,
                      streams(scenario.seed).rng("policy", 0, g + 1))
        rest = np.flatnonzero(~taken)
        if rest.size:  # "all": the strategy stream, as before policies existed
            policy = _policy_for(choices.get("all", TariffShareBidding), scenario)
            self._add("all", rest, policy, ids, scenario, rng)
        self.recent_prices_u: deque[int] = deque(maxlen=RECENT_PRICES)
        self.price_cap_u = DEFAULT_PRICE_CAP_UEUR_PER_KWH

    def _add(self, name: str, nodes: IntArray, policy: Any, ids: tuple[str, ...],
             scenario: Scenario, rng: np.random.Generator) -> None:
        if not nodes.size:
            return
        member_ids = tuple(ids[i] for i in nodes)
        policy.setup(Group(Decision.BIDDING, name, member_ids, nodes, rng))
        self.groups.append(BidGroup(name, nodes, policy, member_ids))

    def agent_classes(self) -> list[tuple[IntArray, type, AgentStepBidding]]:
        """(nodes, class, adapter) of each group whose policy is a per-agent member class."""
        return [(g.nodes, g.policy.agent_class, g.policy) for g in self.groups
                if isinstance(g.policy, AgentStepBidding)]

    def decide(self, interval: int, forecast_kwh: FloatArray, tariff_u: tuple[int, int, int],
               standing: Standing | None = None) -> tuple[IntArray, ...]:
        """(bid Wh, bid µ€/kWh, offer Wh, offer µ€/kWh) of every member for ``interval``."""
        retail_u, feed_in_u, fee_u = tariff_u
        recent = np.fromiter(self.recent_prices_u, dtype=np.int64)
        single = len(self.groups) == 1 and self.groups[0].nodes.size == forecast_kwh.size
        out = None if single else [np.zeros(forecast_kwh.size, dtype=np.int64) for _ in range(4)]
        for group in self.groups:
            rows = group.nodes
            observation = BidObservation(
                interval, group.member_ids, rows, forecast_kwh if single else forecast_kwh[rows],
                retail_u, feed_in_u, fee_u, self.price_cap_u, recent, standing)
            actions = validate_bids(getattr(group.policy, "name", type(group.policy).__name__),
                                    observation, group.policy.decide(observation))
            group.last = actions
            columns = (actions.bid_wh, actions.bid_price_u, actions.offer_wh,
                       actions.offer_price_u)
            if out is None:
                return columns
            for target, column in zip(out, columns, strict=True):
                target[rows] = column
        assert out is not None
        return tuple(out)

    def cleared(self, interval: int, price_u: int | None, buyer: IntArray, seller: IntArray,
                energy_wh: IntArray, trade_price_u: IntArray, tariff_u: tuple[int, int, int],
                size: int) -> None:
        """After clearing ``interval``: remember the price; tell every group what it got."""
        if price_u is not None:
            self.recent_prices_u.append(int(price_u))
        told = [(group, group.last) for group in self.groups if group.last is not None]
        if not told:  # nobody priced orders this time (a table of orders, say)
            return
        retail_u, feed_in_u, _ = tariff_u
        bought = sum_by(buyer, energy_wh, size)
        sold = sum_by(seller, energy_wh, size)
        gain = np.zeros(size, dtype=np.int64)
        np.add.at(gain, buyer, energy_wh * (retail_u - trade_price_u))
        np.add.at(gain, seller, energy_wh * (trade_price_u - feed_in_u))
        payoff = gain // 1000
        for group, last in told:
            rows = group.nodes
            group.policy.feedback(BidFeedback(
                interval, group.member_ids, last.bid_wh, last.offer_wh,
                bought[rows], sold[rows], -1 if price_u is None else int(price_u),
                payoff[rows]))
