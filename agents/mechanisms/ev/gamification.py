"""Tokens, penalties and replacement bonuses: integer rules over plug-in records.

Why integers: tokens and penalties go on the ledger, which holds integers only.

Hour weight (tokens per plugged hour), for an hour ``h`` of the run::

    W_h = round_half_up(B × P_h × (1 + S_h))
    P_h = critical_factor if the hour of day lies in a critical period, else 1
    S_h = min(S_max, R_h / A_h)     if A_h > 0
        = S_max                     if A_h = 0 and R_h > 0
        = 0                         if R_h = 0

``B`` is ``base_tokens_per_hour`` (10), the critical periods are 08:00–10:00
and 18:00–21:00 with factor 3, ``R_h`` the reserve power the grid asks of the
market in that hour (W), ``A_h`` the power the community can give (W), and
``S_max`` = 3. So a plugged hour is worth more when it falls after a mobility
peak and when the grid asks for more than the community has.

Tokens of a member for plugged minutes ``m_h``: ``floor(Σ_h m_h × W_h / 60)``.

A window's *missing value* is ``V = floor(Σ_h (60 − m_h) × W_h / 60)`` over its
hours. Penalties by outcome (see :mod:`gridcoop.agents.mechanisms.ev.commitments`):

- kept: no penalty;
- warned, replaced: no penalty; the replacement earns a bonus
  ``floor(Σ_h min(r_h, 60 − m_h) × W_h / 60)`` for its plugged minutes ``r_h``,
  capped by the minutes the owner left open — the owner's tokens for the
  window go to the replacement;
- warned, not replaced: a light penalty ``ceil(V × warned_fraction)``
  (a quarter by default): the aggregator knew in advance and could lower its
  offer, but the community still lost capacity;
- unannounced: a heavy penalty ``max(unannounced_minimum,
  unannounced_multiplier × V)`` (3 × V, at least 30), and the failure is
  forwarded to the aggregator so the community can cover it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.commitments import CommitmentOutcome, CommitmentStatus
from gridcoop.agents.mechanisms.ev.profiles import EVConfigError

HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class TokenRules:
    """The parameters of the token and penalty formulas (module docstring)."""

    base_tokens_per_hour: int = 10
    critical_periods: tuple[tuple[int, int], ...] = ((8, 10), (18, 21))
    critical_factor: int = 3
    max_scarcity: Fraction = Fraction(3)
    warned_fraction: Fraction = Fraction(1, 4)
    unannounced_multiplier: int = 3
    unannounced_minimum: int = 30

    def __post_init__(self) -> None:
        if self.base_tokens_per_hour < 0 or self.critical_factor < 1:
            raise EVConfigError("base_tokens_per_hour must be >= 0 and critical_factor >= 1")
        for start, end in self.critical_periods:
            if not 0 <= start < end <= 24:
                raise EVConfigError(
                    f"critical period ({start}, {end}) must satisfy 0 <= start < end <= 24"
                )
        if self.max_scarcity < 0 or not 0 <= self.warned_fraction <= 1:
            raise EVConfigError("max_scarcity must be >= 0 and warned_fraction in [0, 1]")
        if self.unannounced_multiplier < 0 or self.unannounced_minimum < 0:
            raise EVConfigError("unannounced penalties must be >= 0")

    def is_critical(self, hour_of_day: int) -> bool:
        return any(start <= hour_of_day < end for start, end in self.critical_periods)


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def hour_weight(
    hour_of_day: int, request_w: int, available_w: int, rules: TokenRules | None = None
) -> int:
    """Tokens one plugged hour earns at ``hour_of_day`` (formula in the module docstring)."""
    r = rules or TokenRules()
    if request_w < 0 or available_w < 0:
        raise EVConfigError(
            f"request_w and available_w must be >= 0, got {request_w} and {available_w}"
        )
    period = r.critical_factor if r.is_critical(hour_of_day % HOURS_PER_DAY) else 1
    if request_w == 0:
        scarcity = Fraction(0)
    elif available_w == 0:
        scarcity = r.max_scarcity
    else:
        scarcity = min(r.max_scarcity, Fraction(request_w, available_w))
    return _round_half_up(r.base_tokens_per_hour * period * (1 + scarcity))


def hour_weights(
    first_hour: int,
    request_w: Sequence[int],
    available_w: Sequence[int],
    rules: TokenRules | None = None,
) -> NDArray[np.int64]:
    """Weights of consecutive hours ``first_hour, first_hour + 1, ...`` of the run."""
    if len(request_w) != len(available_w):
        raise EVConfigError(
            f"request_w has {len(request_w)} hours but available_w {len(available_w)}"
        )
    return np.array(
        [
            hour_weight(first_hour + i, int(q), int(a), rules)
            for i, (q, a) in enumerate(zip(request_w, available_w, strict=True))
        ],
        dtype=np.int64,
    )


def plugged_tokens(plugged_min_by_hour: NDArray[np.int64], weights: NDArray[np.int64]) -> list[int]:
    """Tokens each member earns for plugged minutes: ``floor(Σ_h m_h × W_h / 60)``."""
    minutes = np.asarray(plugged_min_by_hour, dtype=np.int64)
    if minutes.ndim != 2 or minutes.shape[1] != len(weights):
        raise EVConfigError(
            f"plugged_min_by_hour must be (members, {len(weights)} hours), got {minutes.shape}"
        )
    if minutes.size and (minutes.min() < 0 or minutes.max() > 60):
        raise EVConfigError("plugged minutes per hour must be within 0..60")
    return [int(x) // 60 for x in minutes @ np.asarray(weights, dtype=np.int64)]


@dataclass(frozen=True, slots=True)
class ForwardedFailure:
    """An unannounced broken window, passed to the aggregator so the community can cover it."""

    member_id: str
    day: int
    hours: tuple[int, ...]
    missing_min: tuple[int, ...]
    energy_kwh: float


@dataclass
class CommitmentSettlement:
    """Penalties, replacement bonuses and forwarded failures of a set of windows."""

    penalties: dict[str, int] = field(default_factory=dict)
    bonuses: dict[str, int] = field(default_factory=dict)
    forwarded: list[ForwardedFailure] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    handed_over: dict[str, int] = field(default_factory=dict)  # warned and replaced
    broken: dict[str, int] = field(default_factory=dict)  # warned unreplaced, or unannounced
    replacements_made: dict[str, int] = field(default_factory=dict)

    @property
    def replacements_needed(self) -> int:
        return self.counts.get(CommitmentStatus.WARNED_REPLACED.value, 0) + self.counts.get(
            CommitmentStatus.WARNED_UNREPLACED.value, 0
        )

    @property
    def replacements_found(self) -> int:
        return self.counts.get(CommitmentStatus.WARNED_REPLACED.value, 0)


def _weighted_tokens(minutes: Sequence[int], weights: Sequence[int]) -> int:
    return sum(m * w for m, w in zip(minutes, weights, strict=True)) // 60


def settle_commitments(
    outcomes: Sequence[CommitmentOutcome],
    weights: NDArray[np.int64],
    first_hour: int = 0,
    rules: TokenRules | None = None,
) -> CommitmentSettlement:
    """Apply the penalty rules to judged windows.

    ``weights[i]`` is the weight of hour ``first_hour + i`` of the run; every
    window's hours must lie in that range.
    """
    r = rules or TokenRules()
    out = CommitmentSettlement()
    last = first_hour + len(weights)
    for o in outcomes:
        if not o.hours or o.hours[0] < first_hour or o.hours[-1] >= last:
            raise EVConfigError(
                f"window of {o.member_id} on day {o.day} covers hours {o.hours[:1]}..; "
                f"weights cover hours {first_hour}..{last - 1}"
            )
        w = [int(weights[h - first_hour]) for h in o.hours]
        missing = o.missing_min
        value = _weighted_tokens(missing, w)
        out.counts[o.status.value] = out.counts.get(o.status.value, 0) + 1
        penalty = 0
        if o.status is CommitmentStatus.KEPT:
            out.kept[o.member_id] = out.kept.get(o.member_id, 0) + 1
            continue
        if o.status is CommitmentStatus.WARNED_REPLACED:
            assert o.replacement_id is not None  # checked by CommitmentOutcome
            out.handed_over[o.member_id] = out.handed_over.get(o.member_id, 0) + 1
            covered = [
                min(rm, mm) for rm, mm in zip(o.replacement_plugged_min, missing, strict=True)
            ]
            bonus = _weighted_tokens(covered, w)
            out.bonuses[o.replacement_id] = out.bonuses.get(o.replacement_id, 0) + bonus
            out.replacements_made[o.replacement_id] = (
                out.replacements_made.get(o.replacement_id, 0) + 1
            )
        else:
            out.broken[o.member_id] = out.broken.get(o.member_id, 0) + 1
        if o.status is CommitmentStatus.WARNED_UNREPLACED:
            penalty = math.ceil(value * r.warned_fraction)
        elif o.status is CommitmentStatus.UNANNOUNCED:
            penalty = max(r.unannounced_minimum, r.unannounced_multiplier * value)
            out.forwarded.append(
                ForwardedFailure(o.member_id, o.day, o.hours, missing, o.energy_kwh)
            )
        out.penalties[o.member_id] = out.penalties.get(o.member_id, 0) + penalty
    return out
