"""Which devices exist, their keys, and how their readings map to energy.

Why a registry: a frame from a device the bridge does not know is rejected
(counted as ``unknown_device``), each device has its own MAC key, TTN topics
name devices by id rather than devEUI, and a CT on a PV inverter line measures
export rather than import. Loading a registry also checks each device's radio
plan, so an illegal interval fails at start-up, not on air.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridcoop.hardware_bridge.airtime import RadioPlan
from gridcoop.hardware_bridge.codec import KEY_LEN, normalize_eui
from gridcoop.hardware_bridge.errors import ConfigError, PayloadError, UnknownDeviceError

DIRECTIONS = ("import", "export")
SIMULATED_EUI_PREFIX = "70b3d57ed0"  # + 6 hex digits of the meter's 1-based index


def derive_key(master_key: bytes, dev_eui: str) -> bytes:
    """A per-device 128-bit key from one master secret: HMAC-SHA256(master, devEUI)[:16].

    Lets a fleet be provisioned from one secret (each device still gets its own key,
    so one extracted key forges one meter only).
    """
    if len(master_key) < 16:
        raise ConfigError("master key must be at least 16 bytes; use 32 random bytes")
    return hmac.digest(master_key, bytes.fromhex(normalize_eui(dev_eui)), "sha256")[:KEY_LEN]


def simulated_eui(index: int) -> str:
    """The devEUI of the simulator's meter number ``index`` (0-based)."""
    if not 0 <= index < 0xFFFFFF:
        raise ConfigError(f"simulated meter index {index} is outside 0..16777214")
    return f"{SIMULATED_EUI_PREFIX}{index + 1:06x}"


@dataclass(frozen=True, slots=True)
class Device:
    """One registered meter/actuator."""

    eui: str
    key: bytes
    device_id: str = ""  # The Things Stack device id (its topics carry this, not the EUI)
    name: str = ""
    direction: str = "import"  # what the CT measures: energy drawn or energy fed in
    power_factor: float = 1.0  # Wh = VAh x power_factor (the Uno measures apparent power)
    require_mac: bool = True
    radio: RadioPlan = field(default_factory=RadioPlan)

    def __post_init__(self) -> None:
        try:
            canonical = normalize_eui(self.eui)
        except PayloadError as exc:
            raise ConfigError(str(exc)) from exc
        object.__setattr__(self, "eui", canonical)
        if len(self.key) != KEY_LEN:
            raise ConfigError(
                f"device {canonical}: key is {len(self.key)} bytes; give 16 bytes (32 hex digits)"
            )
        if self.direction not in DIRECTIONS:
            raise ConfigError(
                f"device {canonical}: direction {self.direction!r} not in {DIRECTIONS}"
            )
        if not 0.0 < self.power_factor <= 1.0:
            raise ConfigError(f"device {canonical}: power_factor {self.power_factor} not in (0, 1]")
        self.radio.check()

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Device:
        """Build from a plain mapping (YAML/JSON): eui, key (hex), optional fields."""
        unknown = set(entry) - {
            "eui",
            "key",
            "device_id",
            "name",
            "direction",
            "power_factor",
            "require_mac",
            "interval_s",
            "dr",
            "ttn_fair_use",
        }
        if unknown:
            raise ConfigError(f"device entry has unknown fields {sorted(unknown)}")
        if "eui" not in entry or "key" not in entry:
            raise ConfigError(f"device entry {dict(entry)!r} needs 'eui' and 'key' (hex)")
        try:
            key = bytes.fromhex(str(entry["key"]))
        except ValueError as exc:
            raise ConfigError(f"device {entry['eui']}: key is not hex") from exc
        plan = RadioPlan(
            dr=int(entry.get("dr", 0)),
            interval_s=int(entry.get("interval_s", 900)),
            ttn_fair_use=bool(entry.get("ttn_fair_use", False)),
        )
        return cls(
            eui=str(entry["eui"]),
            key=key,
            device_id=str(entry.get("device_id", "")),
            name=str(entry.get("name", "")),
            direction=str(entry.get("direction", "import")),
            power_factor=float(entry.get("power_factor", 1.0)),
            require_mac=bool(entry.get("require_mac", True)),
            radio=plan,
        )

    def to_entry(self) -> dict[str, Any]:
        return {
            "eui": self.eui,
            "key": self.key.hex(),
            "device_id": self.device_id,
            "name": self.name,
            "direction": self.direction,
            "power_factor": self.power_factor,
            "require_mac": self.require_mac,
            "interval_s": self.radio.interval_s,
            "dr": self.radio.dr,
            "ttn_fair_use": self.radio.ttn_fair_use,
        }


