"""Measurement consensus: neighbouring meters attest a member's injected energy.

Why: a settlement pays a seller for the Wh its own meter says it exported. A
meter that lies would be paid for energy nobody received. The campus pilot's
answer is a detection service in the neighbouring nodes, which see a node
inject energy and validate it "like a consensus". Here each exporter's claim
for one interval is checked against its neighbours' observations (in integer
Wh), and only a quorum makes it final.

The rule, per exporter (row) and interval:

* an observation *agrees* when it is within ``tolerance_wh + claim ×
  tolerance_ppm / 10⁶`` (rounded down) of the claim; a missing observation is
  ``-1`` and counts neither way;
* **final** when at least ``quorum`` observations agree and they are no fewer
  than those that disagree: the claim is accepted as it is;
* **disputed** when at least ``quorum`` observations disagree and they
  outnumber those that agree: the accepted energy is the lower median of all the
  observations received, never more than the claim. A claim above that median
  by more than the tolerance is a **lie**, to be recorded;
* **waiting** otherwise: nothing is accepted yet (the caller keeps it pending,
  or falls back to the grid's tariffs when the interval's deadline passes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridcoop.market.errors import MarketError
from gridcoop.units import IntArray

FINAL, WAITING, DISPUTED = 0, 1, 2
"""Status codes of :class:`Consensus`."""

MISSING = -1
"""An observation that has not arrived."""


class ConsensusError(MarketError, ValueError):
    """Observations or parameters that the rule cannot apply to."""


@dataclass(frozen=True, slots=True)
class Consensus:
    """Per exporter: status (``FINAL``/``WAITING``/``DISPUTED``), accepted Wh, and lies."""

    status: IntArray
    accepted_wh: IntArray
    agree: IntArray
    disagree: IntArray
    lie: np.ndarray


def attest(claim_wh: IntArray, observed_wh: IntArray, quorum: int,
           tolerance_wh: int = 0, tolerance_ppm: int = 0) -> Consensus:
    """Apply the rule above; ``observed_wh`` is (exporters, neighbours), ``-1`` when missing."""
    claim = np.asarray(claim_wh, dtype=np.int64)
    observed = np.asarray(observed_wh, dtype=np.int64)
    if observed.ndim != 2 or observed.shape[0] != claim.size:
        raise ConsensusError(f"observations must be (exporters, neighbours) = ({claim.size}, k), "
                             f"got shape {observed.shape}")
    if quorum < 1:
        raise ConsensusError(f"quorum must be at least 1, got {quorum}")
    if tolerance_wh < 0 or tolerance_ppm < 0:
        raise ConsensusError("tolerances must be >= 0")
    if (claim < 0).any() or (observed < MISSING).any():
        raise ConsensusError("claims must be >= 0 Wh and observations >= 0 Wh or -1 (missing)")
    present = observed != MISSING
    tolerance = tolerance_wh + claim * tolerance_ppm // 1_000_000
    close = np.abs(observed - claim[:, None]) <= tolerance[:, None]
    agree = (present & close).sum(axis=1).astype(np.int64)
    disagree = (present & ~close).sum(axis=1).astype(np.int64)
    final = (agree >= quorum) & (agree >= disagree)
    disputed = ~final & (disagree >= quorum) & (disagree > agree)
    status = np.full(claim.size, WAITING, dtype=np.int64)
    status[final] = FINAL
    status[disputed] = DISPUTED
    median = _lower_median(observed, present)
    accepted = np.where(final, claim, np.where(disputed, np.minimum(claim, median), 0))
    lie = disputed & (claim > median + tolerance)
    return Consensus(status, accepted.astype(np.int64), agree, disagree, lie)


def _lower_median(observed: IntArray, present: np.ndarray) -> IntArray:
    """Lower median of each row's present observations (0 for a row with none)."""
    count = present.sum(axis=1)
    ordered = np.sort(np.where(present, observed, np.iinfo(np.int64).max), axis=1)
    index = np.maximum(count - 1, 0) // 2
    median = ordered[np.arange(observed.shape[0]), index] if observed.shape[1] else np.zeros(
        observed.shape[0], dtype=np.int64)
    return np.where(count > 0, median, 0).astype(np.int64)
