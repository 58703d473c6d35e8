"""Turning the bridge's readings into one interval's measured and estimated energies.

Why energies come from the device's cumulative counter against the ledger's
baseline (not the bridge's per-frame delta): after a crash the replay guard may
have accepted frames the ledger never recorded; counting from the ledger's last
recorded counter puts their energy into the next recorded reading, so nothing
is lost or doubled. Readings are accepted while their interval's grace lasts;
a meter with no reading by then is estimated (from its last measured rate),
flagged silent and logged; when it comes back its reading spans the gap and is
recorded as measured over the whole gap (a true-up beside the estimates).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from gridcoop.experiments.live.journal import Interval, pack_counter, unpack_counter
from gridcoop.hardware_bridge.readings import MeterReading
from gridcoop.hardware_bridge.registry import DeviceRegistry

log = logging.getLogger("gridcoop.live")


@dataclass(slots=True)
class MeterTrack:
    """What live mode remembers of one real meter between intervals."""

    node: str
    device: str
    direction: str = "import"
    power_factor: float = 1.0
    baseline: int | None = None  # packed counter of the last recorded measurement
    last_end_s: int | None = None
    rate_wh_per_s: float = 0.0
    silent_since: int | None = None  # first step without a reading
    waiting: list[MeterReading] = field(default_factory=list)


@dataclass(slots=True)
class StepReadings:
    """The outcome for one interval: what to record and what happened."""

    measured: list[Interval] = field(default_factory=list)
    estimated: list[Interval] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


class RealMeters:
    """The real meters of the community, keyed by device EUI."""

    def __init__(self, tracks: list[MeterTrack], interval_s: int, epoch_s: int) -> None:
        self.by_device = {t.device: t for t in tracks}
        self.tracks = tracks
        self.interval_s = interval_s
        self.epoch_s = epoch_s
        self.duplicates = 0

    @classmethod
    def build(cls, pairs: list[tuple[str, str]], registries: dict[str, DeviceRegistry],
              interval_s: int, epoch_s: int) -> RealMeters:
        tracks = []
        for node, device in pairs:
            registry = registries[device]
            dev = registry.resolve(device)
            tracks.append(MeterTrack(node, dev.eui, dev.direction, dev.power_factor))
        return cls(tracks, interval_s, epoch_s)

    def step_of_end(self, end_s: int) -> int:
        """The step whose interval contains the reading's end (an end on a boundary closes it)."""
        return math.ceil((end_s - self.epoch_s) / self.interval_s) - 1

    def offer(self, readings: list[MeterReading]) -> None:
        """Hold readings until their interval is decided."""
        for reading in readings:
            track = self.by_device.get(reading.meter_id)
            if track is None:
                log.warning("reading from device %s, which is not a real meter of this community; "
                            "ignored", reading.meter_id)
                continue
            track.waiting.append(reading)

    def _energy(self, track: MeterTrack, reading: MeterReading) -> tuple[int, str] | None:
        vah = int(reading.extra.get("energy_vah", 0))
        counter = pack_counter(reading.boot, reading.seq, vah)
        reason = ""
        if track.baseline is None:  # nothing of this boot is on the ledger: all of it counts,
            delta_vah = vah  # even what a replay guard accepted before a crash never recorded
        else:
            if counter <= track.baseline:
                self.duplicates += 1
                log.info("meter %s: reading boot %d seq %d is already on the ledger; not recorded "
                         "again", track.node, reading.boot, reading.seq)
                return None
            boot, _, base_vah = unpack_counter(track.baseline)
            if reading.boot != boot:
                delta_vah = vah
                reason = (f"meter {track.node} rebooted (boot {boot} -> {reading.boot}): its "
                          f"counter restarted; {vah} VAh since boot counted")
                log.warning("%s", reason)
            else:
                delta_vah = vah - base_vah
        start = vah - delta_vah
        wh = delta_vah if track.power_factor == 1.0 else (
            math.floor(vah * track.power_factor) - math.floor(start * track.power_factor))
        track.baseline = counter
        return wh, reason

    def decide(self, step: int) -> StepReadings:
        """Record every waiting reading that ended by the end of ``step``; estimate the rest."""
        out = StepReadings()
        start_s = self.epoch_s + step * self.interval_s
        end_s = start_s + self.interval_s
        for track in self.tracks:
            ready = [r for r in track.waiting
                     if self.step_of_end(r.interval_start_s + r.interval_s) <= step]
            track.waiting = [r for r in track.waiting if r not in ready]
            got = False
            for reading in sorted(ready, key=lambda r: (r.interval_start_s + r.interval_s)):
                result = self._energy(track, reading)
                if result is None:
                    continue
                wh, reason = result
                if reason:
                    out.events.append(reason)
                r_end = reading.interval_start_s + reading.interval_s
                r_start = track.last_end_s if track.last_end_s is not None else \
                    reading.interval_start_s
                r_start = min(r_start, r_end - self.interval_s)
                span = r_end - r_start
                if track.silent_since is not None:
                    gap = step - track.silent_since
                    msg = (f"meter {track.node} is back after {gap} silent interval(s); its "
                           f"reading covers {span} s and is recorded as measured over the gap")
                    log.warning("%s", msg)
                    out.events.append(msg)
                    track.silent_since = None
                export = track.direction == "export"
                out.measured.append(Interval(track.node, r_start, span, 0 if export else wh,
                                             wh if export else 0, track.baseline or 0))
                track.last_end_s = r_end
                track.rate_wh_per_s = wh / span if span > 0 else track.rate_wh_per_s
                got = True
            covered = track.last_end_s is not None and track.last_end_s >= end_s - 1
            if not got and not covered:
                if track.silent_since is None:
                    track.silent_since = step
                    msg = (f"meter {track.node} ({track.device}) is silent for interval {step}; "
                           "estimating it from its last measured rate until it returns")
                    log.warning("%s", msg)
                    out.events.append(msg)
                wh = round(track.rate_wh_per_s * self.interval_s)
                export = track.direction == "export"
                out.estimated.append(Interval(track.node, start_s, self.interval_s,
                                              0 if export else wh, wh if export else 0))
        return out

    @property
    def silent(self) -> list[str]:
        return [t.node for t in self.tracks if t.silent_since is not None]
