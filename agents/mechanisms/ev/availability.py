"""The two capacity measures of an EV community, and critical periods found from them.

Why two measures: the pilot counts a community's "available power" as the
battery capacity of the EVs plugged in (kWh: five 24 kWh and two 30 kWh
Leafs give 180), while a reserve call can only draw the V2G power of the
chargers those EVs sit on (kW). Both are counted per hour as each EV's
plugged share of the hour times its battery (kWh) or its V2G power (kW).

Critical periods follow the pilot's definition: its aggregator classifies an
hour by "the power offered by the electrical grid to the market" and "the
power made available by the community", and finds the critical ones where
"less aggregated power [is] available", after the mobility peaks, when the
grid needs it. So an hour's criticality weighs both sides of the typical day
(the mean of each hour of the day over the days given): the grid's demand (the
household demand shape of :mod:`gridcoop.agents.physics.load`, weekdays and
weekends as the days fall) as a multiple of its daily mean, minus the battery
capacity plugged in as a multiple of its own. The hours whose criticality lies
in the top quarter are merged into ``(start, end)`` periods. The EV community
finds them from the warm-up history, before the run it rewards.
``critical_hours(typical_day(battery))`` is the capacity-only rule (the
lowest quarter of plugged-in capacity), kept to compare.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.simulate import FleetHistory
from gridcoop.agents.physics.load import WEEKDAY_SHAPE, WEEKEND_SHAPE

FloatArray = NDArray[np.float64]
HOURS_PER_DAY = 24
LOWEST_SHARE = 0.25
SATURDAY = 5


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


def grid_demand_day(history: FleetHistory, first_day: int, days: int) -> FloatArray:
    """The grid's typical-day demand over the same days: the household shape, by weekday."""
    weekend = sum(history.weekday(d) >= SATURDAY for d in range(first_day, first_day + days))
    day = ((days - weekend) * WEEKDAY_SHAPE + weekend * WEEKEND_SHAPE) / days
    return np.asarray(day, dtype=np.float64)


def criticality(demand_day: FloatArray, capacity_day: FloatArray) -> FloatArray:
    """Per hour: grid demand above its daily mean, less plugged-in capacity above its own.

    Both are taken relative to their mean, so neither unit nor fleet size
    weighs more; a fleet that is never plugged in leaves demand alone to decide.
    """
    capacity_mean = capacity_day.mean()
    capacity = capacity_day / capacity_mean if capacity_mean > 0 else np.zeros_like(capacity_day)
    return np.asarray(demand_day / demand_day.mean() - capacity, dtype=np.float64)


def critical_hours_found(history: FleetHistory, first_day: int, days: int) -> frozenset[int]:
    """Hours of days ``[first_day, first_day + days)`` whose criticality is in the top quarter."""
    battery, _ = hourly_capacity(history, first_day, days)
    return critical_hours_of(battery, history, first_day, days)


def critical_hours_of(battery: FloatArray, history: FleetHistory, first_day: int,
                      days: int) -> frozenset[int]:
    """The same from those days' plugged-in battery kWh per hour, already worked out."""
    score = criticality(grid_demand_day(history, first_day, days), typical_day(battery))
    return critical_hours(-score)


def critical_periods(history: FleetHistory, first_day: int, days: int
                     ) -> tuple[tuple[int, int], ...]:
    """The critical periods of days ``[first_day, first_day + days)`` of a history."""
    return merge_hours(critical_hours_found(history, first_day, days))
