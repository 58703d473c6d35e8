"""The physics of a neighbourhood: prosumers, EV owners and DR households.

Why profiles are made a day ahead: members forecast the next market interval,
which may lie in tomorrow; generating day d+1 when day d starts keeps memory
bounded (two days of (steps, households) arrays) and every step a few numpy ops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.appliances import ApplianceFleet, ApplianceSchedule, Template
from gridcoop.agents.physics.battery import HomeBatteries
from gridcoop.agents.physics.battery_policy import BatteryControl, BatteryDispatch
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.ev import EVBatteries, EVDayPlan, EVFleet
from gridcoop.agents.physics.flows import Flows, balance
from gridcoop.agents.physics.load import BaseLoad
from gridcoop.agents.physics.profiles import Profile
from gridcoop.agents.physics.pv import (
    PVWeather,
    clear_sky_ghi_w_per_m2,
    pv_power_kw,
    step_mid_hours,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class HouseholdSetup:
    """Per-household parameters (arrays over all households, in node order)."""

    zone: IntArray  # weather zone (the aggregator region)
    pv_kwp: FloatArray  # 0 without panels
    annual_load_kwh: FloatArray
    battery_kwh: FloatArray  # 0 without a battery
    battery_kw: FloatArray
    battery_round_trip: float
    ev_nodes: IntArray  # node index of each EV
    ev_capacity_kwh: FloatArray
    ev_profile: IntArray
    ev_charger_kw: float
    dr_nodes: IntArray  # node index of each DR household
    pv_profile: Profile | None = None  # measured kW per kWp instead of the synthetic shape
    load_profile: Profile | None = None  # measured typical-household kW instead of the shape


@dataclass(slots=True)
class _Day:
    pv_kw: FloatArray
    load_kw: FloatArray  # base load + appliances
    ev_plan: EVDayPlan
    schedule: ApplianceSchedule | None
    # the flexible appliances' power per template and step, made when first asked
    flexible_kw: dict[Template, FloatArray] | None = None


def household_flows(pv_kw: FloatArray, load_kw: FloatArray, step_h: float, ev_nodes: IntArray,
                    evs: EVBatteries, plan: EVDayPlan, step_in_day: int,
                    dispatch: BatteryDispatch | None, step: int) -> Flows:
    """One interval of households from their PV and load power: EVs charge, batteries
    dispatch, the rest is grid import or export. Every operation is per node."""
    production = pv_kw * step_h
    consumption = load_kw * step_h
    ev = np.zeros(production.size)
    if ev_nodes.size:
        ev[ev_nodes] = evs.step(plan, step_in_day, step_h)
        consumption = consumption + ev
    storage = np.zeros(production.size)
    if dispatch is not None:
        want = (production - consumption) / step_h * step_h  # as the rule always had it
        storage = dispatch.step(step, want, step_h)
    return balance(production, consumption, storage, ev)


def household_forecast(pv_kw: FloatArray, load_kw: FloatArray, noise: FloatArray,
                       step_h: float, ev_nodes: IntArray, evs: EVBatteries, plan: EVDayPlan,
                       steps: range, dispatch: BatteryDispatch | None, first: int) -> FloatArray:
    """Net import per node over one market interval (day ``steps`` of the day's power):
    noisy PV and load, planned EV charging, a dry-run battery. Every operation is per
    node; EV and battery state are put back as they were."""
    pv = pv_kw[steps.start : steps.stop] * step_h * noise[0]
    load = load_kw[steps.start : steps.stop] * step_h * noise[1]
    if ev_nodes.size:
        load[:, ev_nodes] += evs.preview(plan, steps, step_h) / len(steps)
    storage = np.zeros_like(pv)
    if dispatch is not None:
        soc = dispatch.batteries.soc_kwh.copy()
        for i in range(len(steps)):
            storage[i] = dispatch.step(first + i, (pv[i] - load[i]) / step_h * step_h, step_h,
                                       forecast=True)
        dispatch.batteries.soc_kwh[:] = soc
    net: FloatArray = (load + storage - pv).sum(axis=0)
    return net


class HouseholdPhysics:
    """Steps every household's PV, load, appliances, battery and EV at once."""

    def __init__(
        self,
        setup: HouseholdSetup,
        clock: SimClock,
        streams: dict[str, np.random.Generator],
        forecast_error: float,
        battery: BatteryControl | None = None,
    ) -> None:
        self.setup = setup
        self.clock = clock
        self.n = int(setup.pv_kwp.size)
        self.zones = int(setup.zone.max()) + 1 if self.n else 1
        self.weather = PVWeather(streams["weather"], self.zones, clock)
        self.base_load = BaseLoad(streams["load"], setup.annual_load_kwh, clock,
                                  profile=setup.load_profile)
        self.appliances = ApplianceFleet(streams["appliances"], int(setup.dr_nodes.size), clock)
        self.evs = EVFleet(
            streams["ev"],
            setup.ev_capacity_kwh,
            setup.ev_profile,
            clock,
            charger_kw=setup.ev_charger_kw,
        )
        self.batteries = HomeBatteries(
            setup.battery_kwh, setup.battery_kw, setup.battery_round_trip
        )
        self._has_battery = bool((setup.battery_kwh > 0).any())
        self.battery_dispatch = BatteryDispatch(self.batteries, battery)
        self._forecast_rng = streams["forecast"]
        self.forecast_error = forecast_error
        self._mid_hours = step_mid_hours(clock)
        self._days: dict[int, _Day] = {}

    @property
    def size(self) -> int:
        return self.n

    def _make_day(self, day: int) -> _Day:
        clock, setup = self.clock, self.setup
        if setup.pv_profile is None:
            ghi = clear_sky_ghi_w_per_m2(clock.day_of_year(day), self._mid_hours)
            clouds = self.weather.day_factors(day)[:, setup.zone]
            pv = pv_power_kw(setup.pv_kwp, ghi, clouds)
        else:
            pv = setup.pv_profile.day(clock, day)[:, None] * setup.pv_kwp[None, :]
        load = self.base_load.day_power_kw(day)
        schedule = None
        if setup.dr_nodes.size:
            load[:, setup.dr_nodes] += self.appliances.day_power_kw(day)
            schedule = self.appliances.schedule
        return _Day(pv, load, self.evs.plan_day(day), schedule)

    def _day(self, day: int) -> _Day:
        """Profiles of ``day``, generated in order (today, then tomorrow) and kept two days."""
        while day not in self._days:
            nxt = max(self._days) + 1 if self._days else 0
            self._days[nxt] = self._make_day(nxt)
            for old in [d for d in self._days if d < nxt - 2]:
                del self._days[old]
        return self._days[day]

    def step(self, step: int) -> Flows:
        day, s = divmod(step, self.clock.steps_per_day)
        today = self._day(day)
        self._day(day + 1)
        return household_flows(today.pv_kw[s], today.load_kw[s], self.clock.step_h,
                               self.setup.ev_nodes, self.evs, today.ev_plan, s,
                               self.battery_dispatch if self._has_battery else None, step)

    def day_profiles(self, day: int) -> tuple[FloatArray, FloatArray, EVDayPlan]:
        """Day ``day``'s PV and load power (steps x nodes) and EV plan."""
        target = self._day(day)
        return target.pv_kw, target.load_kw, target.ev_plan

    def forecast_import_kwh(self, market: int) -> FloatArray:
        """Net import forecast: noisy PV and load, planned EV charging, a dry-run battery."""
        first = market * self.clock.steps_per_market
        target = self._day(first // self.clock.steps_per_day)
        return household_forecast(target.pv_kw, target.load_kw, self.forecast_noise(),
                                  self.clock.step_h, self.setup.ev_nodes, self.evs,
                                  target.ev_plan, self.clock.market_steps(first),
                                  self.battery_dispatch if self._has_battery else None, first)

    def forecast_noise(self) -> FloatArray:
        """One market interval's forecast errors (PV, load) per node, from this part's stream."""
        sigma = self.forecast_error
        noise: FloatArray = self._forecast_rng.lognormal(-0.5 * sigma**2, sigma, size=(2, self.n))
        return noise

    def flexible_kw(self, market: int) -> dict[str, FloatArray]:
        """Flexible power per DR template over market interval ``market``, per node (kW).

        T2/T4: flexible appliances scheduled in the interval; T3: plugged EVs that
        still need charge, at their charger power.
        """
        clock, setup = self.clock, self.setup
        day, s0 = divmod(market * clock.steps_per_market, clock.steps_per_day)
        target = self._day(day)
        out: dict[str, FloatArray] = {}
        if target.schedule is not None:
            steps = clock.steps_per_market
            if target.flexible_kw is None:  # the whole day once (markets divide the day)
                target.flexible_kw = self.appliances.flexible_steps_kw(
                    target.schedule, 0, clock.steps_per_day)
            for template, day_kw in target.flexible_kw.items():
                values = np.zeros(self.n)
                values[setup.dr_nodes] = day_kw[s0 : s0 + steps].mean(axis=0)
                out[f"T{int(template)}"] = values
        if setup.ev_nodes.size:
            need = self.evs.soc_kwh < self.evs.capacity_kwh - 1e-9
            plugged = target.ev_plan.plugged[s0]
            values = out.get("T3", np.zeros(self.n))
            values[setup.ev_nodes] += np.where(need & plugged, self.evs.charger_kw, 0.0)
            out["T3"] = values
        return out
