"""KPIs, tables, newsletters and the capacity plot of an EV community run.

Why a module of its own: the extension runs the community; this turns what it
kept into ``summary.json`` entries (plain, deterministic JSON values), CSV
tables (members, hourly capacity, calls, weekly rankings), one Markdown
newsletter per community and week, and a PNG of the available capacity over
a typical day (matplotlib's Agg backend, no display needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridcoop.agents.mechanisms.ev.availability import hourly_capacity
from gridcoop.agents.mechanisms.ev.newsletter import render_newsletter
from gridcoop.units import UEUR_PER_EUR

if TYPE_CHECKING:
    from gridcoop.agents.mechanisms.ev.community import EVCommunityExtension
    from gridcoop.agents.mechanisms.ev.gamification import TokenRules



def _r(value: float) -> float:
    return round(float(value), 6)


def _stats(values: np.ndarray, critical: np.ndarray) -> dict[str, float]:
    return {"min": _r(values.min()), "mean": _r(values.mean()),
            "critical_mean": _r(values[critical].mean()) if critical.any() else 0.0}


def _plugged_stats(values: np.ndarray, critical: np.ndarray) -> dict[str, float]:
    """The pilot's statistics of a plugged-in measure: minimum and median hour, and more."""
    return {**_stats(values, critical), "median": _r(np.median(values))}


def critical_mask(rules: TokenRules, hours: int) -> np.ndarray:
    """Which of the run's first ``hours`` hours fall in ``rules``' critical periods (a
    community's own, or the fleet's)."""
    return np.array([rules.is_critical(h % 24) for h in range(hours)], dtype=bool)


def member_rows(ext: EVCommunityExtension) -> list[dict[str, Any]]:
    """Per member over the run: tokens, bonus, penalties (asked and taken), revenue."""
    rows = []
    for ra in ext.aggregators:
        for i, member in enumerate(ra.member_ids):
            tokens = bonus = asked = taken = revenue = 0
            kept = handed = broken = helped = 0
            for week in ext.weeks:
                summary, ledger_week = week[ra.index]
                tokens += ledger_week.tokens.get(member, 0)
                bonus += ledger_week.bonus.get(member, 0)
                asked += ledger_week.penalty_tokens.get(member, 0)
                taken += ledger_week.penalty_tokens_applied.get(member, 0)
                revenue += ledger_week.shares_ueur.get(member, 0)
                for r in summary.rows:
                    if r.member_id == member:
                        kept, handed = kept + r.kept, handed + r.handed_over
                        broken, helped = broken + r.broken, helped + r.replacements_made
            row = int(ra.rows[i])
            rows.append({
                "member": member, "community": ra.label,
                "profile": int(ext.fleet.profile[row]),
                "battery_kwh": float(ext.fleet.capacity_kwh[row]),
                "tokens": tokens, "replacement_bonus": bonus, "penalty_tokens": asked,
                "penalty_tokens_taken": taken, "net_tokens": tokens + bonus - taken,
                "revenue_eur": _r(revenue / UEUR_PER_EUR), "windows_kept": kept,
                "windows_handed_over": handed, "windows_broken": broken,
                "replacements_made": helped})
    return rows


def community_rows(ext: EVCommunityExtension, members: list[dict[str, Any]]
                   ) -> list[dict[str, Any]]:
    """Per location community: its hours, members, both capacity measures over the hours
    it holds, firm capacity, tokens and revenue (``ev_by_community``)."""
    days = ext.model.clock.days
    out = []
    for ra in ext.aggregators:
        held = np.ones(days * 24, dtype=bool) if ra.held is None else ra.held[:days * 24]
        critical = critical_mask(ra.rules, days * 24)[held]
        battery, v2g = hourly_capacity(ext.history, ext.warmup, days, ra.rows)
        mine = [m for m in members if m["community"] == ra.label]
        weeks = [week[ra.index][1] for week in ext.weeks]
        availability = int(ext.payment_ueur[ra.index].sum())
        some = bool(held.any())
        out.append({
            "community": ra.label, "region": ra.region_id, "location": ra.location,
            "hours_held": int(held.sum()), "members": len(ra.member_ids),
            "critical_periods": [list(p) for p in ra.rules.critical_periods],
            "battery_plugged_kwh": _plugged_stats(battery[held], critical) if some else None,
            "v2g_plugged_kw": _plugged_stats(v2g[held], critical) if some else None,
            "capacity_firm_kw": _stats(ext.firm_kw[ra.index][held], critical) if some else None,
            "tokens": sum(m["tokens"] + m["replacement_bonus"] for m in mine),
            "penalty_tokens": sum(m["penalty_tokens"] for m in mine),
            "availability_eur": _r(availability / UEUR_PER_EUR),
            "penalty_eur": _r(sum(c.penalty_ueur for c in ra.calls) / UEUR_PER_EUR),
            "revenue_distributed_eur": _r(sum(w.distributed_ueur for w in weeks) / UEUR_PER_EUR),
        })
    return out


