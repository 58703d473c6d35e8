"""Lighting habits that respond to published rankings (``ranking_response``) or not."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gridcoop.agents.behaviour.errors import ActionError
from gridcoop.agents.behaviour.lighting import RankingResponseLighting
from gridcoop.agents.behaviour.observations import LightingObservation, Standing
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.mechanisms.campus.habits import decide_switch_offs
from gridcoop.agents.mechanisms.campus.scenario import CampusCase, CampusTerm
from gridcoop.agents.model.population import seeded_streams
from gridcoop.agents.scenario.registry import build_scenario

WEEK_STEPS = 96 * 7
RANKED = {"policies": {"lighting": "ranking_response"}, "rankings_from_day": 14}


def _campus(**params: Any) -> CampusCase:
    sc = build_scenario("campus-lighting", {"seed": 0, **params})
    assert isinstance(sc, CampusCase)
    return sc


#: the lights before the pilot's switch-on became the default: security on at 07:00, off at 22:00
DAYTIME = {"lights_on_h": 7, "lights_off_h": 22}


def _weekly_lighting_wh(**params: Any) -> list[int]:
    sc = _campus(days=42, **{**DAYTIME, **params})
    wh = CampusTerm.simulate(sc, seeded_streams(0)).lighting_wh
    return [int(wh[w * WEEK_STEPS:(w + 1) * WEEK_STEPS].sum()) for w in range(6)]


BASELINE = [89012, 99858, 99110, 91630, 101354, 109956]


def test_habit_is_the_campus_behaviour_from_before_policies() -> None:
    assert _weekly_lighting_wh(policies={"lighting": "habit"}) == BASELINE


def test_campus_lighting_responds_to_its_rankings_by_default_from_day_28() -> None:
    default = _weekly_lighting_wh()
    assert default[:4] == BASELINE[:4]  # the first month: no ranking published yet
    assert default[4:] == _weekly_lighting_wh(policies={"lighting": "ranking_response"},
                                              rankings_from_day=28)[4:]
    assert sum(default[4:]) < 0.9 * sum(BASELINE[4:])


@pytest.mark.parametrize("params", [
    {"policies": {"lighting": "ranking_response"}, "rankings_from_day": None},
    {"policies": {"lighting": {"policy": "ranking_response",
                               "params": {"rank_response": 0, "peer_response": 0}}},
     "rankings_from_day": 14},
])
def test_rankings_switched_off_leave_behaviour_at_baseline(params: dict[str, Any]) -> None:
    assert _weekly_lighting_wh(**params) == BASELINE


def test_published_rankings_cut_lighting_from_the_week_after_the_first_list() -> None:
    ranked = _weekly_lighting_wh(**RANKED)
    assert ranked[:2] == BASELINE[:2]  # nothing published yet: the same draws, the same lights
    assert ranked == [89012, 99858, 82280, 74800, 75548, 78914]
    later = sum(ranked[2:]) / sum(BASELINE[2:])
    assert 0.7 < later < 0.85


def _policy(**params: float) -> RankingResponseLighting:
    policy = RankingResponseLighting(**params)
    policy.setup(Group(Decision.LIGHTING, "t", ("a", "b", "c"), np.zeros(0, dtype=np.int64),
                       np.random.default_rng(0)))
    return policy


def test_ranking_response_probabilities_by_hand() -> None:
    zeros = np.zeros(3, dtype=np.int64)
    standing = Standing(zeros, zeros, np.array([-1, 2, 0]),
                        published={"top_switch_off_share": np.full(3, 0.9)})
    obs = LightingObservation(7, ("a", "b", "c"), np.arange(3), np.full(3, 0.3), standing)
    p = _policy(rank_response=0.4, peer_response=0.5).probabilities(obs)
    # a: named → 0.7, then half way to 0.9 → 0.8; b, c: half way from 0.3 to 0.9 → 0.6
    assert p == pytest.approx([0.8, 0.6, 0.6])
    later = LightingObservation(14, ("a", "b", "c"), np.arange(3), np.full(3, 0.3), Standing(
        zeros, zeros, zeros))
    assert _policy().probabilities(later) == pytest.approx([0.3] * 3)


def test_a_lighting_policy_returning_a_bad_row_is_named() -> None:
    class Wrong(RankingResponseLighting):
        name = "wrong"

        def decide(self, observation: LightingObservation) -> Any:
            return type("A", (), {"switch_off": np.full(len(observation.member_ids), 2)})()

    sc = _campus(days=7)
    term = CampusTerm.simulate(sc, seeded_streams(0))
    with pytest.raises(ActionError, match=r"policy 'wrong'.*field 'switch_off': 2 is above 1"):
        decide_switch_offs(term.sessions, term.presence, sc.config(), ["room-1", "room-2"],
                           _wrong_setup(Wrong()), 0)


def _wrong_setup(policy: RankingResponseLighting) -> RankingResponseLighting:
    policy.setup(Group(Decision.LIGHTING, "t", (), np.zeros(0, dtype=np.int64),
                       np.random.default_rng(0)))
    return policy
