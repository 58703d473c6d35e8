"""The scenario's ``meters:`` choice made real: some members read through hardware bridges.

Why a wrapper around the region's simulated bank (not a source per meter): the
bank stays the fast path for every simulated meter; a region with hardware
members gets a ``MixedRegionSource`` whose columns are the bank's with those
members' entries replaced by what their devices sent. It is put in place with
the model's one way to swap a region's source, ``region_host.wrap_meter_source``
(live mode wraps the bank the same way with its journal's readings). The SmartMeter agents,
the aggregators and settlement see one ``MeterReadingBatch`` per region, as
before.

How hardware readings land on model intervals (documented in the README):

* At the step that reads the interval ending at model second ``t``, each
  bridge is polled with ``poll(epoch_s + t)`` (``epoch_s``: the device clock's
  time of model second 0, default the wall time when the model was built), and
  *every* reading returned is attributed to that interval. Under live pacing a
  step is a real interval, so this is the device's own interval; a batch
  ``gridcoop run`` steps as fast as it can and so reads what the devices have
  sent by each step.
* Several readings of one meter in one step are added up (counter: the last
  ``seq``). A reading spanning several intervals (lost frames: ``interval_s``
  covers the gap) is counted whole in the step it arrives: it is the true-up
  for the silent steps before it.
* A hardware member with no reading in a step reads 0 Wh flagged *estimated*;
  since the next reading carries all energy since the last one, no energy is
  lost or counted twice. A reading the source marks ``estimated`` keeps its
  energy and the flag. A reading whose MAC did not verify is dropped and
  counted (the bridges refuse those already).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gridcoop.agents.meters.smart_meters import ReadingColumns, block_columns
from gridcoop.agents.meters.spec import SECRET_WORDS, MeterSources, MeterSourceSpec
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.hardware_bridge import BridgeError, DeviceRegistry, make_source
from gridcoop.hardware_bridge.readings import MeterReading, MeterSource

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

log = logging.getLogger("gridcoop.meters")
PATH_SETTINGS = ("registry", "guard")


@dataclass(slots=True)
class Arrived:
    """What one meter's device sent during one step, added up."""

    import_wh: int = 0
    export_wh: int = 0
    seq: int = 0
    estimated: bool = False
    readings: int = 0
    lost_frames: int = 0


class HardwareMeters:
    """One bridge and the model meters it serves (devEUI -> ``m-<member>``)."""

    def __init__(self, name: str, source: MeterSource, meter_of_device: dict[str, str],
                 epoch_s: float) -> None:
        self.name = name
        self.source = source
        self.meter_of_device = meter_of_device
        self.epoch_s = epoch_s
        self.counts: Counter[str] = Counter()
        self._polled_until: int | None = None
        self._arrived: dict[str, Arrived] = {}

    @property
    def meter_ids(self) -> list[str]:
        return list(self.meter_of_device.values())

    def _poll(self, until_s: int) -> None:
        if self._polled_until == until_s:  # one poll per step, shared by the regions
            return
        self._polled_until = until_s
        for reading in self.source.poll(int(self.epoch_s + until_s)):
            self._route(reading)

    def _route(self, reading: MeterReading) -> None:
        meter = self.meter_of_device.get(reading.meter_id.lower())
        if meter is None:
            self.counts["unmapped"] += 1
            log.warning("%s: reading from device %s, which is no member's meter; ignored",
                        self.name, reading.meter_id)
            return
        if not reading.mac_verified:
            self.counts["unverified"] += 1
            log.warning("%s: reading of %s without a verified MAC; not settled", self.name, meter)
            return
        got = self._arrived.setdefault(meter, Arrived())
        got.import_wh += reading.import_wh
        got.export_wh += reading.export_wh
        got.seq = reading.seq
        got.estimated = got.estimated or reading.estimated
        got.readings += 1
        got.lost_frames += reading.lost_frames
        self.counts["readings"] += 1
        self.counts["lost_frames"] += reading.lost_frames

    def take(self, until_s: int, meter_ids: list[str]) -> dict[str, Arrived]:
        """What ``meter_ids``' devices sent by model second ``until_s`` and was not yet taken."""
        self._poll(until_s)
        return {m: self._arrived.pop(m) for m in meter_ids if m in self._arrived}

    def close(self) -> None:
        self.source.close()


