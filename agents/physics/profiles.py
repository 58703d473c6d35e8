"""Measured profiles from CSV files, in place of the synthetic PV and load shapes.

A profile CSV has two columns, ``hour`` (hours since the start of the run,
or of a typical day/week: the profile repeats after its last hour plus one
step) and ``value`` (PV: kW per kWp; load: kW of a typical household, scaled
to each household's annual energy). Steps take the value of the latest row at
or before their start.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.clock import SimClock

FloatArray = NDArray[np.float64]


class ProfileCsvError(ValueError):
    """A profile CSV that cannot be used; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Values at increasing hours, repeating with ``period_h``."""

    hours: FloatArray
    values: FloatArray
    period_h: float

    def day(self, clock: SimClock, day: int) -> FloatArray:
        """The profile's value at the start of each metering step of run day ``day``."""
        starts = (day * 24.0 + np.arange(clock.steps_per_day) * clock.step_h) % self.period_h
        index = np.searchsorted(self.hours, starts, side="right") - 1
        picked: FloatArray = self.values[np.maximum(index, 0)]
        return picked

    @property
    def mean(self) -> float:
        """Time-weighted mean value over one period."""
        widths = np.diff(np.append(self.hours, self.period_h))
        return float((self.values * widths).sum() / self.period_h)


def read_profile(path: str | Path) -> Profile:
    """Read a profile CSV (columns ``hour``, ``value``; hours strictly increasing from 0)."""
    source = Path(path)
    try:
        handle = source.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ProfileCsvError(f"cannot open profile {source}: {exc.strerror}") from None
    hours: list[float] = []
    values: list[float] = []
    with handle:
        reader = csv.DictReader(handle)
        if not {"hour", "value"} <= set(reader.fieldnames or []):
            raise ProfileCsvError(f"{source}: the header must name the columns hour,value")
        for line, row in enumerate(reader, start=2):
            try:
                hour, value = float(row["hour"]), float(row["value"])
            except (TypeError, ValueError):
                raise ProfileCsvError(f"{source}:{line}: hour and value must be numbers, "
                                      f"got {dict(row)}") from None
            if not (np.isfinite(hour) and np.isfinite(value)) or value < 0:
                raise ProfileCsvError(f"{source}:{line}: value must be a finite number >= 0")
            if hours and hour <= hours[-1]:
                raise ProfileCsvError(f"{source}:{line}: hours must increase (got {hour} after "
                                      f"{hours[-1]})")
            hours.append(hour)
            values.append(value)
    if not hours or hours[0] != 0.0:
        raise ProfileCsvError(f"{source}: the first row must be hour 0")
    step_h = hours[1] - hours[0] if len(hours) > 1 else 24.0
    return Profile(np.array(hours), np.array(values), hours[-1] + step_h)
