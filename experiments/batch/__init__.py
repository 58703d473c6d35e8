"""Batch experiments: parameter sweeps over seeds, in parallel, resumable, with a report.

    from gridcoop.experiments.batch import Sweep, run_sweep
    sweep = Sweep(scenario="neighbourhood", params={"households": [50, 100]}, seeds=3, days=1)
    result = run_sweep(sweep, "out/sweep", workers=2)   # or dask="local" / "tcp://host:8786"

``gridcoop batch`` is the command line of the same; ``run_campus_cases``
reproduces the campus cases of docs/domain/campus.md.
"""

from gridcoop.experiments.batch.campus import (
    CAMPUS_CASES,
    CampusCase,
    CampusResult,
    run_campus_cases,
)
from gridcoop.experiments.batch.execute import RUN_OPTIONS, RunOutcome, execute_run
from gridcoop.experiments.batch.executors import (
    DaskExecutor,
    LocalProcesses,
    WorkerDiedError,
    make_executor,
)
from gridcoop.experiments.batch.spec import (
    RunSpec,
    Sweep,
    SweepError,
    plan,
    run_key,
    sweep_from_dict,
)
from gridcoop.experiments.batch.sweep import SweepResult, run_sweep
from gridcoop.experiments.batch.sweepfile import SweepOptions, is_sweep_file, load_sweep_file
from gridcoop.experiments.batch.table import results_table

__all__ = [
    "CAMPUS_CASES",
    "RUN_OPTIONS",
    "CampusCase",
    "CampusResult",
    "DaskExecutor",
    "LocalProcesses",
    "RunOutcome",
    "RunSpec",
    "Sweep",
    "SweepError",
    "SweepOptions",
    "SweepResult",
    "WorkerDiedError",
    "execute_run",
    "is_sweep_file",
    "load_sweep_file",
    "make_executor",
    "plan",
    "results_table",
    "run_campus_cases",
    "run_key",
    "run_sweep",
    "sweep_from_dict",
]