class MixedRegionSource:
    """A region's simulated bank with some meters read from hardware instead."""

    def __init__(self, region_id: str, meter_ids: list[str], bank: Any,
                 hardware: list[HardwareMeters]) -> None:
        self.region_id = region_id
        self.meter_ids = meter_ids
        self.bank = bank
        self.hardware = [(hw, [m for m in hw.meter_ids if m in set(meter_ids)]) for hw in hardware]
        index = {m: i for i, m in enumerate(meter_ids)}
        self.rows = {m: index[m] for _, mine in self.hardware for m in mine}
        self.silent_steps: Counter[str] = Counter()

    @staticmethod
    def around(region_id: str, meter_ids: list[str], bank: Any, *,
               hardware: list[HardwareMeters]) -> MixedRegionSource:
        """Wrap ``bank`` (the region's current source)."""
        return MixedRegionSource(region_id, meter_ids, bank, hardware)

    def read_columns(self, until_s: int) -> list[ReadingColumns]:
        """The bank's intervals ended by ``until_s``; hardware rows from their devices."""
        columns = block_columns(self.bank.poll_block(until_s), self.meter_ids, self.region_id)
        if not columns:
            return columns
        arrived: dict[str, Arrived] = {}
        for hw, mine in self.hardware:
            arrived.update(hw.take(until_s, mine))
        rows = np.fromiter(self.rows.values(), dtype=np.int64, count=len(self.rows))
        out = []
        for col in columns:
            imp, exp = col.import_wh.copy(), col.export_wh.copy()
            counters, estimated = col.counters.copy(), col.estimated.copy()
            imp[rows], exp[rows], estimated[rows] = 0, 0, True
            out.append(ReadingColumns(col.interval_start_s, col.interval_s, imp, exp, counters,
                                      estimated))
        last = out[-1]  # everything that arrived belongs to the interval just read
        for meter, row in self.rows.items():
            got = arrived.get(meter)
            if got is None:
                self.silent_steps[meter] += 1
                continue
            last.import_wh[row], last.export_wh[row] = got.import_wh, got.export_wh
            last.counters[row], last.estimated[row] = got.seq, got.estimated
        return out

    def poll(self, until_s: int) -> list[MeterReading]:
        """The MeterSource face (tools): one reading per meter and interval."""
        return [MeterReading(m, c.interval_start_s, c.interval_s, int(c.import_wh[i]),
                             int(c.export_wh[i]), estimated=bool(c.estimated[i]),
                             seq=int(c.counters[i]))
                for c in self.read_columns(until_s) for i, m in enumerate(self.meter_ids)]

    def close(self) -> None:
        self.bank.close()


class MeterSourceSet:
    """Every hardware bridge of a model (closed with the model)."""

    def __init__(self, hardware: list[HardwareMeters]) -> None:
        self.hardware = hardware

    def stats(self) -> dict[str, dict[str, int]]:
        """Per bridge: readings, lost_frames, unmapped, unverified."""
        return {hw.name: dict(hw.counts) for hw in self.hardware}

    def close(self) -> None:
        for hw in self.hardware:
            hw.close()


def refuse_hardware(params: Mapping[str, Any]) -> None:
    """Raise ``ScenarioError`` if raw scenario ``params`` read any meter through hardware
    (multi-process runs host meters in workers, which read only simulated ones)."""
    meters = params.get("meters")
    sources = (meters.get("sources") or ()) if isinstance(meters, Mapping) else ()
    for i, spec in enumerate(sources):
        kind = spec.get("kind") if isinstance(spec, Mapping) else None
        if kind != "simulated":
            raise ScenarioError(f"meters.sources[{i}] is kind {kind!r}: runs with --processes or "
                                "remote workers read simulated meters only; run hardware meters "
                                "in one process (`gridcoop run` without --processes, or "
                                "`gridcoop live`)")


def _secret(key: str, where: str, value: Any, base_dir: Path) -> tuple[str, str]:
    name, how = key.rsplit("_", 1)
    if how == "env":
        secret = os.environ.get(str(value))
        if secret is None:
            raise ScenarioError(f"{where}.{key}: environment variable {value} is not set; "
                                "export it before the run")
        return name, secret
    path = Path(str(value))
    try:
        return name, (path if path.is_absolute() else base_dir / path).read_text("utf-8").strip()
    except OSError as exc:
        raise ScenarioError(f"{where}.{key}: cannot read {value} ({exc})") from exc


