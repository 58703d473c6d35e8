"""The simulated meters of every region a process hosts, polled as one bank.

Why: checking and rounding a thousand meters' energies once costs about what a
hundred cost, and ten regions each polling a bank of their own paid that fixed
cost ten times at every step. Each region still reads through a source of its
own (its rows of the shared bank), so a wrapper that puts hardware or a live
journal under one region's meters sees what it saw before. Every meter's
readings are those of a bank of its region's meters alone: the rounding is per
meter, on its own cumulative counter.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gridcoop.hardware_bridge.readings import MeterReading
from gridcoop.hardware_bridge.simulated import (
    EnergyFn,
    ReadingBlock,
    SimulatedMeterBank,
    block_readings,
)

IntArray = NDArray[np.int64]


class SharedBank:
    """One simulated bank over the meters of several regions (each region a slice of rows).

    Keeps each polled interval until every region still reading from it has taken it.
    """

    def __init__(self, meter_ids: list[str], interval_s: int, energy: EnergyFn) -> None:
        self.bank = SimulatedMeterBank(meter_ids, interval_s=interval_s, energy=energy)
        self.interval_s = interval_s
        self._polled: dict[int, tuple[IntArray, IntArray]] = {}  # interval -> (import, export)
        self._left: dict[int, int] = {}  # interval -> regions that have not taken it yet
        self._readers = 0
        self._started = False

    def rows(self, rows: slice) -> BankRows:
        """The source of one region: the meters at ``rows`` (every region joins before the
        first poll, so each finds every interval from the first)."""
        if self._started:
            raise RuntimeError("every region joins a shared bank before it is first polled")
        self._readers += 1
        return BankRows(self, rows, tuple(self.bank.meter_ids[rows]))

    def _take(self, interval: int, until_s: int) -> tuple[IntArray, IntArray]:
        """All meters' Wh of ``interval`` (ended by ``until_s``), counted as taken once."""
        self._started = True
        if interval not in self._polled:
            block = self.bank.poll_block(until_s)
            for col in range(block.import_wh.shape[1]):
                self._polled[block.first_seq + col] = (block.import_wh[:, col],
                                                       block.export_wh[:, col])
                self._left[block.first_seq + col] = self._readers
        columns = self._polled[interval]
        self._left[interval] -= 1
        if not self._left[interval]:
            del self._left[interval], self._polled[interval]
        return columns

    def _leave(self, first: int) -> None:
        """A region stops reading: intervals from ``first`` on no longer wait for it."""
        self._readers -= 1
        for interval in [i for i in self._left if i >= first]:
            self._left[interval] -= 1
            if not self._left[interval]:
                del self._left[interval], self._polled[interval]


class BankRows:
    """One region's meters of a :class:`SharedBank`: a source like a bank of their own."""

    def __init__(self, shared: SharedBank, rows: slice, meter_ids: tuple[str, ...]) -> None:
        self.shared = shared
        self.rows = rows
        self.meter_ids = meter_ids
        self.interval_s = shared.interval_s
        self._next = 0
        self._closed = False

    def poll_block(self, until_s: int) -> ReadingBlock:
        """This region's intervals ending at or before ``until_s``, not yet returned."""
        first, interval_s = self._next, self.interval_s
        k = max(0, until_s // interval_s - first)
        taken = [self.shared._take(i, until_s) for i in range(first, first + k)]
        rows = self.rows
        if k == 1:  # the model's every step: one column, no stacking
            imports, exports = taken[0][0][rows, None], taken[0][1][rows, None]
        elif k:
            imports = np.stack([c[0][rows] for c in taken], axis=1)
            exports = np.stack([c[1][rows] for c in taken], axis=1)
        else:
            imports = exports = np.zeros((len(self.meter_ids), 0), dtype=np.int64)
        self._next += k
        return ReadingBlock(self.meter_ids, interval_s * np.arange(first, first + k),
                            interval_s, imports, exports, first)

    def poll(self, until_s: int) -> list[MeterReading]:
        """The MeterSource face: one reading per meter and interval."""
        return block_readings(self.poll_block(until_s))

    def close(self) -> None:
        """Stop reading (the region's meters are read from elsewhere now)."""
        if not self._closed:
            self._closed = True
            self.shared._leave(self._next)
