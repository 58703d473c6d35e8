"""Modified Roth-Erev reinforcement learning, vectorised over members.

Why this learner: it is the one the AMES wholesale-market testbed gives its
traders, and the modified form (Nicolaisen, Petrov and Tesfatsion) keeps
learning when a choice earns nothing, which plain Roth-Erev does not: a bid
that never clears earns zero, and the learner must still move away from it.

Each member holds a propensity per action. After choosing action ``k`` and
earning reward ``R`` (never negative here)::

    q_j <- (1 - r) q_j + (1 - e) R            for j = k
    q_j <- (1 - r) q_j + e q_j / (N - 1)      for j != k

with recency ``r`` (how fast the past is forgotten) and experimentation ``e``
(how much of the reinforcement spills onto the other actions); the choice
probabilities are the propensities' shares, ``p_j = q_j / sum(q)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class LearningError(ValueError):
    """A learner given parameters or feedback it cannot use; the message says which."""


@dataclass(frozen=True, slots=True)
class RothErevParams:
    """The learner's parameters (defaults: see docs/guides/learning.md, which are assumptions)."""

    recency: float = 0.1
    experimentation: float = 0.2
    initial_propensity: float = 10_000.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.recency < 1.0:
            raise LearningError(f"recency={self.recency}: give 0 <= recency < 1")
        if not 0.0 <= self.experimentation < 1.0:
            raise LearningError(f"experimentation={self.experimentation}: give 0 <= e < 1")
        if not self.initial_propensity > 0.0:
            raise LearningError(f"initial_propensity={self.initial_propensity}: give > 0")


def choose_by_probability(weights: FloatArray, rng: np.random.Generator) -> IntArray:
    """One action per row, drawn with probabilities proportional to the row's weights.

    Inverse transform on the cumulative sums (the weights need not be
    normalised: the uniform is scaled by the row's total instead), so the draw
    uses exactly one number per member whatever the weights: adding a member or
    changing one member's propensities never shifts another member's draw.
    """
    rows, actions = weights.shape
    uniform: FloatArray = rng.random(size=(rows,))
    # column by column: a cumulative sum along short rows is slow in numpy
    total = np.zeros(rows)
    for j in range(actions):
        total += weights[:, j]
    threshold = uniform * total
    cumulative = np.zeros(rows)
    chosen = np.zeros(rows, dtype=np.int64)
    for j in range(actions - 1):
        cumulative += weights[:, j]
        chosen += cumulative <= threshold
    return chosen


class RothErev:
    """Propensities of ``members`` learners over ``actions`` choices each."""

    def __init__(self, members: int, actions: int, params: RothErevParams | None = None) -> None:
        if actions < 2:
            raise LearningError(f"actions={actions}: a learner needs at least 2 choices")
        self.params = params if params is not None else RothErevParams()
        self.actions = actions
        self.propensity: FloatArray = np.full((members, actions), self.params.initial_propensity)

    def probabilities(self) -> FloatArray:
        """Each member's choice probabilities (rows sum to 1)."""
        result: FloatArray = self.propensity / self.propensity.sum(axis=1, keepdims=True)
        return result

    def choose(self, rng: np.random.Generator) -> IntArray:
        """One action per member, drawn from its probabilities (shares of its propensities)."""
        return choose_by_probability(self.propensity, rng)

    def update(self, chosen: IntArray, reward: FloatArray, mask: BoolArray | None = None) -> None:
        """Reinforce each member's ``chosen`` action by ``reward`` (only where ``mask``)."""
        reward = np.asarray(reward, dtype=np.float64)
        if reward.shape != (self.propensity.shape[0],) or chosen.shape != reward.shape:
            raise LearningError(f"Roth-Erev update: chosen {chosen.shape} and reward "
                                f"{reward.shape} must both have one entry per member "
                                f"({self.propensity.shape[0]})")
        if not np.all(np.isfinite(reward)) or np.any(reward < 0):
            raise LearningError("Roth-Erev update: rewards must be finite and >= 0 "
                                "(propensities are shares)")
        r, e = self.params.recency, self.params.experimentation
        q = self.propensity
        members = np.arange(chosen.size)
        updated = q * ((1.0 - r) + e / (self.actions - 1))  # every action not chosen
        updated[members, chosen] = (1.0 - r) * q[members, chosen] + (1.0 - e) * reward
        if mask is not None:
            keep = np.flatnonzero(~np.asarray(mask, dtype=bool))
            updated[keep] = q[keep]
        self.propensity = updated
