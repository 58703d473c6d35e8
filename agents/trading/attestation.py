"""Neighbouring meters attest each exporter's claim before its interval is settled.

Why in the central market's package: the central market settles; this part
turns one interval's meter readings into what the settlement may count
(``gridcoop.market.consensus`` holds the rule). Per delivery interval:

* each member's *true* injection is its meter reading as the physics produced
  it; a liar's meter claims that plus ``over_report_ppm``;
* each exporter's ``neighbours`` nearest members of its region (by member
  number, ties to the next number) observe the true injection with seeded
  noise (stream ``consensus.noise``, keyed by the interval);
* a **final** claim counts as it is; a **disputed** one counts at the accepted
  Wh, and a lie is penalised; a **waiting** claim (too few neighbours agree or
  disagree when the interval is settled) falls back to the grid's tariffs: its
  trades deliver nothing (their buyers buy the shortfall at retail) and its
  claim is fed in at the feed-in tariff, as the grid bills a meter without the
  community.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridcoop.agents.scenario.consensus import ConsensusSpec
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.market.consensus import DISPUTED, FINAL, MISSING, WAITING, attest
from gridcoop.streams import streams
from gridcoop.units import IntArray


def nearest_neighbours(region_slices: tuple[slice, ...], k: int) -> IntArray:
    """(members, k) indices of each member's ``k`` nearest in its region, ``-1`` padded.

    Nearest by member number; at equal distance the next number comes first
    (offsets +1, -1, +2, -2, ...; within distance k there are k of them unless
    the region is smaller).
    """
    n = region_slices[-1].stop if region_slices else 0
    start, stop = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for part in region_slices:
        start[part], stop[part] = part.start, part.stop
    offsets = np.stack([np.arange(1, k + 1), -np.arange(1, k + 1)], axis=1).ravel()
    member = np.arange(n, dtype=np.int64)[:, None]
    candidate = member + offsets[None, :]
    inside = (candidate >= start[:, None]) & (candidate < stop[:, None])
    order = np.argsort(~inside, axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(candidate, order, axis=1)
    return np.where(np.take_along_axis(inside, order, axis=1), chosen, MISSING).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one interval's settlement may count, per member."""

    trade_export_wh: IntArray  # export that may deliver local trades
    fallback_wh: IntArray  # export of waiting claims, fed in at the feed-in tariff
    lie_wh: IntArray  # Wh claimed above what the neighbours saw (0 = no lie)
    observed_wh: IntArray  # the accepted Wh of each member (its claim when final)


class Attestation:
    """The neighbours, the liars and the running counts of one community."""

    def __init__(self, spec: ConsensusSpec, node_ids: tuple[str, ...],
                 region_slices: tuple[slice, ...], seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self.neighbours = nearest_neighbours(region_slices, spec.neighbours)
        index = {node: i for i, node in enumerate(node_ids)}
        unknown = [m for m in spec.liars if m not in index]
        if unknown:
            raise ScenarioError(f"consensus.liars: no member named {unknown[0]!r}")
        self.liar = streams(seed).rng("consensus.liars").random(len(node_ids)) < spec.liar_share
        self.liar[[index[m] for m in spec.liars]] = True
        self.counts = dict.fromkeys(("final", "waiting", "disputed", "lies"), 0)
        self.refused_wh = 0
        self.fallback_wh = 0

    def check(self, interval: int, export_wh: IntArray) -> Verdict:
        """Attest ``interval``'s exports (the true injections) and count the outcome."""
        spec = self.spec
        true = export_wh.astype(np.int64)
        claim = true + np.where(self.liar, true * spec.over_report_ppm // 1_000_000, 0)
        rows = np.flatnonzero(claim > 0)
        seen = self.neighbours[rows]
        noise = streams(self.seed).rng("consensus.noise", interval).standard_normal(seen.shape)
        base = true[rows][:, None]
        observed = np.maximum(base + np.rint(base * noise * spec.noise_ppm / 1e6).astype(np.int64),
                              0)
        observed = np.where(seen == MISSING, MISSING, observed)
        result = attest(claim[rows], observed, spec.quorum, spec.tolerance_wh, spec.tolerance_ppm)
        accepted = claim.copy()
        accepted[rows] = result.accepted_wh
        waiting = np.zeros_like(claim, dtype=bool)
        waiting[rows] = result.status == WAITING
        lie = np.zeros_like(claim)
        lie[rows[result.lie]] = (claim[rows] - result.accepted_wh)[result.lie]
        for name, code in (("final", FINAL), ("waiting", WAITING), ("disputed", DISPUTED)):
            self.counts[name] += int((result.status == code).sum())
        self.counts["lies"] += int(result.lie.sum())
        disputed = result.status == DISPUTED
        self.refused_wh += int((claim[rows] - result.accepted_wh)[disputed].sum())
        self.fallback_wh += int(claim[waiting].sum())
        return Verdict(np.where(waiting, 0, accepted), np.where(waiting, claim, 0), lie, accepted)

    def summary(self) -> dict[str, Any]:
        """The run's consensus KPIs."""
        return {"consensus_claims_final": self.counts["final"],
                "consensus_claims_waiting": self.counts["waiting"],
                "consensus_claims_disputed": self.counts["disputed"],
                "consensus_lies_caught": self.counts["lies"],
                "consensus_refused_kwh": self.refused_wh / 1000,
                "consensus_fallback_kwh": self.fallback_wh / 1000}
