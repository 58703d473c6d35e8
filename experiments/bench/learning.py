"""``gridcoop bench learning``: what a learning bidder costs, per agent-step and per run.

Why both: the kernels' cost per member and auction (``decide`` + ``feedback``
on one group of members, µs per agent-step) says how far a learner scales; the
same neighbourhood run with each policy for every member, interleaved with the
fixed ``tariff_share`` baseline, says what it costs in a whole run, as a ratio
measured in one process (the machine is shared: ratios, not absolutes, compare).
Policies are built-in names (``gridcoop.agents.behaviour.resolve``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gridcoop.agents.behaviour import BidFeedback, BidObservation, Decision, Group
from gridcoop.agents.behaviour.resolve import make
from gridcoop.agents.model.community import CommunityModel
from gridcoop.streams import streams

POLICIES = ("tariff_share", "adaptive", "roth_erev", "q_learning")


def per_agent_step_us(policy: str, members: int, auctions: int) -> float:
    """µs per member and auction of ``decide`` + ``feedback`` on synthetic auctions."""
    ids = tuple(f"m{i}" for i in range(members))
    nodes = np.arange(members, dtype=np.int64)
    bidder = make(Decision.BIDDING, policy)
    bidder.setup(Group(Decision.BIDDING, "bench", ids, nodes, streams(0).rng("learning.bids")))
    rng = np.random.default_rng(0)
    forecasts = rng.normal(0.0, 1.0, size=(auctions, members))
    payoff = rng.integers(0, 50_000, size=(auctions, members))
    start = time.perf_counter()
    for k in range(auctions):
        observation = BidObservation(k, ids, nodes, forecasts[k], 250_000, 80_000, 5_000,
                                     1_000_000)
        actions = bidder.decide(observation)
        bidder.feedback(BidFeedback(k, ids, actions.bid_wh, actions.offer_wh, actions.bid_wh,
                                    actions.offer_wh, 165_000, payoff[k]))
    return (time.perf_counter() - start) / (auctions * members) * 1e6


def run_wall_s(policy: str, households: int, days: int) -> float:
    """Wall time of a neighbourhood run with ``policy`` bidding for every member."""
    start = time.perf_counter()
    model = CommunityModel("neighbourhood", households=households, regions=2, days=days,
                           signing="block", replicas="shared", ledger_workers=0,
                           policies={"bidding": {"all": policy}})
    try:
        model.run()
    finally:
        model.close()
    return time.perf_counter() - start


def rl_step_ms(steps: int) -> float:
    """ms per step of the Gymnasium door's default environment (needs the ``rl`` extra)."""
    from gridcoop.agents.behaviour.rl import member_env

    env = member_env(days=2)
    env.reset(seed=0)
    done, taken = False, 0
    start = time.perf_counter()
    while taken < steps:
        if done:
            env.reset()
        _, _, done, _, _ = env.step(taken % 11)
        taken += 1
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed / steps * 1e3


def run(quick: bool) -> dict[str, Any]:
    """Kernels: 10,000 members x 50 auctions (quick: 1,000 x 20); runs: 200 households for
    2 days (quick: 40 for 1), each policy interleaved with the baseline, best of 2."""
    members, auctions = (1_000, 20) if quick else (10_000, 50)
    households, days = (40, 1) if quick else (200, 2)
    figures: dict[str, Any] = {"members": members, "auctions": auctions,
                               "run_households": households, "run_days": days}
    for policy in POLICIES:
        figures[f"{policy}.us_per_agent_step"] = round(
            min(per_agent_step_us(policy, members, auctions) for _ in range(2)), 3)
    for policy in POLICIES[1:]:
        base, with_policy = [], []
        for _ in range(2):  # interleaved: baseline, policy, baseline, policy
            base.append(run_wall_s("tariff_share", households, days))
            with_policy.append(run_wall_s(policy, households, days))
        figures[f"{policy}.run_s"] = round(min(with_policy), 2)
        figures[f"{policy}.run_ratio_to_tariff_share"] = round(min(with_policy) / min(base), 3)
    try:
        figures["rl.member_env_ms_per_step"] = round(rl_step_ms(48 if quick else 240), 2)
    except ImportError:
        figures["rl.member_env_ms_per_step"] = "not measured (pip install 'gridcoop[rl]')"
    return figures
