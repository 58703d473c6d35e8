"""The EV case's rows come from the same code as a run's summary (one home for both measures)."""

from __future__ import annotations

import pytest

from gridcoop.agents.mechanisms.ev.community import EVCommunityExtension
from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.reproduce import ev_pilot


def test_ev_rows_agree_with_the_runs_summary() -> None:
    model = CommunityModel("ev-community", days=2, seed=0)
    try:
        model.run()
        ext = model.extensions[0]
        assert isinstance(ext, EVCommunityExtension)
        rows = {r.result: r for r in ev_pilot.rows([ext])}
        s = model.summary()
    finally:
        model.close()
    battery, v2g = s["ev_battery_plugged_kwh"], s["ev_v2g_plugged_kw"]
    minimum = rows["available capacity, minimum over the run (pilot: above 35)"]
    assert minimum.values[0] == pytest.approx(battery["min"])
    assert rows["available capacity, median hour"].values[0] == pytest.approx(battery["median"])
    assert rows["V2G power plugged in, minimum hour"].values[0] == pytest.approx(v2g["min"])
    assert rows["total battery capacity (5 x 24 + 2 x 30)"].values == (180.0,)
