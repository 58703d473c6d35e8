"""What every hardware transport shares: the pipeline, pending commands, polling.

A transport subclass only says how frames arrive (``_pump``) and how a command
leaves (``_transmit``); everything that decides what a frame means lives in
``Ingest`` and ``PendingCommands``, so serial, ChirpStack and TTN behave alike.
Each bridge is both a ``MeterSource`` and a ``CommandSink`` because a device's
command acks arrive on the same link as its readings.
"""

from __future__ import annotations

import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridcoop.hardware_bridge.codec import COMMAND_PORT
from gridcoop.hardware_bridge.command_codec import encode_command
from gridcoop.hardware_bridge.errors import CommandError, TransportError, UnknownDeviceError
from gridcoop.hardware_bridge.ingest import DeviceAck, Ingest, Uplink
from gridcoop.hardware_bridge.pending import PendingCommands
from gridcoop.hardware_bridge.readings import Command, CommandAck, MeterReading
from gridcoop.hardware_bridge.registry import Device, DeviceRegistry, coerce_registry
from gridcoop.hardware_bridge.replay_guard import ReplayGuard

RegistryLike = DeviceRegistry | str | Path | list[dict[str, Any]]


class HardwareBridge(ABC):
    """Base of the serial, ChirpStack and TTN bridges (MeterSource + CommandSink)."""

    network = "hardware"

    def __init__(
        self,
        registry: RegistryLike,
        *,
        guard: ReplayGuard | str | Path | None = None,
        clock: Callable[[], float] = time.time,
        ack_timeout_s: float = 1800.0,
        align_to_interval: bool = False,
        accept_unauthenticated: bool = False,
    ) -> None:
        self.registry = coerce_registry(registry)
        self._owns_guard = not isinstance(guard, ReplayGuard)
        self.guard = guard if isinstance(guard, ReplayGuard) else ReplayGuard(guard or ":memory:")
        self.ingest = Ingest(
            self.registry,
            self.guard,
            align_to_interval=align_to_interval,
            accept_unauthenticated=accept_unauthenticated,
        )
        self.pending = PendingCommands(ack_timeout_s)
        self.clock = clock
        self._held: list[MeterReading] = []
        self._acks: list[CommandAck] = []
        self._lock = threading.RLock()
        self._closed = False

    # -- subclass hooks --------------------------------------------------------------
    @abstractmethod
    def _pump(self) -> None:
        """Move every frame received so far through ``_accept``."""

    def _correlation_id(self, device: Device, command: Command) -> str:
        """A unique id the network server echoes back with its outcome."""
        return str(uuid.uuid4())

    @abstractmethod
    def _transmit(self, device: Device, command: Command, payload: bytes, corr_id: str) -> None:
        """Hand one encoded command to the transport; raise ``TransportError`` if it cannot."""

    # -- shared behaviour ------------------------------------------------------------
    def _accept(self, up: Uplink) -> None:
        result = self.ingest.process(up)
        if isinstance(result, MeterReading):
            self._held.append(result)
        elif isinstance(result, DeviceAck):
            ack = self.pending.device_ack(result.meter_id, result.frame)
            if ack is not None:
                self._acks.append(ack)

    def poll(self, until_s: int) -> list[MeterReading]:
        """Accepted readings whose interval ended at or before ``until_s``."""
        with self._lock:
            self._pump()
            self.guard.commit()
            ready = [r for r in self._held if r.interval_start_s + r.interval_s <= until_s]
            if ready:
                self._held = [r for r in self._held if r.interval_start_s + r.interval_s > until_s]
            return ready

    def drain(self) -> list[MeterReading]:
        """Every accepted reading so far, whatever its time (tests, benchmarks, tools)."""
        with self._lock:
            self._pump()
            self.guard.commit()
            out, self._held = self._held, []
            return out

    def send(self, command: Command) -> None:
        """Encode (with the device's key, so the device can authenticate it) and transmit.

        Raises ``CommandError`` for a bad command or an unknown device; a transport
        failure is not raised but reported as a "nacked" outcome by ``acks``.
        """
        with self._lock:
            try:
                device = self.registry.resolve(command.device_id)
            except UnknownDeviceError as exc:
                raise CommandError(str(exc)) from exc
            payload = encode_command(command, key=device.key, dev_eui=device.eui)
            correlation_id = self._correlation_id(device, command)
            self.pending.add(command, device.eui, correlation_id, self.clock())
            try:
                self._transmit(device, command, payload, correlation_id)
            except TransportError as exc:  # reported like any other outcome, never lost
                failed = self.pending.fail(correlation_id, str(exc))
                if failed is not None:
                    self._acks.append(failed)
            except CommandError:
                self.pending.fail(correlation_id, "not sent")
                raise

    def acks(self) -> list[CommandAck]:
        """Outcomes decided since the last call (device acks, network results, timeouts)."""
        with self._lock:
            self._pump()
            self._acks.extend(self.pending.expire(self.clock()))
            out, self._acks = self._acks, []
            return out

    def stats(self) -> dict[str, int]:
        """Counters: accepted, rejected.<reason>, lost_readings, joins, reboots, ...

        Frames received so far are processed first (accepted readings stay held for
        the next ``poll``), so the counters are current.
        """
        with self._lock:
            self._pump()
            counters = dict(self.guard.counters)
            counters["pending_commands"] = len(self.pending)
            counters["unmatched_acks"] = self.pending.unmatched
            return counters

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._close_transport()
            if self._owns_guard:
                self.guard.close()
            else:
                self.guard.commit()

    @abstractmethod
    def _close_transport(self) -> None:
        """Release the transport (subclasses)."""

    def __enter__(self) -> HardwareBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def command_port() -> int:
        return COMMAND_PORT
