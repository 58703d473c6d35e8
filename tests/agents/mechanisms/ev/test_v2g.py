"""V2G discharge limits: a reserve call never takes energy the owner needs for the next trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.ev.profiles import EVConfigError, random_fleet
from gridcoop.agents.mechanisms.ev.simulate import simulate_fleet
from gridcoop.agents.mechanisms.ev.v2g import allocate_call, call_limits_kwh, v2g_limit_kwh


def test_limit_worked_by_hand() -> None:
    limit = v2g_limit_kwh(
        soc_kwh=np.array([20.0, 20.0, 8.0, 20.0, 20.0]),
        need_kwh=np.array([5.0, 5.0, 5.0, 5.0, 16.0]),
        margin_kwh=np.array([2.0, 2.0, 2.0, 2.0, 2.0]),
        plugged=np.array([True, True, True, False, True]),
        power_kw=np.array([3.65, 10.0, 3.65, 3.65, 3.65]),
        duration_h=1.0,
        allowance_kwh=np.array([5.0, 5.0, 5.0, 5.0, 5.0]),
    )
    # EV0: headroom 20 - 5 - 2 = 13, allowance 5, charger 3.65 kWh in 1 h -> 3.65.
    # EV1: charger 10 kWh -> allowance 5 binds.  EV2: 8 - 5 - 2 = 1.
    # EV3: not plugged -> 0.  EV4: 20 - 16 - 2 = 2.
    np.testing.assert_allclose(limit, [3.65, 5.0, 1.0, 0.0, 2.0])
    below = v2g_limit_kwh(
        np.array([6.0]),
        np.array([5.0]),
        np.array([2.0]),
        np.array([True]),
        np.array([3.65]),
        1.0,
        np.array([5.0]),
    )
    assert below.tolist() == [0.0]  # 6 - 5 - 2 < 0: nothing to give


def test_allocation_worked_by_hand() -> None:
    alloc = allocate_call(5_000, np.array([3.65, 2.0, 0.5]), keys=("a", "b", "c"))
    # Limits 3,650 + 2,000 + 500 = 6,150 Wh >= 5,000: shares 5,000 × limit / 6,150 =
    # 2,967.48, 1,626.02, 406.50 -> floors 2,967 + 1,626 + 406 = 4,999; the spare Wh goes to
    # the largest remainder (c, .50).
    assert alloc.energy_wh.tolist() == [2_967, 1_626, 407]
    assert alloc.served_wh == 5_000 and alloc.shortfall_wh == 0
    short = allocate_call(7_000, np.array([3.65, 2.0, 0.5]))
    assert short.energy_wh.tolist() == [3_650, 2_000, 500] and short.shortfall_wh == 850
    # A limit of 0.9999 kWh is 999 Wh: never rounded up past what is safe.
    assert allocate_call(5_000, np.array([0.9999])).energy_wh.tolist() == [999]
    with pytest.raises(EVConfigError, match="requested_wh"):
        allocate_call(-1, np.array([1.0]))


ev_rows = st.lists(
    st.tuples(
        st.floats(0.0, 30.0),
        st.floats(0.0, 30.0),
        st.floats(0.0, 5.0),
        st.booleans(),
        st.floats(0.0, 11.0),
        st.floats(0.0, 30.0),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(ev_rows, st.integers(0, 60_000), st.sampled_from([0.25, 0.5, 1.0, 2.0]))
def test_a_call_never_takes_energy_needed_for_the_next_trip(
    rows: list[tuple[float, float, float, bool, float, float]], requested_wh: int, duration_h: float
) -> None:
    soc, need, margin, plugged, power, allowance = (np.array(c) for c in zip(*rows, strict=True))
    limit = v2g_limit_kwh(soc, need, margin, plugged.astype(bool), power, duration_h, allowance)
    alloc = allocate_call(requested_wh, limit)
    given_kwh = alloc.energy_wh / 1000.0
    assert np.all(alloc.energy_wh >= 0)
    assert np.all(given_kwh <= allowance + 1e-9)
    assert np.all(given_kwh <= power * duration_h + 1e-9)
    assert np.all(alloc.energy_wh[~plugged.astype(bool)] == 0)
    gave = alloc.energy_wh > 0
    # What is left covers the next trip plus the margin.
    assert np.all(soc[gave] - given_kwh[gave] >= need[gave] + margin[gave] - 1e-9)
    assert alloc.served_wh == min(requested_wh, int(alloc.limit_wh.sum()))


def test_calls_on_a_simulated_fleet_leave_every_owner_enough_for_the_next_trip() -> None:
    hist = simulate_fleet(random_fleet(80, seed=2), 21, seed=3)
    rng = np.random.default_rng(0)
    fleet = hist.fleet
    for _ in range(40):
        start = int(rng.integers(0, hist.n_steps - 24))
        duration = int(rng.integers(1, 24))
        limit = call_limits_kwh(hist, start, duration)
        alloc = allocate_call(int(rng.integers(0, 200_000)), limit, fleet.ev_ids)
        took = alloc.energy_wh / 1000.0
        left = hist.soc_kwh[:, start] - took
        gave = alloc.energy_wh > 0
        assert np.all(left[gave] >= hist.need_kwh[gave, start] + fleet.margin_kwh[gave] - 1e-6)
        # Only offered EVs plugged in for the whole call take part.
        whole = hist.plugged[:, start : start + duration].all(axis=1) & fleet.offered
        assert not np.any(gave & ~whole)
    with pytest.raises(EVConfigError, match="inside the history"):
        call_limits_kwh(hist, hist.n_steps - 1, 5)
