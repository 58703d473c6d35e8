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
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridcoop.hardware_bridge.airtime import RadioPlan
from gridcoop.hardware_bridge.codec import KEY_LEN, normalize_eui
from gridcoop.hardware_bridge.errors import (
    ConfigError,
    MalformedMessageError,
    PayloadError,
    UnknownDeviceError,
)
from gridcoop.hardware_bridge.netjson import load_json
from gridcoop.hardware_bridge.secret_files import read_secret_text, write_secret_text

DIRECTIONS = ("import", "export")
ENTRY_FIELDS = (
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
)
MAX_REGISTRY_BYTES = 16 * 1024 * 1024
SIMULATED_EUI_PREFIX = "70b3d57ed0"  # + 6 hex digits of the meter's 1-based index


def derive_key(master_key: bytes, dev_eui: str) -> bytes:
    """A per-device 128-bit key from one master secret: HMAC-SHA256(master, devEUI)[:16].

    Lets a fleet be provisioned from one secret (each device still gets its own key,
    so one extracted key forges one meter only).
    """
    if len(master_key) < 16:
        raise ConfigError("master key must be at least 16 bytes; use 32 random bytes")
    return hmac.digest(master_key, bytes.fromhex(normalize_eui(dev_eui)), "sha256")[:KEY_LEN]


def _kind(value: object) -> str:
    """What a value is, for messages (never the value itself: it may be huge or secret)."""
    return type(value).__name__


def _scalar(
    entry: Mapping[Any, Any], name: str, where: str, default: Any, types: tuple[type, ...]
) -> Any:
    value = entry.get(name, default)
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        wanted = " or ".join(t.__name__ for t in types)
        raise ConfigError(f"{where}: {name} must be {wanted}, not {_kind(value)}")
    return value


def _text(
    entry: Mapping[Any, Any], name: str, where: str, max_chars: int, default: str | None = None
) -> str:
    value = _scalar(entry, name, where, default, (str, int))
    if isinstance(value, int) and value.bit_length() > 4 * max_chars:
        raise ConfigError(f"{where}: {name} is longer than {max_chars} characters")
    text = str(value)
    if len(text) > max_chars:
        raise ConfigError(f"{where}: {name} is longer than {max_chars} characters")
    return text


def _whole(
    entry: Mapping[Any, Any], name: str, where: str, default: int, low: int, high: int
) -> int:
    value = _scalar(entry, name, where, default, (int,))
    if not low <= value <= high:
        raise ConfigError(f"{where}: {name} must be within {low}..{high}")
    return int(value)


def _flag(entry: Mapping[Any, Any], name: str, where: str, default: bool) -> bool:
    return bool(_scalar(entry, name, where, default, (bool,)))


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
    def from_entry(cls, entry: object, where: str = "device entry") -> Device:
        """Build from a plain mapping (YAML/JSON): eui, key (hex), optional fields.

        Any input gives a device or a ``ConfigError`` naming ``where`` and the field;
        values are never echoed whole (a file may hold anything, keys included).
        """
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected a mapping of fields, got {_kind(entry)}")
        unknown = [k for k in entry if k not in ENTRY_FIELDS]
        if unknown:
            names = sorted(str(k)[:40] for k in unknown)[:5]
            raise ConfigError(f"{where}: unknown fields {names}; known: {list(ENTRY_FIELDS)}")
        if "eui" not in entry or "key" not in entry:
            raise ConfigError(f"{where}: needs 'eui' and 'key' (32 hex digits)")
        eui = _text(entry, "eui", where, 64)
        where = f"device {eui}"
        key_hex = _text(entry, "key", where, 64)
        try:
            key = bytes.fromhex(key_hex)
        except ValueError as exc:
            raise ConfigError(f"{where}: key is not hex") from exc
        plan = RadioPlan(
            dr=_whole(entry, "dr", where, 0, 0, 15),
            interval_s=_whole(entry, "interval_s", where, 900, 1, 10**9),
            ttn_fair_use=_flag(entry, "ttn_fair_use", where, False),
        )
        try:
            power_factor = float(_scalar(entry, "power_factor", where, 1.0, (int, float)))
        except OverflowError as exc:
            raise ConfigError(f"{where}: power_factor is not a number in (0, 1]") from exc
        if not math.isfinite(power_factor):
            raise ConfigError(f"{where}: power_factor is not a number in (0, 1]")
        try:
            return cls(
                eui=eui,
                key=key,
                device_id=_text(entry, "device_id", where, 128, ""),
                name=_text(entry, "name", where, 256, ""),
                direction=_text(entry, "direction", where, 16, "import"),
                power_factor=power_factor,
                require_mac=_flag(entry, "require_mac", where, True),
                radio=plan,
            )
        except (PayloadError, ValueError, LookupError) as exc:  # ConfigError passes as it is
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{where}: {exc}") from exc

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
        return cls(
            Device.from_entry(entry, f"device entry {i + 1}") for i, entry in enumerate(entries)
        )

    @classmethod
    def load(cls, path: str | Path) -> DeviceRegistry:
        """Read ``{"devices": [...]}`` (or a bare list) from a YAML or JSON file.

        The file holds device keys: it is refused when other users can read it.
        Whatever it contains, the result is a registry or a ``ConfigError``.
        """
        source = Path(path)
        text = read_secret_text(source, "device registry", MAX_REGISTRY_BYTES)
        return cls.parse(text, source.suffix == ".json", str(source))

    @classmethod
    def parse(cls, text: str, is_json: bool, where: str = "registry") -> DeviceRegistry:
        """A registry from YAML or JSON text, or a ``ConfigError`` saying what is wrong."""
        try:
            data = load_json(text, where, MAX_REGISTRY_BYTES) if is_json else yaml.safe_load(text)
        except (MalformedMessageError, yaml.YAMLError, RecursionError, ValueError) as exc:
            kind = "JSON" if is_json else "YAML"
            raise ConfigError(f"{where}: not valid {kind} ({str(exc)[:300]})") from exc
        entries = data.get("devices") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise ConfigError(f"{where}: expected a list of devices under 'devices'")
        return cls.from_entries(entries)

    def dump(self, path: str | Path) -> None:
        """Write the registry as YAML or JSON (by extension), readable by the owner only."""
        data = {"devices": [device.to_entry() for device in self]}
        text = (
            json.dumps(data, indent=2)
            if str(path).endswith(".json")
            else yaml.safe_dump(data, sort_keys=False)
        )
        write_secret_text(Path(path), text)

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
