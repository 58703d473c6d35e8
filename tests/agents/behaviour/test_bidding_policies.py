"""Bidding through policies: defaults unchanged, per-agent = vectorised, bad actions refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.agents.behaviour.errors import ActionError
from gridcoop.agents.behaviour.examples import MidSpread
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.scenario.schema import ScenarioError

SMALL: dict[str, Any] = {"households": 24, "days": 1, "seed": 5}
FIXED = {"strategy": {"kind": "fixed", "fixed_share": 0.5}}


def _run(**kw: Any) -> dict[str, Any]:
    model = CommunityModel("neighbourhood", **{**SMALL, **kw})
    try:
        return model.run()
    finally:
        model.close()


def test_naming_the_default_policy_changes_nothing() -> None:
    plain = _run()
    named = _run(policies={"bidding": {"all": "tariff_share"}})
    assert named == plain


def test_per_agent_step_policy_gives_the_vectorised_results_and_ledger_head() -> None:
    vectorised = _run(**FIXED)
    per_agent = _run(**FIXED, policies={"bidding": {"all": MidSpread}})
    assert vectorised["local_traded_kwh"] > 0
    assert per_agent == vectorised


def test_per_agent_policy_by_import_path_makes_members_of_that_class() -> None:
    model = CommunityModel("neighbourhood", **SMALL, policies={
        "bidding": {"prosumer": "gridcoop.agents.behaviour.examples:MidSpread"}})
    try:
        made = {type(m).__mro__[2].__name__ for m in model.members if isinstance(m, MidSpread)}
        assert made == {"Prosumer"}  # MidSpread composed with the member kind's own class
        mesa_members = [a for a in model.agents if isinstance(a, MidSpread)]
        assert len(mesa_members) == int((model.population.kind == 0).sum()) > 0
    finally:
        model.close()


def test_adaptive_with_no_learning_is_tariff_share_and_learning_moves_the_bids() -> None:
    plain = _run()
    still = _run(policies={"bidding": {"all": {"policy": "adaptive",
                                              "params": {"learning_rate": 0.0}}}})
    assert still == plain
    learning = _run(policies={"bidding": {"all": "adaptive"}})
    again = _run(policies={"bidding": {"all": "adaptive"}})
    assert learning == again  # same seed, same run
    assert learning["ledger_head_hash"] != plain["ledger_head_hash"]
    assert learning["mean_local_price_eur_per_kwh"] != plain["mean_local_price_eur_per_kwh"]


@pytest.mark.parametrize(("fault", "member", "field", "problem"), [
    ("nan", 2, "bid_price_u", "is not a number"),
    ("negative", 1, "bid_wh", "-5 is negative"),
    ("cap", 3, "bid_price_u", "above the price cap"),
    ("shape", None, "bid_wh", "shape (23,), expected (24,)"),
    ("unknown", None, "member_ids", "'nobody'"),
])
def test_malformed_actions_name_policy_member_field_and_record_nothing(
        fault: str, member: int | None, field: str, problem: str) -> None:
    model = CommunityModel("neighbourhood", **SMALL, policies={"bidding": {"all": {
        "policy": "tests.agents.behaviour.policies_for_tests:Broken",
        "params": {"fault": fault}}}})
    try:
        with pytest.raises(ActionError) as caught:
            model.step()
        height = model.accounts.ledger.height
        message = str(caught.value)
        assert "policy 'broken'" in message and f"field {field!r}" in message
        assert problem in message and "\n" not in message
        if member is not None:
            assert f"member {model.population.node_ids[member]!r}" in message
        assert model.central.auctions[1].books == []  # no order reached the market
        assert model.accounts.ledger.height == height
    finally:
        model.close()


def test_a_policy_that_cannot_be_imported_fails_validation_in_one_line() -> None:
    for spec, words in (("nopackage.mod:Thing", "cannot import 'nopackage.mod'"),
                        ("tests.agents.behaviour.policies_for_tests:Nope", "no class"),
                        ("zero_intel", "not built in")):
        with pytest.raises(ScenarioError) as caught:
            CommunityModel("neighbourhood", **SMALL, policies={"bidding": {"all": spec}})
        assert words in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ScenarioError, match="unknown group 'landlord'"):
        CommunityModel("neighbourhood", **SMALL, policies={"bidding": {"landlord": "adaptive"}})


def test_feedback_tells_each_member_what_it_got() -> None:
    got: list[Any] = []

    class Spy(MidSpread):
        def learn(self) -> None:
            got.append(self.outcome)

    _run(**FIXED, policies={"bidding": {"all": Spy}})
    assert got and all(o.price_u >= -1 for o in got)
    assert sum(o.bought_wh for o in got) == sum(o.sold_wh for o in got) > 0
    assert np.isfinite([o.payoff_u for o in got]).all()
