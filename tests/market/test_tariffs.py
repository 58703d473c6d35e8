"""Tariffs, grid fees and the grid fallback, with hand-worked money."""

from __future__ import annotations

import math

import pytest

from gridcoop.market import (
    InvalidTariffError,
    LineKind,
    Tariff,
    TimeOfUseTariff,
    clear,
    local_money_flows,
    settle_with_grid,
)
from tests.market.helpers import bid, offer


def test_pilot_defaults() -> None:
    tariff = TimeOfUseTariff()
    assert Tariff is TimeOfUseTariff
    assert tariff.feed_in_eur_per_kwh == 0.039 and tariff.grid_fee_eur_per_kwh == 0.0
    assert [tariff.retail_eur_per_kwh(h) for h in (12, 13, 22, 23, 0)] == [
        0.065, 0.095, 0.095, 0.065, 0.065]
    assert sum(p == 0.095 for p in tariff.retail_eur_per_kwh_by_hour) == 10  # 13:00-23:00


def test_other_tables() -> None:
    night = TimeOfUseTariff.two_period(peak_eur_per_kwh=0.2, off_peak_eur_per_kwh=0.1,
                                       peak_start_hour=22, peak_end_hour=6)
    assert [night.retail_eur_per_kwh(h) for h in (21, 22, 23, 0, 5, 6)] == [
        0.1, 0.2, 0.2, 0.2, 0.2, 0.1]
    flat = TimeOfUseTariff.flat(0.15, grid_fee_eur_per_kwh=0.01)
    assert set(flat.retail_eur_per_kwh_by_hour) == {0.15}
    table = TimeOfUseTariff.from_table({h: h / 100 for h in range(24)}, feed_in_eur_per_kwh=0.0)
    assert table.retail_eur_per_kwh(7) == 0.07
    assert TimeOfUseTariff.from_table([0.1] * 24) == TimeOfUseTariff.flat(0.1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TimeOfUseTariff((0.1,) * 23), "24"),
        (lambda: TimeOfUseTariff((0.1,) * 23 + (math.nan,)), "hour 23"),
        (lambda: TimeOfUseTariff(feed_in_eur_per_kwh=-0.01), "feed_in"),
        (lambda: TimeOfUseTariff(grid_fee_eur_per_kwh=math.inf), "grid_fee"),
        (lambda: TimeOfUseTariff.two_period(peak_start_hour=5, peak_end_hour=5), "flat"),
        (lambda: TimeOfUseTariff.two_period(peak_start_hour=25), "hour"),
        (lambda: TimeOfUseTariff.from_table({0: 0.1}), "missing"),
        (lambda: TimeOfUseTariff().retail_eur_per_kwh(24), "0..23"),
        (lambda: TimeOfUseTariff().retail_eur_per_kwh(1.5), "0..23"),  # type: ignore[arg-type]
    ],
)
def test_bad_tariffs(build: object, message: str) -> None:
    with pytest.raises(InvalidTariffError, match=message):
        build()  # type: ignore[operator]


def test_settlement_hand_worked() -> None:
    # Bids: ana 3 kWh @0.08, rui 4 kWh @0.05; offers: eva 2 kWh @0.04, ines 2 kWh @0.09.
    # Merit order: ana x eva 2 kWh; then ana (0.08) < ines (0.09): stop. ana has 1 kWh left.
    # pay_as_clear: interval [max(0.04, 0.08), min(0.08, 0.09)] = [0.08, 0.08] -> 0.08.
    orders = [bid("a", 3, 0.08, 0, "ana"), bid("r", 4, 0.05, 1, "rui"),
              offer("e", 2, 0.04, 2, "eva"), offer("i", 2, 0.09, 3, "ines")]
    result = clear(orders, "pay_as_clear")
    assert result.clearing_price_eur_per_kwh == 0.08 and result.volume_kwh == 2.0
    tariff = TimeOfUseTariff(grid_fee_eur_per_kwh=0.01)
    s = settle_with_grid(result, tariff, hour=14)  # peak: 0.095 €/kWh retail
    # Local: ana pays 2 * 0.08 = 0.16 to eva, plus a fee 2 * 0.01 = 0.02 to the grid.
    # Grid: ana buys her last 1 kWh at 0.095, rui 4 kWh at 0.095 = 0.38;
    # ines feeds 2 kWh in at 0.039 = 0.078.
    net = s.net_eur_by_participant()
    assert net["ana"] == pytest.approx(-0.16 - 0.02 - 0.095, abs=1e-12)
    assert net["eva"] == pytest.approx(0.16, abs=1e-12)
    assert net["rui"] == pytest.approx(-0.38, abs=1e-12)
    assert net["ines"] == pytest.approx(0.078, abs=1e-12)
    assert s.grid_fees_eur == pytest.approx(0.02, abs=1e-12)
    assert s.grid_import_kwh == 5.0 and s.grid_import_cost_eur == pytest.approx(0.475)
    assert s.grid_export_kwh == 2.0 and s.feed_in_revenue_eur == pytest.approx(0.078)
    assert s.local_imbalance_eur == 0.0
    kinds = [(line.participant, line.kind) for line in s.lines]
    assert kinds == [("ana", LineKind.LOCAL_PURCHASE), ("eva", LineKind.LOCAL_SALE),
                     ("ana", LineKind.GRID_FEE), ("ana", LineKind.GRID_IMPORT),
                     ("rui", LineKind.GRID_IMPORT), ("ines", LineKind.GRID_EXPORT)]
    # Off-peak the same fallback is cheaper: 5 kWh * 0.065 = 0.325.
    assert settle_with_grid(result, tariff, hour=3).grid_import_cost_eur == pytest.approx(0.325)
    # The seller may pay the fee instead, or both half of it.
    by_seller = settle_with_grid(result, tariff, 14, fee_payer="seller").net_eur_by_participant()
    assert by_seller["eva"] == pytest.approx(0.14) and by_seller["ana"] == pytest.approx(-0.255)
    shared = settle_with_grid(result, tariff, 14, fee_payer="shared").net_eur_by_participant()
    assert shared["eva"] == pytest.approx(0.15) and shared["ana"] == pytest.approx(-0.265)
    with pytest.raises(InvalidTariffError, match="fee_payer"):
        settle_with_grid(result, tariff, 14, fee_payer="nobody")  # type: ignore[arg-type]


def test_local_money_flows_hand_worked() -> None:
    # pay_as_bid at the bid: 2 kWh @0.30 and 1 kWh @0.25; fee 0.02 €/kWh paid by buyers.
    orders = [bid("b1", 2, 0.30, 0), bid("b2", 1, 0.25, 1), offer("s", 3, 0.1, 2)]
    result = clear(orders, "pay_as_bid")
    flows = local_money_flows(result.trades, 0.02)
    # Sellers: 2 * 0.30 + 1 * 0.25 = 0.85; fees 3 * 0.02 = 0.06; buyers 0.85 + 0.06 = 0.91.
    assert flows.sellers_receive_eur == pytest.approx(0.85, abs=1e-12)
    assert flows.grid_fees_eur == pytest.approx(0.06, abs=1e-12)
    assert flows.buyers_pay_eur == pytest.approx(0.91, abs=1e-12)
    assert flows.imbalance_eur == pytest.approx(0.0, abs=1e-12)
    assert result.value_eur == pytest.approx(0.85, abs=1e-12)
    assert result.average_price_eur_per_kwh == pytest.approx(0.85 / 3)