def bridge_settings(spec: MeterSourceSpec, where: str, base_dir: Path) -> dict[str, Any]:
    """The bridge's keywords: relative paths against ``base_dir``, secrets read now."""
    out: dict[str, Any] = {}
    for key, value in spec.settings.items():
        if key.endswith(("_env", "_file")) and any(w in key.lower() for w in SECRET_WORDS):
            name, secret = _secret(key, where + ".settings", value, base_dir)
            out[name] = secret
        elif key in PATH_SETTINGS and isinstance(value, str) and value != ":memory:":
            out[key] = value if Path(value).is_absolute() else str(base_dir / value)
        else:
            out[key] = value
    return out


def _devices(spec: MeterSourceSpec, where: str, members: list[str],
             registry: DeviceRegistry) -> dict[str, str]:
    """devEUI -> meter id for ``members``, from ``devices`` or the registry's names."""
    by_name = {d.name: d.eui for d in registry if d.name}
    out: dict[str, str] = {}
    for member in members:
        meter = f"m-{member}"
        ref = spec.devices.get(member)
        if ref is not None:
            try:
                eui = registry.resolve(ref).eui
            except BridgeError:
                raise ScenarioError(f"{where}.devices.{member}: device {ref!r} is not in the "
                                    "registry; add it (eui, key) or fix the id") from None
        else:
            found = by_name.get(member) or by_name.get(meter)
            if found is None:
                raise ScenarioError(f"{where}.devices: no device for member {member}; map it "
                                    f"({member}: <devEUI>) or name a registry device {member!r}")
            eui = found
        if eui in out:
            raise ScenarioError(f"{where}.devices: device {eui} is given to both {out[eui]} "
                                f"and {meter}")
        out[eui] = meter
    return out


def _members(spec: MeterSourceSpec, where: str, model: CommunityModel) -> list[str]:
    pop = model.population
    if spec.region is not None:
        if spec.region not in pop.region_ids:
            raise ScenarioError(f"{where}.region: unknown region {spec.region!r}; regions: "
                                f"{', '.join(pop.region_ids[:10])}"
                                f"{' ...' if len(pop.region_ids) > 10 else ''}")
        nodes = pop.region_slices[pop.region_ids.index(spec.region)]
        return list(pop.node_ids[nodes])
    known = set(pop.node_ids)
    unknown = [m for m in spec.members if m not in known]
    if unknown:
        raise ScenarioError(f"{where}.members: unknown member(s) {unknown}; members are "
                            f"{pop.node_ids[0]} .. {pop.node_ids[-1]}")
    return list(spec.members)


def _build(spec: MeterSourceSpec, where: str, model: CommunityModel,
           claimed: dict[str, str]) -> HardwareMeters | None:
    members = _members(spec, where, model)
    for member in members:
        if member in claimed:
            raise ScenarioError(f"{where}: member {member} is already read by {claimed[member]}")
        claimed[member] = where
    if spec.kind == "simulated":
        return None
    base_dir = Path(getattr(model.scenario, "base_dir", "") or ".")
    settings = bridge_settings(spec, where, base_dir)
    try:
        registry = DeviceRegistry.load(settings["registry"])
    except (BridgeError, OSError, ValueError) as exc:
        raise ScenarioError(f"{where}.settings.registry: {exc}") from None
    mapping = _devices(spec, where, members, registry)
    try:
        source = make_source(spec.kind, **{**settings, "registry": registry})
    except (BridgeError, TypeError) as exc:  # a bridge option's typo surfaces as TypeError
        raise ScenarioError(f"{where}.settings: {exc}; see README, \"The hardware bridge\"") \
            from None
    epoch = time.time() if spec.epoch_s is None else spec.epoch_s
    return HardwareMeters(f"{where} ({spec.kind})", source, mapping, epoch)


def attach_meter_sources(model: CommunityModel) -> MeterSourceSet:
    """Build the scenario's hardware sources and put them under their regions' meters."""
    spec: MeterSources = model.scenario.meters
    hardware: list[HardwareMeters] = []
    claimed: dict[str, str] = {}
    try:
        for i, entry in enumerate(spec.sources):
            built = _build(entry, f"meters.sources[{i}]", model, claimed)
            if built is not None:
                hardware.append(built)
    except BaseException:
        MeterSourceSet(hardware).close()
        raise
    for region_id, meter_ids in model.region_meter_ids.items():
        mine = [hw for hw in hardware if set(hw.meter_ids) & set(meter_ids)]
        if mine:
            model.region_host.wrap_meter_source(region_id, partial(
                MixedRegionSource.around, region_id, meter_ids, hardware=mine))
    return MeterSourceSet(hardware)
