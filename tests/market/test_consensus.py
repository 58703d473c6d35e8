"""Measurement consensus on hand-worked intervals, and its properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.market.consensus import DISPUTED, FINAL, MISSING, WAITING, ConsensusError, attest


def _a(*rows: list[int]) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


def test_hand_worked_interval() -> None:
    # Four exporters, three neighbours each, quorum 2, tolerance 10 Wh + 1 % of the claim.
    claim = np.array([1_000, 1_000, 2_000, 500], dtype=np.int64)
    observed = _a(
        [1_005, 995, MISSING],    # two agree (|5| <= 10 + 10): final, 1,000 accepted
        [990, MISSING, MISSING],  # one agrees: waiting, nothing accepted yet
        [1_200, 1_190, 1_210],    # three disagree (tolerance 30): disputed, lower median 1,200
        [490, 510, 700],          # 490 and 510 are within 10 + 5; 700 is not: final
    )
    result = attest(claim, observed, quorum=2, tolerance_wh=10, tolerance_ppm=10_000)
    assert result.status.tolist() == [FINAL, WAITING, DISPUTED, FINAL]
    assert result.accepted_wh.tolist() == [1_000, 0, 1_200, 500]
    assert result.agree.tolist() == [2, 1, 0, 2]
    assert result.disagree.tolist() == [0, 0, 3, 1]
    assert result.lie.tolist() == [False, False, True, False]


def test_an_under_claim_is_disputed_but_not_a_lie_and_never_paid_more() -> None:
    result = attest(np.array([100]), _a([300, 310]), quorum=2)
    assert result.status.tolist() == [DISPUTED]
    assert result.accepted_wh.tolist() == [100] and not result.lie[0]


def test_a_tie_between_agreeing_and_disagreeing_neighbours_is_final() -> None:
    result = attest(np.array([100]), _a([100, 100, 0, 0]), quorum=2)
    assert result.status.tolist() == [FINAL]


@pytest.mark.parametrize(("claim", "observed", "quorum", "message"), [
    (np.array([1]), np.zeros((2, 1), dtype=np.int64), 1, "must be"),
    (np.array([1]), np.zeros((1, 1), dtype=np.int64), 0, "quorum"),
    (np.array([-1]), np.zeros((1, 1), dtype=np.int64), 1, "claims"),
    (np.array([1]), np.full((1, 1), -2, dtype=np.int64), 1, "observations"),
])
def test_bad_input_is_refused(claim: np.ndarray, observed: np.ndarray, quorum: int,
                              message: str) -> None:
    with pytest.raises(ConsensusError, match=message):
        attest(claim, observed, quorum)


rows = st.integers(1, 8)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=rows, k=st.integers(0, 6), quorum=st.integers(1, 4),
       tol=st.integers(0, 50), ppm=st.integers(0, 100_000))
def test_properties(data: st.DataObject, n: int, k: int, quorum: int, tol: int, ppm: int) -> None:
    claim = np.array(data.draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n)),
                     dtype=np.int64)
    observed = np.array(data.draw(st.lists(st.lists(st.integers(-1, 12_000), min_size=k,
                                                    max_size=k), min_size=n, max_size=n)),
                        dtype=np.int64).reshape(n, k)
    result = attest(claim, observed, quorum, tol, ppm)
    assert (result.accepted_wh <= claim).all() and (result.accepted_wh >= 0).all()
    assert (result.accepted_wh[result.status == FINAL] == claim[result.status == FINAL]).all()
    assert (result.accepted_wh[result.status == WAITING] == 0).all()
    assert (result.agree + result.disagree == (observed != MISSING).sum(axis=1)).all()
    assert not result.lie[result.status != DISPUTED].any()
    honest = attest(claim, np.repeat(claim[:, None], max(k, quorum), axis=1), quorum, tol, ppm)
    assert (honest.status == FINAL).all() and (honest.accepted_wh == claim).all()
