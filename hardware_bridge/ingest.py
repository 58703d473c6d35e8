"""From one received frame to one accepted reading (or a refusal, counted).

Why one pipeline for every transport: serial, ChirpStack and TTN differ only in
how a frame arrives; the order of checks (known device, base64, duplicate,
decode and MAC, frame counters, (boot, seq)) and the energy arithmetic must be
identical, so a reading means the same whatever carried it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gridcoop.hardware_bridge.codec import AckFrame, MeterFrame, b64decode_strict, decode_uplink
from gridcoop.hardware_bridge.errors import (
    BadBase64Error,
    BadMacError,
    MissingMacError,
    PayloadError,
    ShortPayloadError,
    UnknownPortError,
    UnsupportedVersionError,
)
from gridcoop.hardware_bridge.readings import MeterReading
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry
from gridcoop.hardware_bridge.replay_guard import DUPLICATE, ENERGY_MOD, Admission, ReplayGuard

UNKNOWN_DEVICE = "unknown_device"
BAD_MAC = "bad_mac"

_REASONS: tuple[tuple[type[PayloadError], str], ...] = (
    (BadBase64Error, "bad_base64"),
    (BadMacError, BAD_MAC),
    (MissingMacError, "missing_mac"),
    (ShortPayloadError, "short_payload"),
    (UnknownPortError, "unknown_port"),
    (UnsupportedVersionError, "bad_version"),
)


def rejection_reason(exc: PayloadError) -> str:
    """The counter name for a refused frame."""
    for cls, reason in _REASONS:
        if isinstance(exc, cls):
            return reason
    return "bad_payload"


@dataclass(frozen=True, slots=True)
class Uplink:
    """One frame as any transport received it, before any check."""

    meter_ref: str  # devEUI (any case) of the sender
    f_port: int
    payload: bytes | str  # raw bytes, or base64 text as network servers send it
    network: str  # "chirpstack" | "ttn" | "serial"
    received_s: float
    dedup_id: str | None = None
    session: str | None = None
    f_cnt: int | None = None
    rssi: float | None = None
    snr: float | None = None
    dr: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceAck:
    """A device's own (MAC-checked) answer to a command."""

    meter_id: str
    frame: AckFrame
    received_s: float


def energy_wh(device: Device, energy_vah: int, delta_vah: int) -> int:
    """Wh for ``delta_vah`` ending at cumulative ``energy_vah``, floored on the cumulative
    scale so rounding never drifts: the sum over readings equals floor(total x pf)."""
    if device.power_factor == 1.0:
        return delta_vah
    start = (energy_vah - delta_vah) % ENERGY_MOD
    return math.floor((start + delta_vah) * device.power_factor) - math.floor(
        start * device.power_factor
    )


class Ingest:
    """Checks frames against the registry and the replay guard; builds readings."""

    def __init__(
        self,
        registry: DeviceRegistry,
        guard: ReplayGuard,
        *,
        align_to_interval: bool = False,
        accept_unauthenticated: bool = False,
    ) -> None:
        self.registry = registry
        self.guard = guard
        self.align_to_interval = align_to_interval
        self.accept_unauthenticated = accept_unauthenticated

    def process(self, up: Uplink) -> MeterReading | DeviceAck | None:
        """The reading or ack carried by ``up``; None when refused (and counted)."""
        device = self.registry.get(up.meter_ref)
        if device is None:
            self.guard.reject(up.meter_ref, UNKNOWN_DEVICE, "not in the registry", up.received_s)
            return None
        eui = device.eui
        if self.guard.is_duplicate(up.dedup_id):
            self.guard.reject(eui, DUPLICATE, f"delivery {up.dedup_id}", up.received_s)
            return None
        try:
            raw = b64decode_strict(up.payload) if isinstance(up.payload, str) else up.payload
            require = device.require_mac and not self.accept_unauthenticated
            frame = decode_uplink(eui, up.f_port, raw, device.key, require_mac=require)
            if frame.mac_verified is False:  # never settle a forged frame, even when lenient
                raise BadMacError(f"MAC of fPort {up.f_port} frame from {eui} does not verify")
        except PayloadError as exc:
            self.guard.reject(eui, rejection_reason(exc), str(exc), up.received_s)
            return None
        if isinstance(frame, AckFrame):
            verdict = self.guard.admit_network(
                eui, up.dedup_id, up.session, up.f_cnt, up.received_s
            )
            if not verdict.accepted:
                self.guard.reject(eui, verdict.reason, verdict.detail, up.received_s)
                return None
            return DeviceAck(eui, frame, up.received_s)
        verdict = self.guard.admit_reading(
            eui,
            up.dedup_id,
            up.session,
            up.f_cnt,
            frame.boot,
            frame.seq,
            frame.energy_vah,
            up.received_s,
        )
        if not verdict.accepted:
            self.guard.reject(eui, verdict.reason, verdict.detail, up.received_s)
            return None
        return self._reading(device, frame, verdict, up)

    def _reading(
        self, device: Device, frame: MeterFrame, verdict: Admission, up: Uplink
    ) -> MeterReading:
        unit_s = max(frame.interval_min, 1) * 60
        end_s = int(up.received_s)
        if self.align_to_interval:
            end_s = round(up.received_s / unit_s) * unit_s
        span_s = unit_s * verdict.covered_intervals
        wh = energy_wh(device, frame.energy_vah, verdict.delta_vah)
        extra: dict[str, float] = {
            "irms_a": frame.irms_a,
            "s_avg_va": float(frame.s_avg_va),
            "s_max_va": float(frame.s_max_va),
            "energy_vah": float(frame.energy_vah),
            "status": float(frame.status),
            "relay_on": float(frame.relay_on),
            "clipped": float(frame.clipped),
            "new_boot": float(verdict.new_boot),
            "received_s": up.received_s,
        }
        for name, value in (("f_cnt", up.f_cnt), ("rssi", up.rssi), ("snr", up.snr), ("dr", up.dr)):
            if value is not None:
                extra[name] = float(value)
        export = device.direction == "export"
        return MeterReading(
            meter_id=device.eui,
            interval_start_s=end_s - span_s,
            interval_s=span_s,
            import_wh=0 if export else wh,
            export_wh=wh if export else 0,
            mac_verified=frame.mac_verified is True,
            boot=frame.boot,
            seq=frame.seq,
            source=up.network,
            extra=extra,
            lost_frames=verdict.lost_seq,
        )
