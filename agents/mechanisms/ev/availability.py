"""The two capacity measures of an EV community, and critical periods found from them.

Why two measures: the pilot counts a community's "available power" as the
battery capacity of the EVs plugged in (kWh: five 24 kWh and two 30 kWh
Leafs give 180), while a reserve call can only draw the V2G power of the
chargers those EVs sit on (kW). Both are counted per hour as each EV's
plugged share of the hour times its battery (kWh) or its V2G power (kW).

Critical periods are the hours of the typical day (the mean of each hour of
the day over the days given) whose battery capacity plugged in lies in the
lowest quarter, merged into ``(start, end)`` periods; the EV community finds
them from the warm-up history, before the run it rewards.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.simulate import FleetHistory

FloatArray = NDArray[np.float64]
HOURS_PER_DAY = 24
LOWEST_SHARE = 0.25


def hourly_capacity(history: FleetHistory, first_day: int, days: int,
                    rows: NDArray[np.int64] | None = None) -> tuple[FloatArray, FloatArray]:
    """Per hour of days ``[first_day, first_day + days)``: battery kWh and V2G kW plugged in
    (of the EVs ``rows``, or the whole fleet)."""
    spd, sph = history.steps_per_day, history.steps_per_hour
    pick = slice(None) if rows is None else rows
    plugged = history.plugged[pick, first_day * spd:(first_day + days) * spd].astype(np.float64)
    share = plugged.reshape(plugged.shape[0], -1, sph).mean(axis=2)  # plugged share per hour
    battery = (share * history.fleet.capacity_kwh[pick, None]).sum(axis=0)
    v2g = (share * history.fleet.v2g_power_kw[pick, None]).sum(axis=0)
    return np.asarray(battery, dtype=np.float64), np.asarray(v2g, dtype=np.float64)


def typical_day(hourly: FloatArray) -> FloatArray:
    """Mean of each hour of the day over whole days."""
    return np.asarray(hourly.reshape(-1, HOURS_PER_DAY).mean(axis=0), dtype=np.float64)


def critical_hours(day: FloatArray, share: float = LOWEST_SHARE) -> frozenset[int]:
    """Hours of a typical day whose value is in its lowest ``share`` (ties included)."""
    return frozenset(int(h) for h in np.flatnonzero(day <= np.quantile(day, share)))


def merge_hours(hours: frozenset[int]) -> tuple[tuple[int, int], ...]:
    """Consecutive hours merged into ``(start, end)`` periods (end exclusive, no wrap)."""
    periods: list[list[int]] = []
    for h in sorted(hours):
        if periods and periods[-1][1] == h:
            periods[-1][1] = h + 1
        else:
            periods.append([h, h + 1])
    return tuple((a, b) for a, b in periods)


def critical_periods(history: FleetHistory, first_day: int, days: int
                     ) -> tuple[tuple[int, int], ...]:
    """The critical periods of days ``[first_day, first_day + days)`` of a history."""
    battery, _ = hourly_capacity(history, first_day, days)
    return merge_hours(critical_hours(typical_day(battery)))
