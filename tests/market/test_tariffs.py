"""Tariffs: the time-of-use retail table, feed-in and the grid fee."""

from __future__ import annotations

import math

import pytest

from gridcoop.market import InvalidTariffError, Tariff, TimeOfUseTariff


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
