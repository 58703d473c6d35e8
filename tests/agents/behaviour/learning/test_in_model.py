"""Learning bidders inside a community run: they learn, and the run stays deterministic."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.behaviour.learning.policies import RothErevBidding
from gridcoop.agents.model.community import CommunityModel

SMALL: dict[str, Any] = {"households": 12, "regions": 1, "days": 1, "signing": "block"}


def _run(policy: Any, seed: int = 0) -> tuple[str, CommunityModel]:
    model = CommunityModel("neighbourhood", seed=seed, policies={"bidding": {"prosumer": policy}},
                           **SMALL)
    try:
        summary = model.run()
    finally:
        model.close()
    return str(summary["ledger_head_hash"]), model


def test_same_seed_same_ledger_head() -> None:
    roth_erev = _run("roth_erev")[0]
    assert roth_erev == _run("roth_erev")[0]
    q_learning = _run("q_learning")[0]
    # the learners price differently from the fixed shares and from each other
    assert len({roth_erev, q_learning, _run("tariff_share")[0]}) == 3
    assert roth_erev != _run("roth_erev", seed=1)[0]


def test_the_learner_is_reinforced_after_clearing() -> None:
    bidder = RothErevBidding()
    _run(bidder)
    assert bidder.sides is not None
    offers = bidder.sides[1].kernel.propensity  # type: ignore[attr-defined]
    assert offers.shape == (len(bidder.group.member_ids) if bidder.group else 0, 11)
    # prosumers sell at noon: some offer was reinforced by a positive payoff
    assert offers.max() > 10_000.0
    buys = bidder.sides[0].kernel  # type: ignore[attr-defined]
    assert np.allclose(buys.probabilities().sum(axis=1), 1.0)
