"""Settling a delivery interval's trades against its meters, in integer Wh (pure numpy).

Why here: the rule is the heart of the accounting and is checked by hand-worked
tests; the agent model's central market turns its result into ledger
transactions and bills.

The rule, per delivery interval:

* a trade delivered ``min(energy, energy·import_b/bought_b, energy·export_s/sold_s)``
  (each rounded down): a buyer cannot receive more than its meter imported,
  a seller cannot deliver more than its meter exported, so no Wh is sold twice;
* the undelivered rest of a trade (its *shortfall*) is closed against the
  buyer's grid import: the buyer's import beyond what it received locally is
  bought at the retail tariff, first attributed to its shortfalls (pro rata,
  rounded down), the remainder billed as plain grid import;
* a seller's export beyond what it delivered is fed in at the feed-in tariff.

Money follows from these energies with :func:`gridcoop.units.payment_ueur` and
:func:`gridcoop.units.released_ueur`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridcoop.units import IntArray, sum_by


@dataclass(frozen=True, slots=True)
class Delivery:
    """Outcome of settling one interval's trades against its meter readings."""

    delivered_wh: IntArray  # per trade
    shortfall_wh: IntArray  # per trade: energy - delivered
    shortfall_import_wh: IntArray  # per trade: part of the shortfall the buyer took from the grid
    residual_import_wh: IntArray  # per node: grid import not attributed to a shortfall
    residual_export_wh: IntArray  # per node: export fed in to the grid
    received_wh: IntArray  # per node: energy received through local trades
    delivered_by_wh: IntArray  # per node: energy delivered to local buyers


def settle_interval(buyer: IntArray, seller: IntArray, energy_wh: IntArray,
                    import_wh: IntArray, export_wh: IntArray) -> Delivery:
    """Apply the rule above to one interval's trades; ``buyer``/``seller`` index the nodes."""
    n = import_wh.size
    energy = energy_wh.astype(np.int64)
    bought = sum_by(buyer, energy, n)
    sold = sum_by(seller, energy, n)
    imp, exp = import_wh.astype(np.int64), export_wh.astype(np.int64)
    by_buyer = np.where(bought[buyer] > imp[buyer],
                        energy * imp[buyer] // np.maximum(bought[buyer], 1), energy)
    by_seller = np.where(sold[seller] > exp[seller],
                         energy * exp[seller] // np.maximum(sold[seller], 1), energy)
    delivered = np.minimum(by_buyer, by_seller)
    shortfall = energy - delivered
    received = sum_by(buyer, delivered, n)
    given = sum_by(seller, delivered, n)
    grid_import = imp - received
    total_short = sum_by(buyer, shortfall, n)
    covered = np.minimum(grid_import, total_short)
    # pro rata share of the buyer's covered shortfall, rounded down
    short_import = np.where(total_short[buyer] > 0,
                            shortfall * covered[buyer] // np.maximum(total_short[buyer], 1), 0)
    attributed = sum_by(buyer, short_import, n)
    return Delivery(delivered, shortfall, short_import, grid_import - attributed,
                    exp - given, received, given)
