"""Golden results pinned before the restructure: what every built-in scenario and every
clearing mechanism computes must not move unless a commit says why.

Regenerate (only in a commit that explains the change): ``GRIDCOOP_UPDATE_GOLDEN=1
python -m pytest tests/test_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.market import Order, Side, clear, mechanism_names
from gridcoop.units import ueur_from_eur

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GRIDCOOP_UPDATE_GOLDEN") == "1"

# One short run of every built-in scenario; the large ones made small enough for CI.
RUNS: dict[str, tuple[str, ...]] = {
    "campus-footprint": ("--days", "1"),
    "campus-lighting": ("--days", "2"),
    "campus-microgrid": ("--days", "2"),
    "dr-community": ("--days", "1"),
    "dr-community-large": ("--days", "1", "--set", "dr_households=200"),
    "ev-community": ("--days", "1"),
    "ev-community-large": ("--days", "1", "--set", "households=80"),
    "market-only": ("--days", "1"),
    "neighbourhood": ("--days", "2", "--set", "households=30", "--set", "regions=3"),
}
# neighbourhood's default is average_bid; every other registered mechanism runs too.
MECHANISM_RUNS = ("pay_as_clear", "pay_as_bid", "continuous")


def check(name: str, value: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(value, indent=1, sort_keys=True) + "\n"
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with GRIDCOOP_UPDATE_GOLDEN=1"
    assert json.loads(path.read_text()) == json.loads(text)


def run_summary(tmp_path: Path, scenario: str, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["run", scenario, *args, "--out", str(tmp_path), "--quiet"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads((tmp_path / "summary.json").read_text())
    return summary


@pytest.mark.parametrize("scenario", sorted(RUNS))
def test_builtin_scenario_summary_and_ledger_head(tmp_path: Path, scenario: str) -> None:
    check(f"run-{scenario}", run_summary(tmp_path, scenario, *RUNS[scenario]))


@pytest.mark.parametrize("mechanism", MECHANISM_RUNS)
def test_neighbourhood_under_each_mechanism(tmp_path: Path, mechanism: str) -> None:
    summary = run_summary(tmp_path, "neighbourhood", *RUNS["neighbourhood"],
                          "--set", f"mechanism={mechanism}")
    check(f"run-neighbourhood-{mechanism}", summary)


def fixed_books() -> dict[str, list[Order]]:
    """Hand-made books: ties, partial fills, a marginal order, decimal quantities.

    Written in kWh and €/kWh, cleared in the market's integers: kWh to the nearest Wh
    (0.5 + 1/3 kWh is 833 Wh), €/kWh to the nearest µ€/kWh.
    """
    def order(oid: str, side: Side, kwh: float, price: float, seq: int) -> Order:
        return Order(oid, f"p-{oid}", side, round(kwh * 1000), ueur_from_eur(price), 0, seq)

    buy, sell = Side.BUY, Side.SELL
    return {
        "simple": [order("b1", buy, 4, 0.30, 1), order("s1", sell, 3, 0.05, 2)],
        "ties": [order("b1", buy, 1.0, 0.12, 3), order("b2", buy, 1.0, 0.12, 1),
                 order("b3", buy, 0.5, 0.10, 2), order("s1", sell, 0.7, 0.08, 4),
                 order("s2", sell, 0.7, 0.08, 0), order("s3", sell, 2.0, 0.11, 5)],
        "decimals": [order("b1", buy, 0.1, 0.2, 1), order("b2", buy, 0.2, 0.2, 2),
                     order("s1", sell, 0.3, 0.1, 3), order("s2", sell, 0.333, 0.15, 4),
                     order("b3", buy, 0.7, 0.149, 5)],
        "no_cross": [order("b1", buy, 2, 0.05, 1), order("s1", sell, 2, 0.06, 2)],
        "pilot": [order(f"b{i}", buy, 1.0 + i / 4, 0.06 + 0.01 * i, i) for i in range(6)]
        + [order(f"s{i}", sell, 0.5 + i / 3, 0.03 + 0.012 * i, 10 + i) for i in range(6)],
    }


@pytest.mark.parametrize("mechanism", sorted(mechanism_names()))
def test_clearing_of_fixed_books(mechanism: str) -> None:
    out: dict[str, Any] = {}
    for name, orders in fixed_books().items():
        result = clear(orders, mechanism)
        out[name] = {
            "clearing_price_ueur_per_kwh": result.clearing_price_ueur_per_kwh,
            "trades": [[t.buy_order_id, t.sell_order_id, t.energy_wh, t.price_ueur_per_kwh]
                       for t in result.trades],
        }
    check(f"clear-{mechanism}", out)
