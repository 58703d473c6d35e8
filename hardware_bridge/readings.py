"""What every meter source yields and what every command sink takes.

Why one small module: the SmartMeter agent, the live mode and every transport
(simulated, serial, ChirpStack, TTN) agree on these shapes and on nothing else,
so a source can be swapped without touching the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One metering interval of one meter, as the bridge accepted it.

    Energies are integers in Wh for the interval (not cumulative).
    ``mac_verified`` says the device MAC checked out (always True for simulated
    meters, which have no radio); ``estimated`` marks a value filled in for a
    silent meter, which must never be settled as measured.

    For hardware meters a reading may span several metering intervals: when
    frames were lost, the next accepted one carries the whole energy since the
    last accepted reading (from the cumulative counter), ``interval_s`` covers
    that span and ``lost_frames`` says how many frames were missing.
    """

    meter_id: str
    interval_start_s: int
    interval_s: int
    import_wh: int
    export_wh: int
    mac_verified: bool = True
    estimated: bool = False
    boot: int = 0
    seq: int = 0
    source: str = "simulated"
    extra: dict[str, float] = field(default_factory=dict)
    lost_frames: int = 0


@dataclass(frozen=True, slots=True)
class Command:
    """A command for one appliance behind one device (OpenADR-style on/off, up/down).

    ``appliance`` is the relay/appliance index on the device, 255 for all of them.
    ``command_id`` (0..65535) is the idempotency key: a device ignores a repeat.
    ``level`` is a percentage for increase/decrease/set_level and the OpenADR SIMPLE
    level (0..3) for dr_event; it must be 0 for the other actions.
    """

    device_id: str
    appliance: int
    command_id: int
    # "on" | "off" | "increase" | "decrease" | "set_level"
    # | "dr_event" | "set_interval" | "restore" | "status"
    action: str
    level: int = 0
    duration_min: int = 0  # dr_event: how long the event lasts (0 = until restore)
    interval_s: int = 0  # set_interval: the new metering interval
    confirmed: bool = False  # ask the network server for a confirmed downlink
    expires_in_s: int = 0  # drop from the network server's queue after this long (0 = never)


@dataclass(frozen=True, slots=True)
class CommandAck:
    """The outcome of a command: acknowledged by the device, refused, or timed out."""

    device_id: str
    command_id: int
    status: str  # "acked" | "nacked" | "timeout"
    detail: str = ""
    correlation_id: str = ""  # the network server's queue item id / correlation id
    via: str = ""  # "device" (the device's own ack uplink) | "network" | "bridge" (local)


@runtime_checkable
class MeterSource(Protocol):
    """A transport that delivers readings for one or more meters."""

    def poll(self, until_s: int) -> list[MeterReading]:
        """Readings whose interval ended at or before ``until_s`` and were not yet returned."""
        ...

    def close(self) -> None:
        """Release sockets, ports and files."""
        ...


@runtime_checkable
class CommandSink(Protocol):
    """A transport that carries commands to appliances and reports their outcome."""

    def send(self, command: Command) -> None:
        """Queue a command; its outcome comes back through ``acks``."""
        ...

    def acks(self) -> list[CommandAck]:
        """Outcomes received since the last call."""
        ...

    def close(self) -> None:
        """Release sockets, ports and files."""
        ...
