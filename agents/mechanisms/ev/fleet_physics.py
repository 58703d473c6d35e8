"""The EV community's fleet inside the model's physics: charging from the history, V2G out.

Why one EV model: the households' physics (``gridcoop.agents.physics``) has a simple
EV fleet of its own; in the EV community scenarios :class:`FleetPart` takes
its place in every household part, so the energy the meters see is that of
the :mod:`gridcoop.agents.mechanisms.ev.simulate` history the aggregator forecasts and rewards.

The charging energy of each fleet step is the rise of the state of charge
while plugged (divided by the one-way efficiency on the grid side); with the
pilot's unlimited charger power a battery fills in one step.
Reserve calls change that: during an EV's discharge its charging is
suspended and the energy leaves the battery (shown to the household as
battery storage coming out, ``storage_kwh < 0``). What the battery lacks
against the history is the EV's *debt*, recharged at spare charger power in
later metering intervals without a discharge. The state of charge is always
the history's minus the debt.

:class:`V2GPhysics` wraps the model's physics: it adds the discharge to each
interval's flows and keeps the *baseline* net import (what the node would
have drawn without the call), so deliveries are verified as baseline minus
what the meters read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridcoop.agents.mechanisms.ev.profiles import BoolArray, EVConfigError, FloatArray, IntArray
from gridcoop.agents.mechanisms.ev.simulate import FleetHistory
from gridcoop.agents.physics.flows import Flows, balance


@dataclass(frozen=True, slots=True)
class FleetDayPlan:
    """A day of the history at the model's metering steps (the shape households expect)."""

    day: int
    plugged: BoolArray  # (steps_per_day, n_rows): plugged for the whole metering interval
    depart_step: IntArray
    return_step: IntArray
    trip_kwh: FloatArray


