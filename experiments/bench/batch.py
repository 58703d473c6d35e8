"""``gridcoop bench batch``: wall time of a sweep on 1 and on 2 worker processes.

The sweep: ``neighbourhood`` with 200 households for 7 days, ``mechanism`` in
{average_bid, pay_as_clear} x 8 seeds = 16 runs (``quick``: 50 households,
1 day, 2 x 2 = 4 runs). The same sweep runs into a fresh folder with 1 and 2
local worker processes, then on a Dask LocalCluster of 2 workers.

Figures per configuration: ``execute_s`` (from the first submission to the
last run recorded, including starting the worker processes), ``total_s``
(plus the results table and the report with its plots, which run in the
calling process and do not depend on the workers), ``mean_run_s`` (the mean
of each run's own wall time, measured in its worker). ``speedup_2_workers`` =
execute_s(1) / execute_s(2). The machine may be shared: the load average
before and after and the CPU count are reported beside the figures, and
``worker_cpu_s`` (CPU seconds used by the worker processes, from
``getrusage(RUSAGE_CHILDREN)`` once they are reaped) with ``cores_used`` =
worker_cpu_s / execute_s: how many cores' worth the sweep actually got. When
other work keeps the cores busy, ``cores_used`` stays near 1 with 2 workers
and the speed-up with it.
"""

from __future__ import annotations

import os
import resource
import tempfile
from typing import Any

from gridcoop.experiments.batch import Sweep, run_sweep
from gridcoop.experiments.batch.sweep import SweepResult


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _figures(result: SweepResult, cpu_s: float) -> dict[str, Any]:
    durations = result.table["duration_s"].astype(float)
    return {"execute_s": round(result.execute_s, 2), "total_s": round(result.wall_s, 2),
            "worker_cpu_s": round(cpu_s, 2), "cores_used": round(cpu_s / result.execute_s, 2),
            "report_s": round(result.report_s, 2), "mean_run_s": round(durations.mean(), 2),
            "runs_per_minute": round(60 * len(result.table) / result.execute_s, 2),
            "failed": result.failed}


def run(quick: bool) -> dict[str, Any]:
    """Time the sweep with 1 and 2 local workers, and with a 2-worker Dask LocalCluster."""
    households, days, seeds = (50, 1, 2) if quick else (200, 7, 8)
    sweep = Sweep(scenario="neighbourhood",
                  params={"mechanism": ["average_bid", "pay_as_clear"]},
                  seeds=seeds, days=days, overrides={"households": households})
    figures: dict[str, Any] = {
        "runs": sweep.size(), "households": households, "days": days,
        "cpu_count": os.cpu_count(),
        "load_average_1min_before": round(os.getloadavg()[0], 2),
    }
    tables = {}
    for name, workers, dask in (("workers_1", 1, None), ("workers_2", 2, None),
                                ("dask_local_2", 2, "local")):
        cpu_before = _children_cpu_s()
        with tempfile.TemporaryDirectory(prefix="gridcoop-bench-batch-") as folder:
            result = run_sweep(sweep, folder, workers=workers, dask=dask, progress=False)
        figures[name] = _figures(result, _children_cpu_s() - cpu_before)
        tables[name] = result.table
    figures["speedup_2_workers"] = round(figures["workers_1"]["execute_s"]
                                         / figures["workers_2"]["execute_s"], 2)
    figures["speedup_dask_local_2"] = round(figures["workers_1"]["execute_s"]
                                            / figures["dask_local_2"]["execute_s"], 2)
    heads = {name: table["ledger_head_hash"].tolist() for name, table in tables.items()}
    figures["same_ledger_heads"] = len({tuple(h) for h in heads.values()}) == 1
    figures["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    return figures
