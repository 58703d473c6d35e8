"""Built-in EV owner policies: whether an owner breaks routine on a day, and warns ahead.

``routine``: an owner changes its day with the scenario's ``change_rate`` (the
pilot saw behaviour change about 15 % of the time) and warns with
``warn_probability``, from the day's draws: the behaviour from before policies
existed.

``incentive_response``: the same draws, against probabilities that respond
to the owner's standing in the community's EV mechanism:

- each penalty so far (an unannounced break) multiplies the change probability
  by ``1 - penalty_response``;
- an owner on a run of at least ``token_streak_days`` kept days (earning
  tokens every day) changes with ``1 - token_response`` of the probability;
- each warned change so far (a window the community could hand to a
  replacement) moves the warning probability ``replacement_response`` of the
  way to 1 (warning pays off).

The three responses are assumptions (the pilot gives only the 15 % rate);
with all three at 0 ``incentive_response`` decides exactly as ``routine``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.behaviour.actions import EVActions
from gridcoop.agents.behaviour.observations import EVObservation
from gridcoop.agents.behaviour.protocols import PolicyBase

PENALTY_RESPONSE = 0.3  # assumption
TOKEN_RESPONSE = 0.2  # assumption
REPLACEMENT_RESPONSE = 0.3  # assumption
TOKEN_STREAK_DAYS = 7  # assumption: a week of kept days


class RoutineEV(PolicyBase):
    """Change and warn at the scenario's rates, whatever the community did."""

    name = "routine"

    def probabilities(self, observation: EVObservation) -> tuple[Any, Any]:
        return observation.base_change, observation.base_warn

    def decide(self, observation: EVObservation) -> EVActions:
        p_change, p_warn = self.probabilities(observation)
        change = observation.change_draw < p_change
        warn = change & (observation.warn_draw < p_warn)
        n = len(observation.member_ids)
        return EVActions(change, warn, np.full(n, -1, dtype=np.int64), np.ones(n, dtype=bool))


class IncentiveResponseEV(RoutineEV):
    """Fewer breaks after penalties and during token streaks; more warnings once they pay off."""

    name = "incentive_response"

    def __init__(self, penalty_response: float = PENALTY_RESPONSE,
                 token_response: float = TOKEN_RESPONSE,
                 replacement_response: float = REPLACEMENT_RESPONSE,
                 token_streak_days: int = TOKEN_STREAK_DAYS) -> None:
        super().__init__()
        for label, value in (("penalty_response", penalty_response),
                             ("token_response", token_response),
                             ("replacement_response", replacement_response)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"ev policy: {label} must be in [0, 1]")
        self.penalty_response = penalty_response
        self.token_response = token_response
        self.replacement_response = replacement_response
        self.token_streak_days = token_streak_days

    def probabilities(self, observation: EVObservation) -> tuple[Any, Any]:
        p_change, p_warn = observation.base_change, observation.base_warn
        standing = observation.standing
        if standing is None:
            return p_change, p_warn
        streak = standing.tokens >= self.token_streak_days
        p_change = (p_change * (1.0 - self.penalty_response) ** standing.penalties
                    * np.where(streak, 1.0 - self.token_response, 1.0))
        stay = (1.0 - self.replacement_response) ** observation.warned
        return p_change, 1.0 - (1.0 - p_warn) * stay
