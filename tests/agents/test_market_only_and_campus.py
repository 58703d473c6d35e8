"""market-only reproduces the clearing house on the same CSV inputs; campus routes surplus."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.agents import CommunityModel
from gridcoop.agents.bus.batches import MeterReadingBatch
from gridcoop.agents.physics.flows import Flows
from gridcoop.agents.physics.traders import TraderCsvError, load_trader_table
from gridcoop.experiments.scenarios import load_scenario
from gridcoop.market import Order, Side, clear


def test_market_only_trades_equal_market_clear_on_the_csv_orders() -> None:
    kind, params = load_scenario("market-only")
    model = CommunityModel(kind, **params)
    model.run()
    table = model.population.physics.table  # type: ignore[attr-defined]
    names = model.population.node_ids
    compared = 0
    for interval, trades, _ in model.central.trade_log:
        orders: list[Order] = []
        for side, kwh, price, tag in ((Side.BUY, table.buy_kwh, table.buy_price, "b"),
                                      (Side.SELL, table.sell_kwh, table.sell_price, "o")):
            for i, who in enumerate(names):
                if kwh[interval, i] >= 0.01:  # the model's minimum order (10 Wh)
                    orders.append(Order(f"{who}:{tag}", who, side,
                                        round(kwh[interval, i] * 1000),
                                        round(price[interval, i] * 1e6), interval, len(orders)))
        expected = clear(orders, mechanism="pay_as_clear")
        got = sorted(zip((names[b] for b in trades.buyer), (names[s] for s in trades.seller),
                         trades.energy_wh.tolist(), trades.price_u.tolist(), strict=True))
        want = sorted((t.buyer, t.seller, t.energy_wh, t.price_ueur_per_kwh)
                      for t in expected.trades)
        assert got == want
        compared += 1
    assert compared >= 10
    model.close()


def test_trader_csv_errors_name_the_line(tmp_path: Any) -> None:
    good = tmp_path / "ok.csv"
    good.write_text("hour,participant,quantity_kwh,price_eur_per_kwh\n0,a,1.0,0.05\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("hour,participant,quantity\n0,a,1\n")
    with pytest.raises(TraderCsvError, match="missing column"):
        load_trader_table(bad, good)
    bad.write_text("hour,participant,quantity_kwh,price_eur_per_kwh\n0,a,lots,0.05\n")
    with pytest.raises(TraderCsvError, match=r"bad.csv:2"):
        load_trader_table(good, bad)
    bad.write_text("hour,participant,quantity_kwh,price_eur_per_kwh\n0,a,1,0.05\n0,a,2,0.05\n")
    with pytest.raises(TraderCsvError, match="two rows for hour 0"):
        load_trader_table(bad, good)
    with pytest.raises(TraderCsvError, match="cannot open"):
        load_trader_table(tmp_path / "none.csv", good)


def test_campus_surplus_goes_to_the_nearest_classroom_that_uses_it() -> None:
    # classroom 1 (index 0) is in class every weekday 8:00-18:00, classroom 2 never:
    # all of classroom 2's production is surplus, and classroom 1 needs 750 W minus its own PV.
    timetable = [{"classroom": 0, "weekday": d, "start_h": 8, "end_h": 18} for d in range(5)]
    model = CommunityModel("campus-microgrid", classrooms=2, days=2, timetable=timetable,
                           replicas="shared")
    physics = model.population.physics
    seen: list[Flows] = []
    original = physics.step

    def step(k: int) -> Flows:
        flows = original(k)
        seen.append(flows)
        return flows

    physics.step = step  # type: ignore[method-assign,assignment]
    summary = model.run()
    # per interval (rounded to Wh by the meters) classroom 2 sends min(its export, 1's import)
    imports = np.array([f.import_kwh for f in seen]) * 1000
    exports = np.array([f.export_kwh for f in seen]) * 1000
    cum_i = np.diff(np.rint(np.concatenate([[0], np.cumsum(imports[:, 0])])))
    cum_e = np.diff(np.rint(np.concatenate([[0], np.cumsum(exports[:, 1])])))
    expected_wh = np.minimum(cum_i, cum_e).sum()
    assert expected_wh > 0
    moved = sum(int(d.sum()) for _, t, d in model.central.trade_log)
    assert moved == expected_wh == round(summary["local_traded_kwh"] * 1000)
    for _, trades, _ in model.central.trade_log:
        assert trades.seller.tolist() == [1] * len(trades) and set(trades.buyer.tolist()) == {0}
    model.close()


def test_the_central_market_maps_a_region_s_meters_once_and_still_refuses_strangers() -> None:
    kind, params = load_scenario("market-only")
    model = CommunityModel(kind, **params)
    central = model.central
    [(region, meters)] = model.region_meter_ids.items()
    node = {m: central.meter_node[m] for m in meters}

    def batch(ids: list[str], start_s: int, wh: int) -> MeterReadingBatch:
        return MeterReadingBatch(region_id=region, interval_start_s=start_s, interval_s=3_600,
                                 meter_ids=ids, import_wh=[wh] * len(ids),
                                 export_wh=[0] * len(ids), counters=[1] * len(ids))

    central._on_readings(batch(meters, 0, 5))
    central._on_readings(batch(list(reversed(meters)), 3_600, 7))  # the same meters, reordered
    central._on_readings(batch(meters, 7_200, 9))  # the mapped order again
    for interval, wh in ((0, 5), (1, 7), (2, 9)):
        imported = central._delivered[interval][0]
        assert [int(imported[node[m]]) for m in meters] == [wh] * len(meters)
    central._on_readings(batch([*meters[:-1], "m-stranger"], 10_800, 11))
    assert central.refused[-1].endswith("unknown meter 'm-stranger'")
    assert int(central._delivered[3][0].sum()) == 0  # nothing of that batch was taken
    model.close()


def test_table_orders_ask_no_bidding_policy_so_nobody_is_told_an_outcome() -> None:
    """market-only's orders come from its tables: no group priced them, so
    ``BiddingGroups.cleared`` tells nobody and computes no outcome, and the run's results
    are those of the tables alone."""
    told: list[object] = []
    kind, params = load_scenario("market-only")
    model = CommunityModel(kind, **params)
    for group in model.orders.bidders.groups:
        group.policy.feedback = told.append
    model.run()
    assert all(group.last is None for group in model.orders.bidders.groups)
    assert told == [] and model.kpis.trades > 0
    model.close()
