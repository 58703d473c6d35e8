"""Smart meters read through any MeterSource: the simulated bank, or one swapped in."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents import CommunityModel
from gridcoop.agents.meters.smart_meters import MeterSourceError, readings_to_columns
from gridcoop.hardware_bridge.readings import MeterReading


def test_plain_readings_become_columns_in_meter_order() -> None:
    index = {"m-a": 0, "m-b": 1, "m-c": 2}
    readings = [MeterReading("m-b", 900, 900, 5, 0, seq=2), MeterReading("m-a", 0, 900, 1, 0),
                MeterReading("m-a", 900, 900, 2, 3, seq=2),
                MeterReading("m-c", 900, 900, 7, 0, estimated=True, seq=2)]
    first, second = readings_to_columns(readings, index, 900)
    assert first.interval_start_s == 0 and first.import_wh.tolist() == [1, 0, 0]
    assert first.estimated.tolist() == [False, True, True]  # silent meters are estimated
    assert second.import_wh.tolist() == [2, 5, 7] and second.export_wh.tolist() == [3, 0, 0]
    assert second.estimated.tolist() == [False, False, True]
    with pytest.raises(MeterSourceError, match="unknown meter"):
        readings_to_columns([MeterReading("m-z", 0, 900, 1, 0)], index, 900)
    with pytest.raises(MeterSourceError, match="every 900 s"):
        readings_to_columns([MeterReading("m-a", 0, 300, 1, 0)], index, 900)


class ConstantMeters:
    """A stand-in for a hardware source: every meter imports 100 Wh per interval."""

    def __init__(self, meter_ids: list[str], interval_s: int) -> None:
        self.meter_ids, self.interval_s, self.next_s, self.closed = meter_ids, interval_s, 0, False

    def poll(self, until_s: int) -> list[MeterReading]:
        out = []
        while self.next_s + self.interval_s <= until_s:
            out += [MeterReading(m, self.next_s, self.interval_s, 100, 0, source="test")
                    for m in self.meter_ids]
            self.next_s += self.interval_s
        return out

    def close(self) -> None:
        self.closed = True


def test_a_swapped_in_source_feeds_settlement() -> None:
    model = CommunityModel("neighbourhood", households=6, regions=2, days=1, seed=1,
                           replicas="shared")
    region = model.population.region_ids[1]
    ids = model.region_meter_ids[region]
    source = ConstantMeters(ids, model.clock.step_s)
    model.use_meter_source(region, source)
    model.run()
    nodes = model.population.region_slices[1]
    # 96 intervals of 100 Wh each, whatever the physics did
    assert np.array_equal(model.kpis.node_import_wh[nodes], np.full(len(ids), 9600))
    assert np.array_equal(model.kpis.node_export_wh[nodes], np.zeros(len(ids)))
    model.close()
