"""The EV owners' daily decisions (change routine? warn?), by the scenario's EV policy.

Why day by day: an owner's standing (penalties for unannounced breaks, a
run of kept days earning tokens, warnings that let the community find a
replacement) builds up over the days, and a policy that responds to it must
see yesterday's before deciding today. The standing is the owner's own record
as the EV mechanism judges it: an unannounced change is what it penalises, a
warned one what it can hand to a replacement, a kept day what earns tokens.
The draws are the trip streams' (``ev.trips``), so the default ``routine``
policy reproduces the trips from before policies existed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.behaviour.observations import BoolArray, EVObservation, Standing
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.behaviour.resolve import make
from gridcoop.agents.behaviour.validate import bool_column
from gridcoop.agents.mechanisms.ev.profiles import Fleet, FloatArray


def ev_policy(choice: Any, member_ids: tuple[str, ...], rng: np.random.Generator) -> Any:
    """The scenario's EV policy choice (None: ``routine``), set up for ``member_ids``."""
    name, params = ("routine", {}) if choice is None else (choice.policy, dict(choice.params))
    policy = make(Decision.EV, name, params)
    policy.setup(Group(Decision.EV, "ev owners", member_ids,
                       np.arange(len(member_ids), dtype=np.int64), rng, params))
    return policy


def decide_days(fleet: Fleet, change_draw: FloatArray, warn_draw: FloatArray, change_rate: float,
                warn_probability: float, policy: Any = None) -> tuple[BoolArray, BoolArray]:
    """(changed, warned), both (owners, days), decided day by day."""
    n, days = change_draw.shape
    if policy is None:  # ``routine``, in one go
        changed = change_draw < change_rate
        return changed, changed & (warn_draw < warn_probability)
    ids = tuple(fleet.ev_ids)
    name = getattr(policy, "name", type(policy).__name__)
    changed = np.zeros((n, days), dtype=bool)
    warned = np.zeros((n, days), dtype=bool)
    broken = np.zeros(n, dtype=np.int64)
    told = np.zeros(n, dtype=np.int64)
    streak = np.zeros(n, dtype=np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    for d in range(days):
        observation = EVObservation(d, ids, change_draw[:, d], warn_draw[:, d],
                                    np.full(n, change_rate), np.full(n, warn_probability),
                                    broken.copy(), told.copy(),
                                    Standing(streak.copy(), broken.copy(), zeros))
        actions = policy.decide(observation)
        change = bool_column(name, ids, "change", actions.change)
        warn = change & bool_column(name, ids, "warn", actions.warn)
        changed[:, d], warned[:, d] = change, warn
        broken += change & ~warn
        told += warn
        streak = np.where(change, 0, streak + 1)
    return changed, warned
