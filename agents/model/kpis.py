"""Key figures of a run, accumulated interval by interval (cheap numpy sums).

Definitions (community = all nodes behind the central market's boundary):

* **self-sufficiency** = 1 - community grid import / consumption, where the
  community's grid import in an interval is ``max(0, Σ node import - Σ node export)``
  (what crosses the community's boundary);
* **self-consumption** = 1 - community grid export / production;
* **share traded locally** = energy delivered through local trades / Σ node import;
* **mean local price** = value / energy of delivered local trades, beside the
  import-weighted mean retail price and the feed-in tariff;
* **feeders**: the largest net import of one region in an interval (kW), and
  how many region-intervals exceeded ``feeder_capacity_kw`` (when set);
* **bills**: each member's net cost (local purchases + grid import + grid fees
  - local sales - feed-in) against its grid-only baseline (the same meter
  readings priced at retail and feed-in);
* **peak grid import** in kW over metering intervals; **tokens**: energy tokens
  (1 token = 1 Wh of delivered local energy) minted on the ledger.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.flows import Flows
from gridcoop.units import UEUR_PER_EUR, payment_ueur

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Kpis:
    """Running totals; ``summary()`` turns them into the run's KPIs."""

    def __init__(self, n: int, step_h: float, region_starts: IntArray | None = None,
                 feeder_capacity_kw: float | None = None) -> None:
        self.step_h = step_h
        self.region_starts = (np.zeros(1, dtype=np.int64) if region_starts is None
                              else np.asarray(region_starts, dtype=np.int64))
        self.feeder_capacity_kw = feeder_capacity_kw
        self.peak_region_import_kw = 0.0
        self.feeder_overloads = 0
        self.production_kwh = 0.0
        self.consumption_kwh = 0.0
        self.storage_kwh = 0.0
        self.node_import_kwh = 0.0
        self.node_export_kwh = 0.0
        self.grid_import_kwh = 0.0
        self.grid_export_kwh = 0.0
        self.peak_grid_import_kw = 0.0
        self.ev_kwh = 0.0
        self.local_wh = 0
        self.local_value_u = 0
        self.contracted_wh = 0
        self.retail_wh = 0
        self.retail_value_u = 0
        self.feed_in_wh = 0
        self.feed_in_value_u = 0
        self.fees_u = 0
        self.tokens_wh = 0
        self.trades = 0
        self.node_import_wh = np.zeros(n, dtype=np.int64)
        self.node_export_wh = np.zeros(n, dtype=np.int64)
        self.node_bought_wh = np.zeros(n, dtype=np.int64)
        self.node_sold_wh = np.zeros(n, dtype=np.int64)
        self.bill_u = np.zeros(n, dtype=np.int64)
        self.baseline_u = np.zeros(n, dtype=np.int64)
        self.last: dict[str, float] = {}

    def add_flows(self, flows: Flows) -> None:
        """One metering interval of physics."""
        prod = float(flows.production_kwh.sum())
        cons = float(flows.consumption_kwh.sum())
        imp = float(flows.import_kwh.sum())
        exp = float(flows.export_kwh.sum())
        net = imp - exp
        grid_in, grid_out = max(net, 0.0), max(-net, 0.0)
        self.production_kwh += prod
        self.consumption_kwh += cons
        self.storage_kwh += float(flows.storage_kwh.sum())
        self.node_import_kwh += imp
        self.node_export_kwh += exp
        self.grid_import_kwh += grid_in
        self.grid_export_kwh += grid_out
        self.ev_kwh += float(flows.ev_kwh.sum())
        self.peak_grid_import_kw = max(self.peak_grid_import_kw, grid_in / self.step_h)
        region_kw = np.add.reduceat(flows.import_kwh - flows.export_kwh, self.region_starts)
        region_kw /= self.step_h
        self.peak_region_import_kw = max(self.peak_region_import_kw, float(region_kw.max()))
        if self.feeder_capacity_kw is not None:
            self.feeder_overloads += int((region_kw > self.feeder_capacity_kw).sum())
        self.last = {
            "production_kw": prod / self.step_h, "consumption_kw": cons / self.step_h,
            "grid_import_kw": grid_in / self.step_h, "grid_export_kw": grid_out / self.step_h,
        }

    def add_baseline(self, import_wh: IntArray, export_wh: IntArray, retail_ueur_per_kwh: int,
                     feed_in_ueur_per_kwh: int) -> None:
        """Grid-only cost of one delivery interval's metered energy."""
        self.node_import_wh += import_wh
        self.node_export_wh += export_wh
        self.baseline_u += (payment_ueur(import_wh, retail_ueur_per_kwh)
                            - payment_ueur(export_wh, feed_in_ueur_per_kwh))

    def running(self) -> dict[str, Any]:
        """The cumulative KPIs so far, cheap enough to record every step."""
        def share(a: float, b: float) -> float:
            return a / b if b > 0 else 0.0

        return {
            "local_traded_kwh": self.local_wh / 1000,
            "self_sufficiency": share(self.consumption_kwh - self.grid_import_kwh,
                                      self.consumption_kwh),
            "self_consumption": share(self.production_kwh - self.grid_export_kwh,
                                      self.production_kwh),
            "share_traded_locally": share(self.local_wh / 1000, self.node_import_kwh),
            "mean_local_price_eur_per_kwh": (self.local_value_u / self.local_wh / 1000
                                             if self.local_wh else None),
            "mean_retail_price_eur_per_kwh": (self.retail_value_u / self.retail_wh / 1000
                                              if self.retail_wh else None),
            "peak_grid_import_kw": self.peak_grid_import_kw,
            "tokens_minted": self.tokens_wh,
            "bills_eur": self.bills_total_u / UEUR_PER_EUR,
            "baseline_bills_eur": self.baseline_total_u / UEUR_PER_EUR,
        }

    @property
    def bills_total_u(self) -> int:
        return int(self.bill_u.sum())

    @property
    def baseline_total_u(self) -> int:
        return int(self.baseline_u.sum())

    def summary(self, *, days: int, members: int) -> dict[str, Any]:
        """The run's KPIs as plain JSON numbers (rounded so two identical runs compare equal)."""
        def share(a: float, b: float) -> float:
            return round(a / b, 6) if b > 0 else 0.0

        bills = self.bill_u / UEUR_PER_EUR
        baseline = self.baseline_u / UEUR_PER_EUR
        saving = baseline - bills
        return {
            "days": days,
            "members": members,
            "production_kwh": round(self.production_kwh, 3),
            "consumption_kwh": round(self.consumption_kwh, 3),
            "ev_charging_kwh": round(self.ev_kwh, 3),
            "community_grid_import_kwh": round(self.grid_import_kwh, 3),
            "community_grid_export_kwh": round(self.grid_export_kwh, 3),
            "self_sufficiency": share(self.consumption_kwh - self.grid_import_kwh,
                                      self.consumption_kwh),
            "self_consumption": share(self.production_kwh - self.grid_export_kwh,
                                      self.production_kwh),
            "local_traded_kwh": self.local_wh / 1000,
            "local_contracted_kwh": self.contracted_wh / 1000,
            "share_traded_locally": share(self.local_wh / 1000, self.node_import_kwh),
            "trades": self.trades,
            "mean_local_price_eur_per_kwh": (round(self.local_value_u / self.local_wh / 1000, 6)
                                             if self.local_wh else None),
            "mean_retail_price_eur_per_kwh": (round(self.retail_value_u / self.retail_wh / 1000, 6)
                                              if self.retail_wh else None),
            "feed_in_price_eur_per_kwh": (round(self.feed_in_value_u / self.feed_in_wh / 1000, 6)
                                          if self.feed_in_wh else None),
            "grid_fees_eur": self.fees_u / UEUR_PER_EUR,
            "peak_grid_import_kw": round(self.peak_grid_import_kw, 3),
            "peak_region_import_kw": round(self.peak_region_import_kw, 3),
            "feeder_overload_intervals": self.feeder_overloads,
            "tokens_minted": self.tokens_wh,
            "bills_eur_total": round(float(bills.sum()), 6),
            "baseline_bills_eur_total": round(float(baseline.sum()), 6),
            "members_saving": int((saving > 0).sum()),
            "members_paying_more": int((saving < 0).sum()),
            "mean_saving_eur": round(float(saving.mean()), 6) if saving.size else 0.0,
        }
