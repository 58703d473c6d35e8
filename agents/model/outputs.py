"""The tables of a run (trades, time series, bills, campus transfers) as pandas frames.

Why frames built at the end: during the run the central market keeps trades
as numpy columns per delivery interval; turning them into one table once is
cheaper than appending rows, and the CLI writes whatever this returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridcoop.agents.model.members import Member
from gridcoop.agents.model.population import NodeKind
from gridcoop.units import UEUR_PER_EUR, payment_ueur, released_ueur

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel


TRADE_COLUMNS = ("delivery_start_s", "trade_id", "buyer", "seller", "contracted_wh",
                 "delivered_wh", "price_eur_per_kwh", "paid_eur")


def trade_frames(model: CommunityModel) -> Iterator[pd.DataFrame]:
    """Every settled trade, one frame per delivery interval: contracted and delivered Wh,
    price, payment. Written one by one, a week of millions of trades never sits in
    memory twice."""
    ids = np.array(model.population.node_ids, dtype=object)
    step_s = model.clock.market_minutes * 60
    for interval, trades, delivered in model.central.trade_log:
        yield pd.DataFrame({
            "delivery_start_s": interval * step_s,
            "trade_id": list(trades.trade_ids),
            "buyer": ids[trades.buyer], "seller": ids[trades.seller],
            "contracted_wh": trades.energy_wh, "delivered_wh": delivered,
            "price_eur_per_kwh": trades.price_u / UEUR_PER_EUR,
            "paid_eur": released_ueur(payment_ueur(trades.energy_wh, trades.price_u), delivered,
                                      np.maximum(trades.energy_wh, 1)) / UEUR_PER_EUR,
        }, columns=TRADE_COLUMNS)


def trades_table(model: CommunityModel) -> pd.DataFrame:
    """Every settled trade as one frame (:func:`trade_frames` joined)."""
    parts = list(trade_frames(model))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TRADE_COLUMNS)


def bills_table(model: CommunityModel) -> pd.DataFrame:
    """Per member: metered energy, local trade, bill vs the grid-only baseline."""
    pop, kpis = model.population, model.kpis
    return pd.DataFrame({
        "member": pop.node_ids,
        "kind": [NodeKind(int(k)).name.lower() for k in pop.kind],
        "region": [pop.region_ids[int(r)] for r in pop.region],
        "import_kwh": kpis.node_import_wh / 1000, "export_kwh": kpis.node_export_wh / 1000,
        "bought_locally_kwh": kpis.node_bought_wh / 1000,
        "sold_locally_kwh": kpis.node_sold_wh / 1000,
        "bill_eur": kpis.bill_u / UEUR_PER_EUR, "baseline_eur": kpis.baseline_u / UEUR_PER_EUR,
        "saving_eur": (kpis.baseline_u - kpis.bill_u) / UEUR_PER_EUR,
    })


def transfer_matrix_kwh(model: CommunityModel) -> pd.DataFrame:
    """Delivered kWh from each member (rows) to each member (columns)."""
    ids = list(model.population.node_ids)
    n = len(ids)
    matrix = np.zeros((n, n), dtype=np.int64)
    for _, trades, delivered in model.central.trade_log:
        np.add.at(matrix, (trades.seller, trades.buyer), delivered)
    frame = pd.DataFrame(matrix / 1000, index=ids, columns=ids)
    frame.index.name = "from \\ to (kWh)"
    return frame


def agents_table(model: CommunityModel) -> pd.DataFrame:
    """Mesa's agent-level records of the members, one row per member and day."""
    frame = model.agent_datacollector.get_agenttype_vars_dataframe(Member)
    return frame.reset_index().rename(columns={"Step": "step", "AgentID": "agent_id"})


def tables(model: CommunityModel) -> dict[str, pd.DataFrame]:
    """All tables of a run, by file stem."""
    return {"trades": trades_table(model), **_tables_but_trades(model)}


def write_tables(model: CommunityModel, out: Path) -> list[Path]:
    """Write every table as ``<stem>.csv`` in ``out``; the trades interval by interval."""
    path = out / "trades.csv"
    pd.DataFrame(columns=TRADE_COLUMNS).to_csv(path, index=False)
    for frame in trade_frames(model):
        frame.to_csv(path, mode="a", header=False, index=False)
    written = [path]
    for stem, frame in _tables_but_trades(model).items():
        path = out / f"{stem}.csv"
        frame.to_csv(path, index=stem == "transfers")
        written.append(path)
    return written


def _tables_but_trades(model: CommunityModel) -> dict[str, pd.DataFrame]:
    out = {
        "timeseries": model.datacollector.get_model_vars_dataframe(),
        "bills": bills_table(model),
        "agents": agents_table(model),
    }
    if model.scenario.kind == "campus-microgrid":
        out["transfers"] = transfer_matrix_kwh(model)
    for extension in model.extensions:
        out.update(extension.tables())
    return out
