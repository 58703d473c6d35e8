"""Executors: a dying worker process and a raising task fail only their own item."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gridcoop.experiments.batch import LocalProcesses, RunSpec, WorkerDiedError, execute_run
from gridcoop.experiments.batch.spec import Sweep, plan


def task(item: str, suffix: str) -> str:
    """Module level, so spawned workers can import it."""
    if item == "die":
        os._exit(3)
    if item == "boom":
        raise ValueError("boom was asked for")
    return item + suffix


def test_a_dying_worker_fails_only_its_own_item() -> None:
    items = ["a", "die", "b", "c", "boom", "d"]
    results = dict(LocalProcesses(workers=2).map_unordered(task, items, "!"))
    assert sorted(results) == sorted(items)
    assert {k: v for k, v in results.items() if isinstance(v, str)} == \
        {"a": "a!", "b": "b!", "c": "c!", "d": "d!"}
    assert isinstance(results["die"], WorkerDiedError)
    assert isinstance(results["boom"], ValueError) and "boom was asked" in str(results["boom"])


def test_dask_tasks_that_raise_come_back_as_errors() -> None:
    distributed = pytest.importorskip("distributed")
    from gridcoop.experiments.batch import DaskExecutor

    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        executor = DaskExecutor(cluster.scheduler_address)
        try:
            assert executor.ships_files
            results = dict(executor.map_unordered(task, ["x", "boom"], "?"))
        finally:
            executor.close()
    finally:
        cluster.close()
    assert results["x"] == "x?"
    assert isinstance(results["boom"], ValueError)


def _one_run(**overrides: object) -> RunSpec:
    sweep = Sweep(scenario="neighbourhood", seeds=[4], days=1,
                  overrides={"households": 5, "regions": 1, **overrides})
    return plan(sweep)[0]


def test_execute_run_in_process_ships_or_writes(tmp_path: Path) -> None:
    shipped = execute_run(_one_run(), None)
    assert shipped.status == "ok" and shipped.error is None
    assert shipped.files is not None
    assert {"summary.json", "ledger.sqlite", "trades.csv"} <= set(shipped.files)
    run = _one_run()
    written = execute_run(run, str(tmp_path))
    assert written.files is None and (tmp_path / run.key / "ledger.sqlite").is_file()
    assert written.summary == shipped.summary  # same seed, same KPIs, same ledger head
    assert written.summary is not None and written.summary["seed"] == 4
    # A finished run's folder is never emptied by a second attempt.
    (tmp_path / run.key / "done.json").write_text("{}")
    again = execute_run(run, str(tmp_path))
    assert again.status == "failed" and "holds a finished run" in (again.error or "")
    assert (tmp_path / run.key / "ledger.sqlite").is_file()


def test_execute_run_reports_an_invalid_scenario() -> None:
    outcome = execute_run(_one_run(regions=7), None)
    assert outcome.status == "failed" and outcome.summary is None
    assert outcome.error is not None and outcome.error.startswith("ScenarioError: ")
    assert "regions=7 exceeds households=5" in outcome.error
    assert outcome.details is not None and "Traceback" in outcome.details
