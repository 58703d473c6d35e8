"""DR opt-outs through a DR policy: ``fixed`` is the old behaviour; incentives move them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.agents.behaviour.dr import IncentiveResponse
from gridcoop.agents.behaviour.observations import DRObservation, Standing
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.model.community import CommunityModel

KEYS = ("dr_commands", "dr_opt_in_rate", "dr_tokens_rewarded", "dr_tokens_penalised",
        "ledger_head_hash")


def _run(**kw: Any) -> dict[str, Any]:
    model = CommunityModel("dr-community", days=2, seed=0, **kw)
    try:
        summary = model.run()
    finally:
        model.close()
    return {k: summary[k] for k in KEYS}


def test_incentive_response_probabilities_by_hand() -> None:
    policy = IncentiveResponse(reward_response=0.05, penalty_response=0.1, comfort_response=0.02)
    policy.setup(Group(Decision.DR, "t", ("a", "b", "c"), np.arange(3),
                       np.random.default_rng(0)))
    standing = Standing(np.array([10, 0, 5]), np.array([0, 0, 3]), np.zeros(3, dtype=np.int64))
    obs = DRObservation("e", ("a", "b", "c"), np.array([0.0, 2.0, 0.0]), np.full(3, 0.1),
                        standing)
    # a: rewarded 0.1 - 0.05; b: 0.1 + 2 kWh x 0.02; c: rewarded and penalised 0.1 - 0.05 + 0.1
    assert policy.probabilities(obs) == pytest.approx([0.05, 0.14, 0.15])


@pytest.mark.slow
def test_opt_outs_stay_at_baseline_without_incentives_and_move_with_them() -> None:
    fixed = _run()
    assert fixed["dr_opt_in_rate"] == 0.8758
    off = {"reward_tokens_per_wh": 0, "penalty_tokens_per_wh": 0}
    assert _run(**off, policies={"dr": "incentive_response"}) == _run(**off)
    rewarded = _run(policies={"dr": {"policy": "incentive_response",
                                     "params": {"reward_response": 0.1, "penalty_response": 0}}})
    assert rewarded["dr_opt_in_rate"] == 0.9375  # fewer opt-outs once complying paid off
