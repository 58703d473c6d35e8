"""Exactness: when meters measure what was traded, every trade is delivered to the Wh."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridcoop.agents import CommunityModel
from gridcoop.experiments.scenarios import load_scenario
from gridcoop.units import counter_wh


def test_counter_rounding_is_half_up_on_the_running_total_and_never_drifts() -> None:
    quarters = np.array([0.4, 0.4, 0.4, 0.4, 0.5, 1.25])
    edges = np.concatenate([[0.0], np.cumsum(quarters)])
    got = counter_wh(edges[:-1], edges[1:])
    assert got.tolist() == [0, 1, 0, 1, 0, 1]  # 0.4 0.8 1.2 1.6 2.1 3.35 -> 0 1 1 2 2 3
    assert int(got.sum()) == 3


def test_market_only_with_fractional_wh_settles_every_trade_in_full(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    for name, low, high, price in (("buyers", 0.2, 1.5, "0.2"), ("sellers", 0.2, 1.5, "0.05")):
        lines = ["hour,participant,quantity_kwh,price_eur_per_kwh"]
        lines += [f"{hour},{name}-{who},{rng.uniform(low, high):.7f},{price}"
                  for hour in range(24) for who in range(4)]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
    scenario = tmp_path / "exact.yaml"
    scenario.write_text("kind: market-only\ndays: 1\nbuyers_csv: buyers.csv\n"
                        "sellers_csv: sellers.csv\nsigning: block\n")
    kind, params = load_scenario(str(scenario))
    model = CommunityModel(kind, **params)
    model.run()
    trades = short = 0
    for _, traded, delivered in model.central.trade_log:
        trades += len(traded)
        short += int((delivered < traded.energy_wh).sum())
    assert trades >= 40 and short == 0
