"""Household appliances of the catalogue (``gridcoop.catalogue``), scheduled day by day.

Why keep start and duration arrays (not only a power matrix): the DR community
issue moves flexible appliances (templates T2-T4) and switches them on and off;
it works on ``ApplianceSchedule`` and re-renders the power with ``power_kw``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.clock import SimClock
from gridcoop.catalogue import APPLIANCES, ApplianceSpec, Template, appliance_index

__all__ = [
    "APPLIANCES", "ApplianceFleet", "ApplianceSchedule", "ApplianceSpec", "Template",
    "appliance_index",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(slots=True)
class ApplianceSchedule:
    """When each appliance of each household runs on one day.

    Arrays have shape (appliances, households); ``start_step`` counts metering
    steps from the day's midnight and may run past the day's end (the overflow
    belongs to the next day); ``duration_steps`` may be fractional (the last
    step runs part of the time); ``on`` is False for not owned / not used today.
    """

    start_step: FloatArray
    duration_steps: FloatArray
    on: BoolArray

    def power_kw(self, specs: tuple[ApplianceSpec, ...], steps: int, first: int = 0,
                 only: list[int] | None = None) -> FloatArray:
        """Mean power per step for steps ``first .. first+steps`` from midnight.

        Shape (steps, households); ``only`` limits it to some appliances (rows of ``specs``).
        """
        power = np.array([s.power_kw for s in specs])
        index = np.arange(first, first + steps, dtype=np.float64)[:, None]
        total = np.zeros((steps, self.start_step.shape[1]))
        for a in range(len(specs)) if only is None else only:
            if not self.on[a].any():
                continue
            start = self.start_step[a][None, :]
            end = start + self.duration_steps[a][None, :]
            # only the steps some run touches: elsewhere the covered fraction is 0
            lo = max(0, min(steps, math.floor(start.min()) - first))
            hi = max(lo, min(steps, math.ceil(end.max()) - first))
            rows = index[lo:hi]
            # fraction of each step [i, i+1) covered by [start, end)
            covered = np.clip(np.minimum(rows + 1.0, end) - np.maximum(rows, start), 0.0, 1.0)
            total[lo:hi] += covered * (power[a] * self.on[a])[None, :]
        return total


class ApplianceFleet:
    """The appliances of ``n`` DR households and their daily schedules."""

    def __init__(
        self,
        rng: np.random.Generator,
        n: int,
        clock: SimClock,
        specs: tuple[ApplianceSpec, ...] = APPLIANCES,
    ) -> None:
        self._rng = rng
        self.clock = clock
        self.specs = specs
        p_owned = np.array([s.p_owned for s in specs])
        self.owned = rng.random((len(specs), n)) < p_owned[:, None]
        self._carry = np.zeros((clock.steps_per_day, n))
        self.schedule: ApplianceSchedule | None = None

    @property
    def size(self) -> int:
        return int(self.owned.shape[1])

    def plan_day(self, day: int) -> ApplianceSchedule:
        """Choose today's start times uniformly inside each appliance's window."""
        del day  # every day draws afresh; the weekday does not change the table
        rng, clock, n = self._rng, self.clock, self.size
        steps_per_h = 1.0 / clock.step_h
        used = (
            rng.random((len(self.specs), n))
            < np.array([s.p_used_daily for s in self.specs])[:, None]
        )
        start = np.empty((len(self.specs), n))
        duration = np.empty((len(self.specs), n))
        for a, spec in enumerate(self.specs):
            slack_steps = round((spec.window_h - spec.run_h) * steps_per_h)
            offset = rng.integers(0, slack_steps + 1, size=n)
            start[a] = spec.start_h * steps_per_h + offset
            duration[a] = spec.run_h * steps_per_h
        self.schedule = ApplianceSchedule(start, duration, self.owned & used)
        return self.schedule

    def flexible_steps_kw(self, schedule: ApplianceSchedule, first: int,
                          steps: int) -> dict[Template, FloatArray]:
        """Power of the flexible appliances per template, step by step: (steps, households)
        for ``steps`` steps from ``first``."""
        out = {}
        for template in Template:
            rows = [a for a, s in enumerate(self.specs) if s.flexible and s.template is template]
            if rows:
                out[template] = schedule.power_kw(self.specs, steps, first, rows)
        return out

    def flexible_kw(self, schedule: ApplianceSchedule, first: int,
                    steps: int) -> dict[Template, FloatArray]:
        """Mean power of the flexible appliances per template over ``steps`` steps from
        ``first`` (one value per household)."""
        return {template: kw.mean(axis=0)
                for template, kw in self.flexible_steps_kw(schedule, first, steps).items()}

    def day_power_kw(self, day: int) -> FloatArray:
        """Plan the day and return its appliance power (steps_per_day, n), overflow included."""
        schedule = self.plan_day(day)
        steps = self.clock.steps_per_day
        both_days = schedule.power_kw(self.specs, 2 * steps)
        today = both_days[:steps] + self._carry
        self._carry = both_days[steps:]
        return today
