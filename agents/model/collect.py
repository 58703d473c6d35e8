"""What Mesa's DataCollectors record: the time series, running KPIs, daily bills, and members.

Why a cached dict: Mesa calls each model reporter separately; computing the
running KPIs once per step and letting the reporters read them keeps the
collector at a few microseconds per reporter.

Why a second collector for the members (``model.agent_datacollector``): Mesa
collects agent reporters at every ``collect()``, and a thousand members every
metering interval would cost more than the rest of the step; members are
recorded once a day (at the end of it), through Mesa's own agent-type
reporters, so ``get_agenttype_vars_dataframe(Member)`` works as Mesa users expect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.model.members import Member
from gridcoop.units import UEUR_PER_EUR

IntArray = NDArray[np.int64]

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

SERIES = ("time_h", "production_kw", "consumption_kw", "grid_import_kw", "grid_export_kw",
          "clearing_price_eur_per_kwh", "local_traded_kwh", "self_sufficiency",
          "self_consumption", "share_traded_locally", "mean_local_price_eur_per_kwh",
          "mean_retail_price_eur_per_kwh", "feed_in_eur_per_kwh", "peak_grid_import_kw",
          "tokens_minted", "bills_eur", "baseline_bills_eur", "ledger_height")
BILL_COLUMNS = ("day", "member", "bill_eur", "baseline_eur")
#: What each member is recorded with once a day: its last decision (bid and offer,
#: Wh and µ€/kWh), its bill, its tokens (``token`` and ``wh`` assets) and its rank.
AGENT_VARS = ("member_id", "kind", "bid_wh", "bid_price_u", "offer_wh", "offer_price_u",
              "bill_eur", "tokens", "energy_tokens_wh", "rank")


def _reporter(name: str) -> Any:
    return lambda model: model.current[name]


def make_datacollector() -> mesa.DataCollector:
    """Model reporters for every series, and a ``bills`` table filled once a day."""
    return mesa.DataCollector(model_reporters={name: _reporter(name) for name in SERIES},
                              tables={"bills": list(BILL_COLUMNS)})


def make_agent_datacollector() -> mesa.DataCollector:
    """Agent-type reporters for every member (``AGENT_VARS``), collected once a day."""
    return mesa.DataCollector(agenttype_reporters={Member: {v: v for v in AGENT_VARS}})


def member_standing(model: CommunityModel) -> dict[str, IntArray]:
    """Every member's ``token`` and ``wh`` balances and its rank by tokens (1, 2, 2, 4)."""
    balances = model.accounts.ledger.state.balances
    accounts = [model.accounts.member_account(i) for i in range(model.population.size)]
    tokens = np.array([balances.get((a, "token"), 0) for a in accounts], dtype=np.int64)
    wh = np.array([balances.get((a, "wh"), 0) for a in accounts], dtype=np.int64)
    ordered = np.sort(tokens)[::-1]
    rank = np.searchsorted(-ordered, -tokens, side="left").astype(np.int64) + 1
    return {"tokens": tokens, "energy_tokens_wh": wh, "rank": rank}


def current_values(model: CommunityModel) -> dict[str, Any]:
    """This step's values of every series (cumulative KPIs so far)."""
    kpis = model.kpis
    k = model.steps - 1
    values: dict[str, Any] = {
        "time_h": model.clock.start_s(k) / 3600,
        "clearing_price_eur_per_kwh": model.last_price_eur_per_kwh,
        "ledger_height": model.accounts.ledger.height,
        "feed_in_eur_per_kwh": model.tariff.feed_in_eur_per_kwh,
    }
    for name in ("production_kw", "consumption_kw", "grid_import_kw", "grid_export_kw"):
        values[name] = kpis.last.get(name, 0.0)
    values.update(kpis.running())
    return values


def add_daily_bills(model: CommunityModel, day: int) -> None:
    """One row per member: bill and grid-only baseline so far, at the end of ``day``."""
    kpis, table = model.kpis, model.datacollector
    bills = (kpis.bill_u / UEUR_PER_EUR).tolist()
    baseline = (kpis.baseline_u / UEUR_PER_EUR).tolist()
    for member, bill, base in zip(model.population.node_ids, bills, baseline, strict=True):
        table.add_table_row("bills", {"day": day, "member": member, "bill_eur": bill,
                                      "baseline_eur": base})
