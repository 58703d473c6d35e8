"""Run every comparison through the batch runner and measure each mechanism's effect.

Why the batch runner: it already runs many independent runs in a process pool
or on Dask, resumes an interrupted study (finished runs are skipped) and keys
each run by what determines it; one executor is shared by all comparisons, so
a Dask cluster is started once. Each comparison's sweep keeps its own folder
(``OUT/<comparison>/``: runs, results table, batch report).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridcoop.experiments.batch.executors import make_executor
from gridcoop.experiments.batch.spec import Sweep, SweepError, plan
from gridcoop.experiments.batch.sweep import SweepResult, run_sweep
from gridcoop.experiments.research.comparisons import COMPARISONS, Comparison, arm
from gridcoop.experiments.research.report import write_report
from gridcoop.experiments.research.stats import effect

DEFAULT_SEEDS = 5
FloatArray = NDArray[np.float64]


@dataclass
class ResearchResult:
    """What ran, the effects table (one row per comparison and outcome) and where it wrote."""

    out_dir: Path
    effects: pd.DataFrame
    ran: dict[str, SweepResult]
    wall_s: float

    @property
    def report(self) -> Path:
        return self.out_dir / "report.md"


def sweep_of(comparison: Comparison, seeds: list[int], days: int | None) -> Sweep:
    """The comparison's sweep: its switch off and on, over ``seeds``."""
    return Sweep(scenario=comparison.scenario,
                 params={comparison.switch: [comparison.off, comparison.on]}, seeds=seeds,
                 days=days if days is not None else comparison.days,
                 overrides=comparison.fixed)


def choose(only: Iterable[str] | None) -> list[Comparison]:
    """The comparisons named in ``only`` (all when ``None``), in registry order."""
    if only is None:
        return list(COMPARISONS.values())
    names = list(only)
    unknown = [n for n in names if n not in COMPARISONS]
    if unknown:
        raise SweepError(f"unknown comparison {unknown[0]!r}; known: {', '.join(COMPARISONS)}")
    return [c for c in COMPARISONS.values() if c.name in names]


def arms_of(comparison: Comparison, sweep: Sweep) -> dict[str, str]:
    """Each run key's arm, ``"off"`` or ``"on"`` (from the plan, not the table's text)."""
    return {run.key: arm(comparison, dict(run.params)[comparison.switch])
            for run in plan(sweep)}


def effects_of(comparison: Comparison, sweep: Sweep, table: pd.DataFrame,
               index: int) -> list[dict[str, object]]:
    """One row per outcome: the effect of switching ``comparison`` on, over its ok runs."""
    ok = table[table["status"] == "ok"].assign(arm=table["key"].map(arms_of(comparison, sweep)))
    rows: list[dict[str, object]] = []
    for j, outcome in enumerate(comparison.outcomes):
        off, on = paired(ok, outcome.kpi, sweep.seeds)
        measured = effect(off, on, key=index * 100 + j)
        rows.append({"comparison": comparison.name, "scenario": comparison.scenario,
                     "switch": comparison.switch, "outcome": outcome.kpi,
                     "label": outcome.label, "better": outcome.better,
                     "failed_runs": int((table["status"] != "ok").sum()),
                     **measured.as_row()})
    return rows


def paired(ok: pd.DataFrame, kpi: str, seeds: list[int]) -> tuple[FloatArray, FloatArray]:
    """The KPI of each seed's off run and on run (nan where a run failed or lacks it)."""
    off = np.full(len(seeds), np.nan)
    on = np.full(len(seeds), np.nan)
    if kpi not in ok.columns:
        return off, on
    where = {seed: i for i, seed in enumerate(seeds)}
    values = pd.to_numeric(ok[kpi], errors="coerce")
    for seed, side, value in zip(ok["seed"], ok["arm"], values, strict=True):
        (on if side == "on" else off)[where[int(seed)]] = value
    return off, on


def run_research(out_dir: str | Path, *, seeds: int = DEFAULT_SEEDS, first_seed: int = 0,
                 days: int | None = None, workers: int | None = None, dask: str | None = None,
                 shared_fs: bool = False, only: Iterable[str] | None = None,
                 progress: bool = True) -> ResearchResult:
    """Run the comparisons (all, or ``only``) and write ``OUT/report.md``, ``effects.csv``
    and ``plots/*.png``. ``days`` overrides every comparison's days."""
    started = time.perf_counter()
    if seeds < 2:
        raise SweepError(f"seeds={seeds}: an effect needs at least 2 seeds per arm")
    chosen = choose(only)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_list = list(range(first_seed, first_seed + seeds))
    executor = make_executor(workers, dask, shared_fs)
    ran: dict[str, SweepResult] = {}
    arms: dict[str, dict[str, str]] = {}
    rows: list[dict[str, object]] = []
    try:
        for index, comparison in enumerate(chosen):
            sweep = sweep_of(comparison, seed_list, days)
            ran[comparison.name] = run_sweep(sweep, out / comparison.name, executor=executor,
                                             progress=progress)
            rows += effects_of(comparison, sweep, ran[comparison.name].table, index)
            arms[comparison.name] = arms_of(comparison, sweep)
        description = executor.description
    finally:
        executor.close()
    effects = pd.DataFrame(rows)
    effects.to_csv(out / "effects.csv", index=False)
    wall_s = time.perf_counter() - started
    write_report(out, chosen, effects, ran, arms, seed_list, days, description, wall_s)
    return ResearchResult(out_dir=out, effects=effects, ran=ran, wall_s=wall_s)
