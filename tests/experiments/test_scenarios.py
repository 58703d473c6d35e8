"""Scenario files: built-ins, YAML paths, --set overrides, errors that suggest the right key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.cli import main
from gridcoop.experiments.scenarios import (
    builtin_scenarios,
    describe_parameters,
    load_scenario,
    parse_sets,
)


def test_builtins_load_and_validate() -> None:
    # The model's own kinds; the EV, DR and campus-case kinds add theirs.
    assert set(builtin_scenarios()) >= {"campus-microgrid", "neighbourhood", "market-only"}
    for name in builtin_scenarios():
        kind, params = load_scenario(name)
        scenario = build_scenario(kind, params)
        assert scenario.kind == name == scenario.name
    kind, params = load_scenario("campus-microgrid")
    campus = build_scenario(kind, params)
    assert (campus.classrooms, campus.panels_per_classroom, campus.panel_w,  # type: ignore[union-attr]
            campus.lighting_w) == (8, 2, 250.0, 750.0)  # type: ignore[union-attr]


def test_market_only_csvs_ship_inside_the_package() -> None:
    kind, params = load_scenario("market-only")
    scenario = build_scenario(kind, params)
    assert scenario.csv_path("buyers").is_file()  # type: ignore[union-attr]
    assert scenario.csv_path("sellers").is_file()  # type: ignore[union-attr]


def test_sets_parse_as_yaml_and_nest_by_dots() -> None:
    assert parse_sets(["households=1000", "signing=block", "mix.prosumer=0.5",
                       "tariffs.retail_eur_per_kwh_by_hour=[0.1, 0.2]", "name="]) == {
        "households": 1000, "signing": "block", "mix": {"prosumer": 0.5},
        "tariffs": {"retail_eur_per_kwh_by_hour": [0.1, 0.2]}, "name": ""}
    with pytest.raises(ScenarioError, match="name=value"):
        parse_sets(["households"])


def test_overrides_merge_into_nested_groups() -> None:
    kind, params = load_scenario("neighbourhood", ["mix.prosumer=0.5", "mix.dr_household=0.3"],
                                 days=3)
    scenario = build_scenario(kind, params)
    assert scenario.days == 3
    assert (scenario.mix.prosumer, scenario.mix.ev_owner) == (0.5, 0.2)  # type: ignore[union-attr]


@pytest.mark.parametrize(("sets", "message"), [
    (["houshold=10"], "unknown parameter 'houshold'; did you mean 'households'?"),
    (["mix.prosumr=0.5"], "unknown parameter 'mix.prosumr'; did you mean 'mix.prosumer'?"),
    (["tarifs.feed_in_eur_per_kwh=0.01"], "did you mean 'tariffs'?"),
    (["mix.prosumer=0.9"], "mix shares add up to 1.5"),
    (["households=0"], "households: Input should be greater than or equal to 1"),
    (["mechanism=dutch"], "mechanism: Value error, no clearing mechanism named 'dutch'; known "
                          "mechanisms: average_bid, continuous, pay_as_bid, pay_as_clear"),
    (["regions=500"], "regions=500 exceeds households=100"),
])
def test_bad_parameters_name_the_key(sets: list[str], message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load_scenario("neighbourhood", sets)


def test_unknown_scenario_suggests_a_builtin() -> None:
    with pytest.raises(ScenarioError, match="did you mean 'neighbourhood'"):
        load_scenario("neighborhood")


def test_yaml_file_scenario(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("kind: campus-microgrid\nclassrooms: 4\ndays: 2\ntimetable:\n"
                    "  - {classroom: 0, weekday: 0, start_h: 8, end_h: 10}\n")
    kind, params = load_scenario(str(path))
    scenario = build_scenario(kind, params)
    assert scenario.name == "mine" and scenario.classrooms == 4  # type: ignore[union-attr]
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: campus-microgrid\nclasrooms: 4\n")
    with pytest.raises(ScenarioError, match="did you mean 'classrooms'"):
        load_scenario(str(bad))
    bad.write_text("kind: campus-microgrid\ntimetable:\n  - {classroom: 9, weekday: 0, "
                   "start_h: 8, end_h: 9}\n")
    with pytest.raises(ScenarioError, match="classroom 9"):
        load_scenario(str(bad))
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ScenarioError, match="mapping"):
        load_scenario(str(bad))
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(str(tmp_path / "missing.yaml"))


def test_describe_parameters_is_flat_and_complete() -> None:
    kind, params = load_scenario("neighbourhood")
    flat = describe_parameters(kind, params)
    assert flat["households"] == 100 and flat["mix.prosumer"] == 0.4
    assert flat["tariffs.feed_in_eur_per_kwh"] == 0.039


def test_gridcoop_scenarios_lists_them_with_parameters() -> None:
    result = CliRunner().invoke(main, ["scenarios"])
    assert result.exit_code == 0, result.output
    for name in ("campus-microgrid", "neighbourhood", "market-only"):
        assert name in result.output
    assert "households = 100" in result.output and "lighting_w = 750.0" in result.output
    detail = CliRunner().invoke(main, ["scenarios", "neighbourhood"])
    assert "tariffs.peak_eur_per_kwh = 0.095" in detail.output
    wrong = CliRunner().invoke(main, ["scenarios", "neighbourhod"])
    assert wrong.exit_code == 2 and "did you mean 'neighbourhood'" in wrong.output


def test_mechanism_is_any_registered_one() -> None:
    """The registry, not a fixed list, says which mechanisms a scenario may name."""
    from gridcoop.market import ClearingResult, PreparedBook, register_mechanism
    from gridcoop.market import registry as registry_module

    kind, params = load_scenario("neighbourhood", ["mechanism=continuous"])
    assert build_scenario(kind, params).mechanism == "continuous"
    with pytest.raises(ScenarioError, match="no clearing mechanism named 'uniform_k'"):
        build_scenario(kind, {**params, "mechanism": "uniform_k"})

    @register_mechanism("uniform_k")
    def uniform_k(book: PreparedBook) -> ClearingResult:  # pragma: no cover - never cleared
        raise AssertionError

    try:
        assert build_scenario(kind, {**params, "mechanism": "uniform_k"}).mechanism == "uniform_k"
    finally:
        del registry_module._MECHANISMS["uniform_k"]
        del registry_module._SIGNATURES["uniform_k"]
