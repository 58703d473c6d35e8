"""One simulated bank for several regions reads each region exactly as a bank of its own."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gridcoop.agents.meters.shared_bank import SharedBank
from gridcoop.hardware_bridge.simulated import EnergyFn, SimulatedMeterBank

INTERVAL_S = 900


def _rows_of(imports: np.ndarray, exports: np.ndarray, rows: slice) -> EnergyFn:
    return lambda k: (imports[k][rows], exports[k][rows])


def _slices(sizes: list[int]) -> list[slice]:
    return [slice(a, b) for a, b in itertools.pairwise(np.cumsum([0, *sizes]).tolist())]


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       intervals=st.integers(1, 6), data=st.data())
def test_each_region_reads_what_a_bank_of_its_own_reads(
        sizes: list[int], intervals: int, data: st.DataObject) -> None:
    n = sum(sizes)
    imports = data.draw(arrays(np.float64, (intervals, n), elements=st.floats(0, 500)))
    exports = data.draw(arrays(np.float64, (intervals, n), elements=st.floats(0, 500)))
    # each region polls at its own moments (all reach the end)
    polls = [[*sorted(data.draw(st.lists(st.integers(0, intervals), max_size=3))), intervals]
             for _ in sizes]
    ids = [f"m{i}" for i in range(n)]
    shared = SharedBank(ids, INTERVAL_S, lambda k: (imports[k], exports[k]))
    slices = _slices(sizes)
    views = [shared.rows(rows) for rows in slices]
    alone = [SimulatedMeterBank(ids[rows], interval_s=INTERVAL_S,
                                energy=_rows_of(imports, exports, rows)) for rows in slices]
    # the regions' polls interleaved in any order (each region's own in order)
    turns = data.draw(st.permutations([r for r, moments in enumerate(polls) for _ in moments]))
    done = [0] * len(sizes)
    for r in turns:
        until = polls[r][done[r]] * INTERVAL_S
        done[r] += 1
        got, want = views[r].poll_block(until), alone[r].poll_block(until)
        assert got.meter_ids == want.meter_ids and got.first_seq == want.first_seq
        assert got.interval_start_s.tolist() == want.interval_start_s.tolist()
        assert np.array_equal(got.import_wh, want.import_wh)
        assert np.array_equal(got.export_wh, want.export_wh)
        assert got.import_wh.dtype == np.int64
    assert shared._polled == {}  # every interval was taken by every region, and let go


def test_a_region_that_stops_reading_holds_nothing_back() -> None:
    energy = np.arange(12, dtype=np.float64).reshape(4, 3)
    shared = SharedBank(["a", "b", "c"], INTERVAL_S, lambda k: (energy[k], energy[k] * 0))
    first, second = shared.rows(slice(0, 1)), shared.rows(slice(1, 3))
    assert first.poll_block(2 * INTERVAL_S).import_wh.tolist() == [[0, 3]]
    first.close()  # e.g. its meters are read from hardware from now on
    first.close()  # twice is harmless
    block = second.poll_block(4 * INTERVAL_S)
    assert block.import_wh.tolist() == [[1, 4, 7, 10], [2, 5, 8, 11]]
    assert block.first_seq == 0 and shared._polled == {}


def test_readings_and_late_joiners() -> None:
    shared = SharedBank(["a", "b"], INTERVAL_S, lambda k: ([1.4, 2.6], [0.0, 0.0]))
    view = shared.rows(slice(1, 2))
    other = shared.rows(slice(0, 1))
    [reading] = view.poll(INTERVAL_S)
    assert (reading.meter_id, reading.import_wh, reading.seq) == ("b", 3, 0)
    assert other.poll_block(0).import_wh.shape == (1, 0)  # nothing ended yet for it
    with pytest.raises(RuntimeError, match="before it is first polled"):
        shared.rows(slice(0, 1))
