"""A scenario's ``mechanism_options`` reach the clearing, and bad ones fail validation."""

from __future__ import annotations

import pytest

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.scenarios import load_scenario


def test_options_are_checked_by_the_mechanism_itself() -> None:
    _, params = load_scenario("dr-community", ("mechanism_options.bids=all",))
    assert params["mechanism_options"] == {"bids": "all"}
    with pytest.raises(ScenarioError, match="bids must be one of accepted, all, got 'some'"):
        load_scenario("dr-community", ("mechanism_options.bids=some",))
    with pytest.raises(ScenarioError, match="does not accept options"):
        load_scenario("dr-community", ("mechanism_options.pair_price=bid",))


def _mean_price(*sets: str) -> float:
    kind, params = load_scenario("dr-community", sets, days=1)
    model = CommunityModel(kind, replicas="shared", ledger_workers=0, **params)
    try:
        return float(model.run()["mean_local_price_eur_per_kwh"])
    finally:
        model.close()


@pytest.mark.slow
def test_the_average_over_all_buyers_prices_the_days_trades_differently() -> None:
    accepted = _mean_price()
    everyone = _mean_price("mechanism_options.bids=all", "mechanism_options.weighted=false")
    assert accepted == pytest.approx(0.061538)  # the golden dr-community day
    assert everyone != accepted