class V2GFleet:
    """Every EV of the run: history, debt against it, and scheduled discharges.

    ``first_day`` is the history day of the run's day 0 (the warm-up comes
    before it); ``metering_minutes`` must be a multiple of the history's step.
    ``efficiency`` is one-way: the grid gives ``1 / efficiency`` kWh per kWh the
    battery gains, and gets ``efficiency`` kWh per kWh a discharge takes out.
    """

    def __init__(self, history: FleetHistory, first_day: int, metering_minutes: int,
                 efficiency: float = 1.0) -> None:
        if metering_minutes % history.step_min:
            raise EVConfigError(f"metering_minutes={metering_minutes} is not a multiple of the "
                                f"fleet's {history.step_min}-minute step")
        if not 0.0 < efficiency <= 1.0:
            raise EVConfigError(f"efficiency must be in (0, 1], got {efficiency}")
        self.history = history
        self.efficiency = efficiency
        self.fleet = history.fleet
        self.first_day = first_day
        self.sub = metering_minutes // history.step_min
        self.steps_per_day = 1440 // metering_minutes
        self.step_h = history.step_min / 60.0
        soc = history.soc_kwh.astype(np.float64)
        plugged = history.plugged
        charge = np.zeros_like(soc)
        charge[:, :-1] = np.where(plugged[:, :-1], np.maximum(soc[:, 1:] - soc[:, :-1], 0.0), 0.0)
        self.soc_hist = soc
        self.hist_charge = charge
        n = self.fleet.size
        self.debt_kwh = np.zeros(n)
        self.charger_kwh = self.fleet.charge_power_kw * self.step_h * efficiency  # battery side
        self.discharge: dict[int, FloatArray] = {}  # fleet step -> kWh per EV
        self.discharge_steps: set[int] = set()  # metering intervals holding a discharge
        self.soc_at: dict[tuple[int, int], float] = {}  # (fleet step, EV) -> SoC before it
        self.soc_after: dict[tuple[int, int], float] = {}  # ... and after it (discharging EVs)
        self.now = first_day * history.steps_per_day
        self.last_discharge_kwh = np.zeros(n)
        self.last_hist_kwh = np.zeros(n)
        self.last_charge_kwh = np.zeros(n)

    def fleet_step(self, k: int) -> int:
        """The first fleet step of metering interval ``k`` of the run."""
        return self.first_day * self.history.steps_per_day + k * self.sub

    def soc_kwh(self, rows: IntArray | slice, t: int | None = None) -> FloatArray:
        """State of charge now (or at fleet step ``t`` given today's debt), kWh."""
        step = self.now if t is None else t
        step = min(step, self.soc_hist.shape[1] - 1)
        return np.asarray(self.soc_hist[rows, step] - self.debt_kwh[rows], dtype=np.float64)

    def safe_soc_kwh(self, rows: IntArray, t: int) -> FloatArray:
        """A floor under the SoC at fleet step ``t`` >= now: today's debt plus everything
        already scheduled to leave (discharge and suspended charging) before ``t``."""
        owed = self.debt_kwh[rows].copy()
        for s in range(self.now, t):
            planned = self.discharge.get(s)
            if planned is not None:
                active = planned[rows] > 0
                owed += np.where(active, planned[rows] + self.hist_charge[rows, s], 0.0)
        return np.asarray(self.soc_hist[rows, t] - owed, dtype=np.float64)

    def schedule(self, rows: IntArray, energy_wh: IntArray, first: int, steps: int) -> None:
        """Discharge ``energy_wh`` from each EV of ``rows`` evenly over fleet steps
        ``[first, first + steps)``."""
        if steps < 1 or first < self.now:
            raise EVConfigError(f"a discharge must start at or after fleet step {self.now} "
                                f"and last >= 1 step, got {first} for {steps}")
        per_step = np.asarray(energy_wh, dtype=np.float64) / 1000.0 / steps
        for s in range(first, first + steps):
            planned = self.discharge.setdefault(s, np.zeros(self.fleet.size))
            planned[rows] += per_step
            k = (s - self.fleet_step(0)) // self.sub
            self.discharge_steps.add(k)

    def step_rows(self, rows: IntArray, k: int) -> FloatArray:
        """Advance ``rows`` through metering interval ``k``; returns their charging (kWh)."""
        t0 = self.fleet_step(k)
        charge = np.zeros(rows.size)
        out = np.zeros(rows.size)
        hist_sum = np.zeros(rows.size)
        repay = k not in self.discharge_steps
        last = self.soc_hist.shape[1] - 1
        for t in range(t0, t0 + self.sub):
            hist = self.hist_charge[rows, t]
            planned = self.discharge.get(t)
            d = np.zeros(rows.size) if planned is None else planned[rows]
            active = d > 0
            for i in np.flatnonzero(active).tolist():
                row = int(rows[i])
                self.soc_at[(t, row)] = float(self.soc_hist[row, t] - self.debt_kwh[row])
            debt = self.debt_kwh[rows] + np.where(active, d + hist, 0.0)
            got = np.where(active, 0.0, hist)
            if repay:
                room = np.where(self.history.plugged[rows, t],
                                np.maximum(self.charger_kwh[rows] - hist, 0.0), 0.0)
                extra = np.minimum(debt, room)
                got = got + extra
                debt = debt - extra
            self.debt_kwh[rows] = np.clip(debt, 0.0, self.soc_hist[rows, min(t + 1, last)])
            for i in np.flatnonzero(active).tolist():
                row = int(rows[i])
                self.soc_after[(t, row)] = float(self.soc_hist[row, min(t + 1, last)]
                                                 - self.debt_kwh[row])
            charge += got
            out += d
            hist_sum += hist
        self.now = max(self.now, t0 + self.sub)
        eff = self.efficiency
        self.last_discharge_kwh[rows] = out * eff  # grid side
        self.last_hist_kwh[rows] = hist_sum / eff
        self.last_charge_kwh[rows] = charge / eff
        return charge / eff

    def begin_interval(self) -> None:
        self.last_discharge_kwh[:] = 0.0
        self.last_hist_kwh[:] = 0.0
        self.last_charge_kwh[:] = 0.0


