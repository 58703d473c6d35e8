"""EV and DR panels: hand-worked figures, absent communities, bad input."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from gridcoop.experiments.viz.flexibility import dr_view, draw_dr, draw_ev, ev_view
from gridcoop.experiments.viz.formatting import PageDataError
from tests.experiments.viz.fakes import Call, Capacity, Event, FakeDR, FakeEV, FakeSource


def test_absent_communities_give_none() -> None:
    assert ev_view(FakeSource()) is None
    assert dr_view(FakeSource()) is None


def test_ev_view_hand_worked() -> None:
    ev = FakeEV([Capacity(0, 10.0, 8.0), Capacity(3600, 6.0, 8.0), Capacity(7200, 9.0, 9.0)],
                [Call(3600, 8.0, 6.0), Call(7200, 5.0, 5.0), Call(8000, 0.0, 0.0)])
    view = ev_view(FakeSource(ev_source=ev))
    assert view is not None
    assert view.hours == (0.0, 1.0, 2.0)
    assert view.short_hours == 1  # only at 1 h: 6 kW available < 8 kW committed
    # served shares: 6 / 8 = 0.75, 5 / 5 = 1, nothing requested counts as served
    assert [c.served_share for c in view.calls] == [0.75, 1.0, 1.0]
    assert view.calls_fully_served == 2
    figure = Figure()
    draw_ev(figure, view)
    assert "3 reserve calls, 2 fully served; 1 h short" in figure.axes[0].get_title()


def test_ev_view_rejects_negative_power() -> None:
    with pytest.raises(PageDataError, match="negative power"):
        ev_view(FakeSource(ev_source=FakeEV([], [Call(0, -1.0, 0.0)])))


def test_dr_view_hand_worked() -> None:
    dr = FakeDR([Event(0, 1, 10, 8, 6), Event(3600, 3, 5, 5, 5), Event(7200, 0, 4, 0, 0)])
    view = dr_view(FakeSource(dr_source=dr))
    assert view is not None
    assert view.event_count == 3
    assert view.events_by_level == (1, 1, 0, 1)
    # compliance = complied / opted in = (6 + 5 + 0) / (8 + 5 + 0) = 11 / 13
    assert view.compliance == pytest.approx(11 / 13)
    # opt-in share = (8 + 5 + 0) / (10 + 5 + 4) = 13 / 19
    assert view.opt_in_share == pytest.approx(13 / 19)
    assert [e.hour for e in view.latest] == [2.0, 1.0, 0.0]
    assert [e.compliance for e in view.latest] == [None, 1.0, 0.75]
    assert view.latest[1].level_name == "emergency shed"
    figure = Figure()
    draw_dr(figure, view)
    assert "compliance 85%" in figure.axes[0].get_title()


def test_dr_view_latest_limit_and_empty() -> None:
    dr = FakeDR([Event(i * 60, 1, 1, 1, 1) for i in range(15)])
    view = dr_view(FakeSource(dr_source=dr), latest=10)
    assert view is not None and len(view.latest) == 10 and view.latest[0].hour == 14 * 60 / 3600
    empty = dr_view(FakeSource(dr_source=FakeDR([])))
    assert empty is not None and empty.compliance is None and empty.opt_in_share is None


@pytest.mark.parametrize(
    ("event", "message"),
    [(Event(0, 4, 1, 1, 1), "levels are 0-3"), (Event(0, 1, 1, 1, 2), "complied <= opted in"),
     (Event(0, 1, 1, 2, 0), "opted in <= targets")],
)
def test_dr_view_rejects_impossible_events(event: Event, message: str) -> None:
    with pytest.raises(PageDataError, match=message):
        dr_view(FakeSource(dr_source=FakeDR([event])))
