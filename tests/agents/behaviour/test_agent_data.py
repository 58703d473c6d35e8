"""Mesa's agent-level records of the members: decisions, bill, tokens, rank, once a day."""

from __future__ import annotations

import numpy as np

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.model.members import Member
from gridcoop.agents.model.outputs import tables


def test_members_are_recorded_daily_with_decisions_bills_tokens_and_ranks() -> None:
    model = CommunityModel("dr-community", days=1, seed=0)
    try:
        model.run()
        frame = model.agent_datacollector.get_agenttype_vars_dataframe(Member)
        out = tables(model)
    finally:
        model.close()
    members = model.population.size
    assert len(frame) == members  # one day, one row per member
    last = frame.reset_index()
    bills = out["bills"]
    assert np.allclose(last["bill_eur"].to_numpy(), bills["bill_eur"].to_numpy()[-members:])
    tokens = last["tokens"].to_numpy()
    assert tokens.sum() > 0  # DR rewards are tokens
    expected_rank = [1 + int((tokens > t).sum()) for t in tokens]
    assert last["rank"].tolist() == expected_rank
    assert (last["bid_wh"] >= 0).all() and (last["offer_wh"] >= 0).all()
    assert set(last["kind"]) <= {"Prosumer", "EVOwner", "DRHousehold"}
    assert list(out["agents"].columns[:3]) == ["step", "agent_id", "member_id"]
