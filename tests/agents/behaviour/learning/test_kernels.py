"""The learning kernels: hand-worked updates, probabilities, determinism under a seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.behaviour.learning.markups import limit_prices_u, surplus_ueur
from gridcoop.agents.behaviour.learning.qlearning import QLearner, QParams
from gridcoop.agents.behaviour.learning.roth_erev import (
    LearningError,
    RothErev,
    RothErevParams,
    choose_by_probability,
)
from gridcoop.streams import streams


def test_roth_erev_update_by_hand() -> None:
    # 3 actions, q = 100 each, r = 0.1, e = 0.2; member 0 chose action 1 and earned 50:
    # chosen: 0.9 * 100 + 0.8 * 50 = 130; others: 0.9 * 100 + 0.2 * 100 / 2 = 100.
    learner = RothErev(2, 3, RothErevParams(recency=0.1, experimentation=0.2,
                                            initial_propensity=100.0))
    learner.update(np.array([1, 2]), np.array([50.0, 0.0]))
    assert learner.propensity[0].tolist() == pytest.approx([100.0, 130.0, 100.0])
    # member 1 earned nothing for action 2: it loses recency and nothing comes back to it
    assert learner.propensity[1].tolist() == pytest.approx([100.0, 100.0, 90.0])
    assert learner.probabilities()[0].tolist() == pytest.approx([100 / 330, 130 / 330, 100 / 330])


def test_roth_erev_mask_leaves_others_alone() -> None:
    learner = RothErev(2, 2, RothErevParams(initial_propensity=1.0))
    learner.update(np.array([0, 0]), np.array([5.0, 5.0]), mask=np.array([False, True]))
    assert learner.propensity[0].tolist() == [1.0, 1.0]
    # 0.9 * 1 + 0.8 * 5 = 4.9 for the choice; 0.9 * 1 + 0.2 * 1 / 1 = 1.1 for the other
    assert learner.propensity[1].tolist() == pytest.approx([4.9, 1.1])


def test_roth_erev_learns_the_paying_action() -> None:
    learner = RothErev(50, 4)
    rng = streams(3).rng("learning.bids")
    pay = np.array([0.0, 1_000.0, 20_000.0, 0.0])  # action 2 pays best
    for _ in range(300):
        chosen = learner.choose(rng)
        learner.update(chosen, pay[chosen])
    assert (learner.probabilities().argmax(axis=1) == 2).mean() > 0.9


@pytest.mark.parametrize("bad", [[-1.0], [np.nan], [np.inf]])
def test_roth_erev_refuses_bad_rewards(bad: list[float]) -> None:
    learner = RothErev(1, 2)
    with pytest.raises(LearningError, match="finite and >= 0"):
        learner.update(np.array([0]), np.array(bad))


@pytest.mark.parametrize("kwargs", [{"recency": 1.0}, {"experimentation": -0.1},
                                    {"initial_propensity": 0.0}])
def test_roth_erev_refuses_bad_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(LearningError):
        RothErevParams(**kwargs)


def test_choose_by_probability_by_hand() -> None:
    probabilities = np.array([[0.25, 0.5, 0.25]] * 4)

    class Fixed:
        def random(self, size: tuple[int]) -> np.ndarray:
            return np.array([0.0, 0.2499, 0.25, 0.99])

    chosen = choose_by_probability(probabilities, Fixed())  # type: ignore[arg-type]
    assert chosen.tolist() == [0, 0, 1, 2]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(2, 7), st.integers(0, 2**32),
       st.lists(st.floats(0, 1e6), min_size=1, max_size=40))
def test_roth_erev_properties(members: int, actions: int, seed: int,
                              rewards: list[float]) -> None:
    def run() -> tuple[np.ndarray, np.ndarray]:
        learner = RothErev(members, actions)
        rng = streams(seed).rng("learning.bids")
        picks = []
        for reward in rewards:
            chosen = learner.choose(rng)
            picks.append(chosen)
            learner.update(chosen, np.full(members, reward))
            p = learner.probabilities()
            assert np.allclose(p.sum(axis=1), 1.0)
            assert np.all(p > 0)
        return np.array(picks), learner.propensity

    first, second = run(), run()
    assert np.array_equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert first[0].min() >= 0 and first[0].max() < actions


def test_q_update_by_hand() -> None:
    # alpha 0.5, gamma 0.5; Q[next] best = 4; reward 10: 0 + 0.5 (10 + 0.5 * 4 - 0) = 6
    learner = QLearner(1, 2, 3, QParams(learning_rate=0.5, discount=0.5, epsilon=0.5,
                                        epsilon_decay=0.5, epsilon_min=0.2))
    learner.q[0, 1] = [1.0, 4.0, 2.0]
    learner.update(np.array([0]), np.array([2]), np.array([10.0]), next_state=np.array([1]))
    assert learner.q[0, 0].tolist() == [0.0, 0.0, 6.0]
    assert learner.epsilon.tolist() == [0.25]
    learner.update(np.array([0]), np.array([2]), np.array([10.0]), next_state=np.array([1]))
    assert learner.q[0, 0, 2] == pytest.approx(6.0 + 0.5 * (12.0 - 6.0))
    assert learner.epsilon.tolist() == [0.2]  # floored at epsilon_min
    assert learner.greedy(np.array([0])).tolist() == [2]
    assert learner.greedy(np.array([1])).tolist() == [1]


def test_q_greedy_ties_take_lowest_action() -> None:
    learner = QLearner(2, 1, 4, QParams(epsilon=0.0, epsilon_min=0.0))
    learner.q[1, 0] = [0.0, 3.0, 3.0, 1.0]
    assert learner.choose(np.array([0, 0]), streams(0).rng("learning.bids")).tolist() == [0, 1]


def test_q_bandit_finds_best_arm_and_is_deterministic() -> None:
    def run(seed: int) -> np.ndarray:
        learner = QLearner(20, 1, 5)
        rng = streams(seed).rng("learning.bids")
        state = np.zeros(20, dtype=np.int64)
        pay = np.array([1.0, 2.0, 9.0, 3.0, 0.0])
        for _ in range(400):
            chosen = learner.choose(state, rng)
            learner.update(state, chosen, pay[chosen])
        return learner.q

    q = run(7)
    assert (q[:, 0].argmax(axis=1) == 2).mean() >= 0.9
    assert np.array_equal(q, run(7))
    assert not np.array_equal(q, run(8))


@pytest.mark.parametrize("kwargs", [{"learning_rate": 0.0}, {"discount": 1.0},
                                    {"epsilon": 0.1, "epsilon_min": 0.2}, {"epsilon_decay": 0.0}])
def test_q_refuses_bad_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(LearningError):
        QParams(**kwargs)


def test_q_refuses_wrong_shapes() -> None:
    learner = QLearner(2, 1, 2)
    with pytest.raises(LearningError, match="reward has shape"):
        learner.update(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), np.zeros(3))


def test_limit_prices_by_hand() -> None:
    # band 80_000 -> 250_000 µ€/kWh, 5 levels: steps of 42_500
    prices = limit_prices_u(np.arange(5), 5, retail_u=250_000, feed_in_u=80_000)
    assert prices.tolist() == [80_000, 122_500, 165_000, 207_500, 250_000]
    # 3 levels over an odd spread: floor
    assert limit_prices_u(np.array([1]), 3, 101, 0).tolist() == [50]


def test_surplus_by_hand() -> None:
    # buyer: 2 kWh at retail 0.25 = 500_000 µ€, paid 300_000 -> saved 200_000
    # seller: 1 kWh at feed-in 0.08 = 80_000 µ€, earned 150_000 -> gained 70_000
    surplus = surplus_ueur(np.array([2000, 0]), np.array([300_000, 0]), np.array([0, 1000]),
                           np.array([0, 150_000]), retail_u=250_000, feed_in_u=80_000)
    assert surplus.tolist() == [200_000, 70_000]
