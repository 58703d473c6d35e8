"""``gridcoop run``: files written, identical summaries for the same seed, a valid ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_campus_run_writes_everything_and_repeats_exactly(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    output = invoke("run", "campus-microgrid", "--days", "2", "--out", str(first), "--quiet")
    assert "self-sufficiency" in output and "wrote summary.json" in output
    invoke("run", "campus-microgrid", "--days", "2", "--out", str(second), "--quiet")
    names = {"summary.json", "ledger.sqlite", "trades.csv", "timeseries.csv", "bills.csv",
             "transfers.csv"}
    assert names <= {p.name for p in first.iterdir()}
    assert (first / "summary.json").read_bytes() == (second / "summary.json").read_bytes()
    summary = json.loads((first / "summary.json").read_text())
    assert summary["scenario"] == "campus-microgrid" and summary["days"] == 2
    transfers = pd.read_csv(first / "transfers.csv", index_col=0)
    assert transfers.shape == (8, 8)
    assert (transfers.to_numpy().diagonal() == 0).all()
    assert transfers.to_numpy().sum() == pytest.approx(summary["local_traded_kwh"])
    trades = pd.read_csv(first / "trades.csv")
    assert (trades["delivered_wh"] == trades["contracted_wh"]).all()  # routed after metering
    assert (trades["price_eur_per_kwh"] == 0.067).all()
    bills = pd.read_csv(first / "bills.csv")
    assert len(bills) == 8 and set(bills["kind"]) == {"classroom"}
    verify = CliRunner().invoke(main, ["ledger", "verify", str(first / "ledger.sqlite")])
    assert verify.exit_code == 0, verify.output


def test_rerun_into_the_same_folder_replaces_the_ledger(tmp_path: Path) -> None:
    invoke("run", "market-only", "--out", str(tmp_path), "--quiet")
    invoke("run", "market-only", "--out", str(tmp_path), "--quiet", "--seed", "3")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["trades"] > 0
    verify = CliRunner().invoke(main, ["ledger", "verify", str(tmp_path / "ledger.sqlite")])
    assert verify.exit_code == 0, verify.output


def test_neighbourhood_with_sets(tmp_path: Path) -> None:
    output = invoke("run", "neighbourhood", "--days", "1", "--out", str(tmp_path), "--quiet",
                    "--set", "households=20", "--set", "regions=2", "--set", "seed=4")
    assert "20 members" in output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["members"] == 20 and summary["seed"] == 4
    series = pd.read_csv(tmp_path / "timeseries.csv")
    assert len(series) == 96


def test_bad_input_exits_2_with_a_suggestion(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["run", "neighbourhood", "--out", str(tmp_path),
                                  "--set", "housholds=5"])
    assert result.exit_code == 2
    assert "did you mean 'households'" in result.output
    result = runner.invoke(main, ["run", "nowhere.yaml", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(main, ["run", "neighbourhood", "--out", str(tmp_path),
                                  "--set", "mechanism=vickrey"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ("no clearing mechanism named 'vickrey'; known mechanisms: average_bid, continuous, "
            "pay_as_bid, pay_as_clear") in result.output
