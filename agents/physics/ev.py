"""Electric vehicles: batteries, daily trips and home charging, vectorised.

Why the EV owners' profiles: the pilot classes drivers in four behaviour
profiles (docs/domain/communities.md) that differ in when they are plugged in
and how much they drive. The profiles (day templates of trip slots), the Leaf
batteries and the home charger are defined once, in
``gridcoop.agents.mechanisms.ev.profiles``; each day this fleet draws the day's
trips and plug-in states from that model (``draw_plugged``) and keeps the
batteries' state of charge itself, so the households of every scenario drive as
the EV community's owners do. As in the EV community (``fleet_physics``), a
vehicle plugged in charges at its node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.profiles import LEAF_24, Fleet
from gridcoop.agents.mechanisms.ev.simulate import SimulationOptions, draw_plugged
from gridcoop.agents.physics.clock import SimClock

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class EVDayPlan:
    """One day of every vehicle: where it is and what it drives."""

    plugged: BoolArray  # (steps_per_day, n): plugged in for the whole metering interval
    depart_step: IntArray  # (n,): first step unplugged (steps_per_day when it stays plugged)
    return_step: IntArray  # (n,): the step after the last one unplugged
    trip_kwh: FloatArray  # (n,): energy the trip takes from the battery
    departures: frozenset[int]  # the steps at which some vehicle leaves (few a day)

    @staticmethod
    def joined(plans: list[EVDayPlan]) -> EVDayPlan:
        """One plan of all ``plans``' vehicles, in order (for :meth:`EVBatteries.joined`)."""
        return EVDayPlan(np.concatenate([p.plugged for p in plans], axis=1),
                         np.concatenate([p.depart_step for p in plans]),
                         np.concatenate([p.return_step for p in plans]),
                         np.concatenate([p.trip_kwh for p in plans]),
                         frozenset().union(*(p.departures for p in plans)))


class EVBatteries:
    """``n`` vehicles' batteries and home chargers: their state, and how a day's plan moves it.

    Every operation is per vehicle, so one set of these holding several fleets'
    vehicles (:meth:`joined`) moves each exactly as the fleet would on its own.
    """

    def __init__(self, capacity_kwh: FloatArray, charger_kw: FloatArray, min_soc: float,
                 soc_kwh: FloatArray) -> None:
        self.capacity_kwh = np.asarray(capacity_kwh, dtype=np.float64)
        self.charger_kw = np.asarray(charger_kw, dtype=np.float64)
        self.min_soc = min_soc
        self.soc_kwh = np.array(soc_kwh, dtype=np.float64)
        self.charged_away_kwh = np.zeros(self.capacity_kwh.size)

    @staticmethod
    def joined(fleets: list[EVBatteries]) -> EVBatteries:
        """All ``fleets``' vehicles in order; each fleet's state becomes a view of the
        joint state, so stepping the joint set steps them (every update is in place)."""
        if len({f.min_soc for f in fleets}) > 1:
            raise ValueError("fleets stepped together must share min_soc")
        joint = EVBatteries(np.concatenate([f.capacity_kwh for f in fleets]),
                            np.concatenate([f.charger_kw for f in fleets]),
                            fleets[0].min_soc if fleets else 0.0,
                            np.concatenate([f.soc_kwh for f in fleets]))
        joint.charged_away_kwh[:] = np.concatenate([f.charged_away_kwh for f in fleets])
        start = 0
        for fleet in fleets:
            rows = slice(start, start + fleet.size)
            fleet.soc_kwh = joint.soc_kwh[rows]
            fleet.charged_away_kwh = joint.charged_away_kwh[rows]
            start = rows.stop
        return joint

    @property
    def size(self) -> int:
        return int(self.capacity_kwh.size)

    def preview(self, plan: EVDayPlan, steps_in_day: range, step_h: float) -> FloatArray:
        """Charging energy per vehicle over ``steps_in_day`` without changing any state."""
        soc, away = self.soc_kwh.copy(), self.charged_away_kwh.copy()
        try:
            return sum(
                (self.step(plan, s, step_h) for s in steps_in_day), start=np.zeros(self.size)
            )
        finally:
            self.soc_kwh[:], self.charged_away_kwh[:] = soc, away

    def step(
        self, plan: EVDayPlan, step_in_day: int, step_h: float, limit_kw: FloatArray | None = None
    ) -> FloatArray:
        """Advance one step of ``plan``: take trip energy at departure, charge when plugged.

        Returns the energy each home charger delivered (kWh, >= 0). When a trip
        needs more than the battery holds above ``min_soc``, the driver tops up
        away from home (counted in ``charged_away_kwh``, not at the node).
        """
        if step_in_day in plan.departures:
            leaving = plan.depart_step == step_in_day
            floor = self.capacity_kwh * self.min_soc
            after = self.soc_kwh - np.where(leaving, plan.trip_kwh, 0.0)
            # only a vehicle leaving now tops up: the others keep their charge to the bit
            shortfall = np.where(leaving, np.maximum(floor - after, 0.0), 0.0)
            self.charged_away_kwh += shortfall
            self.soc_kwh[:] = after + shortfall
        power = self.charger_kw if limit_kw is None else np.minimum(self.charger_kw, limit_kw)
        room = self.capacity_kwh - self.soc_kwh
        charge = np.where(plan.plugged[step_in_day], np.minimum(power * step_h, room), 0.0)
        self.soc_kwh += charge  # in place: a joint fleet's view stays the state
        return charge


