"""``gridcoop bench processes``: one large community in one process vs in worker processes.

``neighbourhood`` with 2,000 households for 7 days (``quick``: 200 households,
1 day), seed 0: once as a plain ``CommunityModel`` and once as a
``DistributedModel`` with 2 local worker processes (the regions' physics,
meters and members in the workers; books, central market and ledger here).

Figures: ``wall_s`` of each (construction, run and close, i.e. including the
workers' start), ``speedup`` = single / processes, ``same_head_hash`` (the two
runs must agree), the market process's own CPU seconds, the workers' CPU
seconds (``getrusage(RUSAGE_CHILDREN)`` once reaped), and the load average
before and after, since the machine may be shared. The ledger (signing,
hashing, SQLite) stays in the market process, so it bounds the speed-up.
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
    from agents.distributed import DistributedModel
    from agents.model import CommunityModel

    self_cpu, child_cpu = _cpu_s(resource.RUSAGE_SELF), _cpu_s(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    model: CommunityModel
    if processes:
        model = DistributedModel("neighbourhood", processes=processes, timeout_s=300,
                                 ledger_path=str(ledger), **params)
    else:
        model = CommunityModel("neighbourhood", ledger_path=str(ledger), **params)
    try:
        summary = model.run()
    finally:
        model.close()
    wall = time.perf_counter() - start
    return {"wall_s": round(wall, 2), "head": summary["ledger_head_hash"],
            "market_cpu_s": round(_cpu_s(resource.RUSAGE_SELF) - self_cpu, 2),
            "workers_cpu_s": round(_cpu_s(resource.RUSAGE_CHILDREN) - child_cpu, 2)}


def run(quick: bool) -> dict[str, Any]:
    params = {"households": 200 if quick else 2000, "days": 1 if quick else 7, "seed": 0}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        single = _timed(0, params, Path(tmp) / "one.sqlite")
        multi = _timed(2, params, Path(tmp) / "two.sqlite")
    same = single.pop("head") == multi.pop("head")
    single.pop("workers_cpu_s")
    return {
        "scenario": f"neighbourhood, {params['households']} households, {params['days']} days",
        "single_process": single,
        "processes_2": multi,
        "speedup": round(single["wall_s"] / multi["wall_s"], 2),
        "same_head_hash": same,
        "cpus": os.cpu_count(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
