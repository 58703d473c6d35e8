"""Electric vehicles: batteries, daily trips and home charging, vectorised.

Why profiles: the pilot classes drivers in four behaviour profiles that differ
in when they are plugged in and how much they drive. The profiles, the Leaf
batteries, their consumption and the home charger are defined once, in
``gridcoop.agents.mechanisms.ev.profiles`` (day templates of trip slots); this
fleet is the households' one-trip-a-day summary of those profiles, used where
no EV mechanism runs (the EV community scenarios replace it by the full trip
simulation, see ``gridcoop.agents.mechanisms.ev.fleet_physics``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.profiles import LEAF_24, BehaviourProfile
from gridcoop.agents.physics.clock import SimClock

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

@dataclass(frozen=True, slots=True)
class TripPattern:
    """Trip timing and length of one profile (hours of day, km)."""

    depart_h: float
    depart_sd_h: float
    return_h: float
    return_sd_h: float
    km: float
    km_sd: float
    p_travel_weekday: float
    p_travel_weekend: float
    p_plug_at_home: float
    share_charged_away: float


_P = BehaviourProfile
PATTERNS: dict[BehaviourProfile, TripPattern] = {
    _P.TAXI: TripPattern(6.5, 0.5, 22.0, 0.5, 200.0, 50.0, 1.0, 0.7, 1.0, 0.8),
    _P.RANDOM: TripPattern(9.0, 2.0, 17.0, 3.0, 40.0, 30.0, 0.8, 0.5, 0.5, 0.3),
    _P.KNOWN_PLACES: TripPattern(8.0, 0.5, 18.0, 0.5, 50.0, 35.0, 0.95, 0.3, 1.0, 0.0),
    _P.ROUTINE: TripPattern(8.0, 0.25, 18.5, 0.25, 40.0, 5.0, 1.0, 0.2, 1.0, 0.0),
}
"""Each profile's day, summarised as one trip (hours of day, km)."""


@dataclass(frozen=True, slots=True)
class EVDayPlan:
    """One day of every vehicle: where it is and what it drives."""

    plugged: BoolArray  # (steps_per_day, n): at home and plugged in
    depart_step: IntArray  # (n,): first step away (steps_per_day when it stays home)
    return_step: IntArray  # (n,): first step back home
    trip_kwh: FloatArray  # (n,): energy the trip takes from the battery


class EVFleet:
    """``n`` vehicles with their batteries, profiles and home chargers."""

    def __init__(
        self,
        rng: np.random.Generator,
        capacity_kwh: FloatArray,
        profile: IntArray,
        clock: SimClock,
        charger_kw: float = LEAF_24.charge_power_kw,
        initial_soc: float = 0.8,
        min_soc: float = 0.1,
    ) -> None:
        self._rng = rng
        self.clock = clock
        self.capacity_kwh = np.asarray(capacity_kwh, dtype=np.float64)
        self.profile = np.asarray(profile, dtype=np.int64)
        self.charger_kw = np.full(self.capacity_kwh.size, charger_kw)
        self.min_soc = min_soc
        self.soc_kwh = self.capacity_kwh * initial_soc
        self.charged_away_kwh = np.zeros(self.capacity_kwh.size)

    @property
    def size(self) -> int:
        return int(self.capacity_kwh.size)

    def _pattern_arrays(self) -> dict[str, FloatArray]:
        fields = TripPattern.__slots__
        table = np.array(
            [[getattr(PATTERNS[BehaviourProfile(p)], f) for f in fields] for p in range(1, 5)]
        )
        rows = table[self.profile - 1]
        return {f: rows[:, i] for i, f in enumerate(fields)}

    def plan_day(self, day: int) -> EVDayPlan:
        """Draw the day's trips and plug-in mask (pass the plan to ``step``)."""
        clock, rng, n = self.clock, self._rng, self.size
        p = self._pattern_arrays()
        weekend = clock.weekday(day) >= 5
        p_travel = p["p_travel_weekend"] if weekend else p["p_travel_weekday"]
        travels = rng.random(n) < p_travel
        depart_h = np.clip(p["depart_h"] + p["depart_sd_h"] * rng.standard_normal(n), 0.0, 21.0)
        return_h = p["return_h"] + p["return_sd_h"] * rng.standard_normal(n)
        return_h = np.clip(np.maximum(return_h, depart_h + 0.5), 0.5, 23.75)
        km = np.maximum(p["km"] + p["km_sd"] * rng.standard_normal(n), 1.0)
        plug_home = rng.random(n) < p["p_plug_at_home"]
        steps = clock.steps_per_day
        depart = np.where(travels, np.floor(depart_h / clock.step_h), steps).astype(np.int64)
        back = np.where(travels, np.ceil(return_h / clock.step_h), steps).astype(np.int64)
        back = np.maximum(back, depart + 1)
        index = np.arange(steps)[:, None]
        away = (index >= depart[None, :]) & (index < back[None, :])
        plugged = ~away & plug_home[None, :]
        trip_kwh = np.where(
            travels, km * LEAF_24.consumption_kwh_per_km * (1.0 - p["share_charged_away"]), 0.0
        )
        return EVDayPlan(plugged, depart, back, trip_kwh)

    def preview(self, plan: EVDayPlan, steps_in_day: range, step_h: float) -> FloatArray:
        """Charging energy per vehicle over ``steps_in_day`` without changing any state."""
        soc, away = self.soc_kwh.copy(), self.charged_away_kwh.copy()
        try:
            return sum(
                (self.step(plan, s, step_h) for s in steps_in_day), start=np.zeros(self.size)
            )
        finally:
            self.soc_kwh, self.charged_away_kwh = soc, away

    def step(
        self, plan: EVDayPlan, step_in_day: int, step_h: float, limit_kw: FloatArray | None = None
    ) -> FloatArray:
        """Advance one step of ``plan``: take trip energy at departure, charge when plugged.

        Returns the energy each home charger delivered (kWh, >= 0). When a trip
        needs more than the battery holds above ``min_soc``, the driver tops up
        away from home (counted in ``charged_away_kwh``, not at the node).
        """
        leaving = plan.depart_step == step_in_day
        if leaving.any():
            floor = self.capacity_kwh * self.min_soc
            after = self.soc_kwh - np.where(leaving, plan.trip_kwh, 0.0)
            shortfall = np.maximum(floor - after, 0.0)
            self.charged_away_kwh += shortfall
            self.soc_kwh = after + shortfall
        power = self.charger_kw if limit_kw is None else np.minimum(self.charger_kw, limit_kw)
        room = self.capacity_kwh - self.soc_kwh
        charge = np.where(plan.plugged[step_in_day], np.minimum(power * step_h, room), 0.0)
        self.soc_kwh = self.soc_kwh + charge
        return charge
