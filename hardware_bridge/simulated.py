"""Simulated meters and appliances: the default source, what the model uses.

Why a vectorised bank: a month of 15-minute intervals for a thousand meters is
2.9 million readings; the bank keeps the energies as numpy arrays (or asks a
callable for one interval of all meters at a time) and only builds
``MeterReading`` objects when asked, or hands out whole blocks as arrays.
Energies are rounded on the cumulative scale, so fractional Wh never drift:
the sum of the readings equals the rounded total.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridcoop.hardware_bridge.appliances import RESULT_OK, ApplianceState
from gridcoop.hardware_bridge.codec import ACK_RESULTS
from gridcoop.hardware_bridge.errors import ConfigError
from gridcoop.hardware_bridge.readings import Command, CommandAck, MeterReading
from gridcoop.units import counter_wh

# interval index -> (import Wh per meter, export Wh per meter)
EnergyFn = Callable[[int], tuple[ArrayLike, ArrayLike]]


@dataclass(frozen=True, slots=True)
class ReadingBlock:
    """Consecutive intervals of every meter of a bank, as arrays (meters x intervals)."""

    meter_ids: tuple[str, ...]
    interval_start_s: NDArray[np.int64]  # (k,)
    interval_s: int
    import_wh: NDArray[np.int64]  # (n_meters, k)
    export_wh: NDArray[np.int64]  # (n_meters, k)
    first_seq: int


def block_readings(block: ReadingBlock) -> list[MeterReading]:
    """A block as one reading per meter and interval, interval by interval."""
    imports, exports = block.import_wh.tolist(), block.export_wh.tolist()
    return [MeterReading(meter_id=meter_id, interval_start_s=start, interval_s=block.interval_s,
                         import_wh=imports[row][col], export_wh=exports[row][col],
                         seq=block.first_seq + col)
            for col, start in enumerate(block.interval_start_s.tolist())
            for row, meter_id in enumerate(block.meter_ids)]


class SimulatedMeterBank:
    """Many simulated meters sharing one interval grid.

    Give either ``import_wh``/``export_wh`` arrays of shape (meters, intervals), or
    ``energy``: a callable returning one interval's energies for all meters.
    """

    def __init__(
        self,
        meter_ids: Sequence[str],
        *,
        interval_s: int = 900,
        start_s: int = 0,
        import_wh: ArrayLike | None = None,
        export_wh: ArrayLike | None = None,
        energy: EnergyFn | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ConfigError(f"interval_s {interval_s} must be positive")
        if len(set(meter_ids)) != len(meter_ids):
            raise ConfigError("meter ids of a simulated bank must be unique")
        self.meter_ids = tuple(meter_ids)
        self.interval_s = interval_s
        self.start_s = start_s
        n = len(self.meter_ids)
        self._energy = energy
        self._imports: NDArray[np.float64] | None = None
        self._exports: NDArray[np.float64] | None = None
        if energy is None:
            if import_wh is None:
                raise ConfigError("give energy= (a callable) or import_wh= (an array)")
            imports = np.asarray(import_wh, dtype=np.float64).reshape(n, -1)
            exports = (
                np.zeros_like(imports)
                if export_wh is None
                else np.asarray(export_wh, dtype=np.float64).reshape(n, -1)
            )
            if imports.shape != exports.shape:
                raise ConfigError(f"import {imports.shape} and export {exports.shape} differ")
            self._check(imports, exports)
            self._imports, self._exports = imports, exports
        elif import_wh is not None or export_wh is not None:
            raise ConfigError("give either energy= or arrays, not both")
        self._next = 0
        self._cum_import = np.zeros(n)
        self._cum_export = np.zeros(n)

    @staticmethod
    def _check(imports: NDArray[np.float64], exports: NDArray[np.float64]) -> None:
        if not (np.isfinite(imports).all() and np.isfinite(exports).all()):
            raise ConfigError("simulated energies contain NaN or infinity")
        if (imports < 0).any() or (exports < 0).any():
            raise ConfigError("simulated energies must be >= 0 Wh (import and export are separate)")

    @property
    def n_intervals(self) -> int | None:
        """How many intervals the arrays hold (None: unlimited, from a callable)."""
        return None if self._imports is None else int(self._imports.shape[1])

    def _due(self, until_s: int) -> int:
        """How many intervals ended at or before ``until_s`` and were not yet returned."""
        ended = (until_s - self.start_s) // self.interval_s
        limit = self.n_intervals
        if limit is not None:
            ended = min(ended, limit)
        return max(0, int(ended) - self._next)

    def poll_block(self, until_s: int) -> ReadingBlock:
        """The next intervals ending at or before ``until_s``, as arrays."""
        k = self._due(until_s)
        first = self._next
        if self._imports is not None and self._exports is not None:
            imports = self._imports[:, first : first + k]
            exports = self._exports[:, first : first + k]
        elif k == 1:  # the model's every step: one interval, no per-interval lists
            assert self._energy is not None
            imports, exports = self._column(*self._energy(first))
        else:
            assert self._energy is not None
            columns = [self._column(*self._energy(index)) for index in range(first, first + k)]
            n = len(self.meter_ids)
            imports = np.concatenate([c[0] for c in columns], axis=1) if k else np.zeros((n, 0))
            exports = np.concatenate([c[1] for c in columns], axis=1) if k else np.zeros((n, 0))
        self._next += k
        return ReadingBlock(
            meter_ids=self.meter_ids,
            interval_start_s=self.start_s + self.interval_s * np.arange(first, first + k),
            interval_s=self.interval_s,
            import_wh=self._round(imports, "_cum_import"),
            export_wh=self._round(exports, "_cum_export"),
            first_seq=first,
        )

    def _column(self, imports: ArrayLike,
                exports: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """One interval's energies from the callable as checked (meters, 1) columns."""
        n = len(self.meter_ids)
        column = np.empty((2, n))
        column[0], column[1] = imports, exports  # a scalar broadcasts to every meter
        # one pass when all is well (NaN fails both comparisons); the detailed check says why
        if n and not (column.min() >= 0.0 and column.max() < np.inf):
            self._check(column[0], column[1])
        return column[0][:, None], column[1][:, None]

    def _round(self, values: NDArray[np.float64], cum_name: str) -> NDArray[np.int64]:
        """Whole Wh per interval from the rounded cumulative total (no drift)."""
        before: NDArray[np.float64] = getattr(self, cum_name)
        if values.shape[1] == 1:  # one interval: the same sum, without the cumulative pass
            after = before + values[:, 0]
            setattr(self, cum_name, after)
            return counter_wh(before, after)[:, None]
        cum = before[:, None] + np.cumsum(values, axis=1)
        setattr(self, cum_name, cum[:, -1] if cum.shape[1] else before)
        # half up (floor(x + 0.5)), so 1.5 Wh -> 2 Wh as anyone would round it by hand
        edges = np.concatenate([before[:, None], cum], axis=1)
        return counter_wh(edges[:, :-1], edges[:, 1:])

    def poll(self, until_s: int) -> list[MeterReading]:
        """Readings of every meter for each interval ended by ``until_s``, interval by interval."""
        return block_readings(self.poll_block(until_s))

    def close(self) -> None:
        """Nothing to release; present for the MeterSource protocol."""


