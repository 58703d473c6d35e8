"""The web page's EV panel reads the running EV community (``CommunitySource.ev()``)."""

from __future__ import annotations

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.viz.community import CommunitySource
from gridcoop.experiments.viz.protocol import EVSource


def test_ev_panel_shows_capacity_commitment_and_calls() -> None:
    model = CommunityModel("ev-community", days=3, seed=1,
                           ev_community={"calls_per_year": 2000, "max_calls_per_year": 2000})
    try:
        source = CommunitySource(model)
        found = source.ev()
        assert found is not None
        ev: EVSource = found
        assert [row.time_s for row in ev.capacity()] == [0]  # cleared before the run
        for _ in range(model.clock.steps_per_day + 1):
            model.step()
        rows = ev.capacity()
        assert [row.time_s for row in rows] == [h * 3600 for h in range(25)]  # up to now
        ext = model.extensions[0]
        assert rows[5].available_kw == round(float(ext.firm_kw[:, 5].sum()), 3)  # type: ignore[attr-defined]
        assert all(0 <= r.committed_kw <= r.available_kw + 1e-9 for r in rows)
        model.run()
        calls = ev.reserve_calls()
        assert calls and all(0 <= c.served_kw <= c.requested_kw for c in calls)
        assert [c.time_s for c in calls] == sorted({c.start_s for c in ext.calls()})  # type: ignore[attr-defined]
    finally:
        model.close()


def test_no_ev_panel_without_an_ev_community() -> None:
    model = CommunityModel("neighbourhood", days=1, households=8, regions=2, seed=1)
    try:
        assert CommunitySource(model).ev() is None
    finally:
        model.close()
