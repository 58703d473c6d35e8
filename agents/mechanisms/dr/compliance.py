"""Did the household do what it opted in to? Meters decide; tokens and penalties follow.

Why per household and event: a household has one meter, so what can be
verified is its net change against its baseline over the event's metering
slots (5 minutes, the DR transaction time unit, by default), not each
appliance's. All amounts are integers (Wh and tokens; 1 token = 1 Wh at the
default rate), so they can go on the ledger as they are.

For one household and event, with ``expected[s]`` the committed change in
slot ``s`` (negative for a shed) and ``baseline[s]``/``metered[s]`` in Wh:

- committed = |sum(expected)|, direction = its sign (nothing to verify at 0);
- delivered = max(0, direction * sum(metered - baseline));
- honoured  = 100 * delivered >= (100 - tolerance_pct) * committed;
- reward    = min(delivered, committed) * reward_tokens_per_wh if honoured;
- penalty   = (committed - min(delivered, committed)) * penalty_tokens_per_wh if not.

Opting out costs nothing (the user's right); only an opt-in not honoured is
penalised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridcoop.agents.mechanisms.dr.response import CommandResponse

IntArray = NDArray[np.int64]


class ComplianceError(ValueError):
    """Verification inputs that do not line up."""


@dataclass(frozen=True, slots=True)
class TokenRules:
    """How compliance is judged and paid (all integers)."""

    slot_s: int = 300
    tolerance_pct: int = 10
    reward_tokens_per_wh: int = 1
    penalty_tokens_per_wh: int = 2

    def __post_init__(self) -> None:
        for name in ("slot_s", "reward_tokens_per_wh", "penalty_tokens_per_wh"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ComplianceError(f"{name} must be a non-negative integer; got {value!r}")
        if self.slot_s == 0:
            raise ComplianceError("slot_s must be > 0 (default 300 s)")
        if not 0 <= self.tolerance_pct <= 100:
            raise ComplianceError(f"tolerance_pct must be 0..100; got {self.tolerance_pct}")


@dataclass(frozen=True, slots=True)
class Commitment:
    """What one household committed to in one event, slot by slot (Wh, signed)."""

    household_id: str
    event_id: str
    command_ids: tuple[str, ...]
    start_s: int
    expected_wh: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The meters' verdict on one commitment and the tokens it earns or costs."""

    household_id: str
    event_id: str
    command_ids: tuple[str, ...]
    committed_wh: int
    delivered_wh: int
    honoured: bool
    reward_tokens: int
    penalty_tokens: int


