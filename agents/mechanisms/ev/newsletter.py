"""Weekly standings of the EV community and the newsletter that publishes them.

Why one summary object: the model phase collects a week (168 hours) of plug-in
minutes, weights, judged windows and market revenue; :func:`week_summary`
turns them into integer tokens, penalties, revenue shares and a ranking,
and :func:`render_newsletter` prints that as Markdown for the run's output.

Ranking: by net tokens (tokens + replacement bonus − penalties), then fewer
penalties, then member id; members equal in net and penalties share a rank
(1, 2, 2, 4). Revenue is split by ``max(0, net)`` with the largest-remainder
method (:func:`gridcoop.agents.mechanisms.ev.revenue.split_revenue`), so it sums exactly to the
week's market revenue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.commitments import CommitmentOutcome
from gridcoop.agents.mechanisms.ev.gamification import (
    TokenRules,
    plugged_tokens,
    settle_commitments,
)
from gridcoop.agents.mechanisms.ev.profiles import EVConfigError
from gridcoop.agents.mechanisms.ev.revenue import split_revenue
from gridcoop.units import UEUR_PER_EUR

HOURS_PER_WEEK = 168


@dataclass(frozen=True, slots=True)
class MemberWeek:
    """One member's week: integer tokens, penalties and revenue share (µEUR)."""

    rank: int
    member_id: str
    tokens: int
    bonus: int
    penalty: int
    kept: int
    handed_over: int
    broken: int
    replacements_made: int
    revenue_ueur: int

    @property
    def net(self) -> int:
        return self.tokens + self.bonus - self.penalty


@dataclass(frozen=True)
class WeekSummary:
    """Everything the newsletter prints for one week."""

    community: str
    week: int
    first_day: int
    rows: tuple[MemberWeek, ...]
    revenue_ueur: int
    replacements_needed: int
    replacements_found: int
    forwarded_failures: int
    calls: int = 0
    calls_served: int = 0
    capacity_kw: Mapping[str, float] = field(default_factory=dict)
    abuse_contact: str = "the community aggregator"
    critical_periods: tuple[tuple[int, int], ...] = ((8, 10), (18, 21))
    days: int = 7


def rank_members(net: Mapping[str, int], penalty: Mapping[str, int]) -> list[tuple[int, str]]:
    """(rank, member) by net desc, penalty asc, member id; equal (net, penalty) share a rank."""
    order = sorted(net, key=lambda m: (-net[m], penalty.get(m, 0), m))
    out: list[tuple[int, str]] = []
    for position, member in enumerate(order, start=1):
        if out and (net[member], penalty.get(member, 0)) == (
            net[out[-1][1]],
            penalty.get(out[-1][1], 0),
        ):
            out.append((out[-1][0], member))
        else:
            out.append((position, member))
    return out


