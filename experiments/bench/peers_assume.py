"""Runs one book file in ASSUME 0.6 and prints its hourly traded volume and timings as JSON.

Why a separate script: ASSUME is not a gridcoop dependency; ``gridcoop bench peers``
runs this file with the interpreter of ASSUME's own virtual environment, so it
imports nothing of gridcoop (only ASSUME, numpy and the standard library).
Usage: ``python peers_assume.py BOOKS.npz OUTPUT_DIR``.

The scenario is built in code: one pay-as-clear market clearing each hour for
the next hour (book hour ``h`` is delivered in the world's hour ``h + 1``; the
market opens two more hours with no orders, since ASSUME writes no results for
a run's last two openings), one demand unit per book column (its hourly
quantity as the demand series, its price as the unit's bid price) and one
power plant per supply column (its largest hourly quantity as capacity, the
hour's share of it as availability, its price as the marginal cost). Volumes
are exchanged in MW, i.e. Wh / 10**6 for one-hour products.
"""

from __future__ import annotations

import csv
import json
import logging
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

started = time.perf_counter()

from assume import World  # noqa: E402
from assume.common.fast_pandas import FastIndex  # noqa: E402
from assume.common.forecaster import (  # noqa: E402
    DemandForecaster,
    PowerplantForecaster,
)
from assume.common.market_objects import (  # noqa: E402
    MarketConfig,
    MarketProduct,
)
from dateutil import rrule  # type: ignore[import-untyped]  # noqa: E402

WH_PER_MWH = 1_000_000
START = datetime(2026, 1, 5)


def build(world: World, books: dict[str, np.ndarray], output: Path) -> None:
    demand_wh, supply_wh = books["demand_wh"], books["supply_wh"]
    hours, units = demand_wh.shape
    end = START + timedelta(hours=hours + 3)  # room for the last clearings to be written
    index = FastIndex(start=START, end=end + timedelta(hours=24), freq="h")
    world.setup(start=START, end=end, simulation_id="gridcoop_peers", save_frequency_hours=None)
    world.add_market_operator(id="operator")
    world.add_market("operator", MarketConfig(
        market_id="hourly",
        opening_hours=rrule.rrule(rrule.HOURLY, dtstart=START,
                                  until=START + timedelta(hours=hours + 1)),
        opening_duration=timedelta(hours=1),
        market_mechanism="pay_as_clear",
        market_products=[MarketProduct(timedelta(hours=1), 1, timedelta(hours=1))],
        maximum_bid_volume=1e9,
    ))
    world.add_unit_operator("consumers")
    world.add_unit_operator("producers")
    before, after = np.zeros(1), np.zeros(len(index) - hours - 1)  # hour h is delivered at h+1
    for unit in range(units):
        demand_mw = np.concatenate([before, demand_wh[:, unit] / WH_PER_MWH, after])
        world.add_unit(f"demand-{unit:06d}", "demand", "consumers", {
            "min_power": 0, "max_power": -(float(demand_mw.max()) or 1e-9),
            "bidding_strategies": {"hourly": "demand_energy_naive"},
            "technology": "demand", "price": float(books["demand_eur_per_mwh"][unit]),
        }, DemandForecaster(index, demand=-demand_mw))
        supply_mw = np.concatenate([before, supply_wh[:, unit] / WH_PER_MWH, after])
        capacity = float(supply_mw.max()) or 1e-9
        world.add_unit(f"supply-{unit:06d}", "power_plant", "producers", {
            "min_power": 0, "max_power": capacity,
            "bidding_strategies": {"hourly": "powerplant_energy_naive"},
            "technology": "other", "fuel_type": "others",
            "additional_cost": float(books["supply_eur_per_mwh"][unit]),
        }, PowerplantForecaster(index, availability=supply_mw / capacity))
    del output


def traded_wh(folder: Path, hours: int) -> list[int]:
    """The hourly accepted volume from ASSUME's market results file, in Wh."""
    volume = [0] * hours
    found = sorted(folder.rglob("market_meta.csv"))
    if not found:
        raise SystemExit(f"ASSUME wrote no market_meta.csv under {folder}")
    first = START + timedelta(hours=1)
    with found[0].open(newline="") as handle:
        for row in csv.DictReader(handle):
            hour = int((datetime.fromisoformat(row["product_start"]) - first)
                       / timedelta(hours=1))
            if 0 <= hour < hours:
                volume[hour] = round(float(row["supply_volume"]) * WH_PER_MWH)
    return volume


def main() -> None:
    books_path, output = Path(sys.argv[1]), Path(sys.argv[2])
    books = dict(np.load(books_path))
    logging.disable(logging.WARNING)
    world = World(export_csv_path=str(output), log_level="ERROR")
    build(world, books, output)
    loop, cpu = time.perf_counter(), time.process_time()
    world.run()
    loop_s, cpu_s = time.perf_counter() - loop, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"loop_s": loop_s, "process_s": time.perf_counter() - started,
                      "loop_cpu_s": cpu_s + children.ru_utime + children.ru_stime,
                      "traded_wh": traded_wh(output, books["demand_wh"].shape[0])}))


if __name__ == "__main__":
    main()
