"""The page's controls: which reach which scenario, the mix sliders, --set, every scenario."""

from __future__ import annotations

import pytest

from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.scenarios import builtin_scenarios
from gridcoop.experiments.viz.controls import (
    CONTROLS,
    PageCommunity,
    PageSettings,
    check_settings,
    initial_controls,
    page_model_params,
    scenario_arguments,
)


def test_settings_travel_through_the_environment() -> None:
    settings = PageSettings("campus-microgrid", ("occupancy=0.5", "days=3"))
    assert PageSettings.from_env({"GRIDCOOP_VIZ": settings.to_env()}) == settings
    assert PageSettings.from_env({}) == PageSettings()


def test_neighbourhood_takes_households_regions_and_the_mix() -> None:
    kind, params = scenario_arguments("neighbourhood", {
        "households": 50, "regions": 8, "prosumer_share": 0.5, "ev_share_of_rest": 0.4,
        "seed": 7, "mechanism": "pay_as_bid", "classrooms": 12})
    assert kind == "neighbourhood"
    assert (params["households"], params["regions"], params["seed"]) == (50, 8, 7)
    assert params["mechanism"] == "pay_as_bid"
    # the others (1 - 0.5 = 0.5) split 0.4 / 0.6 between EV owners and DR households
    assert params["mix"] == pytest.approx({"prosumer": 0.5, "ev_owner": 0.2,
                                           "dr_household": 0.3})
    assert "classrooms" not in params
    assert params["tariffs"] == {"grid_fee_eur_per_kwh": 0.005}  # from the scenario file


def test_regions_never_exceed_households() -> None:
    _, params = scenario_arguments("neighbourhood", {"households": 5, "regions": 10})
    assert params["regions"] == 5


def test_campus_and_market_only_ignore_what_they_do_not_have() -> None:
    controls = {"households": 300, "regions": 3, "prosumer_share": 0.9, "classrooms": 12,
                "occupancy": 0.25, "days": 2}
    kind, params = scenario_arguments("campus-microgrid", controls)
    assert kind == "campus-microgrid"
    assert (params["classrooms"], params["occupancy"], params["days"]) == (12, 0.25, 2)
    assert not {"households", "regions", "mix"} & set(params)
    kind, params = scenario_arguments("market-only", controls)
    assert kind == "market-only" and params["regions"] == 1  # its file's, not the slider's
    assert params["days"] == 2
    assert not {"households", "mix", "classrooms"} & set(params)


def test_overrides_apply_last_and_bad_ones_are_named() -> None:
    _, params = scenario_arguments("neighbourhood", {"households": 20},
                                   {"tariffs": {"feed_in_eur_per_kwh": 0.05}})
    assert params["tariffs"] == {"grid_fee_eur_per_kwh": 0.005, "feed_in_eur_per_kwh": 0.05}
    with pytest.raises(ScenarioError, match="did you mean 'households'"):
        scenario_arguments("neighbourhood", {}, {"houshold": 3})
    with pytest.raises(ScenarioError, match="unknown scenario 'neighbourhod'"):
        scenario_arguments("neighbourhod", {})


def test_initial_controls_come_from_the_scenario_then_set() -> None:
    values, fixed = initial_controls(PageSettings("neighbourhood", (
        "households=50", "mix.prosumer=0.5", "mix.ev_owner=0.25", "mix.dr_household=0.25",
        "tariffs.feed_in_eur_per_kwh=0.04")))
    assert values["households"] == 50 and values["regions"] == 4
    assert values["prosumer_share"] == 0.5 and values["ev_share_of_rest"] == 0.5
    assert values["signing"] == "block" and values["days"] == 7
    assert fixed == {"tariffs": {"feed_in_eur_per_kwh": 0.04}}
    values, _ = initial_controls(PageSettings("campus-microgrid"))
    assert (values["days"], values["classrooms"], values["signing"]) == (91, 8, "block")


def test_model_params_list_every_control() -> None:
    params = page_model_params(PageSettings("neighbourhood", ("days=2",)))
    assert list(params) == [*CONTROLS, "overrides"]
    assert params["scenario"]["values"] == list(builtin_scenarios())
    assert params["days"]["value"] == 2 and params["days"]["type"] == "SliderInt"
    assert params["overrides"] == {}
    with pytest.raises(ScenarioError, match="households"):
        check_settings(PageSettings("neighbourhood", ("households=0",)))


@pytest.mark.parametrize("scenario", list(builtin_scenarios()))
def test_page_community_builds_every_builtin_scenario(scenario: str) -> None:
    values, fixed = initial_controls(PageSettings(scenario))
    values.pop("scenario")
    model = PageCommunity(scenario, overrides=fixed, **values)
    try:
        model.step()
        assert model.page_scenario == scenario and model.steps == 1
    finally:
        model.close()
