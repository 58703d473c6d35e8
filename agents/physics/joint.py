"""Every region's households in one process stepped as one set of arrays.

Why: a region's interval is some forty numpy operations whatever its size, so
ten regions of a hundred households cost ten times what one region of a
thousand does. The regions' parts stay what they are: each draws its days from
its own streams and keeps its EVs' and batteries' state, which become views of
the joint arrays (so forecasts, the page and worker processes read the same
numbers). Only an interval's step and a market interval's forecast run once over
all nodes (each part still drawing its own forecast errors), and every operation
in them is per node, so the numbers are the parts' own, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.battery import HomeBatteries
from gridcoop.agents.physics.battery_policy import BatteryDispatch
from gridcoop.agents.physics.ev import EVBatteries, EVDayPlan
from gridcoop.agents.physics.flows import Flows, NodePhysics
from gridcoop.agents.physics.households import (
    HouseholdPhysics,
    household_flows,
    household_forecast,
)

FloatArray = NDArray[np.float64]


class JointHouseholds:
    """The parts of a ``RegionalPhysics`` (households, default batteries) stepped together."""

    def __init__(self, parts: list[HouseholdPhysics], slices: Sequence[slice]) -> None:
        self.parts = parts
        self.clock = parts[0].clock
        self.ev_nodes = np.concatenate([p.setup.ev_nodes + s.start
                                        for p, s in zip(parts, slices, strict=True)])
        self.evs = EVBatteries.joined([p.evs for p in parts])
        batteries = HomeBatteries.joined([p.batteries for p in parts],
                                         parts[0].setup.battery_round_trip)
        has_battery = bool((batteries.capacity_kwh > 0).any())
        self.dispatch = BatteryDispatch(batteries, None) if has_battery else None
        self._days: dict[int, tuple[FloatArray, FloatArray, EVDayPlan]] = {}

    @staticmethod
    def of(parts: Sequence[NodePhysics], slices: Sequence[slice]) -> JointHouseholds | None:
        """``parts`` stepped together, or None when they cannot be: they must be households
        on one clock with their own EVs (not an EV community's fleet) whose batteries
        follow the default rule (another policy is asked region by region)."""
        households = [p for p in parts if isinstance(p, HouseholdPhysics)]
        if not households or len(households) != len(parts):
            return None
        first = households[0]
        if not all(isinstance(p.evs, EVBatteries) and p.battery_dispatch.direct
                   and p.clock is first.clock
                   and p.setup.battery_round_trip == first.setup.battery_round_trip
                   and p.evs.min_soc == first.evs.min_soc for p in households):
            return None
        return JointHouseholds(households, slices)

    def _day(self, day: int) -> tuple[FloatArray, FloatArray, EVDayPlan]:
        """Every part's profiles of ``day``, joined (today's and tomorrow's are kept)."""
        if day not in self._days:
            profiles = [p.day_profiles(day) for p in self.parts]
            self._days[day] = (np.concatenate([pv for pv, _, _ in profiles], axis=1),
                               np.concatenate([load for _, load, _ in profiles], axis=1),
                               EVDayPlan.joined([plan for _, _, plan in profiles]))
            for old in [d for d in self._days if d < day - 1]:
                del self._days[old]
        return self._days[day]

    def step(self, step: int) -> Flows:
        """Interval ``step`` of every node (the parts' flows, concatenated)."""
        day, s = divmod(step, self.clock.steps_per_day)
        pv_kw, load_kw, plan = self._day(day)
        return household_flows(pv_kw[s], load_kw[s], self.clock.step_h, self.ev_nodes,
                               self.evs, plan, s, self.dispatch, step)

    def forecast_import_kwh(self, market: int) -> FloatArray:
        """Every node's forecast for market interval ``market``: the parts' own, each with
        its own draws of forecast errors."""
        first = market * self.clock.steps_per_market
        pv_kw, load_kw, plan = self._day(first // self.clock.steps_per_day)
        noise = np.concatenate([p.forecast_noise() for p in self.parts], axis=1)
        return household_forecast(pv_kw, load_kw, noise, self.clock.step_h, self.ev_nodes,
                                  self.evs, plan, self.clock.market_steps(first), self.dispatch,
                                  first)
