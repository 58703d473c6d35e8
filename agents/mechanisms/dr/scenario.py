"""The DR community scenario kinds and their population: DR households and a renewable plant.

Why the kind builds its own nodes: the DR households' consumption must be what
:class:`gridcoop.agents.mechanisms.dr.fleet.DRFleet` does under the commands they accepted, so the
model's smart meters measure the fleet itself and compliance is verified
against real readings. Each aggregator region holds its DR households; one more
region ("plant") holds the community's renewable plant, whose production comes
in random events (bursts of wind or sun) and is the excess shared among the
aggregators.

Listed in ``gridcoop.agents.scenario.registry.KINDS`` as ``dr-community`` (the pilot: 8 HVAC
"3 kW houses" as T2, 7 EVs as T3, a T1 outlet, a T4 heater outlet) and
``dr-community-large`` (households drawn from the appliance table in
several aggregators).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from gridcoop.agents.mechanisms.dr.devices import HouseholdSpec, pilot_households, random_households
from gridcoop.agents.mechanisms.dr.fleet import DRFleet
from gridcoop.agents.mechanisms.dr.fleet_params import FloatArray, IntArray, per_household
from gridcoop.agents.mechanisms.dr.flexibility import (
    FlexibilityForecast,
    forecast_flexibility,
    simulate,
)
from gridcoop.agents.model.population import NodeKind, Population
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.flows import Flows, balance
from gridcoop.agents.scenario.schema import ScenarioBase, Signing
from gridcoop.catalogue import Template
from gridcoop.streams import streams
from gridcoop.units import UEUR_PER_EUR

PLANT_REGION = "plant"


class DRCommunity(ScenarioBase):
    """The DR pilot: 17 flexible households in one aggregator and a renewable plant.

    ``layout`` "pilot" is the pilot; "random" draws ``dr_households``
    households from the appliance table into ``aggregators`` RAs. The central
    market shares the plant's excess every ``dr_period_minutes``; utilities add
    ``simple_events_per_day`` SIMPLE events (levels 1-3) in the evening peak.
    """

    kind: Literal["dr-community"] = "dr-community"
    signing: Signing = "block"
    days: Annotated[int, Field(ge=1, le=3660)] = 2
    metering_minutes: Literal[1, 5, 10, 15, 30, 60] = 5
    layout: Literal["pilot", "random"] = "pilot"
    dr_households: Annotated[int, Field(ge=1, le=100_000)] = 17
    aggregators: Annotated[int, Field(ge=1, le=1000)] = 1
    ev_share: Annotated[float, Field(ge=0, le=1)] = 0.3
    opt_out_probability: Annotated[float, Field(ge=0, le=1)] = 0.1
    override_probability: Annotated[float, Field(ge=0, le=1)] = 0.05
    plant_kw: Annotated[float, Field(ge=0, le=1e6)] = 30.0
    production_events_per_day: Annotated[float, Field(ge=0, le=100)] = 4.0
    production_event_hours: tuple[float, float] = (0.5, 3.0)
    dr_period_minutes: Annotated[int, Field(ge=5, le=240)] = 15
    min_excess_kw: Annotated[float, Field(ge=0)] = 0.2
    simple_events_per_day: Annotated[float, Field(ge=0, le=24)] = 1.0
    peak_hours: tuple[int, int] = (17, 21)
    tolerance_pct: Annotated[int, Field(ge=0, le=100)] = 10
    reward_tokens_per_wh: Annotated[int, Field(ge=0, le=1000)] = 1
    penalty_tokens_per_wh: Annotated[int, Field(ge=0, le=1000)] = 2
    token_value_eur_u: Annotated[int, Field(ge=0, le=UEUR_PER_EUR)] = 100

    @model_validator(mode="after")
    def _dr(self) -> DRCommunity:
        if (self.dr_period_minutes % self.metering_minutes
                or 1440 % self.dr_period_minutes):
            raise ValueError(
                f"dr_period_minutes={self.dr_period_minutes} must be a multiple of "
                f"metering_minutes={self.metering_minutes} and divide a day")
        low, high = self.production_event_hours
        if not 0 < low <= high <= 24:
            raise ValueError(
                "production_event_hours must be [low, high] with 0 < low <= high <= 24")
        if not 0 <= self.peak_hours[0] < self.peak_hours[1] <= 24:
            raise ValueError("peak_hours must be [start, end) with 0 <= start < end <= 24")
        if self.layout == "random" and self.aggregators > self.dr_households:
            raise ValueError(f"aggregators={self.aggregators} exceeds "
                             f"dr_households={self.dr_households}")
        return self

    def households_spec(self) -> list[HouseholdSpec]:
        """The DR households, grouped by aggregator (the order of the model's nodes)."""
        rng = streams(self.seed).rng("dr.households")
        if self.layout == "pilot":
            homes = pilot_households("ra-pilot", rng)
        else:
            homes = random_households(rng, self.dr_households, self.aggregators,
                                      self.ev_share)
        homes = [HouseholdSpec(h.household_id, h.aggregator_id, h.devices, h.priority,
                               h.off_sequence, self.opt_out_probability,
                               self.override_probability) for h in homes]
        order = sorted(range(len(homes)), key=lambda i: (homes[i].aggregator_id, i))
        return [homes[i] for i in order]

    def build_population(self, clock: SimClock,
                         streams: dict[str, np.random.Generator]) -> Population:
        """DR households (one region per aggregator) and the plant (its own region)."""
        homes = self.households_spec()
        ras = sorted({h.aggregator_id for h in homes})
        regions = [ra.removeprefix("ra-") for ra in ras] + [PLANT_REGION]
        region = np.array([ras.index(h.aggregator_id) for h in homes] + [len(ras)],
                          dtype=np.int64)
        bounds = np.searchsorted(region, np.arange(len(regions) + 1))
        physics = DRPhysics(homes, self, clock, streams)
        n = len(homes) + 1
        kind = np.full(n, NodeKind.DR_HOUSEHOLD, dtype=np.int64)
        kind[-1] = NodeKind.PROSUMER
        pv = np.zeros(n)
        pv[-1] = self.plant_kw
        return Population(
            node_ids=(*(h.household_id for h in homes), "renewable-plant"),
            kind=kind, region=region, region_ids=tuple(regions),
            region_slices=tuple(slice(int(bounds[r]), int(bounds[r + 1]))
                                for r in range(len(regions))),
            physics=physics, pv_kwp=pv, battery_kwh=np.zeros(n))


class DRCommunityLarge(DRCommunity):
    """Hundreds or thousands of DR households from the appliance table, in several RAs."""

    kind: Literal["dr-community-large"] = "dr-community-large"  # type: ignore[assignment]
    days: Annotated[int, Field(ge=1, le=3660)] = 1
    layout: Literal["pilot", "random"] = "random"
    dr_households: Annotated[int, Field(ge=1, le=100_000)] = 1000
    aggregators: Annotated[int, Field(ge=1, le=1000)] = 8
    plant_kw: Annotated[float, Field(ge=0, le=1e6)] = 1500.0


def production_events_kw(scenario: DRCommunity, clock: SimClock,
                         rng: np.random.Generator) -> FloatArray:
    """The plant's power per metering step: random events (Poisson per day), each a plateau.

    An event starts at a random step, lasts a uniform number of hours from
    ``production_event_hours`` and produces a uniform 30-100 % of ``plant_kw``;
    overlapping events add up, capped at ``plant_kw``.
    """
    steps = clock.total_steps
    power = np.zeros(steps)
    per_day = clock.steps_per_day
    low, high = scenario.production_event_hours
    for day in range(clock.days):
        for _ in range(int(rng.poisson(scenario.production_events_per_day))):
            start = day * per_day + int(rng.integers(0, per_day))
            length = max(1, round(rng.uniform(low, high) * 3600 / clock.step_s))
            power[start:start + length] += rng.uniform(0.3, 1.0) * scenario.plant_kw
    result: FloatArray = np.minimum(power, scenario.plant_kw)
    return result


@dataclass
class _Pending:
    mode: IntArray
    value_kw: FloatArray


class DRPhysics:
    """The DR fleet as the model's node physics, plus the plant (the last node).

    Commands accepted and honoured by households are queued per step with
    :meth:`queue_commands`; :meth:`step` runs the fleet under them.
    """

    def __init__(self, homes: list[HouseholdSpec], scenario: DRCommunity, clock: SimClock,
                 streams: dict[str, np.random.Generator]) -> None:
        self.clock = clock
        self.homes = homes
        self.fleet = DRFleet(homes, streams["appliances"], step_s=clock.step_s)
        self.params = self.fleet.params
        self.production_kw = production_events_kw(scenario, clock, streams["weather"])
        self._forecast_rng = streams["forecast"]
        self.forecast_error = scenario.forecast_error
        self._pending: dict[int, _Pending] = {}
        self.n = len(homes) + 1
        self.t3 = self.params.is_template(Template.BATTERY)
        self.last_device_kw = np.zeros(self.params.size)

    @property
    def size(self) -> int:
        return self.n

    def queue_commands(self, first_step: int, mode: IntArray, value_kw: FloatArray) -> None:
        """Run (steps, devices) ``mode``/``value_kw`` from ``first_step``; later commands win."""
        for s in range(mode.shape[0]):
            row = self._pending.get(first_step + s)
            if row is None:
                row = self._pending[first_step + s] = _Pending(
                    np.zeros(self.params.size, dtype=np.int64), np.zeros(self.params.size))
            set_ = mode[s] != 0
            row.mode[set_] = mode[s][set_]
            row.value_kw[set_] = value_kw[s][set_]

    def step(self, step: int) -> Flows:
        if self.fleet.now_s != self.clock.start_s(step):
            raise RuntimeError(f"DR fleet at {self.fleet.now_s} s, asked for step {step}")
        pending = self._pending.pop(step, None)
        power = (self.fleet.step() if pending is None
                 else self.fleet.step(pending.mode, pending.value_kw))
        self.last_device_kw = power
        step_h = self.clock.step_h
        consumption = np.zeros(self.n)
        consumption[:-1] = per_household(self.params, power) * step_h
        ev = np.zeros(self.n)
        ev[:-1] = per_household(self.params, np.where(self.t3, power, 0.0)) * step_h
        production = np.zeros(self.n)
        production[-1] = self.production_kw[step] * step_h
        return balance(production, consumption, np.zeros(self.n), ev)

    def _lookahead(self, market: int) -> tuple[int, int]:
        """(steps to simulate from now, steps of the target market at the end)."""
        spm = self.clock.steps_per_market
        now_step = self.fleet.now_s // self.clock.step_s
        return max((market + 1) * spm - now_step, spm), spm

    def forecast_import_kwh(self, market: int) -> FloatArray:
        """Baseline consumption of each household over ``market``; the plant's noisy output."""
        steps, spm = self._lookahead(market)
        run = simulate(self.params, self.fleet.state, steps, self.clock.step_s)
        kwh = per_household(self.params, run.power_kw[-spm:].sum(axis=0)) * self.clock.step_h
        first = market * spm
        sigma = self.forecast_error
        noise = float(self._forecast_rng.lognormal(-0.5 * sigma**2, sigma))
        net = np.zeros(self.n)
        net[:-1] = kwh
        net[-1] = -float(self.production_kw[first:first + spm].sum()) * self.clock.step_h * noise
        return net

    def forecast(self, steps: int) -> FlexibilityForecast:
        """Baseline and up/down flexibility of every device for the next ``steps`` steps."""
        return forecast_flexibility(self.params, self.fleet.state, steps, self.clock.step_s)

    def flexible_kw(self, market: int) -> dict[str, FloatArray]:
        """Mean up flexibility per template over ``market``, per node (kW)."""
        steps, spm = self._lookahead(market)
        up = self.forecast(steps).up_kw[-spm:].mean(axis=0)
        out: dict[str, FloatArray] = {}
        for template in Template:
            values = np.zeros(self.n)
            values[:-1] = per_household(self.params,
                                        np.where(self.params.template == int(template), up, 0.0))
            out[f"T{int(template)}"] = values
        return out
