"""What a DR community run kept, as KPIs and tables: events, commands, rankings, flexibility.

Why a module of its own: the extension runs the exchange; this turns its
records into ``summary.json`` entries and the ``dr_*.csv`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from gridcoop.agents.mechanisms.dr.compliance import rank_members
from gridcoop.units import UEUR_PER_EUR

if TYPE_CHECKING:
    from gridcoop.agents.mechanisms.dr.community import DRExtension


@dataclass
class EventRecord:
    """One event, its commands and what became of them (one row of ``dr_events.csv``)."""

    event_id: str
    time_s: int
    signal: str
    level: int
    dispatch_kw: float
    duration_s: int
    first_step: int
    last_step: int
    targets: int = 0
    opted_in: int = 0
    verified: int = 0
    complied: int = 0
    excess_w: int = 0
    granted_w: int = 0
    to_storage_w: int = 0
    delivered_wh: int = 0
    reward_tokens: int = 0
    penalty_tokens: int = 0
    commitments: list[Any] = field(default_factory=list)
    baseline_wh: Any = None  # (households, slots) int


def summary_kpis(dr: DRExtension) -> dict[str, Any]:
    """The run's DR entries of ``summary.json`` (plain, deterministic JSON values)."""
    commands = len(dr.command_rows)
    opted = sum(1 for r in dr.command_rows if r["response"] == "opt_in")
    verified = sum(e.verified for e in dr.events)
    complied = sum(e.complied for e in dr.events)
    dispatch = [e for e in dr.events if e.signal == "LOAD_DISPATCH"]
    return {
        "dr_events": len(dr.events),
        "dr_events_simple": len(dr.events) - len(dispatch),
        "dr_events_dispatch": len(dispatch),
        "dr_commands": commands,
        "dr_opt_in_rate": round(opted / commands, 4) if commands else 0.0,
        "dr_commitments_verified": verified,
        "dr_compliance_rate": round(complied / verified, 4) if verified else 0.0,
        "dr_excess_offered_kwh": round(sum(e.excess_w for e in dispatch)
                                       * dr.period_steps * dr.clock.step_h / 1000, 3),
        "dr_excess_absorbed_kwh": round(sum(e.delivered_wh for e in dispatch) / 1000, 3),
        "dr_excess_to_storage_kwh": round(sum(e.to_storage_w for e in dispatch)
                                          * dr.period_steps * dr.clock.step_h / 1000, 3),
        "dr_shed_kwh": round(sum(e.delivered_wh for e in dr.events
                                 if e.signal == "SIMPLE") / 1000, 3),
        "dr_tokens_rewarded": sum(e.reward_tokens for e in dr.events),
        "dr_tokens_penalised": sum(e.penalty_tokens for e in dr.events),
        "dr_penalties_eur": round(dr.penalty_eur_u / UEUR_PER_EUR, 6),
    }


def tables(dr: DRExtension) -> dict[str, pd.DataFrame]:
    """``dr_events``, ``dr_commands``, ``dr_rankings`` and ``dr_flexibility`` tables."""
    events = pd.DataFrame([
        {k: v for k, v in e.__dict__.items() if k not in ("commitments", "baseline_wh")}
        for e in dr.events], columns=list(EventRecord.__dataclass_fields__)[:-2])
    rank = pd.DataFrame([(r.rank, r.member_id, r.tokens) for r in rank_members(dr.tokens)],
                        columns=["rank", "household_id", "tokens"])
    return {"dr_events": events,
            "dr_commands": pd.DataFrame(dr.command_rows, columns=[
                "command_id", "event_id", "household_id", "device_id", "action", "power_kw",
                "start_s", "duration_s", "response", "reason", "committed_wh"]),
            "dr_rankings": rank,
            "dr_flexibility": pd.DataFrame(dr.flex_rows)}
