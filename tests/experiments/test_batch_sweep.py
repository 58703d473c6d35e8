"""Real sweeps of a tiny ``neighbourhood``: local processes vs Dask, resume, failures, report.

Each run is 6-8 households for one day (about half a second of model time);
most of a test's time is starting worker processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from gridcoop.experiments.batch import Sweep, SweepResult, run_sweep
from gridcoop.experiments.batch.folders import run_folder
from gridcoop.experiments.cli import main

SMALL = Sweep(scenario="neighbourhood",
              params={"households": [6, 8], "mechanism": ["average_bid", "pay_as_clear"]},
              seeds=2, days=1, overrides={"regions": 2})
TIMING = ["duration_s"]


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    return run_sweep(SMALL, tmp_path_factory.mktemp("local"), workers=2, progress=False)


def _exact(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=TIMING)


def _markers(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.parent.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in (out / "runs").glob("*/done.json")}


def test_local_sweep_table(local_sweep: SweepResult) -> None:
    table = local_sweep.table
    assert (local_sweep.executed, local_sweep.skipped, local_sweep.failed) == (8, 0, 0)
    assert list(table.columns[:8]) == ["key", "scenario", "households", "mechanism", "seed",
                                       "status", "error", "duration_s"]
    assert table.columns[-1] == "ledger_head_hash"
    # Sorted by parameters, then seed.
    assert list(zip(table["households"], table["mechanism"], table["seed"], strict=True)) == [
        (h, m, s) for h in (6, 8) for m in ("average_bid", "pay_as_clear") for s in (0, 1)]
    assert (table["status"] == "ok").all() and table["error"].isna().all()
    assert str(table["trades"].dtype) == "Int64"
    for _, row in table.iterrows():  # every KPI is the run's own summary.json, exactly
        summary = json.loads((run_folder(local_sweep.out_dir, row["key"]) /
                              "summary.json").read_text())
        assert row["members"] == summary["members"] == row["households"]
        assert row["ledger_head_hash"] == summary["ledger_head_hash"]
        assert row["self_sufficiency"] == summary["self_sufficiency"]
        assert row["mechanism"] == summary["mechanism"]
    # Files on disk agree with the returned table.
    parquet = pd.read_parquet(local_sweep.out_dir / "results.parquet")
    pd.testing.assert_frame_equal(parquet, table, check_dtype=False)
    csv = pd.read_csv(local_sweep.out_dir / "results.csv")
    assert csv["ledger_head_hash"].tolist() == table["ledger_head_hash"].tolist()
    assert csv["trades"].tolist() == table["trades"].tolist()


def test_runs_hold_their_files_and_a_valid_ledger(local_sweep: SweepResult) -> None:
    key = local_sweep.table["key"].iloc[0]
    folder = run_folder(local_sweep.out_dir, key)
    assert {"summary.json", "ledger.sqlite", "trades.csv", "bills.csv", "timeseries.csv",
            "done.json"} <= {p.name for p in folder.iterdir()}
    done = json.loads((folder / "done.json").read_text())
    assert done["key"] == key and done["status"] == "ok" and done["seed"] == 0
    assert done["params"] == {"households": 6, "mechanism": "average_bid"}
    assert "ledger.sqlite" in done["files"]
    result = CliRunner().invoke(main, ["ledger", "verify", str(folder / "ledger.sqlite")])
    assert result.exit_code == 0, result.output


def test_dask_local_cluster_gives_the_same_table(local_sweep: SweepResult,
                                                 tmp_path: Path) -> None:
    dask = run_sweep(SMALL, tmp_path, workers=2, dask="local", progress=False)
    assert "LocalCluster" in dask.executor and dask.executed == 8
    pd.testing.assert_frame_equal(_exact(dask.table), _exact(local_sweep.table))


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_scheduler_address_ships_the_files_back(local_sweep: SweepResult, scheduler: str,
                                                tmp_path: Path) -> None:
    sweep = Sweep(scenario="neighbourhood", params={"households": [6]}, seeds=2, days=1,
                  overrides={"regions": 2, "mechanism": "average_bid"})
    result = run_sweep(sweep, tmp_path, dask=scheduler, progress=False)
    assert result.executor.startswith(f"Dask scheduler {scheduler}")
    assert result.failed == 0
    for key in result.table["key"]:
        assert (run_folder(tmp_path, key) / "ledger.sqlite").stat().st_size > 0
    # Same runs as the local sweep's households=6, average_bid rows (fixed, not swept here).
    local = local_sweep.table
    local = local[(local["households"] == 6) & (local["mechanism"] == "average_bid")]
    assert result.table["ledger_head_hash"].tolist() == local["ledger_head_hash"].tolist()
    assert result.table["trades"].tolist() == local["trades"].tolist()


def test_resume_repeats_only_unfinished_runs(local_sweep: SweepResult, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(local_sweep.out_dir, out)
    again = run_sweep(SMALL, out, workers=2, progress=False)
    assert (again.executed, again.skipped) == (0, 8)
    before = _markers(out)
    victim = sorted(before)[3]
    (run_folder(out, victim) / "done.json").unlink()
    (run_folder(out, victim) / "summary.json").write_text("{half written")
    resumed = run_sweep(SMALL, out, workers=1, progress=False)
    assert (resumed.executed, resumed.skipped, resumed.failed) == (1, 7, 0)
    after = _markers(out)
    assert {k: v for k, v in after.items() if k != victim} == \
        {k: v for k, v in before.items() if k != victim}
    assert after[victim][1] > before[victim][1]
    pd.testing.assert_frame_equal(_exact(resumed.table), _exact(local_sweep.table))


def test_killed_sweep_resumes_without_repeating_finished_runs(local_sweep: SweepResult,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "gridcoop.experiments.cli", "batch", "neighbourhood",
               "--param", "households=6,8", "--param", "mechanism=average_bid,pay_as_clear",
               "--seeds", "2", "--days", "1", "--set", "regions=2", "--workers", "1",
               "--quiet", "--out", str(out)]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "runs").glob("*/done.json")):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no run finished within 120 s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finished = _markers(out)
    assert 1 <= len(finished) < 8
    assert not (out / "results.parquet").exists()
    resumed = run_sweep(SMALL, out, workers=2, progress=False)
    assert resumed.skipped == len(finished)
    assert resumed.executed == 8 - len(finished)
    after = _markers(out)
    assert {k: after[k] for k in finished} == finished
    pd.testing.assert_frame_equal(_exact(resumed.table), _exact(local_sweep.table))


def test_a_failing_run_is_reported_and_the_sweep_completes(tmp_path: Path) -> None:
    sweep = Sweep(scenario="neighbourhood", params={"regions": [1, 9]}, seeds=[0], days=1,
                  overrides={"households": 6})
    result = run_sweep(sweep, tmp_path, workers=2, progress=False)
    table = result.table
    assert (result.executed, result.failed) == (2, 1)
    assert table["status"].tolist() == ["ok", "failed"]
    failed = table.iloc[1]
    assert failed["regions"] == 9 and pd.isna(failed["trades"])
    assert failed["error"].startswith("ScenarioError: ")
    assert "regions=9 exceeds households=6" in failed["error"]
    folder = run_folder(tmp_path, failed["key"])
    assert not (folder / "done.json").exists()
    assert "Traceback" in (folder / "error.txt").read_text()
    report = (tmp_path / "report.md").read_text()
    assert "## Failed runs" in report and "regions=9 exceeds households=6" in report
    assert "2 (1 ok, 1 failed)" in report
    csv = pd.read_csv(tmp_path / "results.csv")
    assert csv["status"].tolist() == ["ok", "failed"]
    # A re-run tries the failed run again and leaves the finished one alone.
    again = run_sweep(sweep, tmp_path, workers=1, progress=False)
    assert (again.executed, again.skipped, again.failed) == (1, 1, 1)


def test_report_and_plots(local_sweep: SweepResult) -> None:
    out = local_sweep.out_dir
    report = (out / "report.md").read_text()
    linked = sorted(line.split("](")[1].rstrip(")") for line in report.splitlines()
                    if line.startswith("!["))
    pngs = sorted(f"plots/{p.name}" for p in (out / "plots").glob("*.png"))
    assert linked == pngs
    assert "plots/self_sufficiency--households.png" in pngs
    assert "plots/mean_local_price_eur_per_kwh--mechanism.png" in pngs
    assert "plots/feed_in_price_eur_per_kwh--households.png" not in pngs  # constant: a table
    assert "| feed_in_price_eur_per_kwh | 0.039 |" in report
    for name in pngs:
        with Image.open(out / name) as image:
            image.verify()
        with Image.open(out / name) as image:
            assert image.format == "PNG" and image.size == (640, 400)
    # The summary cell is mean [min, max] over the two seeds of that combination.
    table = local_sweep.table
    cell = table[(table["households"] == 8) & (table["mechanism"] == "pay_as_clear")]["trades"]
    expected = f"{cell.astype(float).mean():.6g} [{cell.min():.6g}, {cell.max():.6g}]"
    row = next(line for line in report.splitlines() if line.startswith("| trades |"))
    assert row.strip("| ").split(" | ")[4] == expected


def test_a_swept_null_groups_like_any_other_value(tmp_path: Path) -> None:
    from gridcoop.experiments.batch.report import groups_by, write_report

    frame = pd.DataFrame({
        "key": ["a", "b", "c", "d"], "status": ["ok"] * 4, "seed": [0, 1, 0, 1],
        "error": [None] * 4,
        "rankings_from_day": pd.array([None, None, 28, 28], dtype="Int64"),
        "waste_kwh": [10.0, 12.0, 6.0, 8.0]})
    groups = groups_by(frame, ["rankings_from_day"])
    assert [len(part) for _, part in groups] == [2, 2]
    assert groups[0][0][0] is pd.NA and groups[1][0] == (28,)
    report = write_report(frame, tmp_path, title="t", parameters=["rankings_from_day"],
                          kpis=["waste_kwh"], facts=[]).read_text(encoding="utf-8")
    assert "rankings_from_day=null" in report and "rankings_from_day=28" in report
    assert "11 [10, 12]" in report and "7 [6, 8]" in report
