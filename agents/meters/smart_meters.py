"""Smart meters: agents that read their node through a meter source, per region.

Why one source per region (not per meter): a source is a transport (the
simulator here; serial or LoRaWAN in live mode) that delivers many meters'
readings at once; polling it once per region per interval and sending one
``MeterReadingBatch`` keeps the hot path at a few numpy operations, while each
meter is still a Mesa agent with its own id, counter and last reading.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.bus.messages import MeterReadingBatch
from gridcoop.agents.meters.shared_bank import BankRows, SharedBank
from gridcoop.hardware_bridge.readings import MeterReading, MeterSource

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


class MeterSourceError(RuntimeError):
    """A source returned a reading the model cannot place (unknown meter, wrong interval)."""


@dataclass(frozen=True, slots=True)
class ReadingColumns:
    """One interval's readings of a region, aligned with the region's meters."""

    interval_start_s: int
    interval_s: int
    import_wh: IntArray
    export_wh: IntArray
    counters: IntArray
    estimated: NDArray[np.bool_]


class PhysicsFeed:
    """What the physics measured, per interval, until the region's meter source asks for it.

    The simulated bank (:func:`simulated_sources`) calls ``feed(interval)`` when an
    interval is polled; the model calls ``record`` right after the interval's physics ran.
    """

    def __init__(self) -> None:
        self._pending: dict[int, tuple[FloatArray, FloatArray]] = {}

    def record(self, interval: int, import_wh: FloatArray, export_wh: FloatArray) -> None:
        self._pending[interval] = (import_wh, export_wh)

    def __call__(self, interval: int) -> tuple[FloatArray, FloatArray]:
        try:
            return self._pending.pop(interval)
        except KeyError:
            raise MeterSourceError(f"interval {interval} was polled before its physics ran; "
                                   "poll only intervals that have ended") from None


def simulated_sources(meter_ids: list[list[str]], interval_s: int
                      ) -> tuple[list[BankRows], PhysicsFeed]:
    """The simulated meters of the regions a process hosts (``meter_ids`` per region): one
    bank fed by the model's physics (its flows in the same meter order), a source per region."""
    feed = PhysicsFeed()
    shared = SharedBank([m for ids in meter_ids for m in ids], interval_s, feed)
    starts = np.cumsum([0, *map(len, meter_ids)]).tolist()
    return [shared.rows(slice(a, b)) for a, b in itertools.pairwise(starts)], feed


def readings_to_columns(readings: list[MeterReading], meter_index: dict[str, int],
                        interval_s: int) -> list[ReadingColumns]:
    """Group plain readings (any MeterSource) by interval into columns; missing meters read 0
    and are flagged estimated. Multi-interval readings (lost frames) are refused."""
    by_start: dict[int, list[MeterReading]] = {}
    for r in readings:
        if r.meter_id not in meter_index:
            raise MeterSourceError(f"reading from unknown meter {r.meter_id!r}; register it in "
                                   "the scenario or the bridge's device registry")
        if r.interval_s != interval_s:
            raise MeterSourceError(f"meter {r.meter_id} reported {r.interval_s} s, the model "
                                   f"meters every {interval_s} s")
        by_start.setdefault(r.interval_start_s, []).append(r)
    n = len(meter_index)
    out = []
    for start in sorted(by_start):
        imp, exp = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        counters, estimated = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
        for r in by_start[start]:
            k = meter_index[r.meter_id]
            imp[k], exp[k], counters[k] = r.import_wh, r.export_wh, r.seq
            estimated[k] = r.estimated or not r.mac_verified
        out.append(ReadingColumns(start, interval_s, imp, exp, counters, estimated))
    return out


def block_columns(block: Any, meter_ids: list[str], region_id: str) -> list[ReadingColumns]:
    """A simulated bank's ``ReadingBlock`` as columns (one per interval) in meter order."""
    if tuple(block.meter_ids) != tuple(meter_ids):
        raise MeterSourceError(f"region {region_id}: the source's meters differ from the "
                               "region's")
    n = len(meter_ids)
    none = np.zeros(n, dtype=bool)
    return [ReadingColumns(int(start), block.interval_s, block.import_wh[:, col],
                           block.export_wh[:, col],
                           np.full(n, block.first_seq + col + 1, dtype=np.int64), none)
            for col, start in enumerate(block.interval_start_s.tolist())]


class SmartMeter(mesa.Agent):  # type: ignore[misc]
    """One node's meter: its id, the node it measures, and its latest reading."""

    def __init__(self, model: CommunityModel, meter_id: str, node: int) -> None:
        super().__init__(model)
        self.meter_id = meter_id
        self.node = node

    @property
    def last_import_wh(self) -> int:
        return int(self.model.last_import_wh[self.node])

    @property
    def last_export_wh(self) -> int:
        return int(self.model.last_export_wh[self.node])


class RegionMeters:
    """The meters of one region and their source; reads them into one batch message."""

    def __init__(self, region_id: str, meters: list[SmartMeter], source: MeterSource | Any,
                 interval_s: int) -> None:
        self.region_id = region_id
        self.meters = meters
        self.meter_ids = [m.meter_id for m in meters]
        self.index = {m: i for i, m in enumerate(self.meter_ids)}
        self.source = source
        self.interval_s = interval_s

    def read(self, until_s: int) -> list[ReadingColumns]:
        """Every interval that ended by ``until_s``, as columns in meter order.

        A source with ``poll_block`` (the simulated bank) hands over arrays; any
        other ``MeterSource`` is polled for readings, grouped by interval.
        """
        read_columns = getattr(self.source, "read_columns", None)
        if read_columns is not None:  # a mix of sources (meters.sources) lines up
            columns: list[ReadingColumns] = read_columns(until_s)
            return columns
        poll_block = getattr(self.source, "poll_block", None)
        if poll_block is None:
            return readings_to_columns(self.source.poll(until_s), self.index, self.interval_s)
        return block_columns(poll_block(until_s), self.meter_ids, self.region_id)

    def to_message(self, columns: ReadingColumns, sim_time_s: int) -> MeterReadingBatch:
        return MeterReadingBatch.built(
            sim_time_s=sim_time_s, region_id=self.region_id,
            interval_start_s=columns.interval_start_s, interval_s=columns.interval_s,
            meter_ids=self.meter_ids, import_wh=columns.import_wh.tolist(),
            export_wh=columns.export_wh.tolist(), counters=columns.counters.tolist(),
            estimated=columns.estimated.tolist() if columns.estimated.any() else [])