def week_summary(
    community: str,
    week: int,
    member_ids: Sequence[str],
    plugged_min_by_hour: NDArray[np.int64],
    weights: NDArray[np.int64],
    outcomes: Sequence[CommitmentOutcome],
    revenue_ueur: int,
    first_hour: int | None = None,
    rules: TokenRules | None = None,
    calls: int = 0,
    calls_served: int = 0,
    capacity_kw: Mapping[str, float] | None = None,
    abuse_contact: str = "the community aggregator",
    days: int = 7,
) -> WeekSummary:
    """Tokens, penalties, bonuses, revenue shares and ranks of one week.

    ``plugged_min_by_hour`` and ``weights`` cover the week's hours, starting at
    absolute hour ``first_hour`` (default ``168 × week``); ``outcomes`` are the
    windows that start in the week (a window running past the week's end is
    settled with the weights given, so pass enough hours to cover it).
    """
    start = HOURS_PER_WEEK * week if first_hour is None else first_hour
    minutes = np.asarray(plugged_min_by_hour, dtype=np.int64)
    if minutes.shape[0] != len(member_ids):
        raise EVConfigError(
            f"plugged_min_by_hour has {minutes.shape[0]} rows for {len(member_ids)} members"
        )
    tokens = dict(zip(member_ids, plugged_tokens(minutes, weights), strict=True))
    settled = settle_commitments(outcomes, weights, start, rules)
    unknown = sorted((set(settled.penalties) | set(settled.bonuses)) - set(tokens))
    if unknown:
        raise EVConfigError(f"windows name members {unknown} missing from member_ids")
    net = {
        m: tokens[m] + settled.bonuses.get(m, 0) - settled.penalties.get(m, 0) for m in member_ids
    }
    shares = split_revenue(revenue_ueur, net)
    rows = tuple(
        MemberWeek(
            rank=rank,
            member_id=m,
            tokens=tokens[m],
            bonus=settled.bonuses.get(m, 0),
            penalty=settled.penalties.get(m, 0),
            kept=settled.kept.get(m, 0),
            handed_over=settled.handed_over.get(m, 0),
            broken=settled.broken.get(m, 0),
            replacements_made=settled.replacements_made.get(m, 0),
            revenue_ueur=shares[m],
        )
        for rank, m in rank_members(net, settled.penalties)
    )
    return WeekSummary(
        community=community,
        week=week,
        first_day=start // 24,
        rows=rows,
        revenue_ueur=revenue_ueur,
        replacements_needed=settled.replacements_needed,
        replacements_found=settled.replacements_found,
        forwarded_failures=len(settled.forwarded),
        calls=calls,
        calls_served=calls_served,
        capacity_kw=dict(capacity_kw or {}),
        abuse_contact=abuse_contact,
        critical_periods=(rules or TokenRules()).critical_periods,
        days=days,
    )


def _eur(ueur: int) -> str:
    return f"{(Decimal(ueur) / UEUR_PER_EUR).quantize(Decimal('0.01'))} €"


def render_newsletter(summary: WeekSummary, top: int = 10) -> str:
    """The week's newsletter as Markdown: headline figures, ranking table, thanks."""
    s = summary
    lines = [
        f"# {s.community} — week {s.week + 1} newsletter",
        "",
        f"Days {s.first_day + 1}–{s.first_day + s.days} of the run.",
        "",
        "## This week",
        "",
        f"- Reserve revenue shared: **{_eur(s.revenue_ueur)}** among {len(s.rows)} members",
        f"- Reserve calls: {s.calls} ({s.calls_served} served in full)",
        f"- Replacements found: {s.replacements_found} of {s.replacements_needed} needed",
        f"- Unannounced failures forwarded to the community: {s.forwarded_failures}",
    ]
    lines += [
        f"- Available capacity, {name}: {value:.1f} kW" for name, value in s.capacity_kw.items()
    ]
    lines += [
        "",
        "## Ranking",
        "",
        "| rank | member | tokens | bonus | penalty | net | kept | handed over | broken "
        "| revenue |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in s.rows[:top]:
        lines.append(
            f"| {r.rank} | {r.member_id} | {r.tokens} | {r.bonus} | {r.penalty} | "
            f"{r.net} | {r.kept} | {r.handed_over} | {r.broken} | "
            f"{_eur(r.revenue_ueur)} |"
        )
    if len(s.rows) > top:
        lines.append(f"| … | {len(s.rows) - top} more | | | | | | | | |")
    helpers = [r for r in s.rows if r.replacements_made]
    lines += ["", "## Thank you"]
    if s.rows:
        lines.append("")
        lines.append(
            f"- Member of the week: **{s.rows[0].member_id}** ({s.rows[0].net} net tokens)"
        )
    lines += [f"- {r.member_id} stood in for others {r.replacements_made} time(s)" for r in helpers]
    periods = ", ".join(f"{a:02d}:00–{b:02d}:00" for a, b in s.critical_periods)
    lines += [
        "",
        f"Plugged in during a critical period ({periods})? Those hours earn more tokens. "
        "Cannot keep a commitment? Warn in advance and name a replacement: no penalty.",
        "",
        f"To report abuse, write to {s.abuse_contact}.",
        "",
    ]
    return "\n".join(lines)
