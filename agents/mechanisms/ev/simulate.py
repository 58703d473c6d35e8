"""Simulate a fleet's plug-in state, state of charge and next-trip needs at 5-minute steps.

Why cumulative sums: with the pilot's "charger power unlimited" assumption a
battery is full after every plugged step, so the state of charge is the
capacity minus the energy driven since the last plugged step — an exclusive
cumulative sum with a running maximum, no loop over time. With a real charger
power (``unlimited_charger_power=False``) the clamp at full makes the state
depend on the past, and one vectorised loop over time steps runs instead.

Step convention: step ``t`` covers minutes ``[t·step, (t+1)·step)``. A step is
*plugged* when the EV is plugged in for all of it; a trip occupies the steps it
touches. ``soc_kwh[:, t]`` is the state of charge at the start of step ``t``.
``need_kwh[:, t]`` is the energy the owner will drive from step ``t`` until the
EV is next plugged in (the next trip, or trips, to a charger): a V2G discharge
must leave at least this plus the owner's margin in the battery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.chargers import share_chargers
from gridcoop.agents.mechanisms.ev.plugging import per_step, plug_intervals, plugged_rows
from gridcoop.agents.mechanisms.ev.profiles import (
    BoolArray,
    EVConfigError,
    Fleet,
)
from gridcoop.agents.mechanisms.ev.trips import MINUTES_PER_DAY, TripTable, generate_trips

Float32Array = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """Simulation settings; defaults follow the pilot's simplifying assumptions."""

    step_min: int = 5
    start_weekday: int = 0
    change_rate: float = 0.15
    warn_probability: float = 0.6
    unlimited_charger_power: bool = True
    # The pilot's "EVs are connected whenever parked": every stay plugged at once (no
    # plug-in decision, no delay); False keeps the owners' plug-in habits of their profile.
    plug_whenever_parked: bool = False
    # One-way charging efficiency: the battery gains this share of what the charger draws.
    charge_efficiency: float = 1.0
    # Capacity lost per year of the history, a share of the nominal capacity (linear fade).
    capacity_fade_per_year: float = 0.0
    # Chargers per community (None: one per EV, no queue) and each EV's community.
    chargers: int | None = None
    community: tuple[int, ...] | None = None
    initial_soc: float = 0.9
    block_size: int = 64
    policy: Any = None  # the owners' EV policy (None: routine)

    def __post_init__(self) -> None:
        if self.step_min < 1 or 60 % self.step_min:
            raise EVConfigError(f"step_min must divide 60 (e.g. 5), got {self.step_min}")
        if not 0.0 <= self.initial_soc <= 1.0:
            raise EVConfigError(f"initial_soc must be in [0, 1], got {self.initial_soc}")
        if not 0.0 < self.charge_efficiency <= 1.0:
            raise EVConfigError(f"charge_efficiency must be in (0, 1], got "
                                f"{self.charge_efficiency}")
        if not 0.0 <= self.capacity_fade_per_year < 1.0:
            raise EVConfigError(f"capacity_fade_per_year must be in [0, 1), got "
                                f"{self.capacity_fade_per_year}")
        if self.block_size < 1:
            raise EVConfigError(f"block_size must be >= 1, got {self.block_size}")


