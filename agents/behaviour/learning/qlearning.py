"""Tabular Q-learning with epsilon-greedy exploration, vectorised over members.

Why: the other family of learners in agent-based electricity markets, and the
simplest one that conditions on a state (here the delivery hour, so a member
can learn to ask more in the evening peak than at noon). With one state and
``discount=0`` it is the epsilon-greedy multi-armed bandit.

Each member ``i`` holds a table ``Q[i, state, action]``. After acting ``a`` in
state ``s``, earning ``R`` and reaching state ``s'``::

    Q[s, a] <- Q[s, a] + alpha (R + gamma max_b Q[s', b] - Q[s, a])

A member explores (a uniformly random action) with probability epsilon, which
decays by ``epsilon_decay`` per update down to ``epsilon_min``; otherwise it
takes its best action, the lowest-numbered one among ties, so ties never
depend on anything but the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.behaviour.learning.roth_erev import LearningError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class QParams:
    """The learner's parameters (defaults are assumptions; docs/guides/learning.md)."""

    learning_rate: float = 0.1
    discount: float = 0.0
    epsilon: float = 0.2
    epsilon_decay: float = 0.995
    epsilon_min: float = 0.02
    initial_q: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.learning_rate <= 1.0:
            raise LearningError(f"learning_rate={self.learning_rate}: give 0 < alpha <= 1")
        if not 0.0 <= self.discount < 1.0:
            raise LearningError(f"discount={self.discount}: give 0 <= gamma < 1")
        if not 0.0 <= self.epsilon_min <= self.epsilon <= 1.0:
            raise LearningError(f"epsilon={self.epsilon}, epsilon_min={self.epsilon_min}: "
                                "give 0 <= epsilon_min <= epsilon <= 1")
        if not 0.0 < self.epsilon_decay <= 1.0:
            raise LearningError(f"epsilon_decay={self.epsilon_decay}: give 0 < decay <= 1")
        if not np.isfinite(self.initial_q):
            raise LearningError(f"initial_q={self.initial_q}: give a finite number")


class QLearner:
    """Q tables of ``members`` learners over ``states`` x ``actions``."""

    def __init__(self, members: int, states: int, actions: int,
                 params: QParams | None = None) -> None:
        if actions < 2 or states < 1:
            raise LearningError(f"states={states}, actions={actions}: give >= 1 state and "
                                ">= 2 actions")
        self.params = params if params is not None else QParams()
        self.q: FloatArray = np.full((members, states, actions), self.params.initial_q)
        self.epsilon: FloatArray = np.full(members, self.params.epsilon)

    @property
    def shape(self) -> tuple[int, int, int]:
        members, states, actions = self.q.shape
        return members, states, actions

    def greedy(self, state: IntArray) -> IntArray:
        """Each member's best action in its ``state`` (lowest index among ties)."""
        # action by action over contiguous rows (an argmax along short rows is slow in
        # numpy); strict > keeps the lowest action among ties
        table = np.ascontiguousarray(self.q[np.arange(self.q.shape[0]), state].T)
        best_value = table[0].copy()
        best: IntArray = np.zeros(table.shape[1], dtype=np.int64)
        for action in range(1, table.shape[0]):
            better = table[action] > best_value
            best[better] = action
            np.maximum(best_value, table[action], out=best_value)
        return best

    def choose(self, state: IntArray, rng: np.random.Generator) -> IntArray:
        """Epsilon-greedy actions; always draws 2 numbers per member (a stable stream)."""
        members, _, actions = self.shape
        explore = rng.random(members) < self.epsilon
        random_action = rng.integers(0, actions, size=members)
        return np.where(explore, random_action, self.greedy(state)).astype(np.int64)

    def update(self, state: IntArray, chosen: IntArray, reward: FloatArray,
               next_state: IntArray | None = None, mask: BoolArray | None = None) -> None:
        """One Q-learning step for each member where ``mask`` (all when ``None``)."""
        reward = np.asarray(reward, dtype=np.float64)
        members = self.q.shape[0]
        for name, array in (("state", state), ("chosen", chosen), ("reward", reward)):
            if array.shape != (members,):
                raise LearningError(f"Q update: {name} has shape {array.shape}, "
                                    f"expected ({members},)")
        if not np.all(np.isfinite(reward)):
            raise LearningError("Q update: rewards must be finite")
        rows = np.arange(members) if mask is None else np.flatnonzero(mask)
        p = self.params
        old = self.q[rows, state[rows], chosen[rows]]
        target = reward[rows]
        if p.discount and next_state is not None:
            target = target + p.discount * self.q[rows, next_state[rows]].max(axis=1)
        self.q[rows, state[rows], chosen[rows]] = old + p.learning_rate * (target - old)
        self.epsilon[rows] = np.maximum(self.epsilon[rows] * p.epsilon_decay, p.epsilon_min)
