"""The hourly-auction review: its average-bid clearing price on its tariffs.

The review clears an hourly auction whose price is "the average bid price
offered by all buyers", with prosumers selling near the 0.039 €/kWh feed-in
and buying at up to 0.095 €/kWh (13:00-23:00). It publishes no outcomes, so the
case shows gridcoop's figures under each reading of the rule, and checks the
one thing the review implies: every local price lies between the two tariffs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from gridcoop.experiments.reproduce.rows import Row, make_row

FEED_IN_EUR_PER_KWH = 0.039
PEAK_EUR_PER_KWH = 0.095

VARIANTS: dict[str, dict[str, bool | str]] = {
    "accepted bids, kWh-weighted (default)": {},
    "accepted bids, plain mean": {"weighted": False},
    "all buyers, kWh-weighted": {"bids": "all"},
    "all buyers, plain mean (the review's words)": {"bids": "all", "weighted": False},
}


def mean_price_eur_per_kwh(trades: pd.DataFrame) -> float:
    """Mean local price, weighted by contracted energy."""
    if not len(trades):
        return 0.0
    energy = trades["contracted_wh"]
    return float((trades["price_eur_per_kwh"] * energy).sum() / energy.sum())


def share_within_tariffs(trades: pd.DataFrame) -> float:
    """Share of trades priced between the feed-in and the peak retail tariff."""
    if not len(trades):
        return 1.0
    price = trades["price_eur_per_kwh"]
    return float(((price >= FEED_IN_EUR_PER_KWH) & (price <= PEAK_EUR_PER_KWH)).mean())


def rows(trades_by_variant: Mapping[str, Sequence[pd.DataFrame]]) -> list[Row]:
    """One price row and one band row per reading of the rule (one trades table per seed)."""
    out = []
    for label, tables in trades_by_variant.items():
        out.append(make_row("Hourly auction", f"mean local price, {label}", "EUR/kWh", None,
                            [mean_price_eur_per_kwh(t) for t in tables]))
        out.append(make_row(
            "Hourly auction", f"trades priced within 0.039-0.095 EUR/kWh, {label}", "share",
            1.0, [share_within_tariffs(t) for t in tables], tolerance=0.0,
            why="Averaging every buyer's bid may fall below a seller's limit."
            if "all" in label else ""))
    return out
