"""Built-in lighting policies: whether the last one out switches the classroom lights off.

All lighting behaviour parameters live here (``LightingResponse``), so a
change of the campus's habits (say, when security switches the lights on) is
made in one place.

``habit``: each class switches off with the habit's probability
(``p_switch_off`` of the campus scenario), one uniform draw per class in
session order: the campus's behaviour from before policies existed.

``ranking_response``: the same draws, against a probability that responds to
the weekly rankings once the community publishes them:

- a teacher named on a published "least sustainable" list switches off with
  ``rank_response`` more probability from then on (being named is the nudge);
- everyone moves ``peer_response`` of the way from their own probability
  toward the published share of classes that switched off among the "most
  sustainable" teachers' classes (the peers shown as the example).

The pilot reports that lighting waste fell after the first month of rankings
and names no size of the effect; ``rank_response`` and ``peer_response`` are
assumptions (docs/guides/behaviour.md). With no rankings published, or both
responses 0, ``ranking_response`` decides exactly as ``habit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridcoop.agents.behaviour.actions import LightingActions
from gridcoop.agents.behaviour.observations import LightingObservation
from gridcoop.agents.behaviour.protocols import PolicyBase

PEER_SHARE = "top_switch_off_share"  # Standing.published key: the example peers' share
RANK_RESPONSE = 0.4  # assumption: extra switch-off probability once named "least sustainable"
PEER_RESPONSE = 0.25  # assumption: share of the way toward the example peers' switch-off share


@dataclass(frozen=True, slots=True)
class LightingResponse:
    """How classroom users respond to published rankings (both figures are assumptions)."""

    rank_response: float = RANK_RESPONSE
    peer_response: float = PEER_RESPONSE

    def __post_init__(self) -> None:
        for name in ("rank_response", "peer_response"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"lighting policy: {name} must be in [0, 1]")


class HabitLighting(PolicyBase):
    """The switch-off habit, unchanged by anything the community publishes."""

    name = "habit"

    def probabilities(self, observation: LightingObservation) -> Any:
        return observation.base_switch_off

    def decide(self, observation: LightingObservation) -> LightingActions:
        draws = self.rng.random(len(observation.member_ids))
        return LightingActions(draws < self.probabilities(observation))


class RankingResponseLighting(HabitLighting):
    """The habit, nudged by being named on a ranking and by the peers it shows."""

    name = "ranking_response"

    def __init__(self, rank_response: float = RANK_RESPONSE,
                 peer_response: float = PEER_RESPONSE) -> None:
        super().__init__()
        self.response = LightingResponse(rank_response, peer_response)
        self.named: set[str] = set()  # teachers named on a "least sustainable" list so far

    def probabilities(self, observation: LightingObservation) -> Any:
        base = observation.base_switch_off
        standing = observation.standing
        if standing is None:
            return base
        ids = observation.member_ids
        self.named.update(ids[i] for i in np.flatnonzero(standing.rank < 0))
        named = np.fromiter((m in self.named for m in ids), dtype=bool, count=len(ids))
        p = base + self.response.rank_response * named
        peers = standing.published.get(PEER_SHARE)
        if peers is not None:
            p = p + self.response.peer_response * np.maximum(peers - p, 0.0)
        return np.clip(p, 0.0, 1.0)
