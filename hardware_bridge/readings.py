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


@dataclass(frozen=True, slots=True)
class Command:
    """A command for one appliance behind one device (OpenADR-style on/off, up/down)."""

    device_id: str
    appliance: int
    command_id: int
    action: str  # "on" | "off" | "increase" | "decrease" | "set_level"
    level: int = 0


@dataclass(frozen=True, slots=True)
class CommandAck:
    """The outcome of a command: acknowledged by the device, refused, or timed out."""

    device_id: str
    command_id: int
    status: str  # "acked" | "nacked" | "timeout"
    detail: str = ""


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
