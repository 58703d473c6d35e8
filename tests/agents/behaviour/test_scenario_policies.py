"""A scenario's ``policies:`` section on the command line: a policy that cannot be found exits 2."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gridcoop.experiments.cli import main
from tests.cli_errors import one_error_line


def test_a_scenario_naming_a_missing_policy_fails_in_one_line_with_exit_2(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("kind: neighbourhood\ndays: 1\npolicies:\n"
                        "  bidding:\n    prosumer: mypackage.policies:MyPolicy\n")
    error = one_error_line(["run", str(scenario), "--out", str(tmp_path / "o"), "--quiet"])
    assert error == ("Error: invalid neighbourhood scenario: policies: Value error, bidding "
                     "policy 'mypackage.policies:MyPolicy': cannot import 'mypackage.policies' "
                     "(No module named 'mypackage')")


def test_set_chooses_a_policy_by_name(tmp_path: Path) -> None:
    error = one_error_line(["run", "dr-community", "--days", "1", "--set",
                            "policies.dr=nonesuch", "--out", str(tmp_path), "--quiet"])
    assert "dr policy 'nonesuch' is not built in (fixed, incentive_response)" in error


def test_a_policy_returning_bad_actions_stops_the_run_in_one_line_with_exit_2(
        tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("kind: neighbourhood\ndays: 1\nhouseholds: 12\npolicies:\n  bidding:\n"
                        "    all: {policy: 'tests.agents.behaviour.policies_for_tests:Broken', "
                        "params: {fault: negative}}\n")
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "o"),
                                       "--quiet"])
    assert result.exit_code == 2
    assert "Error: policy 'broken', member 'h01', field 'bid_wh': -5 is negative" in result.output
    assert "Traceback" not in result.output
