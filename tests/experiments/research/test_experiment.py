"""The research experiment end to end on a small, fast configuration, and its command."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.experiments.research import COMPARISONS, run_research
from gridcoop.experiments.scenarios import builtin_scenarios


def test_every_comparison_names_a_builtin_scenario_and_two_arms() -> None:
    for comparison in COMPARISONS.values():
        assert comparison.scenario in builtin_scenarios()
        assert comparison.off != comparison.on
        assert comparison.outcomes


@pytest.mark.slow
def test_small_study_writes_report_csv_and_plots(tmp_path: Path) -> None:
    result = run_research(tmp_path, seeds=2, days=1, workers=1,
                          only=["dynamic-prices", "learning-bidder"], progress=False)
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert set(effects["comparison"]) == {"dynamic-prices", "learning-bidder"}
    assert (effects["pairs"] == 2).all()
    assert (effects["failed_runs"] == 0).all()
    report = (tmp_path / "report.md").read_text()
    assert "## Static vs dynamic prices" in report and "## Learning bidders" in report
    assert (tmp_path / "plots" / "dynamic-prices.png").stat().st_size > 1000
    # static vs dynamic: the same classrooms and weather; only the allocation differs
    row = effects[(effects["comparison"] == "dynamic-prices")
                  & (effects["outcome"] == "community_grid_import_kwh")].iloc[0]
    assert row["difference"] == 0.0  # routing does not change the energy drawn
    # the learning bidders change prices: the runs differ
    tables = result.ran["learning-bidder"].table
    assert tables["ledger_head_hash"].nunique() == 4
    # a second call finds every run done and writes the same effects
    again = run_research(tmp_path, seeds=2, days=1, workers=1,
                         only=["dynamic-prices", "learning-bidder"], progress=False)
    assert all(r.executed == 0 for r in again.ran.values())
    pd.testing.assert_frame_equal(again.effects.reset_index(drop=True),
                                  effects, check_dtype=False)


def test_unknown_comparison_and_one_seed_are_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["research", "--out", str(tmp_path), "--only", "nope"])
    assert result.exit_code == 2
    assert "unknown comparison 'nope'" in result.output
    result = runner.invoke(main, ["research", "--out", str(tmp_path), "--seeds", "1"])
    assert result.exit_code == 2


def test_list_shows_every_comparison() -> None:
    result = CliRunner().invoke(main, ["research", "--list"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == list(COMPARISONS)


def test_verdict_words() -> None:
    from gridcoop.experiments.research.report import verdict

    row = {"boot_low": 1.0, "boot_high": 2.0, "t_low": 0.5, "t_high": 3.0, "better": "lower"}
    assert verdict(pd.Series(row)) == "rises (worse)"
    row.update(t_low=-0.1)
    assert verdict(pd.Series(row)) == "no clear effect"
    row.update(boot_low=-3.0, boot_high=-2.0, t_low=-4.0, t_high=-1.0, better="lower")
    assert verdict(pd.Series(row)) == "falls (better)"
