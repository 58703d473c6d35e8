"""Campus case 2: classrooms with panels, lights that follow a timetable, and
surplus sent to the nearest classroom that can use it.

Why a routing rule and not an auction: in the pilot the hallway's classrooms
hand over surplus physically, nearest first, at a static price; the auction is
an option of the scenario (``allocation: market``).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def nearest_order(classrooms: int) -> list[list[int]]:
    """For each classroom, the others from nearest to farthest (ties: lower number first).

    Classrooms are numbered in order along the hallway, so distance is |i - j|.
    """
    return [
        sorted((j for j in range(classrooms) if j != i), key=lambda j: (abs(i - j), j))
        for i in range(classrooms)
    ]


def nearest_transfers_kwh(surplus_kwh: FloatArray, deficit_kwh: FloatArray) -> FloatArray:
    """Route each classroom's surplus to the nearest classrooms short of energy.

    ``surplus_kwh`` and ``deficit_kwh`` have shape (steps, classrooms); the
    result (steps, from, to) holds the kWh handed over. Sources are served in
    classroom order; each fills its nearest neighbours' deficits first.
    """
    steps, rooms = surplus_kwh.shape
    left = surplus_kwh.astype(np.float64).copy()
    need = deficit_kwh.astype(np.float64).copy()
    out = np.zeros((steps, rooms, rooms))
    for i, order in enumerate(nearest_order(rooms)):
        for j in order:
            moved = np.minimum(left[:, i], need[:, j])
            out[:, i, j] = moved
            left[:, i] -= moved
            need[:, j] -= moved
    return out


class CampusPhysics:
    """Classrooms: panels on the roof, lights on while a class is in session."""

    def __init__(
        self,
        classrooms: int,
        peak_kw: float,
        lighting_kw: float,
        sessions: list[Session],
        clock: SimClock,
        weather_rng: np.random.Generator,
        forecast_rng: np.random.Generator,
        forecast_error: float,
    ) -> None:
        self.n = classrooms
        self.clock = clock
        self.peak_kw = np.full(classrooms, peak_kw)
        self.lighting_kw = lighting_kw
        self.sessions = sessions
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
            light = (
                occupancy_day(self.sessions, self.n, clock.weekday(nxt), clock) * self.lighting_kw
            )
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
