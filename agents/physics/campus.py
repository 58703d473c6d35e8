"""Campus case 2: classrooms with panels, lights on while a classroom is occupied,
and surplus sent to the nearest classroom that can use it.

Why a routing rule and not an auction: in the pilot the hallway's classrooms
hand over surplus physically, nearest first, at a static price; the auction is
an option of the scenario (``allocation: market``).

Why two occupancy models: the pilot simulated each classroom as "occupied or
not" through three months of production, weekends included (its Table 1 moves
490 kWh, about 40 % of the panels' output); a weekly timetable of weekday
classes leaves every weekend's and lunch break's production unused and moves
about half of that. ``RandomOccupancy`` is the pilot's reading,
``TimetableOccupancy`` the campus's real week.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.flows import Flows, balance
from gridcoop.agents.physics.pv import (
    PVWeather,
    clear_sky_ghi_w_per_m2,
    pv_power_kw,
    step_mid_hours,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# A Portuguese university's 90-minute class slots (start hour, end hour).
DEFAULT_SLOTS: tuple[tuple[float, float], ...] = (
    (8.0, 9.5),
    (9.5, 11.0),
    (11.0, 12.5),
    (14.0, 15.5),
    (15.5, 17.0),
    (17.0, 18.5),
)


@dataclass(frozen=True, slots=True)
class Session:
    """One weekly class in one classroom (weekday 0 = Monday, hours of day)."""

    classroom: int
    weekday: int
    start_h: float
    end_h: float


def random_timetable(
    rng: np.random.Generator,
    classrooms: int,
    occupancy: float,
    slots: tuple[tuple[float, float], ...] = DEFAULT_SLOTS,
) -> list[Session]:
    """A weekly timetable: each weekday slot of each classroom is booked with ``occupancy``."""
    booked = rng.random((classrooms, 5, len(slots))) < occupancy
    return [
        Session(c, d, slots[s][0], slots[s][1])
        for c in range(classrooms)
        for d in range(5)
        for s in range(len(slots))
        if booked[c, d, s]
    ]


def occupancy_day(
    sessions: list[Session], classrooms: int, weekday: int, clock: SimClock
) -> FloatArray:
    """Share of each step each classroom is occupied, shape (steps_per_day, classrooms)."""
    steps = clock.steps_per_day
    index = np.arange(steps, dtype=np.float64)[:, None]
    occupied = np.zeros((steps, classrooms))
    for s in sessions:
        if s.weekday != weekday:
            continue
        start, end = s.start_h / clock.step_h, s.end_h / clock.step_h
        covered = np.clip(
            np.minimum(index[:, 0] + 1.0, end) - np.maximum(index[:, 0], start), 0.0, 1.0
        )
        occupied[:, s.classroom] = np.maximum(occupied[:, s.classroom], covered)
    return occupied


class OccupancySource(Protocol):
    """Where classroom occupancy comes from, one day at a time."""

    def day(self, day: int, weekday: int) -> FloatArray:
        """Share of each step each classroom is occupied, shape (steps_per_day, classrooms)."""
        ...


@dataclass(frozen=True)
class TimetableOccupancy:
    """A weekly timetable of classes, the same every week."""

    sessions: tuple[Session, ...]
    classrooms: int
    clock: SimClock

    def day(self, day: int, weekday: int) -> FloatArray:
        return occupancy_day(list(self.sessions), self.classrooms, weekday, self.clock)


class RandomOccupancy:
    """Each classroom occupied or not, drawn afresh for every block of every day.

    Days must be asked for in order (``CampusPhysics`` does), so a seed gives the
    same draws however far the run goes.
    """

    def __init__(
        self, rng: np.random.Generator, classrooms: int, share: float, block_minutes: int,
        clock: SimClock,
    ) -> None:
        if block_minutes % clock.metering_minutes or 1440 % block_minutes:
            raise ValueError(
                f"occupancy_block_minutes={block_minutes} must be a multiple of "
                f"metering_minutes={clock.metering_minutes} and divide a day"
            )
        self.rng = rng
        self.classrooms = classrooms
        self.share = share
        self.block_steps = block_minutes // clock.metering_minutes
        self.blocks = 1440 // block_minutes
        self._next_day = 0

    def day(self, day: int, weekday: int) -> FloatArray:
        if day != self._next_day:
            raise ValueError(f"random occupancy is drawn day by day: asked for day {day}, "
                             f"expected {self._next_day}")
        self._next_day += 1
        on = self.rng.random((self.blocks, self.classrooms)) < self.share
        return np.repeat(on, self.block_steps, axis=0).astype(np.float64)


class CampusPhysics:
    """Classrooms: panels on the roof, lights on while a class is in session."""

    def __init__(
        self,
        classrooms: int,
        peak_kw: float,
        lighting_kw: float,
        occupancy: OccupancySource,
        clock: SimClock,
        weather_rng: np.random.Generator,
        forecast_rng: np.random.Generator,
        forecast_error: float,
    ) -> None:
        self.n = classrooms
        self.clock = clock
        self.peak_kw = np.full(classrooms, peak_kw)
        self.lighting_kw = lighting_kw
        self.occupancy_source = occupancy
        self.weather = PVWeather(weather_rng, 1, clock)
        self._mid_hours = step_mid_hours(clock)
        self._forecast_rng = forecast_rng
        self.forecast_error = forecast_error
        self._days: dict[int, tuple[FloatArray, FloatArray]] = {}

    @property
    def size(self) -> int:
        return self.n

    def _day(self, day: int) -> tuple[FloatArray, FloatArray]:
        while day not in self._days:
            nxt = max(self._days) + 1 if self._days else 0
            clock = self.clock
            ghi = clear_sky_ghi_w_per_m2(clock.day_of_year(nxt), self._mid_hours)
            clouds = np.repeat(self.weather.day_factors(nxt), self.n, axis=1)
            pv = pv_power_kw(self.peak_kw, ghi, clouds)
            light = self.occupancy_source.day(nxt, clock.weekday(nxt)) * self.lighting_kw
            self._days[nxt] = (pv, light)
            for old in [d for d in self._days if d < nxt - 2]:
                del self._days[old]
        return self._days[day]

    def occupancy(self, step: int) -> FloatArray:
        """Share of step ``step`` each classroom is occupied."""
        day, s = divmod(step, self.clock.steps_per_day)
        return self._day(day)[1][s] / self.lighting_kw if self.lighting_kw else np.zeros(self.n)

    def step(self, step: int) -> Flows:
        day, s = divmod(step, self.clock.steps_per_day)
        pv, light = self._day(day)
        self._day(day + 1)
        step_h = self.clock.step_h
        zero = np.zeros(self.n)
        return balance(pv[s] * step_h, light[s] * step_h, zero, zero)

    def forecast_import_kwh(self, market: int) -> FloatArray:
        """The timetable is known; PV is forecast with noise."""
        clock = self.clock
        day, s0 = divmod(market * clock.steps_per_market, clock.steps_per_day)
        pv, light = self._day(day)
        sl = slice(s0, s0 + clock.steps_per_market)
        sigma = self.forecast_error
        noise = self._forecast_rng.lognormal(-0.5 * sigma**2, sigma, size=self.n)
        net: FloatArray = (light[sl].sum(axis=0) - pv[sl].sum(axis=0) * noise) * clock.step_h
        return net
