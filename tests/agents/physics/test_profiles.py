"""Measured PV and load profiles from CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gridcoop.agents import CommunityModel
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.profiles import ProfileCsvError, read_profile


def write(path: Path, rows: list[tuple[float, float]]) -> Path:
    path.write_text("hour,value\n" + "".join(f"{h},{v}\n" for h, v in rows))
    return path


def test_profile_steps_take_the_latest_value_and_repeat(tmp_path: Path) -> None:
    profile = read_profile(write(tmp_path / "p.csv", [(0, 1.0), (6, 2.0), (12, 0.0), (18, 3.0)]))
    assert profile.period_h == 24.0
    assert profile.mean == pytest.approx((6 * 1 + 6 * 2 + 6 * 0 + 6 * 3) / 24)
    day = profile.day(SimClock(days=2, metering_minutes=60), 1)
    assert day.tolist() == [1.0] * 6 + [2.0] * 6 + [0.0] * 6 + [3.0] * 6


@pytest.mark.parametrize(("text", "message"), [
    ("h,v\n0,1\n", "hour,value"),
    ("hour,value\n1,1\n", "first row must be hour 0"),
    ("hour,value\n0,1\n0,2\n", "hours must increase"),
    ("hour,value\n0,x\n", ":2: hour and value must be numbers"),
    ("hour,value\n0,-1\n", ">= 0"),
])
def test_bad_profiles_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ProfileCsvError, match=message):
        read_profile(path)


def test_model_uses_a_measured_pv_profile_exactly(tmp_path: Path) -> None:
    pv = write(tmp_path / "pv.csv", [(h, 0.5 if 9 <= h < 15 else 0.0) for h in range(24)])
    model = CommunityModel("neighbourhood", households=10, regions=1, days=2, seed=1,
                           pv_profile_csv=str(pv), replicas="shared")
    summary = model.run()
    # 6 hours a day at 0.5 kW per kWp, 2 days: 6 kWh per kWp
    expected = float(model.population.pv_kwp.sum()) * 6.0
    assert summary["production_kwh"] == pytest.approx(expected, abs=1e-3)
    assert np.count_nonzero(model.population.pv_kwp) == 4
    model.close()