class EVFleet(EVBatteries):
    """``n`` vehicles with their batteries, profiles and home chargers, planning their days."""

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
        capacity = np.asarray(capacity_kwh, dtype=np.float64)
        super().__init__(capacity, np.full(capacity.size, charger_kw), min_soc,
                         capacity * initial_soc)
        self._rng = rng
        self.clock = clock
        self.profile = np.asarray(profile, dtype=np.int64)

    @cached_property
    def _owners(self) -> Fleet:
        """What the owners' trip model needs to know: fixed for a run, so built once (at
        the first plan: a fleet of no EVs plans nothing)."""
        n = self.size
        return Fleet(
            ev_ids=tuple(f"ev-{i}" for i in range(n)), profile=self.profile,
            capacity_kwh=self.capacity_kwh,
            consumption_kwh_per_km=np.full(n, LEAF_24.consumption_kwh_per_km),
            charge_power_kw=self.charger_kw, v2g_power_kw=np.zeros(n),
            margin_kwh=np.zeros(n), committed_kwh=np.zeros(n))

    def plan_day(self, day: int) -> EVDayPlan:
        """Draw the day's trips and plug-in mask (pass the plan to ``step``).

        The trips come from the EV owners' profiles, seeded from this fleet's own
        stream; all of a day's trip energy leaves the battery at the first departure.
        """
        clock, n = self.clock, self.size
        steps = clock.steps_per_day
        seed = int(self._rng.integers(0, 2**63))
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return EVDayPlan(np.zeros((steps, 0), dtype=bool), empty, empty, np.zeros(0),
                             frozenset())
        step_min = math.gcd(clock.metering_minutes, 60)
        sub = clock.metering_minutes // step_min
        mask, trips = draw_plugged(self._owners, 1, seed, SimulationOptions(
            step_min=step_min, start_weekday=clock.weekday(day)))
        fine = mask[:, : steps * sub].reshape(n, steps, sub)
        plugged = np.asarray(fine.all(axis=2).T, dtype=bool)  # plugged the whole interval
        today = trips.day == 0
        trip_kwh = np.bincount(trips.ev[today], trips.energy_kwh[today],
                               minlength=n).astype(np.float64)
        away = ~plugged
        left = away.any(axis=0)
        depart = np.where(left, np.argmax(away, axis=0), steps).astype(np.int64)
        back = np.where(left, steps - np.argmax(away[::-1], axis=0), steps).astype(np.int64)
        return EVDayPlan(plugged, depart, back, trip_kwh, frozenset(depart.tolist()))
