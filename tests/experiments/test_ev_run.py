"""``gridcoop run ev-community``: every output, a valid ledger, the same results twice."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from gridcoop.experiments.cli import main

ARGS = ("--days", "14", "--seed", "5", "--quiet", "--set", "ev_community.calls_per_year=300",
        "--set", "ev_community.max_calls_per_year=300")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_ev_community_run_writes_everything_and_repeats_exactly(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    output = invoke("run", "ev-community", "--out", str(first), *ARGS)
    assert "wrote summary.json" in output
    invoke("run", "ev-community", "--out", str(second), *ARGS)
    names = {"summary.json", "ledger.sqlite", "trades.csv", "timeseries.csv", "bills.csv",
             "ev_members.csv", "ev_capacity.csv", "ev_calls.csv", "ev_rankings.csv",
             "ev_capacity_typical_day.png", "newsletters"}
    assert names <= {p.name for p in first.iterdir()}
    assert (first / "summary.json").read_bytes() == (second / "summary.json").read_bytes()
    assert (first / "ev_calls.csv").read_bytes() == (second / "ev_calls.csv").read_bytes()
    summary = json.loads((first / "summary.json").read_text())
    assert summary["scenario"] == "ev-community" and summary["days"] == 14
    for key in ("ev_capacity_firm_kw", "ev_calls_served", "ev_revenue_per_ev_eur",
                "ev_members_table", "ev_replacements_found", "ev_replacements_needed",
                "ev_forecast"):
        assert key in summary
    assert set(summary["ev_capacity_firm_kw"]) == {"min", "mean", "critical_mean"}
    assert {"brier", "brier_baseline", "skill"} <= set(summary["ev_forecast"])
    # weekly newsletters (Markdown) for both weeks, and the rankings behind them
    letters = sorted(p.name for p in (first / "newsletters").iterdir())
    assert letters == ["r0-week-01.md", "r0-week-02.md"]
    text = (first / "newsletters" / "r0-week-01.md").read_text()
    assert text.startswith("# EV community r0 — week 1 newsletter") and "| rank |" in text
    rankings = pd.read_csv(first / "ev_rankings.csv")
    assert sorted(set(rankings["week"])) == [1, 2] and len(rankings) == 14
    members = pd.read_csv(first / "ev_members.csv")
    assert len(members) == 7 and members["revenue_eur"].sum() > 0
    capacity = pd.read_csv(first / "ev_capacity.csv")
    assert len(capacity) == 14 * 24 and (capacity["awarded_kw"] <= capacity["offered_kw"]).all()
    calls = pd.read_csv(first / "ev_calls.csv")
    assert len(calls) >= 5 and (calls["delivered_wh"] >= 0).all()
    png = (first / "ev_capacity_typical_day.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    # the ledger verifies with the CLI, and its head is the one in the summary
    verified = invoke("ledger", "verify", str(first / "ledger.sqlite"))
    assert summary["ledger_head_hash"][:16] in verified or "ok" in verified.lower()
    assert json.loads((second / "summary.json").read_text())["ledger_head_hash"] == \
        summary["ledger_head_hash"]


def test_a_different_seed_changes_the_run(tmp_path: Path) -> None:
    invoke("run", "ev-community", "--out", str(tmp_path / "a"), "--days", "7", "--seed", "1",
           "--quiet")
    invoke("run", "ev-community", "--out", str(tmp_path / "b"), "--days", "7", "--seed", "2",
           "--quiet")
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a["ledger_head_hash"] != b["ledger_head_hash"]
    assert a["ev_members_table"] != b["ev_members_table"]