def owner_rows(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per owner: tokens and revenue summed over the communities they belong to."""
    owners: dict[str, dict[str, Any]] = {}
    for m in members:
        row = owners.setdefault(m["member"], {"member": m["member"], "communities": [],
                                               "net_tokens": 0, "revenue_eur": 0.0})
        row["communities"].append(m["community"])
        row["net_tokens"] += m["net_tokens"]
        row["revenue_eur"] = _r(row["revenue_eur"] + m["revenue_eur"])
    return [owners[k] for k in sorted(owners)]


def summary_kpis(ext: EVCommunityExtension) -> dict[str, Any]:
    """The EV community's entries of ``summary.json`` (and, with location communities,
    ``ev_by_community`` and ``ev_owners_table``)."""
    kpis = fleet_kpis(ext)
    if ext.locations is not None:
        members = member_rows(ext)
        kpis["ev_by_community"] = community_rows(ext, members)
        kpis["ev_owners_table"] = owner_rows(members)
    return kpis


def fleet_kpis(ext: EVCommunityExtension) -> dict[str, Any]:
    """The entries of every EV run, over all communities."""
    firm = ext.firm_kw.sum(axis=0)
    expected = ext.expected_kw.sum(axis=0)
    critical = critical_mask(ext.rules, firm.size)
    calls = ext.calls()
    by_call: dict[str, bool] = {}
    for c in calls:
        by_call[c.call_id] = by_call.get(c.call_id, True) and bool(c.within_tolerance)
    members = member_rows(ext)
    revenue = np.array([m["revenue_eur"] for m in members])
    statuses: dict[str, int] = {}
    for o in ext.outcomes:
        statuses[o.status.value] = statuses.get(o.status.value, 0) + 1
    needed = statuses.get("warned-replaced", 0) + statuses.get("warned-unreplaced", 0)
    headroom = [float(soc - e / 1000 - need)
                for c in calls for soc, e, need in zip(c.soc_before_kwh, c.energy_wh.tolist(),
                                                       c.need_kwh.tolist(), strict=True)]
    sq, n = ext.sq_error, ext.fleet.size * ext.history.steps_per_day * ext.scored_days
    brier, base = sq[0] / n, sq[1] / n
    availability = int(ext.payment_ueur.sum())
    penalty = sum(c.penalty_ueur for c in calls)
    weeks = [lw for week in ext.weeks for _, lw in week]
    battery, v2g = hourly_capacity(ext.history, ext.warmup, ext.model.clock.days)
    return {
        "ev_communities": len(ext.aggregators),
        "ev_members": ext.fleet.size,
        "ev_members_offered": int(ext.fleet.offered.sum()),
        "ev_capacity_firm_kw": _stats(firm, critical),
        "ev_capacity_expected_kw": _stats(expected, critical),
        "ev_capacity_awarded_kw": _stats(ext.awarded_w.sum(axis=0) / 1000, critical),
        "ev_battery_plugged_kwh": _plugged_stats(battery, critical),
        "ev_v2g_plugged_kw": _plugged_stats(v2g, critical),
        "ev_critical_periods": [list(p) for p in ext.rules.critical_periods],
        "ev_calls_drawn": len(ext.desk.calls),
        "ev_calls_dispatched": len(by_call),
        "ev_calls_served": sum(by_call.values()),
        "ev_calls_short": len(by_call) - sum(by_call.values()),
        "ev_call_energy_requested_kwh": _r(sum(c.requested_wh for c in calls) / 1000),
        "ev_call_energy_delivered_kwh": _r(sum(c.delivered_wh or 0 for c in calls) / 1000),
        "ev_v2g_min_headroom_over_next_trip_kwh": _r(min(headroom)) if headroom else None,
        "ev_reserve_availability_eur": _r(availability / UEUR_PER_EUR),
        "ev_reserve_penalty_eur": _r(penalty / UEUR_PER_EUR),
        "ev_reserve_net_revenue_eur": _r((availability - penalty) / UEUR_PER_EUR),
        "ev_revenue_distributed_eur": _r(sum(w.distributed_ueur for w in weeks) / UEUR_PER_EUR),
        "ev_revenue_per_ev_eur": {"mean": _r(revenue.mean()), "min": _r(revenue.min()),
                                  "max": _r(revenue.max())},
        "ev_tokens_total": sum(m["tokens"] + m["replacement_bonus"] for m in members),
        "ev_penalty_tokens_total": sum(m["penalty_tokens"] for m in members),
        "ev_members_table": [{k: m[k] for k in ("member", "community", "profile", "tokens",
                                                 "replacement_bonus", "penalty_tokens",
                                                 "penalty_tokens_taken", "revenue_eur")}
                             for m in members],
        "ev_windows": dict(sorted(statuses.items())),
        "ev_replacements_needed": needed,
        "ev_replacements_found": statuses.get("warned-replaced", 0),
        "ev_forecast": {"brier": _r(brier), "brier_baseline": _r(base),
                        "skill": _r(1 - brier / base) if base > 0 else 0.0,
                        "heldout_days": ext.scored_days,
                        "warmup_days": ext.warmup},
        "ev_messages": dict(ext.messages),
        "ev_refused": len(ext.desk.refused) + sum(len(ra.refused) for ra in ext.aggregators),
    }


def capacity_table(ext: EVCommunityExtension) -> pd.DataFrame:
    hours = ext.firm_kw.shape[1]
    parts = [pd.DataFrame({
        "hour": np.arange(hours), "time_s": np.arange(hours) * 3600,
        "community": ra.label, "critical": critical_mask(ra.rules, hours),
        "expected_kw": ext.expected_kw[ra.index], "firm_kw": ext.firm_kw[ra.index],
        "offered_kw": [ra.offered_w.get(h, 0) / 1000 for h in range(hours)],
        "awarded_kw": ext.awarded_w[ra.index] / 1000,
        "availability_eur": ext.payment_ueur[ra.index] / UEUR_PER_EUR})
        for ra in ext.aggregators]
    return pd.concat(parts, ignore_index=True)


def calls_table(ext: EVCommunityExtension) -> pd.DataFrame:
    columns = ["call_id", "offer_id", "community", "start_s", "duration_s", "power_kw",
               "requested_wh", "allocated_wh", "delivered_wh", "within_tolerance",
               "penalty_eur", "evs"]
    rows = [[c.call_id, c.offer_id, ext.aggregators[c.community].label, c.start_s,
             c.duration_s, c.power_w / 1000, c.requested_wh, c.allocated_wh, c.delivered_wh,
             c.within_tolerance, c.penalty_ueur / UEUR_PER_EUR, int(c.rows.size)]
            for c in ext.calls()]
    return pd.DataFrame(rows, columns=columns)


def rankings_table(ext: EVCommunityExtension) -> pd.DataFrame:
    rows = []
    for week in ext.weeks:
        for summary, _ in week:
            for r in summary.rows:
                rows.append({"community": summary.community, "week": summary.week + 1,
                             "rank": r.rank, "member": r.member_id, "tokens": r.tokens,
                             "bonus": r.bonus, "penalty": r.penalty, "net": r.net,
                             "revenue_eur": r.revenue_ueur / UEUR_PER_EUR})
    return pd.DataFrame(rows, columns=["community", "week", "rank", "member", "tokens", "bonus",
                                       "penalty", "net", "revenue_eur"])


def tables(ext: EVCommunityExtension) -> dict[str, pd.DataFrame]:
    return {"ev_members": pd.DataFrame(member_rows(ext)), "ev_capacity": capacity_table(ext),
            "ev_calls": calls_table(ext), "ev_rankings": rankings_table(ext)}


def plot_typical_day(ext: EVCommunityExtension, path: Path) -> Path:
    """Mean firm, expected and awarded capacity by hour of day, critical periods shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = ext.firm_kw.shape[1] // 24
    firm = ext.firm_kw.sum(axis=0).reshape(days, 24)
    expected = ext.expected_kw.sum(axis=0).reshape(days, 24)
    awarded = (ext.awarded_w.sum(axis=0) / 1000).reshape(days, 24)
    hours = np.arange(24) + 0.5
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for start, end in ext.rules.critical_periods:
        ax.axvspan(start, end, color="tab:red", alpha=0.12, lw=0)
    ax.fill_between(hours, np.percentile(firm, 10, axis=0), np.percentile(firm, 90, axis=0),
                    color="tab:blue", alpha=0.15, label="firm, 10–90 % of days")
    ax.plot(hours, expected.mean(axis=0), color="tab:gray", ls="--", label="expected (mean)")
    ax.plot(hours, firm.mean(axis=0), color="tab:blue", lw=2, label="firm (mean)")
    ax.step(hours, awarded.mean(axis=0), where="mid", color="tab:green", label="awarded (mean)")
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_xlabel("hour of day (critical periods shaded)")
    ax.set_ylabel("kW")
    ax.set_title(f"Available EV capacity over a typical day ({len(ext.aggregators)} "
                 f"communit{'y' if len(ext.aggregators) == 1 else 'ies'}, {days} days)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def write_files(ext: EVCommunityExtension, out: Path) -> list[Path]:
    """Newsletters (``newsletters/<community>-week-NN.md``) and the capacity plot."""
    folder = out / "newsletters"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for week in ext.weeks:
        for (summary, _), ra in zip(week, ext.aggregators, strict=True):
            path = folder / f"{ra.label}-week-{summary.week + 1:02d}.md"
            path.write_text(render_newsletter(summary), encoding="utf-8")
            written.append(path)
    written.append(plot_typical_day(ext, out / "ev_capacity_typical_day.png"))
    return written
