"""``gridcoop bench processes``: one large community in one process vs in worker processes.

``neighbourhood`` with 2,000 households for 7 days (``quick``: 200 households,
1 day), seed 0: once in one process and with ``WorkerRegions`` (``DistributedModel``)
with 1 and with 2 local worker processes (the regions' physics, meters, members
and aggregators with their local books and replicas in the workers; the
central market and the ledger here).

Figures: ``wall_s`` of each (construction, run and close, i.e. including the
workers' start) and ``run_s`` (the run alone); ``speedup`` = single / 2
processes (``_run``: of the runs alone; ``_1``: with 1 worker process);
``same_head_hash`` (all runs must agree); the market process's own CPU
seconds, its children's (``getrusage(RUSAGE_CHILDREN)`` once reaped: the
replica process of a single run; workers and their replica processes), each
worker's own CPU and its replica's; and the load average before and after,
since the machine may be shared. The ledger (signing, hashing, SQLite) stays
in the market process, so it bounds the speed-up.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _timed(processes: int, params: dict[str, Any], ledger: Path) -> dict[str, Any]:
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.agents.runtime.distributed import DistributedModel, WorkerRegions

    self_cpu, child_cpu = _cpu_s(resource.RUSAGE_SELF), _cpu_s(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    model: CommunityModel
    if processes:
        model = DistributedModel("neighbourhood", processes=processes, timeout_s=300,
                                 ledger_path=str(ledger), **params)
    else:
        model = CommunityModel("neighbourhood", ledger_path=str(ledger), **params)
    built = time.perf_counter()
    try:
        summary = model.run()
        ran = time.perf_counter()
    finally:
        model.close()
    wall = time.perf_counter() - start
    figures = {"wall_s": round(wall, 2), "run_s": round(ran - built, 2),
               "head": summary["ledger_head_hash"],
               "market_cpu_s": round(_cpu_s(resource.RUSAGE_SELF) - self_cpu, 2),
               "children_cpu_s": round(_cpu_s(resource.RUSAGE_CHILDREN) - child_cpu, 2)}
    workers = model.region_host
    if isinstance(workers, WorkerRegions):  # each worker's own CPU and its replica's
        figures["per_worker_cpu_s"] = workers.worker_cpu_s
        figures["local_clearings_in_workers"] = workers.local_clearings
    return figures


def run(quick: bool) -> dict[str, Any]:
    params = {"households": 200 if quick else 2000, "days": 1 if quick else 7, "seed": 0}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        single = _timed(0, params, Path(tmp) / "one.sqlite")
        one = _timed(1, params, Path(tmp) / "w1.sqlite")
        two = _timed(2, params, Path(tmp) / "w2.sqlite")
    same = single.pop("head") == one.pop("head") == two.pop("head")
    return {
        "scenario": f"neighbourhood, {params['households']} households, {params['days']} days",
        "single_process": single,
        "processes_1": one,
        "processes_2": two,
        "speedup": round(single["wall_s"] / two["wall_s"], 2),
        "speedup_run": round(single["run_s"] / two["run_s"], 2),
        "speedup_1": round(single["wall_s"] / one["wall_s"], 2),
        "speedup_run_1": round(single["run_s"] / one["run_s"], 2),
        "same_head_hash": same,
        "cpus": os.cpu_count(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
