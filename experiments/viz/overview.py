"""The page's headline and its close-up: KPI tiles, and one member seen on its own.

The tiles answer "is this community doing well, and can I trust the books?"
at a glance (self-sufficiency, self-consumption, savings against grid-only
bills, peak grid import, whether the ledger verified). The member view shows
what the meters, the market, the bills, the gamification and the ledger say
about one member, so a person can check their own line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gridcoop.experiments.viz.formatting import HISTORY_WINDOW_S, range_text, recent, short_hash
from gridcoop.experiments.viz.gamification import rank
from gridcoop.experiments.viz.ledger_panel import ChainVerifier, TransactionView, format_amount
from gridcoop.experiments.viz.protocol import PageSource
from gridcoop.experiments.viz.render import PageState, Panel, csv_text, table_html

MEMBER_TRANSACTIONS_SCANNED = 400
"""How far back the member view looks for the member's transactions (newest first)."""


@dataclass(frozen=True)
class Tile:
    """One KPI tile: a label, the value as text, and whether it is good news."""

    key: str
    label: str
    value: str
    ok: bool | None = None


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def kpi_tiles(source: PageSource, verifier: ChainVerifier) -> list[Tile]:
    """The five headline figures, computed from the community so far."""
    kpis: Mapping[str, float | None] = source.kpis()
    savings = kpis.get("savings_eur")
    peak = kpis.get("peak_import_kw")
    ledger = source.ledger()
    if ledger is None:
        verified = Tile("verified", "ledger", "none kept")
    else:
        check = verifier.check(ledger)
        verified = Tile("verified", "ledger", "verified" if check.verified else "NOT verified",
                        check.verified)
    return [
        Tile("self-sufficiency", "self-sufficiency", _share(kpis.get("self_sufficiency"))),
        Tile("self-consumption", "self-consumption", _share(kpis.get("self_consumption"))),
        Tile("savings", "savings vs grid-only",
             "-" if savings is None else f"{savings:,.2f} €", None if savings is None
             else savings >= 0),
        Tile("peak", "peak grid import", "-" if peak is None else f"{peak:,.1f} kW"),
        verified,
    ]


def member_ids(source: PageSource) -> list[str]:
    """Every metered member, in the community's order (the member picker's choices)."""
    return [m.member_id for m in source.members()]


def range_facts(source: PageSource, member_id: str,
                window_s: int | None) -> list[tuple[str, str]]:
    """The member's load and production summed over the chosen range."""
    rows = recent(source.member_history(member_id), window_s)
    if not rows:
        return [(f"load, production ({range_text(window_s)})", "not recorded")]
    load = sum(row.load_kwh for row in rows)
    production = sum(row.production_kwh for row in rows)
    return [(f"load, production ({range_text(window_s)})",
             f"{load:,.2f} kWh used, {production:,.2f} kWh produced "
             f"({len(rows)} intervals)")]


def member_panel(source: PageSource, state: PageState, member_id: str,
                 window_s: int | None = HISTORY_WINDOW_S) -> Panel:
    """One member: load and production, storage, orders and trades, bill; tokens and rank per
    kind; its ledger lines."""
    facts = [*source.member_facts(member_id), *range_facts(source, member_id, window_s)]
    for kind, balances in source.tokens_by_kind().items():
        if member_id in balances:
            position = next(r.rank for r in rank(balances) if r.member_id == member_id)
            facts.append((f"{kind} tokens", f"{balances[member_id]:,} (rank {position} of "
                                            f"{len(balances)})"))
    ledger = source.ledger()
    mine: list[TransactionView] = []
    if ledger is not None:
        mine = [TransactionView(short_hash(t.tx_id, 10), t.kind, t.sender, t.receiver,
                                t.amount, t.unit)
                for t in ledger.latest_transactions(MEMBER_TRANSACTIONS_SCANNED)
                if member_id in (t.sender, t.receiver)]
    rows = [(t.tx_id, t.kind, t.sender, t.receiver, t.amount_text) for t in mine[:15]]
    html = (table_html(("", member_id), facts)
            + "<div style='margin-top:8px;font-size:12px'>its latest ledger transactions</div>"
            + table_html(("tx", "kind", "from", "to", "amount"), rows))
    csv = (csv_text(("fact", "value"), facts) + "\n"
           + csv_text(("tx", "kind", "from", "to", "amount"), rows))
    return Panel("member", f"Member {member_id}",
                 f"{len(mine)} of the latest {MEMBER_TRANSACTIONS_SCANNED} ledger transactions "
                 "involve this member" if ledger is not None else "no ledger kept",
                 html=html, csv=csv)


__all__ = ["Tile", "format_amount", "kpi_tiles", "member_ids", "member_panel"]
