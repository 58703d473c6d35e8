"""DR appliances and households: what each device is, and the user's settings.

Why a catalogue on top of the appliance table (``gridcoop.catalogue``):
the table gives start, end, working hours and power; a DR device also needs
its template's comfort parameters (a thermal zone for T2, a battery for T3),
whether it can run at part power, and the user's equipment priority and
off-sequence. Everything here is a plain frozen value, so a scenario file can
describe a household and two runs with the same description behave the same.

Templates (the ``window`` is ``start_h``..``end_h``, wrapping past midnight):

- T1 scheduled: must run ``working_h`` hours inside the window (a deadline).
- T2 temperature range: a thermal zone kept inside its band while the window
  (the comfort period) is open; off outside it.
- T3 battery: plugged in over the window (arrival..departure); must hold
  ``target_kwh`` at departure; ``trip_kwh`` is used while away.
- T4 full flexibility: would run ``working_h`` hours in the window, but may be
  moved or dropped freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from gridcoop.agents.mechanisms.dr.thermal import (
    FRIDGE,
    HOUSE_HVAC,
    ROOM_AC,
    WATER_TANK,
    ThermalParams,
)
from gridcoop.catalogue import APPLIANCES, Template


class DeviceSpecError(ValueError):
    """A device or household description that cannot be simulated."""


@dataclass(frozen=True, slots=True)
class BatteryParams:
    """An EV battery for T3 (defaults: a 24 kWh Nissan Leaf)."""

    capacity_kwh: float = 24.0
    initial_kwh: float = 12.0
    target_kwh: float = 22.0
    trip_kwh: float = 10.0

    def __post_init__(self) -> None:
        if not self.capacity_kwh > 0:
            raise DeviceSpecError(f"capacity_kwh must be > 0; got {self.capacity_kwh}")
        for name in ("initial_kwh", "target_kwh", "trip_kwh"):
            value = getattr(self, name)
            if not 0 <= value <= self.capacity_kwh:
                raise DeviceSpecError(
                    f"{name} must be between 0 and capacity_kwh={self.capacity_kwh}; got {value}"
                )


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One appliance of one household."""

    device_id: str
    kind: str
    template: Template
    power_kw: float
    start_h: float
    end_h: float
    working_h: float = 0.0
    flexible: bool = True
    divisible: bool = False
    interruptible: bool = True
    p_used_daily: float = 1.0
    thermal: ThermalParams | None = None
    battery: BatteryParams | None = None

    def __post_init__(self) -> None:
        if not self.device_id:
            raise DeviceSpecError("device_id must be a non-empty string")
        try:
            object.__setattr__(self, "template", Template(self.template))
        except ValueError:
            raise DeviceSpecError(
                f"device {self.device_id!r}: template must be 1..4; got {self.template!r}"
            ) from None
        if not self.power_kw > 0:
            raise DeviceSpecError(f"device {self.device_id!r}: power_kw must be > 0")
        for name in ("start_h", "end_h"):
            if not 0.0 <= getattr(self, name) <= 24.0:
                raise DeviceSpecError(f"device {self.device_id!r}: {name} must be in 0..24")
        if not 0.0 <= self.working_h <= self.window_h:
            raise DeviceSpecError(
                f"device {self.device_id!r}: working_h={self.working_h} must fit the "
                f"{self.window_h} h window {self.start_h}-{self.end_h}"
            )
        if not 0.0 <= self.p_used_daily <= 1.0:
            raise DeviceSpecError(f"device {self.device_id!r}: p_used_daily must be in 0..1")
        if self.template == Template.TEMPERATURE and self.thermal is None:
            raise DeviceSpecError(f"device {self.device_id!r}: a T2 device needs thermal params")
        if self.template == Template.BATTERY and self.battery is None:
            raise DeviceSpecError(f"device {self.device_id!r}: a T3 device needs battery params")

    @property
    def window_h(self) -> float:
        """Length of the window in hours (24 when start equals end)."""
        span = (self.end_h - self.start_h) % 24.0
        return 24.0 if span == 0.0 else span