@dataclass(frozen=True)
class FleetHistory:
    """What every EV did at every step: arrays are (n_ev, n_steps) unless noted."""

    fleet: Fleet
    days: int
    step_min: int
    start_weekday: int
    trips: TripTable
    plugged: BoolArray
    soc_kwh: Float32Array
    need_kwh: Float32Array
    external_charge_kwh: NDArray[np.float64]  # (n_ev, days): bought away when the battery ran out

    @property
    def steps_per_day(self) -> int:
        return MINUTES_PER_DAY // self.step_min

    @property
    def steps_per_hour(self) -> int:
        return 60 // self.step_min

    @property
    def n_steps(self) -> int:
        return self.days * self.steps_per_day

    @property
    def changed(self) -> BoolArray:
        return self.trips.changed

    @property
    def warned(self) -> BoolArray:
        return self.trips.warned

    def weekday(self, day: int) -> int:
        return (self.start_weekday + day) % 7

    def plugged_minutes_by_hour(self) -> NDArray[np.int64]:
        """Minutes each EV was plugged in, per hour of the run: (n_ev, days × 24) ints."""
        per_hour = self.plugged.reshape(self.fleet.size, -1, self.steps_per_hour)
        return np.asarray(per_hour.sum(axis=2, dtype=np.int64) * self.step_min, dtype=np.int64)

    def plug_sessions(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Plug-in records: (ev row, plug-in minute, plug-out minute) of every plugged stretch.

        Sorted by EV then time; a stretch still plugged at the end of the run
        ends at the run's last minute.
        """
        n = self.fleet.size
        padded = np.zeros((n, self.n_steps + 2), dtype=np.int8)
        padded[:, 1:-1] = self.plugged
        edges = np.diff(padded, axis=1)
        rows_in, steps_in = np.nonzero(edges == 1)
        _, steps_out = np.nonzero(edges == -1)
        return (
            rows_in.astype(np.int64),
            steps_in.astype(np.int64) * self.step_min,
            steps_out.astype(np.int64) * self.step_min,
        )


def _next_index(mask: BoolArray) -> NDArray[np.int64]:
    """For each step, the first step >= it where ``mask`` holds (n_steps when none), per row."""
    t = mask.shape[1]
    idx = np.where(mask, np.arange(t), t)
    return np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]


def _soc_loop(
    plugged: BoolArray,
    drive: NDArray[np.float64],
    capacity: NDArray[np.float64],
    charge_kwh_per_step: NDArray[np.float64],
    initial_soc: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """SoC with a limited charger: one vectorised pass over time (rows are EVs).

    ``capacity`` is (rows, steps): the usable capacity at each step.
    """
    plugged_t, drive_t = np.ascontiguousarray(plugged.T), np.ascontiguousarray(drive.T)
    capacity_t = np.ascontiguousarray(capacity.T)
    soc = np.empty(drive_t.shape)
    external = np.zeros(drive_t.shape)
    level = capacity_t[0] * initial_soc
    for t in range(drive_t.shape[0]):
        soc[t] = level
        level = level - drive_t[t]
        external[t] = np.maximum(-level, 0.0)
        level = np.maximum(level, 0.0)
        level = np.minimum(level, capacity_t[t])  # a faded battery holds no more than it can
        level = np.where(plugged_t[t], np.minimum(capacity_t[t], level + charge_kwh_per_step),
                         level)
    return soc.T, external.T


def _block(
    plugged: BoolArray,
    drive: NDArray[np.float64],
    capacity: NDArray[np.float64],
    charge_kwh_per_step: NDArray[np.float64],
    initial_soc: float,
    unlimited: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """SoC at step starts, next-trip need and external charging for one block of EVs.

    ``capacity`` is (rows, steps): each EV's usable capacity at each step.
    """
    width, t_steps = plugged.shape
    cum = np.zeros((width, t_steps + 1))
    np.cumsum(drive, axis=1, out=cum[:, 1:])
    if unlimited:
        # Last plugged step before each step start (-1: none yet).
        last = np.full((width, t_steps + 1), -1, dtype=np.int64)
        np.maximum.accumulate(np.where(plugged, np.arange(t_steps), -1), axis=1, out=last[:, 1:])
        full = np.take_along_axis(capacity, np.maximum(last, 0), axis=1)  # at the last plug
        base = np.where(last >= 0, full, (capacity[:, :1] * initial_soc))
        since = cum - np.take_along_axis(cum, last + 1, axis=1)
        deficit = np.maximum(since - base, 0.0)  # driven beyond what the battery held
        soc = (base - since + deficit)[:, :t_steps]
        external = np.where(plugged, 0.0, deficit[:, 1:] - deficit[:, :-1])
    else:
        soc, external = _soc_loop(plugged, drive, capacity, charge_kwh_per_step, initial_soc)
    need_off = np.take_along_axis(cum, _next_index(plugged), axis=1) - cum[:, :t_steps]
    padded = np.hstack([need_off, np.zeros((width, 1))])
    need = np.where(plugged, np.take_along_axis(padded, _next_index(~plugged), axis=1), need_off)
    return soc, need, external


def simulate_fleet(
    fleet: Fleet, days: int, seed: int, options: SimulationOptions | None = None
) -> FleetHistory:
    """Draw trips and simulate plug-in, SoC and next-trip needs of every EV.

    One extra day is drawn and simulated, then dropped, so the needs of the
    last evening see the next morning's trips.
    """
    opts = options or SimulationOptions()
    return simulate_trips(fleet, _draw_trips(fleet, days, seed, opts), days, opts)


def _draw_trips(fleet: Fleet, days: int, seed: int, opts: SimulationOptions) -> TripTable:
    """The trips of ``days`` days and one look-ahead day, as ``opts`` says owners behave."""
    return generate_trips(fleet, days + 1, seed, opts.start_weekday, opts.change_rate,
                          opts.warn_probability, opts.policy)


def draw_plugged(
    fleet: Fleet, days: int, seed: int, options: SimulationOptions | None = None
) -> tuple[BoolArray, TripTable]:
    """``simulate_fleet``'s plug-in mask of ``days`` days and the trips it drew (the
    look-ahead day's too): the same draws and the same mask, without the state of
    charge and needs. For a caller that keeps its batteries itself (the households'
    ``EVFleet``), which would throw those away. One charger per EV only."""
    opts = options or SimulationOptions()
    if opts.chargers is not None:
        raise EVConfigError("draw_plugged has one charger per EV; shared chargers need "
                            "simulate_fleet")
    trips = _draw_trips(fleet, days, seed, opts)
    total_min = (days + 1) * MINUTES_PER_DAY
    stays = plug_intervals(trips, fleet, total_min, opts.step_min, opts.plug_whenever_parked)
    plugged = plugged_rows(stays, 0, fleet.size, total_min // opts.step_min)
    return plugged[:, : days * MINUTES_PER_DAY // opts.step_min], trips


def _check_trips(trips: TripTable, n: int, total_min: int) -> None:
    ev, start, end = trips.ev, trips.start_min, trips.end_min
    if ev.size == 0:
        return
    if ev.min() < 0 or ev.max() >= n:
        raise EVConfigError(f"trip ev indices must be in 0..{n - 1}")
    if np.any(end <= start) or start.min() < 0 or end.max() > total_min:
        raise EVConfigError(f"every trip needs 0 <= start_min < end_min <= {total_min}")
    same = ev[1:] == ev[:-1]
    if np.any(ev[1:] < ev[:-1]) or np.any(same & (start[1:] < end[:-1])):
        raise EVConfigError("trips must be sorted by ev then start, and never overlap")


def simulate_trips(
    fleet: Fleet, trips: TripTable, days: int, options: SimulationOptions | None = None
) -> FleetHistory:
    """Simulate given trips; the table may run past ``days`` (the surplus is look-ahead).

    The simulated horizon is the table's (``trips.changed.shape[1]`` days, at
    least ``days``); the result keeps the first ``days`` days.
    """
    opts = options or SimulationOptions()
    n = fleet.size
    if days < 1:
        raise EVConfigError(f"days must be >= 1, got {days}")
    ext_days = trips.changed.shape[1]
    if trips.changed.shape[0] != n or trips.warned.shape != trips.changed.shape or ext_days < days:
        raise EVConfigError(
            f"trips.changed and trips.warned must be ({n}, >= {days} days), got "
            f"{trips.changed.shape} and {trips.warned.shape}"
        )
    _check_trips(trips, n, ext_days * MINUTES_PER_DAY)
    step = opts.step_min
    t_ext = ext_days * MINUTES_PER_DAY // step
    t_out = days * MINUTES_PER_DAY // step
    n = fleet.size
    plug_ev, plug_begin, plug_end = plug_intervals(
        trips, fleet, ext_days * MINUTES_PER_DAY, step, opts.plug_whenever_parked)
    drive_begin = trips.start_min // step
    drive_end = -(-trips.end_min // step)
    plugged_out = np.zeros((n, t_out), dtype=bool)
    soc_out = np.zeros((n, t_out), dtype=np.float32)
    need_out = np.zeros((n, t_out), dtype=np.float32)
    external_out = np.zeros((n, days))
    charge_step = fleet.charge_power_kw * step / 60.0
    fade = 1.0 - opts.capacity_fade_per_year * np.arange(t_ext) * step / (365 * MINUTES_PER_DAY)
    stays = plug_ev, plug_begin, plug_end
    shared = None
    if opts.chargers is not None:
        community = np.zeros(n, dtype=np.int64) if opts.community is None else np.asarray(
            opts.community, dtype=np.int64)
        shared = share_chargers(np.vstack([plugged_rows(stays, lo, min(n, lo + opts.block_size),
                                                         t_ext)
                                           for lo in range(0, n, opts.block_size)]),
                                community, opts.chargers)
    for lo in range(0, n, opts.block_size):
        hi = min(n, lo + opts.block_size)
        width = hi - lo
        plugged = plugged_rows(stays, lo, hi, t_ext) if shared is None else shared[lo:hi]
        tsel = (trips.ev >= lo) & (trips.ev < hi)
        drive = per_step(
            trips.ev[tsel] - lo,
            drive_begin[tsel],
            drive_end[tsel],
            trips.energy_kwh[tsel],
            width,
            t_ext,
        )
        drive = np.where(plugged, 0.0, np.maximum(drive, 0.0))
        soc, need, external = _block(
            plugged,
            drive,
            fleet.capacity_kwh[lo:hi, None] * fade[None, :],
            charge_step[lo:hi] * opts.charge_efficiency,
            opts.initial_soc,
            opts.unlimited_charger_power,
        )
        plugged_out[lo:hi] = plugged[:, :t_out]
        soc_out[lo:hi] = soc[:, :t_out]
        need_out[lo:hi] = need[:, :t_out]
        external_out[lo:hi] = external[:, :t_out].reshape(width, days, -1).sum(axis=2)
    inside = trips.day < days
    kept = TripTable(
        ev=trips.ev[inside],
        day=trips.day[inside],
        start_min=trips.start_min[inside],
        end_min=trips.end_min[inside],
        km=trips.km[inside],
        energy_kwh=trips.energy_kwh[inside],
        plug_after=trips.plug_after[inside],
        plug_delay_min=trips.plug_delay_min[inside],
        changed=trips.changed[:, :days].copy(),
        warned=trips.warned[:, :days].copy(),
    )
    return FleetHistory(
        fleet=fleet,
        days=days,
        step_min=step,
        start_weekday=opts.start_weekday,
        trips=kept,
        plugged=plugged_out,
        soc_kwh=soc_out,
        need_kwh=need_out,
        external_charge_kwh=external_out,
    )
