"""What Mesa's DataCollector records: the time series, running KPIs, and daily bills.

Why a cached dict: Mesa calls each model reporter separately; computing the
running KPIs once per step and letting the reporters read them keeps the
collector at a few microseconds per reporter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from gridcoop.units import UEUR_PER_EUR

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

SERIES = ("time_h", "production_kw", "consumption_kw", "grid_import_kw", "grid_export_kw",
          "clearing_price_eur_per_kwh", "local_traded_kwh", "self_sufficiency",
          "self_consumption", "share_traded_locally", "mean_local_price_eur_per_kwh",
          "mean_retail_price_eur_per_kwh", "feed_in_eur_per_kwh", "peak_grid_import_kw",
          "tokens_minted", "bills_eur", "baseline_bills_eur", "ledger_height")
BILL_COLUMNS = ("day", "member", "bill_eur", "baseline_eur")


def _reporter(name: str) -> Any:
    return lambda model: model.current[name]


def make_datacollector() -> mesa.DataCollector:
    """Model reporters for every series, and a ``bills`` table filled once a day."""
    return mesa.DataCollector(model_reporters={name: _reporter(name) for name in SERIES},
                              tables={"bills": list(BILL_COLUMNS)})


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