class FleetPart:
    """The rows of :class:`V2GFleet` one household physics owns, in its EV order.

    Has the interface ``gridcoop.agents.physics.households.HouseholdPhysics`` uses of
    its ``evs``: ``plan_day``, ``preview``, ``step``, ``soc_kwh``,
    ``capacity_kwh``, ``charger_kw``.
    """

    def __init__(self, core: V2GFleet, rows: IntArray) -> None:
        self.core = core
        self.rows = np.asarray(rows, dtype=np.int64)
        self.capacity_kwh = core.fleet.capacity_kwh[self.rows]
        self.charger_kw = core.fleet.charge_power_kw[self.rows]

    @property
    def size(self) -> int:
        return int(self.rows.size)

    @property
    def soc_kwh(self) -> FloatArray:
        return self.core.soc_kwh(self.rows)

    def plan_day(self, day: int) -> FleetDayPlan:
        core = self.core
        spd, sub = core.steps_per_day, core.sub
        t0 = core.fleet_step(day * spd)
        plugged = core.history.plugged[self.rows, t0 : t0 + spd * sub]
        whole = np.asarray(plugged.reshape(self.size, spd, sub).all(axis=2), dtype=bool).T
        away = ~whole
        first_away = np.where(away.any(axis=0), np.argmax(away, axis=0), spd)
        trips = core.history.trips
        index = np.searchsorted(self.rows, trips.ev) if self.size else trips.ev
        mine = (trips.day == core.first_day + day) & np.isin(trips.ev, self.rows)
        trip_kwh = np.bincount(index[mine], trips.energy_kwh[mine],
                               minlength=self.size).astype(np.float64)
        back = np.where(first_away < spd, spd - np.argmax(away[::-1], axis=0), spd)
        return FleetDayPlan(day, whole, first_away.astype(np.int64), back.astype(np.int64),
                            trip_kwh)

    def preview(self, plan: FleetDayPlan, steps_in_day: range, step_h: float) -> FloatArray:
        """Expected charging over ``steps_in_day`` (the history's; no state changes)."""
        core = self.core
        first = core.fleet_step(plan.day * core.steps_per_day + steps_in_day.start)
        last = core.fleet_step(plan.day * core.steps_per_day + steps_in_day.stop)
        return np.asarray(core.hist_charge[self.rows, first:last].sum(axis=1) / core.efficiency,
                          dtype=np.float64)

    def step(self, plan: FleetDayPlan, step_in_day: int, step_h: float,
             limit_kw: FloatArray | None = None) -> FloatArray:
        return self.core.step_rows(self.rows, plan.day * self.core.steps_per_day + step_in_day)


class V2GPhysics:
    """The model's physics plus V2G discharge (as battery storage out) and a baseline."""

    def __init__(self, inner: Any, core: V2GFleet, ev_nodes: IntArray) -> None:
        self.inner = inner
        self.core = core
        self.ev_nodes = np.asarray(ev_nodes, dtype=np.int64)
        self.baseline_net_kwh = np.zeros(int(inner.size))

    @property
    def size(self) -> int:
        return int(self.inner.size)

    def step(self, step: int) -> Flows:
        self.core.begin_interval()
        flows: Flows = self.inner.step(step)
        n = self.size
        out = np.zeros(n)
        out[self.ev_nodes] = self.core.last_discharge_kwh
        held_back = np.zeros(n)  # baseline charging minus what the EV charged
        held_back[self.ev_nodes] = self.core.last_hist_kwh - self.core.last_charge_kwh
        self.baseline_net_kwh = flows.import_kwh - flows.export_kwh + held_back
        return balance(flows.production_kwh, flows.consumption_kwh, flows.storage_kwh - out,
                       flows.ev_kwh)

    def forecast_import_kwh(self, market: int) -> FloatArray:
        return np.asarray(self.inner.forecast_import_kwh(market), dtype=np.float64)

    def flexible_kw(self, market: int) -> dict[str, FloatArray]:
        flexible = getattr(self.inner, "flexible_kw", None)
        return {} if flexible is None else dict(flexible(market))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def household_parts(physics: Any) -> list[tuple[Any, int]]:
    """(household physics, first node) of every part: one, or one per region."""
    if hasattr(physics, "part") and hasattr(physics, "slices"):
        return [(physics.part(r), s.start) for r, s in enumerate(physics.slices)]
    if not hasattr(physics, "evs") or not hasattr(physics, "setup"):
        raise EVConfigError("the EV community needs a neighbourhood's household physics")
    return [(physics, 0)]


def install(physics: Any, core: V2GFleet, ev_nodes: IntArray) -> V2GPhysics:
    """Put the fleet into every household part and wrap the physics (before the first step)."""
    for part, first in household_parts(physics):
        local = np.asarray(part.setup.ev_nodes, dtype=np.int64)
        rows = np.searchsorted(ev_nodes, first + local)
        if local.size and not np.array_equal(ev_nodes[rows], first + local):
            raise EVConfigError("the physics' EV owners differ from the population's")
        part.evs = FleetPart(core, rows)
    return V2GPhysics(physics, core, ev_nodes)

