"""When each EV is plugged in: its plugged stays from a trip table, and per-step flags.

Why a module of their own: the EV owners' simulation (``simulate``) and the
households' EVs (``simulate.draw_plugged``) build the plug-in mask the same way;
the simulation also spreads trip energy over steps with ``per_step``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.profiles import PROFILES, BehaviourProfile, BoolArray, Fleet
from gridcoop.agents.mechanisms.ev.trips import TripTable


def plug_intervals(
    trips: TripTable, fleet: Fleet, total_min: int, step_min: int, whenever_parked: bool = False
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(ev, first plugged step, end step) of every plugged stay, in whole steps.

    ``whenever_parked``: every stay is plugged from arrival, whatever the habit.
    """
    n = fleet.size
    ev = trips.ev
    plug_after = np.ones_like(trips.plug_after) if whenever_parked else trips.plug_after
    delay = np.zeros_like(trips.plug_delay_min) if whenever_parked else trips.plug_delay_min
    last_of_ev = np.ones(ev.size, dtype=bool)
    last_of_ev[:-1] = ev[1:] != ev[:-1]
    next_start = np.where(last_of_ev, total_min, np.roll(trips.start_min, -1))
    begin = -(-(trips.end_min + delay) // step_min)  # ceil
    end = next_start // step_min
    keep = plug_after & (end > begin)
    # Before each EV's first trip it is where the last night left it.
    first_start = np.full(n, total_min, dtype=np.int64)
    if ev.size:
        first_start[ev[::-1]] = trips.start_min[::-1]  # the earliest wins (written last)
    at_start = np.array([whenever_parked or PROFILES[BehaviourProfile(p)].plugged_at_start
                         for p in fleet.profile], dtype=bool)
    starters = np.flatnonzero(at_start & (first_start >= step_min))
    return (
        np.concatenate([ev[keep], starters]),
        np.concatenate([begin[keep], np.zeros(starters.size, dtype=np.int64)]),
        np.concatenate([end[keep], first_start[starters] // step_min]),
    )


def per_step(
    rows: NDArray[np.int64],
    starts: NDArray[np.int64],
    ends: NDArray[np.int64],
    values: NDArray[np.float64],
    n_rows: int,
    n_steps: int,
) -> NDArray[np.float64]:
    """Spread each value evenly over steps [start, end) of its row: (n_rows, n_steps)."""
    rate = np.asarray(values, dtype=np.float64) / np.maximum(ends - starts, 1)
    width = n_steps + 1
    flat = np.bincount(rows * width + starts, rate, n_rows * width)
    flat -= np.bincount(rows * width + ends, rate, n_rows * width)
    return np.cumsum(flat.reshape(n_rows, width), axis=1, dtype=np.float64)[:, :n_steps]


def plugged_rows(
    stays: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    lo: int,
    hi: int,
    n_steps: int,
) -> BoolArray:
    """Plugged flags of EV rows ``[lo, hi)`` from their plugged stays (ev, begin, end)."""
    ev, begin, end = stays
    sel = (ev >= lo) & (ev < hi)
    flags = per_step(ev[sel] - lo, begin[sel], end[sel],
                      (end[sel] - begin[sel]).astype(np.float64), hi - lo, n_steps)
    return flags > 0.5
