"""Household appliances from the DOMAIN table, scheduled day by day, vectorised.

Why keep start and duration arrays (not only a power matrix): the DR community
issue moves flexible appliances (templates T2-T4) and switches them on and off;
it works on ``ApplianceSchedule`` and re-renders the power with ``power_kw``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.clock import SimClock

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class Template(IntEnum):
    """DR appliance templates; rationing serves T1 first and T4 last."""

    T1_SCHEDULED = 1
    T2_TEMPERATURE = 2
    T3_BATTERY = 3
    T4_FLEXIBLE = 4


@dataclass(frozen=True, slots=True)
class ApplianceSpec:
    """One row of the DOMAIN appliance table plus how common it is."""

    name: str
    flexible: bool
    start_h: float
    end_h: float
    working_h: float
    power_kw: float
    template: Template
    p_owned: float  # share of DR households owning one
    p_used_daily: float  # chance an owner runs it on a given day

    @property
    def window_h(self) -> float:
        """Length of the allowed window; windows may wrap past midnight (EV 19:00-06:00)."""
        span = (self.end_h - self.start_h) % 24.0
        return 24.0 if span == 0.0 else span

    @property
    def run_h(self) -> float:
        """Hours it runs in a day: the table's working hours, at most the window.

        (The table gives the air conditioner 7 h in a 5 h window: it then runs
        through the whole window.)
        """
        return min(self.working_h, self.window_h)


T = Template
APPLIANCES: tuple[ApplianceSpec, ...] = (
    ApplianceSpec("refrigerator", False, 0.0, 24.0, 24.0, 0.125, T.T2_TEMPERATURE, 1.0, 1.0),
    ApplianceSpec("electric vehicle", True, 19.0, 6.0, 6.0, 3.65, T.T3_BATTERY, 0.0, 0.9),
    ApplianceSpec("air conditioner", True, 19.0, 24.0, 7.0, 1.00, T.T2_TEMPERATURE, 0.3, 0.5),
    ApplianceSpec("clothes dryer", False, 6.0, 22.0, 4.0, 0.74, T.T1_SCHEDULED, 0.4, 0.3),
    ApplianceSpec("dish washer", False, 22.0, 23.0, 1.5, 0.47, T.T1_SCHEDULED, 0.6, 0.8),
    ApplianceSpec("hair dryer", False, 6.0, 8.0, 0.5, 1.00, T.T1_SCHEDULED, 0.5, 0.7),
    ApplianceSpec("pool pump", True, 12.0, 21.0, 8.0, 2.00, T.T4_FLEXIBLE, 0.05, 1.0),
    ApplianceSpec("television", False, 7.0, 24.0, 4.0, 0.25, T.T1_SCHEDULED, 0.95, 1.0),
    ApplianceSpec("water heater", True, 6.0, 23.0, 3.0, 1.50, T.T2_TEMPERATURE, 0.3, 1.0),
    ApplianceSpec("electric stove", False, 6.0, 21.0, 5.0, 1.50, T.T1_SCHEDULED, 0.8, 0.3),
    ApplianceSpec("light", False, 16.0, 24.0, 7.0, 0.50, T.T1_SCHEDULED, 1.0, 0.7),
    ApplianceSpec("personal computer", False, 8.0, 18.0, 5.0, 0.25, T.T1_SCHEDULED, 0.7, 0.8),
    ApplianceSpec("vacuum cleaner", False, 10.0, 12.0, 0.5, 1.50, T.T1_SCHEDULED, 0.8, 0.3),
    ApplianceSpec("iron", False, 21.0, 23.0, 2.0, 1.50, T.T1_SCHEDULED, 0.6, 0.2),
)


def appliance_index(name: str) -> int:
    """Row of ``name`` in ``APPLIANCES``."""
    for i, spec in enumerate(APPLIANCES):
        if spec.name == name:
            return i
    known = ", ".join(s.name for s in APPLIANCES)
    raise KeyError(f"unknown appliance {name!r}; known: {known}")


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
            # fraction of each step [i, i+1) covered by [start, end)
            covered = np.clip(np.minimum(index + 1.0, end) - np.maximum(index, start), 0.0, 1.0)
            total += covered * (power[a] * self.on[a])[None, :]
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

    def flexible_kw(self, schedule: ApplianceSchedule, first: int,
                    steps: int) -> dict[Template, FloatArray]:
        """Mean power of the flexible appliances per template over ``steps`` steps from
        ``first`` (one value per household)."""
        out = {}
        for template in Template:
            rows = [a for a, s in enumerate(self.specs) if s.flexible and s.template is template]
            if rows:
                out[template] = schedule.power_kw(self.specs, steps, first, rows).mean(axis=0)
        return out

    def day_power_kw(self, day: int) -> FloatArray:
        """Plan the day and return its appliance power (steps_per_day, n), overflow included."""
        schedule = self.plan_day(day)
        steps = self.clock.steps_per_day
        both_days = schedule.power_kw(self.specs, 2 * steps)
        today = both_days[:steps] + self._carry
        self._carry = both_days[steps:]
        return today
