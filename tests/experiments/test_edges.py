"""The edges a person meets: numbers written as 1e2, an --out that cannot be made, Ctrl-C
in a run and in a sweep (outputs consistent and marked partial; a sweep resumes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcoop.experiments.batch.report import tick_label
from gridcoop.experiments.cli import main
from gridcoop.experiments.scenarios import load_scenario, parse_sets

GRIDCOOP = [sys.executable, "-m", "gridcoop.experiments.cli"]


def test_numbers_in_any_notation() -> None:
    assert parse_sets(["households=1e2", "days=2.0", "seed=7", "name=1e2x", "x=nan"]) == {
        "households": 100, "days": 2, "seed": 7, "name": "1e2x", "x": "nan"}
    assert parse_sets(["forecast_error=1.5e-1"]) == {"forecast_error": 0.15}
    _kind, params = load_scenario("neighbourhood", ["households=1e2"])
    assert params["households"] == 100


def test_out_that_cannot_be_created_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["run", "market-only", "--out", str(blocker / "sub"),
                                       "--quiet"])
    assert result.exit_code == 2
    assert "--out" in result.output and "cannot create this folder (Not a directory)" \
        in result.output
    assert "Traceback" not in result.output


def test_swept_group_ticks_are_readable() -> None:
    mix = {"prosumer": 0.5, "ev_owner": 0.25, "dr_household": 0.25}
    assert tick_label(mix) == "dr_household 0.25\nev_owner 0.25\nprosumer 0.5"
    assert tick_label([0.1, 0.6]) == "0.1, 0.6"
    assert tick_label(3.0) == "3"


def _interrupt_when(process: subprocess.Popen[str], ready: Path, timeout_s: float = 120,
                    settle_s: float = 0.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{ready} never appeared"
        time.sleep(0.2)
    time.sleep(settle_s)
    process.send_signal(signal.SIGINT)


@pytest.mark.slow
def test_ctrl_c_in_run_writes_consistent_partial_outputs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = subprocess.Popen([*GRIDCOOP, "run", "neighbourhood", "--days", "90", "--quiet",
                                "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    _interrupt_when(process, out / "ledger.sqlite-wal", settle_s=3.0)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] is True and summary["name"] == "neighbourhood"
    assert 0 < summary["steps_done"] < summary["steps_total"] == 90 * 96
    assert "PARTIAL" in stdout
    verify = subprocess.run([*GRIDCOOP, "ledger", "verify", str(out / "ledger.sqlite")],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert (out / "timeseries.csv").is_file()


@pytest.mark.slow
def test_ctrl_c_in_batch_is_partial_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    # 24 runs: a market-only day takes about 0.2 s, so with 6 a test process that woke
    # late found the sweep finished before its Ctrl-C landed (seen in a full suite run)
    command = [*GRIDCOOP, "batch", "market-only", "--param", "mechanism=pay_as_clear,"
               "average_bid,pay_as_bid", "--seeds", "8", "--days", "1", "--workers", "1",
               "--quiet", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 180
    while not list(out.glob("runs/*/done.json")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 130, stderr
    assert "not run" in stdout and "resume" in stderr
    report = (out / "report.md").read_text()
    assert "PARTIAL" in report
    statuses = {line.split(",")[0] for line in (out / "results.csv").read_text().splitlines()}
    assert statuses  # the table was written
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "24 ok, 0 failed" in again.stdout and "finished before" in again.stdout
