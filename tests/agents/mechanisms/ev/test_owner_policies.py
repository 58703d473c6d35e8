"""EV owners' daily decisions through an EV policy: ``routine`` is the old behaviour."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.agents.behaviour.errors import ActionError
from gridcoop.agents.behaviour.ev import IncentiveResponseEV, RoutineEV
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.mechanisms.ev.owners import decide_days, ev_policy
from gridcoop.agents.mechanisms.ev.profiles import random_fleet
from gridcoop.agents.mechanisms.ev.trips import generate_trips
from gridcoop.agents.scenario.policies import PolicyChoice

DAYS = 91


def _fleet() -> Any:
    return random_fleet(200, seed=3)


def _setup(policy: Any, fleet: Any) -> Any:
    policy.setup(Group(Decision.EV, "t", tuple(fleet.ev_ids), np.arange(fleet.size),
                       np.random.default_rng(0)))
    return policy


def test_routine_policy_gives_the_trips_from_before() -> None:
    fleet = _fleet()
    plain = generate_trips(fleet, DAYS, 7)
    routine = generate_trips(fleet, DAYS, 7, policy=_setup(RoutineEV(), fleet))
    for field in ("changed", "warned", "start_min", "km", "plug_after"):
        assert np.array_equal(getattr(plain, field), getattr(routine, field)), field


def test_no_response_is_routine_and_responses_make_owners_reliable() -> None:
    fleet = _fleet()
    plain = generate_trips(fleet, DAYS, 7)
    still = generate_trips(fleet, DAYS, 7, policy=_setup(IncentiveResponseEV(0, 0, 0), fleet))
    assert np.array_equal(still.changed, plain.changed)
    assert np.array_equal(still.warned, plain.warned)
    moved = generate_trips(fleet, DAYS, 7, policy=ev_policy(
        PolicyChoice(policy="incentive_response"), tuple(fleet.ev_ids),
        np.random.default_rng(0)))
    first, last = slice(0, 28), slice(63, 91)
    assert plain.changed[:, first].mean() == pytest.approx(0.15, abs=0.02)
    # a changed day under the responsive policy was a changed day under routine (same draws)
    assert not (moved.changed & ~plain.changed).any()
    assert moved.changed[:, last].mean() < 0.6 * plain.changed[:, last].mean()
    unannounced = (moved.changed & ~moved.warned).mean() / (plain.changed & ~plain.warned).mean()
    assert unannounced < 0.5


def test_a_bad_ev_action_is_named() -> None:
    class Wrong(RoutineEV):
        name = "wrong"

        def decide(self, observation: Any) -> Any:
            actions = super().decide(observation)
            return type(actions)(actions.change[:-1], actions.warn, actions.replacement,
                                 actions.allow_v2g)

    fleet = _fleet()
    draws = np.random.default_rng(0).random((fleet.size, 3))
    with pytest.raises(ActionError, match=r"policy 'wrong', all members, field 'change'"):
        decide_days(fleet, draws, draws, 0.15, 0.6, _setup(Wrong(), fleet))
