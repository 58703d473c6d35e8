"""The RL door: the libraries' own checks, determinism, the door policy's prices and errors.

PettingZoo and Gymnasium are the optional extra ``rl``; without them these
tests skip, except under CI=true, where they must run (CI installs the extra).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from gridcoop.agents.behaviour import BidObservation, Decision, Group, PolicyError
from gridcoop.agents.behaviour.rl.door import DoorBidding
from gridcoop.streams import streams

if os.environ.get("CI", "").lower() != "true":
    pytest.importorskip("pettingzoo")
    pytest.importorskip("gymnasium")

IDS = ("a", "b", "c")


def _group() -> Group:
    return Group(Decision.BIDDING, "all", IDS, np.arange(3, dtype=np.int64),
                 streams(0).rng("learning.bids", 0))


def test_parallel_env_passes_pettingzoo_api_test() -> None:
    from pettingzoo.test import parallel_api_test

    from gridcoop.agents.behaviour.rl import community_env

    env = community_env()
    parallel_api_test(env, num_cycles=60)
    env.close()


def test_member_env_passes_gymnasium_check_env() -> None:
    from gymnasium.utils.env_checker import check_env

    from gridcoop.agents.behaviour.rl import member_env

    env = member_env()
    check_env(env, skip_render_check=True)
    env.close()


def test_same_seed_same_episode() -> None:
    from gridcoop.agents.behaviour.rl import member_env

    def episode() -> tuple[list[float], list[list[float]]]:
        env = member_env(days=1)
        obs, _ = env.reset(seed=4)
        rewards, seen = [], [obs.tolist()]
        done, k = False, 0
        while not done:
            obs, reward, done, _, _ = env.step(k % 11)
            rewards.append(reward)
            seen.append(obs.tolist())
            k += 1
        env.close()
        return rewards, seen

    first = episode()
    assert first == episode()
    assert len(first[0]) == 24  # one step per hourly auction of one day
    assert sum(first[0]) > 0  # the prosumer sold something above feed-in


def test_door_prices_controlled_members_from_actions() -> None:
    door = DoorBidding(("c", "a"), levels=5)
    door.setup(_group())
    door.act(np.array([4, 1]))
    observation = BidObservation(3, IDS, np.arange(3, dtype=np.int64),
                                 np.array([1.0, 0.5, -2.0]), 250_000, 80_000, 0, 1_000_000)
    actions = door.decide(observation)
    assert actions.bid_wh.tolist() == [1000, 500, 0]
    assert actions.offer_wh.tolist() == [0, 0, 2000]
    assert actions.offer_price_u[2] == 250_000  # c: level 4 of 5 is retail
    assert actions.bid_price_u[0] == 122_500  # a: level 1 is feed-in + 1/4 of the band


def test_door_refuses_bad_actions_and_unknown_members() -> None:
    door = DoorBidding(("a",), levels=3)
    door.setup(_group())
    with pytest.raises(PolicyError, match=r"must be 1 indices in \[0, 2\]"):
        door.act(np.array([3]))
    with pytest.raises(PolicyError, match="member 'z' is not in the bidding group 'all'"):
        DoorBidding(("z",)).setup(_group())


def test_gridcoop_imports_without_the_rl_libraries() -> None:
    code = ("import sys, gridcoop.agents.behaviour.rl, gridcoop.agents.model.community; "
            "print('pettingzoo' in sys.modules, 'gymnasium' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]
