"""An Arduino meter on USB serial (or any pyserial URL: ``loop://``, a pty, ``socket://``).

Why a reader thread: the port must be drained continuously (a UART or pty has a
small buffer) and re-opened after the cable is pulled, whether or not the model
is polling. The thread only moves lines into a queue; parsing, checks and state
stay on the caller's thread.

Reset on open: opening the port resets an Uno (DTR), and bytes queued before the
reset are stale, so lines are ignored after each open until the ``#BOOT`` banner
arrives or ``reset_wait_s`` has passed (boards that do not reset).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import Counter
from typing import Any

import serial

from gridcoop.hardware_bridge.bridge_base import HardwareBridge, RegistryLike
from gridcoop.hardware_bridge.codec import COMMAND_PORT
from gridcoop.hardware_bridge.errors import MalformedMessageError, TransportError
from gridcoop.hardware_bridge.ingest import Uplink
from gridcoop.hardware_bridge.readings import Command
from gridcoop.hardware_bridge.registry import Device
from gridcoop.hardware_bridge.serial_protocol import (
    BannerLine,
    DownlinkLine,
    FrameLine,
    LineSplitter,
    format_downlink,
    parse_line,
)


class SerialMeterSource(HardwareBridge):
    """Readings from (and commands to) meters on one serial port."""

    network = "serial"

    def __init__(
        self,
        url: str,
        registry: RegistryLike,
        *,
        baud: int = 115_200,
        reset_wait_s: float = 2.0,
        reconnect_s: float = 1.0,
        read_timeout_s: float = 0.05,
        **bridge_options: Any,
    ) -> None:
        super().__init__(registry, **bridge_options)
        self.url = url
        self.baud = baud
        self.reset_wait_s = reset_wait_s
        self.reconnect_s = reconnect_s
        self.read_timeout_s = read_timeout_s
        self.line_stats: Counter[str] = Counter()
        self.banners: list[dict[str, str]] = []
        self._lines: queue.SimpleQueue[tuple[int, float, bytes]] = queue.SimpleQueue()
        self._port: serial.SerialBase | None = None
        self._port_lock = threading.Lock()
        self._generation = 0  # increments at each (re)open
        self._open_at: dict[int, float] = {}
        self._banner_seen: set[int] = set()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"serial:{url}", daemon=True)
        self._thread.start()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    # -- reader thread ---------------------------------------------------------------
    def _open(self) -> serial.SerialBase:
        port = serial.serial_for_url(self.url, baudrate=self.baud, timeout=self.read_timeout_s)
        with self._port_lock:
            self._port = port
            self._generation += 1
            self._open_at[self._generation] = time.monotonic()
        self.line_stats["opens"] += 1
        self._connected.set()
        return port

    def _run(self) -> None:
        splitter = LineSplitter()
        while not self._stop.is_set():
            try:
                port = self._open()
            except (serial.SerialException, OSError, ValueError):
                self.line_stats["open_failures"] += 1
                self._stop.wait(self.reconnect_s)
                continue
            splitter.reset()
            generation = self._generation
            try:
                while not self._stop.is_set():
                    data = port.read(max(1, port.in_waiting))
                    if data:
                        now = self.clock()
                        for line in splitter.feed(data):
                            self._lines.put((generation, now, line))
            except (serial.SerialException, OSError, TypeError, AttributeError):
                self.line_stats["disconnects"] += 1  # unplugged: reopen after a pause
            finally:
                self._connected.clear()
                with self._port_lock:
                    self._port = None
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
            self._stop.wait(self.reconnect_s)

    # -- caller side -----------------------------------------------------------------
    def _pump(self) -> None:
        while True:
            try:
                generation, received_s, raw = self._lines.get_nowait()
            except queue.Empty:
                return
            self._handle_line(generation, received_s, raw)

    def _handle_line(self, generation: int, received_s: float, raw: bytes) -> None:
        try:
            line, resynced = parse_line(raw)
        except MalformedMessageError as exc:
            reason = "checksum" if "checksum" in str(exc) else "malformed"
            self.line_stats[f"bad_lines.{reason}"] += 1
            return
        if resynced:
            self.line_stats["resynced_lines"] += 1
        if isinstance(line, BannerLine):
            self._banner_seen.add(generation)
            self.banners.append(line.fields)
            self.line_stats["banners"] += 1
            return
        if not isinstance(line, FrameLine):
            if isinstance(line, DownlinkLine):
                self.line_stats["echoed_downlinks"] += 1
            return
        opened = self._open_at.get(generation, 0.0)
        waiting = time.monotonic() - opened < self.reset_wait_s
        if generation not in self._banner_seen and waiting:
            self.line_stats["stale_lines_after_open"] += 1
            return
        self.line_stats["frames"] += 1
        self._accept(Uplink(line.dev_eui, line.f_port, line.payload, "serial", received_s))

    def _transmit(self, device: Device, command: Command, payload: bytes, corr_id: str) -> None:
        with self._port_lock:
            port = self._port
            if port is None:
                raise TransportError(
                    f"serial port {self.url} is not connected; the command was not sent, "
                    "retry when the meter is plugged in"
                )
            try:
                port.write(format_downlink(COMMAND_PORT, payload))
            except (serial.SerialException, OSError) as exc:
                raise TransportError(f"writing to {self.url} failed: {exc}") from exc

    def stats(self) -> dict[str, int]:
        counters = super().stats()
        counters.update({f"serial.{k}": v for k, v in self.line_stats.items()})
        return counters

    def _close_transport(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
