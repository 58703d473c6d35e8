"""``gridcoop reproduce`` end to end on one quick case, and its usage errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from gridcoop.experiments.cli import main


def test_quick_table1_writes_the_report_and_the_rows(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    result = CliRunner().invoke(main, ["reproduce", "--case", "table1", "--seeds", "1",
                                       "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "published results match" in result.output
    rows = pd.read_csv(out / "comparison.csv")
    assert len(rows) == 11 and set(rows["case"]) == {"Table 1"}
    assert rows.loc[rows["result"] == "total transferred", "published"].item() == 490
    assert (out / "table1.png").stat().st_size > 0
    assert (out / "runs" / "table1" / "seed-0" / "transfers.csv").exists()
    assert "## Table 1" in (out / "report.md").read_text(encoding="utf-8")


def test_an_output_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(main, ["reproduce", "--out", str(blocker / "sub"), "--quick"])
    assert result.exit_code == 2
    assert "cannot create" in result.output