class SimulatedMeterSource(SimulatedMeterBank):
    """One simulated meter fed by a callable ``interval index -> (import_wh, export_wh)``."""

    def __init__(
        self,
        meter_id: str,
        energy: Callable[[int], tuple[float, float]],
        *,
        interval_s: int = 900,
        start_s: int = 0,
    ) -> None:
        super().__init__([meter_id], interval_s=interval_s, start_s=start_s, energy=energy)


class SimulatedCommandSink:
    """Appliances that obey at once: applies commands to per-device state and acks them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._devices: dict[str, ApplianceState] = {}
        self._acks: list[CommandAck] = []

    def state(self, device_id: str) -> ApplianceState:
        return self._devices.setdefault(device_id, ApplianceState())

    def level(self, device_id: str, appliance: int) -> int:
        """Effective level (0..100 %) of one appliance now."""
        return self.state(device_id).level(appliance, self._clock())

    def send(self, command: Command) -> None:
        result, applied = self.state(command.device_id).apply(command, self._clock())
        detail = "" if applied or result != RESULT_OK else "repeated command id; not re-applied"
        self._acks.append(
            CommandAck(
                device_id=command.device_id,
                command_id=command.command_id,
                status="acked" if result == RESULT_OK else "nacked",
                detail=detail or ("" if result == RESULT_OK else ACK_RESULTS[result]),
                via="device",
            )
        )

    def acks(self) -> list[CommandAck]:
        out, self._acks = self._acks, []
        return out

    def close(self) -> None:
        """Nothing to release; present for the CommandSink protocol."""
