"""Up/down flexibility per device and its aggregation per RA, hand-checked."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.mechanisms.dr.aggregation import AggregationError, aggregate, market_demand
from gridcoop.agents.mechanisms.dr.devices import device
from gridcoop.agents.mechanisms.dr.fleet import DRFleet
from gridcoop.agents.mechanisms.dr.flexibility import (
    forecast_flexibility,
    per_household_series,
    step_bounds_kw,
)
from gridcoop.catalogue import Template
from gridcoop.market.excess_sharing import FlexibleLoad
from tests.agents.mechanisms.dr.helpers import HOUR, fleet_at, leaf, single


def bounds(fleet: DRFleet) -> tuple[float, float, float]:
    base, high, low = step_bounds_kw(fleet.params, fleet.state, 300)
    return float(base[0]), float(high[0] - base[0]), float(base[0] - low[0])


def test_ev_with_slack_can_stop_but_not_go_higher() -> None:
    # 00:00, 12 kWh, target 21.6, 6 h to departure: charging at 3.65 kW (full),
    # could pause (9.6 kWh fits easily in the 5.92 h left after this step).
    assert bounds(fleet_at([single(leaf())], 0)) == pytest.approx((3.65, 0.0, 3.65))


def test_ev_close_to_its_deadline_can_only_slow_down_a_little() -> None:
    # 03:30 with 12.6 kWh: after this step 2.5 - 1/12 = 2.41667 h remain, in which
    # 3.65 kW gives 8.820833 kWh; the 9.0 kWh still needed leave 0.179167 kWh
    # for this step: at least 0.179167 * 12 = 2.15 kW, so down = 3.65 - 2.15 = 1.5 kW.
    fleet = fleet_at([single(leaf())], int(3.5 * HOUR), energy_kwh=12.6)
    assert bounds(fleet) == pytest.approx((3.65, 0.0, 1.5))


def test_full_ev_can_take_more_up_to_capacity() -> None:
    # 02:00 at its 21.6 kWh target: idle; up to capacity 24 kWh -> up to 3.65 kW.
    fleet = fleet_at([single(leaf())], 2 * HOUR, energy_kwh=21.6)
    assert bounds(fleet) == pytest.approx((0.0, 3.65, 0.0))
    # 23.9 kWh: only 0.1 kWh of room = 1.2 kW over 5 minutes
    fleet = fleet_at([single(leaf())], 2 * HOUR, energy_kwh=23.9)
    assert bounds(fleet) == pytest.approx((0.0, 1.2, 0.0))


def test_house_near_the_bottom_of_its_band() -> None:
    # 19.1 °C, ambient 12, R 5, C 1, 5-minute step: decay d = exp(-1/60) = 0.9834715.
    # Off it would reach 19.1 d + 12 (1 - d) = 18.982647 < 19, so the thermostat is on (3 kW).
    # Each kW adds (1 - d) * 5 = 0.0826427 °C; staying at >= 19 needs
    # (19 - 18.982647) / 0.0826427 = 0.209972 kW -> down = 3 - 0.209972 = 2.790028 kW.
    fleet = fleet_at([single(device("hvac house"))], 0, temp_c=19.1)
    assert bounds(fleet) == pytest.approx((3.0, 0.0, 2.790028), abs=1e-6)


def test_house_mid_band_and_idle_can_take_full_power() -> None:
    # 20 °C, thermostat off: off it reaches 19.868 (>= 19) so it stays off; full
    # power would give 19.868 + 3 * 0.0826 = 20.116 <= 23: up 3 kW, down 0.
    fleet = fleet_at([single(device("hvac house"))], 0, temp_c=20.0)
    assert bounds(fleet) == pytest.approx((0.0, 3.0, 0.0))


def test_scheduled_job_on_its_deadline_cannot_move() -> None:
    # Outlet at 16:00 with its 2 kWh still to do: it must run (deadline) and cannot pause.
    fleet = fleet_at([single(device("outlet"))], 16 * HOUR, work_left_kwh=2.0)
    assert bounds(fleet) == pytest.approx((1.0, 0.0, 0.0))
    # at 10:00, before its preferred start (5 h into the window): idle, may start now
    early = fleet_at([single(device("outlet"))], 10 * HOUR, work_left_kwh=2.0, offset_s=5 * HOUR)
    assert bounds(early) == pytest.approx((0.0, 1.0, 0.0))


def test_inflexible_devices_offer_nothing() -> None:
    fleet = fleet_at([single(device("refrigerator"))], 0, temp_c=5.95)  # would pass 6 °C: on
    base, up, down = bounds(fleet)
    assert base > 0 and up == 0.0 and down == 0.0


def test_forecast_follows_the_ev_through_the_night() -> None:
    fleet = fleet_at([single(leaf())], 0)
    forecast = forecast_flexibility(fleet.params, fleet.state, 72, 300)  # 6 h
    # charging for 31 steps and part of the 32nd, then idle and able to top up to 24 kWh
    assert forecast.base_kw[:31, 0] == pytest.approx(np.full(31, 3.65))
    assert forecast.down_kw[0, 0] == pytest.approx(3.65)
    assert forecast.up_kw[40, 0] == pytest.approx(3.65)
    assert forecast.base_kw[40, 0] == 0.0
    # the forecast did not move the fleet
    assert fleet.state.energy_kwh[0] == 12.0 and fleet.now_s == 0


def community() -> DRFleet:
    return fleet_at(
        [
            single(leaf(), "ev-home", "ra-1"),
            single(device("hvac house"), "warm-home", "ra-1"),
            single(device("outlet"), "office", "ra-2"),
        ],
        16 * HOUR,
        temp_c=20.0,
        work_left_kwh=2.0,
        energy_kwh=21.6,
    )


def test_aggregate_sums_per_aggregator_and_template() -> None:
    fleet = community()
    forecast = forecast_flexibility(fleet.params, fleet.state, 24, 300)
    ras = aggregate(fleet.params, forecast)
    assert sorted(ras) == ["ra-1", "ra-2"]
    homes = per_household_series(fleet.params, forecast.base_kw)
    assert ras["ra-1"].demand_kw == pytest.approx(homes[:, 0] + homes[:, 1])
    assert ras["ra-2"].demand_kw == pytest.approx(homes[:, 2])
    # 16:00: the EV is away (plugs in at 19:00): no T3 flexibility; the office
    # outlet runs on its deadline: 1 kW of demand and no flexibility.
    assert ras["ra-1"].up_kw[Template.BATTERY] == pytest.approx(np.zeros(24))
    assert ras["ra-2"].demand_kw[0] == 1.0 and ras["ra-2"].total_down_kw()[0] == 0.0
    assert ras["ra-1"].up_kw[Template.TEMPERATURE][0] == pytest.approx(3.0)
    hourly = aggregate(fleet.params, forecast, report_step_s=3600)
    assert hourly["ra-1"].demand_kw.shape == (2,)
    assert hourly["ra-1"].demand_kw[0] == pytest.approx(ras["ra-1"].demand_kw[:12].mean())
    with pytest.raises(AggregationError, match="multiple of the forecast step"):
        aggregate(fleet.params, forecast, report_step_s=400)
    with pytest.raises(AggregationError, match="cannot be grouped by 36"):
        aggregate(fleet.params, forecast, report_step_s=3 * 3600)


def test_market_demand_claims_whole_watts_with_household_priority() -> None:
    fleet = community()
    up = np.array([1.2345678, 3.0, 0.0])
    demand = market_demand(fleet.params, up)
    assert [ra.aggregator_id for ra in demand] == ["ra-1"]
    loads = {h.household_id: h.loads for h in demand[0].households}
    # floored to whole watts: 1234 W, never more than the device can take
    assert loads == {
        "ev-home": (FlexibleLoad("ev", Template.BATTERY, 1, 1234, True),),
        "warm-home": (FlexibleLoad("hvac", Template.TEMPERATURE, 1, 3000, True),),
    }
    assert market_demand(fleet.params, up, aggregators={"ra-2"}) == []
    with pytest.raises(AggregationError, match="one value per device"):
        market_demand(fleet.params, np.zeros(2))
