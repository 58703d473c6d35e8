"""The households' opt-out decisions, by the scenario's DR policy, with what they earned so far.

Why here: the DR community knows each household's rewards and penalties
(``compliance``), and ``respond`` knows each command's size; this joins them
into the policy's observation (``gridcoop.agents.behaviour.dr``) and checks its
answer. The policy draws from the ``dr.response`` stream, as the fixed
opt-out always did, so the default ``fixed`` policy changes no result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from gridcoop.agents.behaviour.observations import BoolArray, DRObservation, Standing
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.behaviour.resolve import make
from gridcoop.agents.behaviour.validate import bool_column


class DROptOuts:
    """Asks the DR policy; remembers each household's reward and penalty tokens."""

    def __init__(self, scenario: Any, household_ids: Sequence[str],
                 rng: np.random.Generator) -> None:
        choice = scenario.policies.dr
        name, params = ("fixed", {}) if choice is None else (choice.policy, dict(choice.params))
        self.policy = make(Decision.DR, name, params)
        self.policy.setup(Group(Decision.DR, "dr households", tuple(household_ids),
                                np.arange(len(household_ids), dtype=np.int64), rng, params))
        self.rewarded = dict.fromkeys(household_ids, 0)
        self.penalised = dict.fromkeys(household_ids, 0)

    def note(self, household: str, reward_tokens: int, penalty_tokens: int) -> None:
        """A verified commitment's outcome for ``household``."""
        self.rewarded[household] += reward_tokens
        self.penalised[household] += penalty_tokens

    def __call__(self, observation: DRObservation) -> BoolArray:
        ids = observation.member_ids
        rewarded = np.array([self.rewarded.get(h, 0) for h in ids], dtype=np.int64)
        penalised = np.array([self.penalised.get(h, 0) for h in ids], dtype=np.int64)
        seen = dataclasses.replace(observation, standing=Standing(
            rewarded, penalised, np.zeros(len(ids), dtype=np.int64)))
        name = getattr(self.policy, "name", type(self.policy).__name__)
        return bool_column(name, ids, "opt_out", self.policy.decide(seen).opt_out)
