"""Aggregation per regional aggregator: demand and flexibility as functions of time.

Why per template: the central market rations renewable excess by template
(T1 first … T4 last), so an RA reports its up and down flexibility split by
template alongside its baseline demand, one value per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridcoop.agents.mechanisms.dr.fleet_params import FleetParams, FloatArray
from gridcoop.agents.mechanisms.dr.flexibility import FlexibilityForecast
from gridcoop.catalogue import Template
from gridcoop.market.excess_sharing import AggregatorDemand, FlexibleLoad, HouseholdDemand


class AggregationError(ValueError):
    """A resampling or selection that does not fit the forecast."""


@dataclass(frozen=True, slots=True)
class AggregatedDemand:
    """One RA's baseline demand and up/down flexibility per template, per step (kW)."""

    aggregator_id: str
    start_s: int
    step_s: int
    demand_kw: FloatArray
    up_kw: dict[Template, FloatArray]
    down_kw: dict[Template, FloatArray]

    def total_up_kw(self) -> FloatArray:
        return np.asarray(sum(self.up_kw.values(), np.zeros_like(self.demand_kw)))

    def total_down_kw(self) -> FloatArray:
        return np.asarray(sum(self.down_kw.values(), np.zeros_like(self.demand_kw)))


def _resample(series: FloatArray, factor: int) -> FloatArray:
    steps = series.shape[0]
    if steps % factor:
        raise AggregationError(
            f"{steps} steps cannot be grouped by {factor}; forecast a multiple of {factor} steps"
        )
    result: FloatArray = series.reshape(steps // factor, factor, *series.shape[1:]).mean(axis=1)
    return result


def aggregate(
    params: FleetParams, forecast: FlexibilityForecast, report_step_s: int | None = None
) -> dict[str, AggregatedDemand]:
    """Sum a device forecast per RA and template.

    With ``report_step_s`` (e.g. 3600) each value is the mean power over that
    longer step, as the RA reports it to the central market.
    """
    step_s = report_step_s or forecast.step_s
    if step_s % forecast.step_s:
        raise AggregationError(
            f"report_step_s={step_s} must be a multiple of the forecast step {forecast.step_s}"
        )
    factor = step_s // forecast.step_s
    ra_names = sorted(set(params.aggregator_ids))
    ra_of_household = np.array([ra_names.index(a) for a in params.aggregator_ids], dtype=np.int64)
    ra_of_device = ra_of_household[params.household]
    key = ra_of_device * 4 + (params.template - 1)
    width = len(ra_names) * 4

    def by_key(series: FloatArray) -> FloatArray:
        out = np.zeros((width, series.shape[0]))
        np.add.at(out, key, series.T)
        return _resample(out.T, factor).reshape(-1, len(ra_names), 4)

    base = by_key(forecast.base_kw)
    up = by_key(forecast.up_kw)
    down = by_key(forecast.down_kw)
    return {
        name: AggregatedDemand(
            aggregator_id=name,
            start_s=forecast.start_s,
            step_s=step_s,
            demand_kw=base[:, r, :].sum(axis=1),
            up_kw={t: up[:, r, t - 1] for t in Template},
            down_kw={t: down[:, r, t - 1] for t in Template},
        )
        for r, name in enumerate(ra_names)
    }


def market_demand(
    params: FleetParams, up_kw: FloatArray, aggregators: set[str] | None = None
) -> list[AggregatorDemand]:
    """The excess-sharing request of each RA for one step, from per-device up flexibility.

    Each flexible device with at least 1 W of up flexibility claims it, floored
    to whole watts (never more than it can take), with its household's equipment
    priority. Households and RAs come in id order.
    """
    if up_kw.shape != (params.size,):
        raise AggregationError(f"up_kw must have one value per device ({params.size})")
    demand_w = np.floor(up_kw * 1000.0 + 1e-6).astype(np.int64)
    claims: dict[str, dict[str, list[FlexibleLoad]]] = {}
    for i in np.flatnonzero(params.flexible & (demand_w >= 1)):
        h = int(params.household[i])
        ra = params.aggregator_ids[h]
        if aggregators is not None and ra not in aggregators:
            continue
        claims.setdefault(ra, {}).setdefault(params.household_ids[h], []).append(
            FlexibleLoad(
                params.device_ids[i],
                Template(int(params.template[i])),
                int(params.priority[i]),
                int(demand_w[i]),
                bool(params.divisible[i]),
            )
        )
    return [
        AggregatorDemand(
            ra, tuple(HouseholdDemand(hh, tuple(loads)) for hh, loads in sorted(households.items()))
        )
        for ra, households in sorted(claims.items())
    ]