@dataclass(frozen=True, slots=True)
class HouseholdSpec:
    """A DR household: its devices, its aggregator and the user's settings.

    ``priority`` lists flexible device ids, first served first (the equipment
    priority of excess sharing); ``off_sequence`` lists them first turned off
    first (default: ``priority`` reversed). ``opt_out_probability`` is the
    chance the user refuses a command that comfort would allow;
    ``override_probability`` the chance an accepted command is not honoured.
    """

    household_id: str
    aggregator_id: str
    devices: tuple[DeviceSpec, ...]
    priority: tuple[str, ...] = ()
    off_sequence: tuple[str, ...] | None = None
    opt_out_probability: float = 0.0
    override_probability: float = 0.0

    def __post_init__(self) -> None:
        if not self.household_id or not self.aggregator_id:
            raise DeviceSpecError("household_id and aggregator_id must be non-empty")
        object.__setattr__(self, "devices", tuple(self.devices))
        ids = [d.device_id for d in self.devices]
        if len(set(ids)) != len(ids):
            raise DeviceSpecError(f"household {self.household_id!r}: device ids repeat: {ids}")
        flexible = [d.device_id for d in self.devices if d.flexible]
        priority = tuple(self.priority) or tuple(flexible)
        if sorted(priority) != sorted(flexible):
            raise DeviceSpecError(
                f"household {self.household_id!r}: priority must list each flexible device "
                f"once ({sorted(flexible)}); got {list(priority)}"
            )
        object.__setattr__(self, "priority", priority)
        off = tuple(self.off_sequence) if self.off_sequence is not None else priority[::-1]
        if sorted(off) != sorted(flexible):
            raise DeviceSpecError(
                f"household {self.household_id!r}: off_sequence must list each flexible device "
                f"once ({sorted(flexible)}); got {list(off)}"
            )
        object.__setattr__(self, "off_sequence", off)
        for name in ("opt_out_probability", "override_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise DeviceSpecError(f"household {self.household_id!r}: {name} must be in 0..1")


# Part-power capable (inverter / charger) kinds; everything else is on/off.
_DIVISIBLE = {"electric vehicle", "air conditioner", "hvac house"}
_THERMAL = {
    "refrigerator": FRIDGE,
    "air conditioner": ROOM_AC,
    "water heater": WATER_TANK,
    "hvac house": HOUSE_HVAC,
}
_NON_INTERRUPTIBLE = {"clothes dryer", "dish washer"}

# The pilot's extra devices (docs/domain/communities.md): the HVAC unit of a classroom
# standing for a 3 kW house (T2), one outlet as T1 and one outlet with a heater
# as T4. Their window, hours and the outlets' powers are not in the papers:
# ASSUMED values, chosen as a 1 kW load for 2 h in office hours and a 2 kW heater.
PILOT_EXTRAS: dict[str, DeviceSpec] = {
    "hvac house": DeviceSpec(
        "hvac",
        "hvac house",
        Template.TEMPERATURE,
        3.0,
        0.0,
        24.0,
        divisible=True,
        thermal=HOUSE_HVAC,
    ),
    "outlet": DeviceSpec("outlet", "outlet", Template.SCHEDULED, 1.0, 9.0, 18.0, 2.0),
    "heater outlet": DeviceSpec("heater", "heater outlet", Template.FLEXIBLE, 2.0, 8.0, 20.0, 4.0),
}


def catalogue_names() -> list[str]:
    """Every kind :func:`device` knows: the appliance table and the pilot's extras."""
    return [spec.name for spec in APPLIANCES] + list(PILOT_EXTRAS)


def device(kind: str, device_id: str | None = None, **changes: object) -> DeviceSpec:
    """A device of a catalogue ``kind`` ("electric vehicle", "hvac house", ...).

    ``changes`` override any :class:`DeviceSpec` field (``flexible=False``,
    ``thermal=...``). Working hours longer than the window (the table's air
    conditioner and dish washer) are cut to the window, as the physics does.
    """
    if kind in PILOT_EXTRAS:
        base = PILOT_EXTRAS[kind]
    else:
        rows = [spec for spec in APPLIANCES if spec.name == kind]
        if not rows:
            raise DeviceSpecError(f"unknown appliance kind {kind!r}; known: {catalogue_names()}")
        row = rows[0]
        template = Template(int(row.template))
        window_h = (row.end_h - row.start_h) % 24.0 or 24.0
        base = DeviceSpec(
            device_id=kind.replace(" ", "-"),
            kind=kind,
            template=template,
            power_kw=row.power_kw,
            start_h=row.start_h,
            end_h=row.end_h % 24.0,
            working_h=0.0
            if template in (Template.TEMPERATURE, Template.BATTERY)
            else min(row.working_h, window_h),
            flexible=row.flexible,
            divisible=kind in _DIVISIBLE,
            interruptible=kind not in _NON_INTERRUPTIBLE,
            p_used_daily=row.p_used_daily,
            thermal=_THERMAL.get(kind),
            battery=BatteryParams(target_kwh=22.0, trip_kwh=min(20.0, row.working_h * row.power_kw))
            if template == Template.BATTERY
            else None,
        )
    if device_id is not None:
        changes["device_id"] = device_id
    try:
        return replace(base, **changes)  # type: ignore[arg-type]
    except TypeError as error:
        raise DeviceSpecError(f"bad device field for {kind!r}: {error}") from None


def pilot_households(
    aggregator_id: str = "ra-pilot", rng: np.random.Generator | None = None
) -> list[HouseholdSpec]:
    """The DR pilot (docs/domain/communities.md): 8 HVAC '3 kW houses', 7 EVs, T1 and T4 outlets.

    EVs: five 24 kWh and two 30 kWh Leafs, plugged 19:00-06:00 (the table),
    arriving half full and wanting 90 % at departure. With ``rng`` each house
    starts at its own temperature inside the band (otherwise all at 21 °C and
    their thermostats switch in step).
    """
    starts = rng.uniform(19.5, 22.5, size=8) if rng is not None else np.full(8, 21.0)
    homes = [
        HouseholdSpec(
            f"house-{i + 1}",
            aggregator_id,
            (device("hvac house", thermal=replace(HOUSE_HVAC, initial_c=float(starts[i]))),),
        )
        for i in range(8)
    ]
    for i in range(7):
        capacity = 24.0 if i < 5 else 30.0
        ev = device(
            "electric vehicle",
            "ev",
            battery=BatteryParams(
                capacity_kwh=capacity,
                initial_kwh=capacity / 2,
                target_kwh=capacity * 0.9,
                trip_kwh=capacity / 2,
            ),
        )
        homes.append(HouseholdSpec(f"ev-{i + 1}", aggregator_id, (ev,)))
    homes.append(HouseholdSpec("outlet-t1", aggregator_id, (device("outlet"),)))
    homes.append(HouseholdSpec("outlet-t4", aggregator_id, (device("heater outlet"),)))
    return homes


def check_unique(households: Sequence[HouseholdSpec]) -> None:
    """Household ids must be unique across the community."""
    ids = [h.household_id for h in households]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise DeviceSpecError(f"household ids repeat: {dupes}")


def random_households(
    rng: np.random.Generator, n: int, aggregators: int, ev_share: float = 0.3, prefix: str = "dr"
) -> list[HouseholdSpec]:
    """``n`` households drawing their appliances from the appliance table's ownership shares.

    Each owns a kind with the table's ``p_owned`` (EVs with ``ev_share``, since
    the table leaves EVs to the EV owners), is assigned round-robin to one of
    ``aggregators`` RAs, and ranks its flexible devices in a random priority.
    """
    if n < 0 or aggregators < 1:
        raise DeviceSpecError(
            f"need n >= 0 and aggregators >= 1; got n={n}, aggregators={aggregators}"
        )
    shares = np.array([ev_share if s.name == "electric vehicle" else s.p_owned for s in APPLIANCES])
    owned = rng.random((n, len(APPLIANCES))) < shares[None, :]
    households = []
    for h in range(n):
        devices = tuple(device(APPLIANCES[a].name) for a in np.flatnonzero(owned[h]))
        flexible = [d.device_id for d in devices if d.flexible]
        order = tuple(flexible[i] for i in rng.permutation(len(flexible)))
        households.append(
            HouseholdSpec(f"{prefix}-{h + 1}", f"ra-{h % aggregators + 1}", devices, priority=order)
        )
    return households
