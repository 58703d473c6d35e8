"""What a run produced, in words, € and kWh: the lines ``gridcoop run`` prints.

Why per kind: a market figure ("traded locally 0.0%") says nothing about an
EV community sold as spinning reserve or about a footprint run that wrote
millions of tokens. Each line below appears only when the summary holds its
kind's KPIs (``ev_*``, ``dr_*``, ``footprint_*``, ``lighting_*``), and the
market line only where there is a market (local trades happened).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Summary = Mapping[str, Any]


def _eur(value: Any) -> str:
    return "-" if value is None else f"{value:,.2f} €"


def _price(value: Any) -> str:
    return "-" if value is None else f"{value:.4f} €/kWh"


def _kwh(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f} kWh"


def _share(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def header_line(s: Summary) -> str:
    """Name, kind, size and how it was run."""
    name = s.get("name") or s["scenario"]
    kind = "" if name == s["scenario"] else f" ({s['scenario']})"
    partial = (f"; PARTIAL: stopped after {s['steps_done']} of {s['steps_total']} steps"
               if s.get("partial") else "")
    return (f"{name}{kind}: {s['members']} members, {s['days']} days, seed {s['seed']}, "
            f"{s['mechanism']}{partial}")


def energy_line(s: Summary) -> str:
    """The community's energy balance and the grid import peak."""
    return (f"  energy: consumption {_kwh(s['consumption_kwh'])}, production "
            f"{_kwh(s['production_kwh'])}; grid import {_kwh(s['community_grid_import_kwh'])} "
            f"(peak {s['peak_grid_import_kw']:.1f} kW), export "
            f"{_kwh(s['community_grid_export_kwh'])}; self-sufficiency "
            f"{_share(s['self_sufficiency'])}, self-consumption {_share(s['self_consumption'])}")


def market_line(s: Summary) -> str | None:
    """Local trading, where there was any."""
    if not s.get("trades"):
        return None
    return (f"  market: {_kwh(s['local_traded_kwh'])} traded locally in {s['trades']:,} trades "
            f"({_share(s['share_traded_locally'])} of imports) at "
            f"{_price(s['mean_local_price_eur_per_kwh'])} (retail "
            f"{_price(s['mean_retail_price_eur_per_kwh'])}, feed-in "
            f"{_price(s['feed_in_price_eur_per_kwh'])}); energy tokens minted "
            f"{s['tokens_minted']:,}")


def bills_line(s: Summary) -> str:
    """Bills against the grid-only baseline."""
    saving = s["baseline_bills_eur_total"] - s["bills_eur_total"]
    return (f"  bills: {_eur(s['bills_eur_total'])} against {_eur(s['baseline_bills_eur_total'])}"
            f" grid-only (saving {_eur(saving)}); {s['members_saving']} members save, "
            f"{s['members_paying_more']} pay more")


def ev_line(s: Summary) -> str | None:
    """The EV community sold as spinning reserve."""
    if "ev_members" not in s:
        return None
    firm = s.get("ev_capacity_firm_kw") or {}
    battery = s.get("ev_battery_plugged_kwh") or {}
    v2g = s.get("ev_v2g_plugged_kw") or {}
    return (f"  EV: {s['ev_members']} EVs; reserve revenue {_eur(s['ev_reserve_net_revenue_eur'])}"
            f" (availability {_eur(s['ev_reserve_availability_eur'])}, penalties "
            f"{_eur(s['ev_reserve_penalty_eur'])}); calls served {s['ev_calls_served']} of "
            f"{s['ev_calls_dispatched']} dispatched ({_kwh(s['ev_call_energy_delivered_kwh'])} of "
            f"{_kwh(s['ev_call_energy_requested_kwh'])}); firm capacity mean "
            f"{firm.get('mean', 0.0):.1f} kW, min {firm.get('min', 0.0):.1f} kW; plugged in: "
            f"battery min {battery.get('min', 0.0):.1f} kWh (median "
            f"{battery.get('median', 0.0):.1f}), V2G min {v2g.get('min', 0.0):.1f} kW; tokens "
            f"{s['ev_tokens_total']:,} (penalty tokens {s['ev_penalty_tokens_total']:,})")


