"""The market benchmark suite runs and reports consistent figures (no timing asserted)."""

from __future__ import annotations

from gridcoop.experiments.bench import load_suite


def test_quick_market_bench_reports_every_mechanism() -> None:
    figures = load_suite("market")(True)
    small = figures["1000+1000"]
    for mechanism in ("pay_as_clear", "average_bid", "pay_as_bid", "continuous"):
        assert small[mechanism]["ms"] > 0 and small[mechanism]["orders_per_s"] > 0
        assert small[mechanism]["path"] == "fast"
    # The periodic mechanisms share one allocation: same trades, same volume.
    assert small["pay_as_clear"]["volume_wh"] == small["pay_as_bid"]["volume_wh"]
    assert small["pay_as_clear"]["trades"] == small["average_bid"]["trades"]
    assert "pay_as_clear_from_batch" in small
    assert "10000+10000" not in figures  # quick mode is the small size only
