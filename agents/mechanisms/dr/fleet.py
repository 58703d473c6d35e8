"""The DR devices of many households as flat numpy arrays, and their physics.

Why one flat array per quantity (one entry per device, all households): a
5-minute step of 10,000 devices is a handful of vector operations, and the
same pure :func:`advance` serves both the run and every what-if (a command's
comfort check, the flexibility forecast), so a check and its execution can
never disagree.

Local control (what a device does with no command):
T1/T4 start at the user's preferred time in the window (T1 also when its
deadline forces it) and run until their working hours are done; T2 is a
predictive thermostat (switch on when the next step would leave the band on
the cold side for a heater, off when full power would overshoot); T3 charges
at full power from arrival until it holds its target.

A command is a per-device *mode*: 0 local control, 1 absolute power
(``value`` kW; on = rated, off = 0), 2 relative (local power + ``value``).
The physics then clamps it: never above rated power, never outside a T1/T4
window or past its remaining work, never while an EV is away or full; an on/off
device snaps to 0 or rated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridcoop.agents.mechanisms.dr.devices import HouseholdSpec
from gridcoop.agents.mechanisms.dr.fleet_params import (
    BoolArray,
    FleetParams,
    FloatArray,
    IntArray,
    build_params,
    per_household,
)
from gridcoop.agents.mechanisms.dr.thermal import band_distance_c, next_temperature_c
from gridcoop.catalogue import Template

DAY_S = 86_400
EPS = 1e-9
MODE_LOCAL, MODE_ABSOLUTE, MODE_RELATIVE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class FleetState:
    """What changes, at time ``now_s`` (seconds since the run's first midnight)."""

    now_s: int
    temp_c: FloatArray
    thermo_on: BoolArray
    work_left_kwh: FloatArray
    started: BoolArray
    energy_kwh: FloatArray
    used_today: BoolArray
    offset_s: FloatArray
    missed_kwh: FloatArray  # T1 work not done by window end + T3 shortfall at departure


def window_position(params: FleetParams, now_s: int) -> tuple[BoolArray, IntArray]:
    """Whether each device's window is open at ``now_s`` and the seconds left in it."""
    elapsed = (now_s % DAY_S - params.start_s) % DAY_S
    inside: BoolArray = elapsed < params.window_s
    left: IntArray = np.where(inside, params.window_s - elapsed, 0)
    return inside, left


def initial_state(params: FleetParams, rng: np.random.Generator, now_s: int = 0) -> FleetState:
    """State at ``now_s``: thermal zones and batteries at their initial values, today planned."""
    used, offset = draw_plan(
        params,
        rng,
        np.ones(params.size, dtype=bool),
        np.zeros(params.size, dtype=bool),
        np.zeros(params.size),
    )
    inside, _ = window_position(params, now_s)
    shed = params.is_template(Template.SCHEDULED) | params.is_template(Template.FLEXIBLE)
    return FleetState(
        now_s=now_s,
        temp_c=params.initial_c.copy(),
        thermo_on=np.zeros(params.size, dtype=bool),
        work_left_kwh=np.where(shed & inside & used, params.work_kwh, 0.0),
        started=np.zeros(params.size, dtype=bool),
        energy_kwh=params.initial_kwh.copy(),
        used_today=used,
        offset_s=offset,
        missed_kwh=np.zeros(params.size),
    )


def draw_plan(
    params: FleetParams,
    rng: np.random.Generator,
    mask: BoolArray,
    used: BoolArray,
    offset_s: FloatArray,
) -> tuple[BoolArray, FloatArray]:
    """Redraw whether each masked device is used today and its preferred start offset."""
    n = int(mask.sum())
    new_used = used.copy()
    new_offset = offset_s.copy()
    slack = params.window_s[mask] - params.work_kwh[mask] / params.power_kw[mask] * 3600.0
    new_used[mask] = rng.random(n) < params.p_used[mask]
    new_offset[mask] = rng.random(n) * np.maximum(slack, 0.0)
    return new_used, new_offset


def thermostat(
    params: FleetParams, temp_c: FloatArray, was_on: BoolArray, dt_h: float
) -> BoolArray:
    """The predictive on/off decision of every T2 zone for the coming step."""
    zero = np.zeros_like(temp_c)
    args = (
        dt_h,
        params.mode,
        params.resistance,
        params.capacitance,
        params.cop,
        params.ambient_c,
        params.heat_draw_kw,
    )
    t_off = next_temperature_c(temp_c, zero, *args)
    t_full = next_temperature_c(temp_c, params.power_kw, *args)
    heat = params.mode > 0
    need_on = np.where(heat, t_off < params.band_low_c, t_off > params.band_high_c)
    overshoot = np.where(heat, t_full > params.band_high_c, t_full < params.band_low_c)
    decision: BoolArray = need_on | (was_on & ~overshoot)
    return decision


def advance(
    params: FleetParams,
    state: FleetState,
    dt_s: int,
    mode: IntArray | None = None,
    value_kw: FloatArray | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[FleetState, FloatArray]:
    """One step of ``dt_s`` seconds: returns the new state and each device's mean power (kW).

    With ``rng`` the day plan of devices whose window opens now is redrawn;
    without it (what-ifs) the current plan is kept, so a forecast is pure.
    """
    dt_h = dt_s / 3600.0
    t1 = params.is_template(Template.SCHEDULED)
    t2 = params.is_template(Template.TEMPERATURE)
    t3 = params.is_template(Template.BATTERY)
    t4 = params.is_template(Template.FLEXIBLE)
    shiftable = t1 | t4
    sod = state.now_s % DAY_S
    opening = (params.start_s - sod) % DAY_S == 0
    used, offset = state.used_today, state.offset_s
    if rng is not None and opening.any():
        used, offset = draw_plan(params, rng, opening & shiftable, used, offset)
    work_left = np.where(opening & shiftable, params.work_kwh * used, state.work_left_kwh)
    started = state.started & ~opening
    energy = np.where(
        opening & t3, np.maximum(state.energy_kwh - params.trip_kwh, 0.0), state.energy_kwh
    )

    inside, left_s = window_position(params, state.now_s)
    elapsed_s = params.window_s - left_s
    power = params.power_kw
    # local control
    has_work = inside & (work_left > EPS)
    work_h = work_left / power
    deadline = t1 & (work_h * 3600.0 > left_s - dt_s + EPS)
    run_shift = shiftable & has_work & (started | (elapsed_s + EPS >= offset) | deadline)
    thermo_on = thermostat(params, state.temp_c, state.thermo_on, dt_h) & inside & t2
    charge_kw = np.where(t3 & inside, (params.target_kwh - energy) / dt_h, 0.0)
    local = np.where(run_shift | thermo_on, power, np.clip(charge_kw, 0.0, power))
    # commands
    if mode is not None and value_kw is not None:
        local = np.where(
            mode == MODE_ABSOLUTE,
            value_kw,
            np.where(mode == MODE_RELATIVE, local + value_kw, local),
        )
    p = np.clip(local, 0.0, power)
    p = np.where(params.divisible, p, np.where(p >= power / 2.0, power, 0.0))
    p = np.where(shiftable, np.where(inside, np.minimum(p, work_left / dt_h), 0.0), p)
    p = np.where(t3, np.where(inside, np.minimum(p, (params.capacity_kwh - energy) / dt_h), 0.0), p)
    p = np.maximum(p, 0.0)
    # physics
    temp = np.where(
        t2,
        next_temperature_c(
            state.temp_c,
            p,
            dt_h,
            params.mode,
            params.resistance,
            params.capacitance,
            params.cop,
            params.ambient_c,
            params.heat_draw_kw,
        ),
        state.temp_c,
    )
    energy = np.where(t3, energy + p * dt_h, energy)
    work_left = np.where(shiftable, work_left - p * dt_h, work_left)
    work_left = np.where(work_left > EPS, work_left, 0.0)  # no float dust left as "work"
    started = (started | (t1 & ~params.interruptible & (p > 0))) & (work_left > EPS)
    closing = inside & (left_s <= dt_s)
    missed = (
        state.missed_kwh
        + np.where(closing & t1, work_left, 0.0)
        + np.where(
            closing & t3 & (params.target_kwh - energy > EPS), params.target_kwh - energy, 0.0
        )
    )
    work_left = np.where(closing & shiftable, 0.0, work_left)
    new = FleetState(
        now_s=state.now_s + dt_s,
        temp_c=temp,
        thermo_on=thermo_on,
        work_left_kwh=work_left,
        started=started & ~closing,
        energy_kwh=energy,
        used_today=used,
        offset_s=offset,
        missed_kwh=missed,
    )
    return new, p


def comfort_distance_c(params: FleetParams, state: FleetState) -> FloatArray:
    """How far each T2 zone is outside its band while its comfort window is open (0 otherwise)."""
    inside, _ = window_position(params, state.now_s)
    dist = band_distance_c(state.temp_c, params.band_low_c, params.band_high_c)
    result: FloatArray = np.where(params.is_template(Template.TEMPERATURE) & inside, dist, 0.0)
    return result


def infeasible_kwh(params: FleetParams, state: FleetState) -> FloatArray:
    """Work (T1) or charge (T3) that can no longer be done in time even at full power."""
    inside, left_s = window_position(params, state.now_s)
    reachable = params.power_kw * left_s / 3600.0
    t1 = params.is_template(Template.SCHEDULED) & inside
    t3 = params.is_template(Template.BATTERY) & inside
    need = np.where(t1, state.work_left_kwh, 0.0) + np.where(
        t3, np.maximum(params.target_kwh - state.energy_kwh, 0.0), 0.0
    )
    result: FloatArray = np.maximum(need - reachable, 0.0)
    return result


class DRFleet:
    """The live state of a community's DR devices, stepped by the model.

    Usage::

        fleet = DRFleet(pilot_households(), np.random.default_rng(7), step_s=300)
        power_kw = fleet.step()                 # one 5-minute step under local control
        fleet.household_power_kw(power_kw)      # per household, in household order
    """

    def __init__(
        self,
        households: Sequence[HouseholdSpec],
        rng: np.random.Generator,
        step_s: int = 300,
        start_s: int = 0,
    ) -> None:
        if step_s <= 0 or DAY_S % step_s:
            raise ValueError(f"step_s={step_s} must divide a day (86400 s); use e.g. 300 or 900")
        if start_s % step_s:
            raise ValueError(f"start_s={start_s} must be a multiple of step_s={step_s}")
        self.households = tuple(households)
        self.params = build_params(self.households)
        self.step_s = step_s
        self._rng = rng
        self.state = initial_state(self.params, rng, start_s)
        self.last_power_kw = np.zeros(self.params.size)

    @property
    def now_s(self) -> int:
        return self.state.now_s

    def step(self, mode: IntArray | None = None, value_kw: FloatArray | None = None) -> FloatArray:
        """Advance one step, with optional per-device commands; returns device power (kW)."""
        self.state, power = advance(self.params, self.state, self.step_s, mode, value_kw, self._rng)
        self.last_power_kw = power
        return power

    def household_power_kw(self, device_power_kw: FloatArray) -> FloatArray:
        """Sum device values per household (households in the order given)."""
        return per_household(self.params, device_power_kw)

    def device_index(self, household_id: str, device_id: str) -> int:
        """Position of one device in the flat arrays."""
        try:
            h = self.params.household_ids.index(household_id)
        except ValueError:
            raise KeyError(f"unknown household {household_id!r}") from None
        for i in np.flatnonzero(self.params.household == h):
            if self.params.device_ids[i] == device_id:
                return int(i)
        raise KeyError(f"household {household_id!r} has no device {device_id!r}")
