"""Identical order books for comparing gridcoop with another market simulator.

Why generated here: a comparison is only fair when both simulators clear the
very same orders, so the books are made once from a seed and written in each
simulator's own input form. ``n`` demand units and ``n`` supply units bid every
hour; each unit keeps one limit price for the whole run (what a simple unit of
either simulator supports) and its quantity changes hour by hour. Quantities
are whole Wh and prices whole €/MWh, so both simulators read them exactly; a
demand price is always odd and a supply price even, so no bid ever ties an
offer and the cleared volume of each hour has one answer. The first hour has
no orders: gridcoop's gate for an hour closes in the hour before, so a run's
first hour has no auction, and the books leave it empty for both.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gridcoop.units import IntArray

EUR_PER_MWH_TO_UEUR_PER_KWH = 1_000


@dataclass(frozen=True, slots=True)
class Books:
    """Hourly quantities (Wh, shape hours × n) and per-unit limit prices (€/MWh)."""

    demand_wh: IntArray
    demand_eur_per_mwh: IntArray
    supply_wh: IntArray
    supply_eur_per_mwh: IntArray

    @property
    def hours(self) -> int:
        return int(self.demand_wh.shape[0])

    @property
    def units(self) -> int:
        return int(self.demand_wh.shape[1])

    def demand_id(self, unit: int) -> str:
        return f"demand-{unit:06d}"

    def supply_id(self, unit: int) -> str:
        return f"supply-{unit:06d}"

    def save(self, path: Path) -> None:
        """The books as one ``.npz`` file (what the other simulator's runner reads)."""
        np.savez(path, demand_wh=self.demand_wh, demand_eur_per_mwh=self.demand_eur_per_mwh,
                 supply_wh=self.supply_wh, supply_eur_per_mwh=self.supply_eur_per_mwh)

    def write_csvs(self, folder: Path) -> tuple[Path, Path]:
        """gridcoop's ``market-only`` input: buyers.csv and sellers.csv (kWh, €/kWh)."""
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for name, wh, price, ident in (
                ("buyers.csv", self.demand_wh, self.demand_eur_per_mwh, self.demand_id),
                ("sellers.csv", self.supply_wh, self.supply_eur_per_mwh, self.supply_id)):
            path = folder / name
            names = [ident(u) for u in range(self.units)]
            prices = [f"{p / 1000:.3f}" for p in price.tolist()]
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(("hour", "participant", "quantity_kwh", "price_eur_per_kwh"))
                for hour, row in enumerate(wh.tolist()):
                    writer.writerows((hour, names[u], f"{q / 1000:.3f}", prices[u])
                                     for u, q in enumerate(row) if q > 0)
            out.append(path)
        return out[0], out[1]


def make_books(n: int, days: int, seed: int) -> Books:
    """``n`` demand and ``n`` supply units over ``days`` days, from ``seed``.

    Demand follows a daily curve with a morning and an evening peak, supply a
    midday bulge on a base, each unit scaled by its own size and jittered per
    hour; demand prices lie in 61..299 €/MWh, supply prices in 20..240 €/MWh,
    so some hours clear most of the volume and others little.
    """
    if n < 1 or days < 1:
        raise ValueError("books need at least one unit per side and one day")
    rng = np.random.default_rng([seed, n, days])
    hours = 24 * days
    hour = np.arange(hours) % 24
    demand_shape = 0.6 + 0.5 * np.exp(-((hour - 8) / 2.0) ** 2) + \
        0.8 * np.exp(-((hour - 19) / 2.5) ** 2)
    supply_shape = 0.4 + 1.2 * np.exp(-((hour - 13) / 3.0) ** 2)
    demand_size = rng.uniform(300, 1500, size=n)
    supply_size = rng.uniform(300, 1500, size=n)
    demand = demand_shape[:, None] * demand_size[None, :] * rng.uniform(0.7, 1.3, (hours, n))
    supply = supply_shape[:, None] * supply_size[None, :] * rng.uniform(0.7, 1.3, (hours, n))
    demand[0] = supply[0] = 0
    return Books(
        demand_wh=np.rint(demand).astype(np.int64),
        demand_eur_per_mwh=(2 * rng.integers(30, 150, size=n) + 1).astype(np.int64),
        supply_wh=np.rint(supply).astype(np.int64),
        supply_eur_per_mwh=(2 * rng.integers(10, 121, size=n)).astype(np.int64),
    )


def cleared_wh(books: Books) -> IntArray:
    """The volume each hour clears under a uniform price (no ties by construction): the
    largest volume at which the cumulative demand, highest prices first, still meets the
    cumulative supply, cheapest first, at crossing prices. The exact reference both
    simulators are checked against."""
    d_order = np.argsort(-books.demand_eur_per_mwh, kind="stable")
    s_order = np.argsort(books.supply_eur_per_mwh, kind="stable")
    d_price = books.demand_eur_per_mwh[d_order]
    s_price = books.supply_eur_per_mwh[s_order]
    out = np.zeros(books.hours, dtype=np.int64)
    for h in range(1, books.hours):
        total = i = j = 0
        d_left = int(books.demand_wh[h, d_order[0]])
        s_left = int(books.supply_wh[h, s_order[0]])
        while i < d_price.size and j < s_price.size and d_price[i] > s_price[j]:
            step = min(d_left, s_left)
            total += step
            d_left -= step
            s_left -= step
            if d_left == 0:
                i += 1
                d_left = int(books.demand_wh[h, d_order[i]]) if i < d_price.size else 0
            if s_left == 0:
                j += 1
                s_left = int(books.supply_wh[h, s_order[j]]) if j < s_price.size else 0
        out[h] = total
    return out