def commitments_from(responses: Sequence[CommandResponse], rules: TokenRules) -> list[Commitment]:
    """Group accepted commands per (household, event) into slot-by-slot expected Wh.

    Each command's per-step shift (kW) becomes Wh per metering slot; the
    fractional Wh are dropped toward zero only once, on the slot total.
    """
    groups: dict[tuple[str, str], list[CommandResponse]] = {}
    for r in responses:
        if r.opt_in:
            groups.setdefault((r.household_id, r.event_id), []).append(r)
    out = []
    for (household, event), items in sorted(groups.items()):
        start = min(r.start_s for r in items)
        end = max(r.start_s + r.step_s * len(r.expected_shift_kw) for r in items)
        if (end - start) % rules.slot_s or any(rules.slot_s % r.step_s for r in items):
            raise ComplianceError(
                f"household {household!r}, event {event!r}: commands must cover whole "
                f"{rules.slot_s} s slots with steps that divide them"
            )
        wh = np.zeros((end - start) // rules.slot_s)
        for r in items:
            for k, kw in enumerate(r.expected_shift_kw):
                t = r.start_s + k * r.step_s - start
                wh[t // rules.slot_s] += kw * r.step_s / 3.6
        out.append(
            Commitment(
                household,
                event,
                tuple(sorted(r.command_id for r in items)),
                start,
                tuple(int(x) for x in np.trunc(wh)),
            )
        )
    return out


def verify_arrays(
    expected_wh: ArrayLike, baseline_wh: ArrayLike, metered_wh: ArrayLike, rules: TokenRules
) -> dict[str, IntArray]:
    """Vectorised verdicts for many commitments at once; arrays are (commitments, slots).

    Returns ``committed_wh``, ``delivered_wh``, ``honoured`` (0/1),
    ``reward_tokens`` and ``penalty_tokens``, one entry per row.
    """
    expected = np.asarray(expected_wh, dtype=np.int64)
    baseline = np.asarray(baseline_wh, dtype=np.int64)
    metered = np.asarray(metered_wh, dtype=np.int64)
    if not expected.shape == baseline.shape == metered.shape or expected.ndim != 2:
        raise ComplianceError(
            f"expected, baseline and metered must be 2-D arrays of one shape; got "
            f"{expected.shape}, {baseline.shape}, {metered.shape}"
        )
    net = expected.sum(axis=1)
    direction = np.sign(net)
    committed = np.abs(net)
    delivered = np.maximum(direction * (metered - baseline).sum(axis=1), 0)
    honoured = 100 * delivered >= (100 - rules.tolerance_pct) * committed
    credited = np.minimum(delivered, committed)
    return {
        "committed_wh": committed,
        "delivered_wh": delivered,
        "honoured": honoured.astype(np.int64),
        "reward_tokens": np.where(honoured, credited * rules.reward_tokens_per_wh, 0),
        "penalty_tokens": np.where(
            honoured, 0, (committed - credited) * rules.penalty_tokens_per_wh
        ),
    }


def verify(
    commitment: Commitment, baseline_wh: Sequence[int], metered_wh: Sequence[int], rules: TokenRules
) -> Verdict:
    """The verdict for one commitment from its household's baseline and metered Wh per slot."""
    slots = len(commitment.expected_wh)
    if len(baseline_wh) != slots or len(metered_wh) != slots:
        raise ComplianceError(
            f"household {commitment.household_id!r}, event {commitment.event_id!r}: need "
            f"{slots} slots of baseline and metered Wh; got {len(baseline_wh)} and "
            f"{len(metered_wh)}"
        )
    result = verify_arrays(
        np.array([commitment.expected_wh], dtype=np.int64).reshape(1, slots),
        np.array([baseline_wh], dtype=np.int64).reshape(1, slots),
        np.array([metered_wh], dtype=np.int64).reshape(1, slots),
        rules,
    )
    return Verdict(
        commitment.household_id,
        commitment.event_id,
        commitment.command_ids,
        int(result["committed_wh"][0]),
        int(result["delivered_wh"][0]),
        bool(result["honoured"][0]),
        int(result["reward_tokens"][0]),
        int(result["penalty_tokens"][0]),
    )


@dataclass(frozen=True, slots=True)
class RankRow:
    """One line of a ranking: competition rank (1, 2, 2, 4), member and score."""

    rank: int
    member_id: str
    tokens: int


def rank_members(tokens: Mapping[str, int]) -> list[RankRow]:
    """Members by tokens, most first; equal tokens share a rank and are listed by id."""
    ordered = sorted(tokens.items(), key=lambda item: (-item[1], item[0]))
    rows: list[RankRow] = []
    for position, (member, score) in enumerate(ordered, start=1):
        rank = rows[-1].rank if rows and rows[-1].tokens == score else position
        rows.append(RankRow(rank, member, score))
    return rows


def token_balances(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """Net tokens per household: rewards minus penalties."""
    out: dict[str, int] = {}
    for v in verdicts:
        out[v.household_id] = out.get(v.household_id, 0) + v.reward_tokens - v.penalty_tokens
    return out


def slot_energy_wh(
    params_household: IntArray, households: int, power_kw: np.ndarray, step_s: int, slot_s: int
) -> IntArray:
    """Per-household energy per slot (whole Wh, floored) from a (steps, devices) power series.

    ``params_household`` maps each device to its household (``FleetParams.household``);
    the steps must tile the slots.
    """
    steps = power_kw.shape[0]
    if slot_s % step_s or (steps * step_s) % slot_s:
        raise ComplianceError(f"{steps} steps of {step_s} s do not tile {slot_s} s slots")
    per = slot_s // step_s
    out = np.zeros((households, steps))
    np.add.at(out, params_household, power_kw.T * step_s / 3.6)
    wh = out.reshape(households, steps // per, per).sum(axis=2)
    result: IntArray = np.floor(wh + 1e-9).astype(np.int64)
    return result
