"""The consensus part of settlement on its own: neighbours, honest claims, liars (properties)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.scenario.consensus import ConsensusSpec
from gridcoop.agents.trading.attestation import Attestation, nearest_neighbours


def _slices(sizes: list[int]) -> tuple[slice, ...]:
    edges = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    return tuple(slice(a, b) for a, b in itertools.pairwise(edges))


@given(st.lists(st.integers(1, 12), min_size=1, max_size=4), st.integers(0, 6))
def test_neighbours_are_the_nearest_others_of_the_same_region(sizes: list[int], k: int) -> None:
    slices = _slices(sizes)
    got = nearest_neighbours(slices, k)
    for part in slices:
        for i in range(part.start, part.stop):
            others = sorted((j for j in range(part.start, part.stop) if j != i),
                            key=lambda j: (abs(j - i), j < i))[:k]
            assert got[i].tolist() == others + [-1] * (k - len(others))


@settings(max_examples=50)
@given(st.lists(st.integers(0, 50_000), min_size=4, max_size=12), st.integers(1, 3),
       st.integers(0, 2**31))
def test_honest_meters_without_noise_count_exactly_what_they_export(
        export: list[int], quorum: int, seed: int) -> None:
    n = len(export)
    spec = ConsensusSpec(quorum=quorum, neighbours=3, tolerance_wh=0, tolerance_ppm=0,
                         noise_ppm=0)
    part = Attestation(spec, tuple(f"m{i}" for i in range(n)), (slice(0, n),), seed)
    verdict = part.check(5, np.array(export, dtype=np.int64))
    assert verdict.trade_export_wh.tolist() == export
    assert not verdict.fallback_wh.any() and not verdict.lie_wh.any()


@settings(max_examples=50)
@given(st.lists(st.integers(1_000, 50_000), min_size=4, max_size=12), st.integers(0, 2**31))
def test_a_liar_is_caught_at_its_true_export_and_others_are_untouched(
        export: list[int], seed: int) -> None:
    n = len(export)
    spec = ConsensusSpec(quorum=2, neighbours=3, tolerance_wh=1, tolerance_ppm=10_000,
                         noise_ppm=0, liars=("m0",), over_report_ppm=250_000)
    part = Attestation(spec, tuple(f"m{i}" for i in range(n)), (slice(0, n),), seed)
    true = np.array(export, dtype=np.int64)
    verdict = part.check(0, true)
    assert verdict.trade_export_wh.tolist() == export
    assert verdict.lie_wh.tolist() == [export[0] // 4] + [0] * (n - 1)
    assert part.summary()["consensus_lies_caught"] == 1
