"""``gridcoop batch campus-cases``: runs the cases whose scenario exists, names the others."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from PIL import Image

from gridcoop.experiments.batch import CAMPUS_CASES, CampusCase, run_campus_cases
from gridcoop.experiments.cli import main
from gridcoop.experiments.scenarios import builtin_scenarios


def test_registry_covers_the_five_domain_cases() -> None:
    assert [c.number for c in CAMPUS_CASES.values()] == [1, 2, 3, 4, 5]
    assert set(CAMPUS_CASES) == {"campus-footprint", "campus-microgrid", "campus-lighting",
                                 "ev-community", "dr-community"}


def test_missing_scenarios_are_listed_not_skipped_silently(tmp_path: Path) -> None:
    ghost = CampusCase("ghost", 9, "A case with no scenario", "no-such-scenario")
    result = run_campus_cases(tmp_path, cases=[ghost], progress=False)
    assert result.ran == {} and list(result.missing) == ["ghost"]
    report = (tmp_path / "report.md").read_text()
    assert "## NOT RUN: 1 case(s) have no scenario yet" in report
    assert "**9. A case with no scenario** (`ghost`): scenario `no-such-scenario` is not" in report
    assert "| 9. A case with no scenario | `no-such-scenario` | missing | - | - |" in report
    # The real registry: whichever scenarios do not exist yet are named the same way.
    absent = [c for c in CAMPUS_CASES.values() if c.scenario not in builtin_scenarios()]
    if absent:
        listing = run_campus_cases(tmp_path / "registry", cases=absent, progress=False)
        assert set(listing.missing) == {c.name for c in absent}


def test_campus_microgrid_case_with_tables_and_plots(tmp_path: Path) -> None:
    ghost = CampusCase("ghost", 9, "A case with no scenario", "no-such-scenario")
    result = CliRunner().invoke(main, ["batch", "campus-cases", "--out", str(tmp_path),
                                       "--days", "1", "--seeds", "2", "--workers", "2",
                                       "--case", "campus-microgrid", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "campus-microgrid: 4 / 4 runs ok" in result.output
    case = tmp_path / "campus-microgrid"
    table = pd.read_csv(case / "results.csv")
    assert sorted(set(table["allocation"])) == ["market", "nearest"] and len(table) == 4
    reference = case / "reference"
    assert {"transfers.csv", "trades.csv", "bills.csv", "summary.json",
            "transfers.png"} <= {p.name for p in reference.iterdir()}
    with Image.open(reference / "transfers.png") as image:
        assert image.format == "PNG"
    assert list((case / "plots").glob("*--allocation.png"))
    index = (tmp_path / "report.md").read_text()
    assert "## 2. Microgeneration between classrooms" in index
    assert "![transfers](campus-microgrid/reference/transfers.png)" in index
    assert "| 2. Microgeneration between classrooms | `campus-microgrid` | ok | 4 / 4 |" in index
    # Run through the API with a case that has no scenario: listed, the rest still runs.
    mixed = run_campus_cases(tmp_path, days=1, seeds=2, workers=1,
                             cases=["campus-microgrid", ghost], progress=False)
    assert mixed.ran["campus-microgrid"].skipped == 4  # resumed: nothing re-run
    assert list(mixed.missing) == ["ghost"]
