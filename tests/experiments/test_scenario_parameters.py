"""Every scenario parameter has a meaning and a unit, and `gridcoop scenarios NAME` shows them."""

from __future__ import annotations

from click.testing import CliRunner

from gridcoop.experiments.cli import main
from gridcoop.experiments.scenarios import builtin_scenarios, describe_parameters, load_scenario
from gridcoop.experiments.scenarios.parameters import PARAMETERS, describe_line, parameter_doc


def all_keys() -> set[str]:
    keys: set[str] = set()
    for name in builtin_scenarios():
        kind, params = load_scenario(name)
        keys.update(describe_parameters(kind, params))
    return keys


def test_every_parameter_is_documented_and_every_entry_is_a_parameter() -> None:
    keys = all_keys()
    assert sorted(k for k in keys if parameter_doc(k) is None) == []
    groups = {"policies.bidding", "mechanism_options"}  # mappings, empty in every built-in
    assert sorted(set(PARAMETERS) - keys - groups) == []


def test_line_has_value_unit_and_meaning() -> None:
    assert describe_line("households", 400) == \
        "households = 400 [households]  (homes in the community)"
    assert describe_line("seed", 0).startswith("seed = 0  (")
    assert "the policy that prices its orders" in describe_line(
        "policies.bidding.prosumer.policy", "tariff_share")


def test_scenarios_name_shows_units_and_meanings() -> None:
    result = CliRunner().invoke(main, ["scenarios", "dr-community"])
    assert result.exit_code == 0, result.output
    assert "plant_kw = 30.0 [kW]  (renewable plant's peak power)" in result.output
    assert "token_value_eur_u = 100 [µ€/token]" in result.output
