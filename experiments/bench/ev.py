"""``gridcoop bench ev``: the EV community's speed (issue 5's figures).

Figures:

* ``large_run``: the ``ev-community-large`` scenario (400 households, 300 EVs
  in 4 communities, hourly auctions, the spinning-reserve market and the
  gamification on the ledger) for ``days`` days: simulated days per second,
  wall and CPU seconds, split into the setup (the fleet's warm-up history and
  the first day's forecast) and the run;
* ``pilot_run``: ``ev-community`` (7 Leafs) for 91 days, the pilot's 3 months;
* ``location_communities``: the pilot as one community and as two location
  communities (campus on weekday working hours, home the rest), interleaved
  twice: each run's figures and the ratio of CPU seconds, two over one;
* ``forecaster``: Naive Bayes training and prediction for 1,000 EVs × 90 days
  of 5-minute history (per-EV models, the run's configuration), and the
  history simulation that feeds it.

Wall times depend on what else the machine runs, so CPU seconds of this
process are given beside them. ``quick=True`` runs small sizes.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from gridcoop.agents.mechanisms.ev import (
    NaiveBayesAvailability,
    SimulationOptions,
    random_fleet,
    simulate_fleet,
)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return round(wall - start[0], 3), round(cpu - start[1], 3)


def _run(kind: str, days: int, **params: Any) -> dict[str, Any]:
    from gridcoop.agents.model.community import CommunityModel

    start = _clock()
    model = CommunityModel(kind, days=days, seed=1, **params)
    setup_wall, setup_cpu = _since(start)
    begin = _clock()
    try:
        summary = model.run()
    finally:
        model.close()
    run_wall, run_cpu = _since(begin)
    total_wall = setup_wall + run_wall
    return {
        "days": days, "evs": summary["ev_members"], "communities": summary["ev_communities"],
        "households": summary["members"],
        "setup_wall_s": setup_wall, "setup_cpu_s": setup_cpu,
        "run_wall_s": run_wall, "run_cpu_s": run_cpu,
        "simulated_days_per_s": round(days / total_wall, 3),
        "simulated_days_per_cpu_s": round(days / (setup_cpu + run_cpu), 3),
        "ledger_blocks": summary["ledger_height"] + 1,
        "calls_dispatched": summary["ev_calls_dispatched"],
        "forecast_brier": summary["ev_forecast"]["brier"],
        "forecast_brier_baseline": summary["ev_forecast"]["brier_baseline"],
    }


CAMPUS_AND_HOME = ({"name": "campus", "periods": [[8, 18]], "days": "weekdays"},
                   {"name": "home", "periods": "rest"})


def _locations(days: int) -> dict[str, Any]:
    """One community against two location communities, interleaved (one, two, one, two)."""
    runs: dict[str, list[dict[str, Any]]] = {"one": [], "two": []}
    for _ in range(2):
        runs["one"].append(_run("ev-community", days))
        runs["two"].append(_run("ev-community", days,
                                ev_community={"communities": CAMPUS_AND_HOME}))
    cpu = {k: sum(r["setup_cpu_s"] + r["run_cpu_s"] for r in v) for k, v in runs.items()}
    return {**runs, "cpu_ratio_two_over_one": round(cpu["two"] / cpu["one"], 3)}


def _forecaster(evs: int, days: int) -> dict[str, Any]:
    fleet = random_fleet(evs, seed=1)
    start = _clock()
    history = simulate_fleet(fleet, days, seed=1, options=SimulationOptions())
    sim_wall, sim_cpu = _since(start)
    model = NaiveBayesAvailability()
    fits, predicts = [], []
    for _ in range(3):
        start = _clock()
        model.fit(history.plugged, history.step_min, warned=history.warned)
        fits.append(_since(start))
        start = _clock()
        prob = model.predict_proba(0, days, warned=history.warned)
        predicts.append(_since(start))
    fit = sorted(fits)[1]
    predict = sorted(predicts)[1]
    return {
        "evs": evs, "days": days, "steps_per_ev": int(history.plugged.shape[1]),
        "simulate_wall_s": sim_wall, "simulate_cpu_s": sim_cpu,
        "train_wall_s": fit[0], "train_cpu_s": fit[1],
        "predict_wall_s": predict[0], "predict_cpu_s": predict[1],
        "probabilities": int(prob.size),
        "mean_probability": round(float(np.mean(prob)), 4),
    }


def run(quick: bool) -> dict[str, Any]:
    """The EV figures (median of 3 for the forecaster; one run per scenario)."""
    load = os.getloadavg()[0]
    if quick:
        return {
            "load_average_at_start": round(load, 2),
            "large_run": _run("ev-community-large", 2, households=80),
            "location_communities": _locations(7),
            "forecaster": _forecaster(100, 14),
        }
    return {
        "load_average_at_start": round(load, 2),
        "large_run": _run("ev-community-large", 28),
        "pilot_run": _run("ev-community", 91),
        "location_communities": _locations(91),
        "forecaster": _forecaster(1000, 90),
    }
