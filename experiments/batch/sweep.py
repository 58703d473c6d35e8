"""Run a sweep: skip finished runs, execute the rest in parallel, write table and report.

``run_sweep`` is what ``gridcoop batch`` calls::

    from gridcoop.experiments.batch import Sweep, run_sweep
    sweep = Sweep(scenario="neighbourhood", params={"mechanism": ["average_bid", "pay_as_clear"]},
                  seeds=3, days=1, overrides={"households": 50, "regions": 2})
    result = run_sweep(sweep, "out/mechanisms", workers=2)      # or dask="local"
    result.table                 # pandas DataFrame, one row per run
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gridcoop.experiments.batch.execute import RunOutcome, execute_run
from gridcoop.experiments.batch.executors import Executor, make_executor
from gridcoop.experiments.batch.folders import is_finished, record_outcome, sweep_lock
from gridcoop.experiments.batch.report import write_report
from gridcoop.experiments.batch.spec import RunSpec, Sweep, check_names, plan
from gridcoop.experiments.batch.table import results_table, write_table


@dataclass
class SweepResult:
    """What a call of ``run_sweep`` did and where it wrote."""

    out_dir: Path
    table: pd.DataFrame
    executed: int
    skipped: int
    failed: int
    wall_s: float
    execute_s: float
    report_s: float
    executor: str
    interrupted: bool = False
    """Ctrl-C stopped the sweep: the table and report hold the runs finished so far (the
    others are ``missing``); the same command again resumes."""

    @property
    def report(self) -> Path:
        """The Markdown report."""
        return self.out_dir / "report.md"


def _crashed(run: RunSpec, exc: BaseException) -> RunOutcome:
    """An outcome for a run whose worker never answered (it died, or Dask lost it)."""
    from datetime import UTC, datetime

    return RunOutcome(key=run.key, status="failed", duration_s=0.0, host="", pid=0,
                      started_at=datetime.now(UTC).isoformat(timespec="seconds"),
                      error=f"{type(exc).__name__}: {exc}", details=None)


def execute_pending(runs: list[RunSpec], out_dir: Path, executor: Executor, *,
                    progress: bool = True, label: str = "") -> tuple[int, int]:
    """Execute ``runs`` and record each in its folder as it finishes; returns (done, failed)."""
    from tqdm import tqdm

    target = None if executor.ships_files else str((out_dir / "runs").resolve())
    (out_dir / "runs").mkdir(parents=True, exist_ok=True)
    done = failed = 0
    with tqdm(total=len(runs), unit="run", desc=label or "runs", disable=not progress,
              dynamic_ncols=True) as bar:
        bar.set_postfix(done=0, failed=0)
        for run, result in executor.map_unordered(execute_run, runs, target):
            outcome = result if isinstance(result, RunOutcome) else _crashed(run, result)
            record_outcome(out_dir, run, outcome)
            if outcome.status == "ok":
                done += 1
            else:
                failed += 1
                bar.write(f"run {run.key} failed ({_short(run)}): {outcome.error}")
            bar.set_postfix(done=done, failed=failed, refresh=False)
            bar.update(1)
    return done, failed


def _short(run: RunSpec) -> str:
    values = ", ".join(f"{k}={v}" for k, v in run.params)
    return f"{values}, seed {run.seed}" if values else f"seed {run.seed}"


def run_sweep(sweep: Sweep, out_dir: str | Path, *, workers: int | None = None,
              dask: str | None = None, shared_fs: bool = False, progress: bool = True,
              executor: Executor | None = None) -> SweepResult:
    """Run every unfinished run of ``sweep`` into ``out_dir``; write the table and report.

    Finished runs (a ``done.json`` in their folder) are skipped; failed runs
    are tried again. ``executor`` overrides ``workers``/``dask`` (and is not
    closed here), so several sweeps can share one Dask cluster.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    check_names(sweep)
    runs = plan(sweep)
    with sweep_lock(out):
        pending = [run for run in runs if not is_finished(out, run.key)]
        own = executor is None
        chosen = executor if executor is not None else (
            make_executor(workers, dask, shared_fs) if pending else None)
        description = chosen.description if chosen is not None else "no executor (nothing left)"
        execute_started = time.perf_counter()
        executed = failed = 0
        interrupted = False
        try:
            if pending and chosen is not None:
                label = f"{sweep.scenario_label} ({len(runs) - len(pending)} already done)"
                executed, failed = execute_pending(pending, out, chosen, progress=progress,
                                                   label=label)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if own and chosen is not None:
                chosen.close()
        execute_s = time.perf_counter() - execute_started
        report_started = time.perf_counter()
        table = results_table(runs, out)
        write_table(table, out)
        facts = [("scenario", f"`{sweep.scenario_label}`"),
                 ("swept", ", ".join(f"`{k}` = {', '.join(map(str, v))}"
                                     for k, v in sweep.params.items()) or "nothing (seeds only)"),
                 ("seeds", ", ".join(map(str, sweep.seeds))),
                 ("days", str(sweep.days) if sweep.days is not None else "the scenario's"),
                 ("fixed overrides", f"`{sweep.overrides}`" if sweep.overrides else "none"),
                 ("this invocation", f"{executed + failed} run(s) executed on {description}, "
                                     f"{len(runs) - len(pending)} finished before")]
        if interrupted:
            missing = int((table["status"] == "missing").sum())
            facts.append(("PARTIAL", f"interrupted (Ctrl-C) with {missing} run(s) not run; "
                                     "the same command again runs only those"))
        write_report(table, out, title=f"Batch sweep: {sweep.scenario_label}",
                     parameters=list(sweep.params), kpis=table.attrs["kpis"], facts=facts)
        report_s = time.perf_counter() - report_started
    return SweepResult(out_dir=out, table=table, executed=executed + failed,
                       skipped=len(runs) - len(pending), failed=int((table["status"] != "ok")
                                                                    .sum()),
                       wall_s=time.perf_counter() - started, execute_s=execute_s,
                       report_s=report_s, executor=description, interrupted=interrupted)
