"""Built-in DR policies: whether a household opts out of a command its comfort allows.

``fixed``: each household opts out with its ``opt_out_probability`` (one
uniform draw per command, in the order the commands arrive): the behaviour
from before policies existed.

``incentive_response``: the same draws against a probability that responds
to what the household has seen of the community's incentives:

- ``reward_response`` less once it has earned reward tokens (complying paid off);
- ``penalty_response`` more once it has been penalised (it avoids the risk of a
  penalty by not committing);
- ``comfort_response`` more per kWh the command shifts (bigger asks are refused
  more often; 0 by default, so with the incentives off the baseline is kept).

All three figures are assumptions (the pilot gives none). With rewards and
penalties switched off in the scenario (``reward_tokens_per_wh: 0``,
``penalty_tokens_per_wh: 0``) nobody earns either, and the household keeps
its baseline probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.behaviour.actions import DRActions
from gridcoop.agents.behaviour.observations import DRObservation
from gridcoop.agents.behaviour.protocols import PolicyBase

REWARD_RESPONSE = 0.05  # assumption: opt-out probability removed once rewarded
PENALTY_RESPONSE = 0.05  # assumption: opt-out probability added once penalised
COMFORT_RESPONSE = 0.0  # assumption: opt-out probability added per kWh shifted


class FixedOptOut(PolicyBase):
    """Opt out with the household's own probability, whatever happened before."""

    name = "fixed"

    def probabilities(self, observation: DRObservation) -> Any:
        return observation.base_opt_out

    def decide(self, observation: DRObservation) -> DRActions:
        draws = self.rng.random(len(observation.member_ids))
        return DRActions(draws < self.probabilities(observation))


class IncentiveResponse(FixedOptOut):
    """Opt-outs that fall with rewards earned, rise with penalties and with the size of the ask."""

    name = "incentive_response"

    def __init__(self, reward_response: float = REWARD_RESPONSE,
                 penalty_response: float = PENALTY_RESPONSE,
                 comfort_response: float = COMFORT_RESPONSE) -> None:
        super().__init__()
        for label, value in (("reward_response", reward_response),
                             ("penalty_response", penalty_response),
                             ("comfort_response", comfort_response)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"dr policy: {label} must be in [0, 1]")
        self.reward_response = reward_response
        self.penalty_response = penalty_response
        self.comfort_response = comfort_response

    def probabilities(self, observation: DRObservation) -> Any:
        p = observation.base_opt_out + self.comfort_response * observation.comfort_loss
        standing = observation.standing
        if standing is not None:
            p = (p - self.reward_response * (standing.tokens > 0)
                 + self.penalty_response * (standing.penalties > 0))
        return np.clip(p, 0.0, 1.0)