class DeviceRegistry:
    """Devices by devEUI and by TTN device id."""

    def __init__(self, devices: Iterable[Device] = ()) -> None:
        self._by_eui: dict[str, Device] = {}
        self._by_id: dict[str, Device] = {}
        for device in devices:
            self.add(device)

    def add(self, device: Device) -> None:
        if device.eui in self._by_eui:
            raise ConfigError(f"device {device.eui} is registered twice")
        if device.device_id:
            if device.device_id in self._by_id:
                raise ConfigError(f"device id {device.device_id!r} is used by two devices")
            self._by_id[device.device_id] = device
        self._by_eui[device.eui] = device

    def get(self, eui: str) -> Device | None:
        try:
            return self._by_eui.get(normalize_eui(eui))
        except PayloadError:
            return None

    def by_eui(self, eui: str) -> Device:
        device = self.get(eui)
        if device is None:
            raise UnknownDeviceError(f"device {eui} is not registered; add it to the registry")
        return device

    def find_device_id(self, device_id: str) -> Device | None:
        return self._by_id.get(device_id)

    def by_device_id(self, device_id: str) -> Device:
        device = self._by_id.get(device_id)
        if device is None:
            raise UnknownDeviceError(
                f"TTN device id {device_id!r} is not registered; add device_id to its entry"
            )
        return device

    def resolve(self, ref: str) -> Device:
        """A device by devEUI or, failing that, by TTN device id."""
        return self.get(ref) or self.by_device_id(ref)

    def __contains__(self, eui: object) -> bool:
        return isinstance(eui, str) and self.get(eui) is not None

    def __iter__(self) -> Iterator[Device]:
        return iter(self._by_eui.values())

    def __len__(self) -> int:
        return len(self._by_eui)

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any]]) -> DeviceRegistry:
        return cls(Device.from_entry(entry) for entry in entries)

    @classmethod
    def load(cls, path: str | Path) -> DeviceRegistry:
        """Read ``{"devices": [...]}`` (or a bare list) from a YAML or JSON file."""
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        entries = data.get("devices") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise ConfigError(f"{path}: expected a list of devices under 'devices'")
        return cls.from_entries(entries)

    def dump(self, path: str | Path) -> None:
        """Write the registry as YAML or JSON (by extension). It holds keys: keep it private."""
        data = {"devices": [device.to_entry() for device in self]}
        text = (
            json.dumps(data, indent=2)
            if str(path).endswith(".json")
            else yaml.safe_dump(data, sort_keys=False)
        )
        Path(path).write_text(text, encoding="utf-8")

    @classmethod
    def simulated(
        cls,
        n_meters: int,
        master_key: bytes,
        *,
        interval_s: int = 900,
        dr: int = 0,
        export_every: int = 0,
    ) -> DeviceRegistry:
        """The registry matching ``gridcoop devices simulate`` with the same master key.

        ``export_every=k`` marks every k-th meter as measuring a PV line (export).
        """
        devices = []
        for index in range(n_meters):
            eui = simulated_eui(index)
            export = export_every > 0 and index % export_every == export_every - 1
            devices.append(
                Device(
                    eui=eui,
                    key=derive_key(master_key, eui),
                    device_id=f"meter-{index + 1:05d}",
                    name=f"simulated household {index + 1}",
                    direction="export" if export else "import",
                    radio=RadioPlan(dr=dr, interval_s=interval_s),
                )
            )
        return cls(devices)


def coerce_registry(
    value: DeviceRegistry | str | Path | Iterable[Mapping[str, Any]],
) -> DeviceRegistry:
    """Accept a registry, a file path, or a list of entries (what scenario files hold)."""
    if isinstance(value, DeviceRegistry):
        return value
    if isinstance(value, str | Path):
        return DeviceRegistry.load(value)
    return DeviceRegistry.from_entries(value)
