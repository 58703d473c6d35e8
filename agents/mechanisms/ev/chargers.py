"""Chargers shared by a community: who gets one when there are fewer chargers than EVs.

Why a queue of its own: the pilot assumed no queues (every parked EV had a
charger). With ``chargers`` per community, an EV that arrives takes a free
charger of its community (the lowest fleet row first among EVs arriving in
the same step) and keeps it until it leaves; an EV finding none waits parked,
unplugged, and takes the next charger freed while it is still there.
"""

from __future__ import annotations

import numpy as np

from gridcoop.agents.mechanisms.ev.profiles import BoolArray, EVConfigError, IntArray


def share_chargers(wants: BoolArray, community: IntArray, chargers: int) -> BoolArray:
    """Plugged flags (n_ev, n_steps) when at most ``chargers`` EVs of a community plug in.

    ``wants[e, t]`` is whether EV ``e`` would be plugged in at step ``t`` with a
    charger of its own; ``community[e]`` its community.
    """
    if chargers < 0:
        raise EVConfigError(f"chargers must be >= 0, got {chargers}")
    if community.shape != (wants.shape[0],):
        raise EVConfigError(f"give one community per EV: {community.shape} for "
                            f"{wants.shape[0]} EVs")
    groups = [np.flatnonzero(community == g) for g in np.unique(community)]
    got = np.zeros_like(wants, dtype=bool)
    held = np.zeros(wants.shape[0], dtype=bool)
    for t in range(wants.shape[1]):
        want = wants[:, t]
        held &= want
        for rows in groups:
            free = chargers - int(held[rows].sum())
            if free > 0:
                waiting = rows[want[rows] & ~held[rows]]
                held[waiting[:free]] = True
        got[:, t] = held
    return got
