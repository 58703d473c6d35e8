"""What-if runs of the fleet, and each device's up/down flexibility over the coming hours.

Why one-step deviations: an aggregator reports, for each coming step, how far
each device could go up or down *in that step* without breaking its user's
comfort (T2 band), deadline (T1) or departure charge (T3), assuming local
control before and after. These are the standard flexibility bounds; they are
not additive across steps (using the down flexibility of one step for a
thermostat uses up some of the next step's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.dr.fleet import (
    EPS,
    FleetState,
    advance,
    comfort_distance_c,
    infeasible_kwh,
    window_position,
)
from gridcoop.agents.mechanisms.dr.fleet_params import FleetParams, FloatArray, IntArray
from gridcoop.catalogue import Template

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A what-if run: power per step, and the comfort bookkeeping along the way.

    ``comfort_c[k]`` is each T2 zone's distance outside its band after step k;
    ``missed_kwh`` is T1 work left undone at a window's end plus T3 charge
    missing at departure during the run; ``infeasible_kwh`` what can no longer
    be done in time at the end of the run.
    """

    start_s: int
    step_s: int
    power_kw: FloatArray  # (steps, devices)
    comfort_c: FloatArray  # (steps, devices)
    missed_kwh: FloatArray
    infeasible_kwh: FloatArray
    states: tuple[FleetState, ...]  # the state before each step, and the final state


def simulate(
    params: FleetParams,
    state: FleetState,
    steps: int,
    step_s: int,
    mode: IntArray | None = None,
    value_kw: FloatArray | None = None,
) -> Trajectory:
    """Run ``steps`` steps from ``state`` without changing it.

    ``mode`` and ``value_kw`` (shape (steps, devices)) are the commands per step.
    """
    power = np.zeros((steps, params.size))
    comfort = np.zeros((steps, params.size))
    states = [state]
    current = state
    for k in range(steps):
        m = None if mode is None else mode[k]
        v = None if value_kw is None else value_kw[k]
        current, power[k] = advance(params, current, step_s, m, v)
        comfort[k] = comfort_distance_c(params, current)
        states.append(current)
    return Trajectory(
        state.now_s,
        step_s,
        power,
        comfort,
        current.missed_kwh - state.missed_kwh,
        infeasible_kwh(params, current),
        tuple(states),
    )


def _thermal_power_for(
    params: FleetParams, temp_c: FloatArray, edge_c: FloatArray, dt_h: float
) -> FloatArray:
    """The constant power that brings each zone exactly to ``edge_c`` after ``dt_h`` hours."""
    decay = np.exp(-dt_h / (params.resistance * params.capacitance))
    drift = temp_c * decay + (1.0 - decay) * (
        params.ambient_c - params.resistance * params.heat_draw_kw
    )
    gain = (1.0 - decay) * params.resistance * params.mode * params.cop
    result: FloatArray = (edge_c - drift) / gain
    return result


def step_bounds_kw(
    params: FleetParams, state: FleetState, step_s: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Baseline, highest and lowest comfortable power of every device for the next step."""
    dt_h = step_s / 3600.0
    _, base = advance(params, state, step_s)
    inside, left_s = window_position(params, state.now_s)
    power = params.power_kw
    t1 = params.is_template(Template.SCHEDULED)
    t2 = params.is_template(Template.TEMPERATURE)
    t3 = params.is_template(Template.BATTERY)
    t4 = params.is_template(Template.FLEXIBLE)
    # T2: between the powers that land exactly on the band's edges
    heat = params.mode > 0
    upper_edge = np.where(heat, params.band_high_c, params.band_low_c)
    lower_edge = np.where(heat, params.band_low_c, params.band_high_c)
    t2_hi = _thermal_power_for(params, state.temp_c, upper_edge, dt_h)
    t2_lo = _thermal_power_for(params, state.temp_c, lower_edge, dt_h)
    # T1/T4: run now if there is work; T1 may only pause if the deadline still holds
    work_cap = np.where(inside, state.work_left_kwh / dt_h, 0.0)
    after_h = np.maximum(left_s - step_s, 0) / 3600.0
    t1_lo = (state.work_left_kwh - power * after_h) / dt_h
    pinned = t1 & state.started & ~params.interruptible
    # T3: charge up to capacity; may only slow down while the target stays reachable
    t3_hi = np.where(inside, (params.capacity_kwh - state.energy_kwh) / dt_h, 0.0)
    t3_lo = (params.target_kwh - state.energy_kwh - power * after_h) / dt_h

    high = np.select([t2 & inside, t1 | t4, t3], [t2_hi, work_cap, t3_hi], base)
    low = np.select(
        [t2 & inside, pinned, t1, t3, t4], [t2_lo, base, t1_lo, t3_lo, 0.0 * base], base
    )
    high = np.clip(high, 0.0, power)
    low = np.clip(low, 0.0, power)
    high = np.maximum(high, base)
    low = np.minimum(low, base)
    # an on/off device can only be fully on or off
    full_on = np.minimum(power, np.where(t1 | t4, work_cap, power))
    high = np.where(params.divisible, high, np.where(high >= full_on - EPS, full_on, base))
    low = np.where(params.divisible, low, np.where(low <= EPS, 0.0, base))
    fixed = ~params.flexible
    high = np.where(fixed, base, high)
    low = np.where(fixed, base, low)
    return base, high, low


@dataclass(frozen=True, slots=True)
class FlexibilityForecast:
    """Per device and step: baseline power and how far it may go up or down (kW, >= 0)."""

    start_s: int
    step_s: int
    base_kw: FloatArray  # (steps, devices)
    up_kw: FloatArray
    down_kw: FloatArray


def forecast_flexibility(
    params: FleetParams, state: FleetState, steps: int, step_s: int
) -> FlexibilityForecast:
    """Up/down flexibility of every device for each of the next ``steps`` steps (vectorised)."""
    trajectory = simulate(params, state, steps, step_s)
    base = np.zeros((steps, params.size))
    up = np.zeros_like(base)
    down = np.zeros_like(base)
    for k in range(steps):
        b, high, low = step_bounds_kw(params, trajectory.states[k], step_s)
        base[k], up[k], down[k] = b, high - b, b - low
    return FlexibilityForecast(
        state.now_s, step_s, base, np.maximum(up, 0.0), np.maximum(down, 0.0)
    )


def per_household_series(params: FleetParams, device_series: FloatArray) -> FloatArray:
    """Sum a (steps, devices) series per household -> (steps, households)."""
    out = np.zeros((len(params.household_ids), device_series.shape[0]))
    np.add.at(out, params.household, device_series.T)
    result: FloatArray = out.T
    return result