def ev_communities_line(s: Summary) -> str | None:
    """Each location community's share, when the EV scenario splits owners by location."""
    if "ev_by_community" not in s:
        return None
    parts = [f"{c['community']} {c['members']} members, {c['hours_held']} h, battery min "
             f"{(c['battery_plugged_kwh'] or {}).get('min', 0.0):.1f} kWh, tokens "
             f"{c['tokens']:,}, revenue {_eur(c['revenue_distributed_eur'])}"
             for c in s["ev_by_community"]]
    return "  EV communities: " + "; ".join(parts)


def dr_line(s: Summary) -> str | None:
    """The demand-response community."""
    if "dr_events" not in s:
        return None
    return (f"  DR: {s['dr_events']} events ({s['dr_events_simple']} simple, "
            f"{s['dr_events_dispatch']} dispatch), {s['dr_commands']} commands; compliance "
            f"{_share(s['dr_compliance_rate'])}, opt-in {_share(s['dr_opt_in_rate'])}; excess "
            f"absorbed {_kwh(s['dr_excess_absorbed_kwh'])} of {_kwh(s['dr_excess_offered_kwh'])} "
            f"offered ({_kwh(s['dr_excess_to_storage_kwh'])} into storage), shed "
            f"{_kwh(s['dr_shed_kwh'])}; tokens {s['dr_tokens_rewarded']:,} rewarded, "
            f"{s['dr_tokens_penalised']:,} penalised; penalties {_eur(s['dr_penalties_eur'])}")


def footprint_line(s: Summary) -> str | None:
    """Each student's energy footprint (campus case 1)."""
    if "footprint_people" not in s:
        return None
    return (f"  footprint: {s['footprint_people']:,} people, {s['footprint_tokens']:,} footprint "
            f"tokens in {s['footprint_ledger_txs']:,} ledger transactions; "
            f"{_kwh(s['footprint_metered_wh'] / 1000)} metered in {s['footprint_sessions']} "
            f"sessions ({_kwh(s['footprint_unattributed_wh'] / 1000)} unattributed)")


def lighting_line(s: Summary) -> str | None:
    """Lights left on in empty rooms (campus case 3)."""
    if "lighting_waste_eur_per_classroom_year" not in s:
        return None
    return (f"  lighting: waste {_kwh(s['lighting_waste_kwh_per_classroom_year'])} = "
            f"{_eur(s['lighting_waste_eur_per_classroom_year'])} per classroom-year; "
            f"{_kwh(s['lighting_gap_wh'] / 1000)} burnt in empty rooms, "
            f"{s['lighting_sessions']} sessions")


def consensus_line(s: Summary) -> str | None:
    """Measurement consensus, when the scenario switched it on."""
    if "consensus_claims_final" not in s:
        return None
    return (f"  consensus: claims {s['consensus_claims_final']:,} final, "
            f"{s['consensus_claims_waiting']:,} waiting (fed in, "
            f"{_kwh(s['consensus_fallback_kwh'])}), {s['consensus_claims_disputed']:,} disputed; "
            f"{s['consensus_lies_caught']:,} lies caught, {_kwh(s['consensus_refused_kwh'])} "
            f"refused")


def ledger_line(s: Summary) -> str:
    """The chain's size and head."""
    return f"  ledger: {s['ledger_height'] + 1} blocks, head {s['ledger_head_hash'][:16]}..."


LINES: tuple[Callable[[Summary], str | None], ...] = (
    header_line, energy_line, market_line, bills_line, ev_line, ev_communities_line, dr_line,
    footprint_line, lighting_line, consensus_line, ledger_line)


def summary_lines(summary: Summary) -> list[str]:
    """Every line that applies to this run's kind, in order."""
    return [line for make in LINES if (line := make(summary)) is not None]
