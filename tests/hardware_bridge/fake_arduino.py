"""An Arduino-like device on a pty pair, for serial tests (and live-mode tests elsewhere).

It writes what the firmware writes (CRLF lines, a ``#BOOT`` banner after each
reset, ``U,...`` frames signed with the device key), reads ``D,...`` command
lines and answers with ack frames, can be reset mid-line, and can be
"unplugged" and plugged back in under the same path (a symlink to a new pty).
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from pathlib import Path

from gridcoop.hardware_bridge.appliances import RESULT_BAD_ARG, ApplianceState
from gridcoop.hardware_bridge.codec import AckFrame, MeterFrame, encode_ack, encode_reading
from gridcoop.hardware_bridge.command_codec import decode_command
from gridcoop.hardware_bridge.errors import PayloadError
from gridcoop.hardware_bridge.serial_protocol import (
    DownlinkLine,
    LineSplitter,
    format_banner,
    format_uplink,
    parse_line,
)


class FakeArduino:
    """One meter behind a pty; ``path`` is a stable symlink, like /dev/ttyACM0."""

    def __init__(self, link: Path, eui: str, key: bytes, *, boot: int = 3) -> None:
        self.link = link
        self.eui = eui
        self.key = key
        self.boot = boot
        self.seq = 0
        self.energy_vah = 0
        self.state = ApplianceState()
        self.commands: list[bytes] = []
        self._lock = threading.Lock()
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._plug()
        self._thread = threading.Thread(target=self._read_commands, daemon=True)
        self._thread.start()

    @property
    def path(self) -> str:
        return str(self.link)

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # what pyserial does on open; keeps '\r' intact
        tmp = self.link.with_suffix(".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)
        with self._lock:
            self._master, self._slave = master, slave

    def unplug(self) -> None:
        """The USB cable is pulled: the host's reads fail."""
        with self._lock:
            master, slave = self._master, self._slave
            self._master = self._slave = -1
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def plug_in(self) -> None:
        """The cable is back: a new tty under the same path (call ``reset`` once the host
        has opened it: that is when a real Uno restarts)."""
        self._plug()

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._master >= 0:
                os.write(self._master, data)

    def reset(self, *, cut_line: bytes = b"", newline_first: bool = True) -> None:
        """Restart: the boot counter goes up, seq and energy start again."""
        self.boot = (self.boot + 1) % 256
        self.seq = 0
        self.energy_vah = 0
        self.write(cut_line + (b"\r\n" if newline_first else b"") + self.banner())

    def banner(self) -> bytes:
        return format_banner(fw="1.0.0", eui=self.eui, boot=self.boot, ical=60.606, vnom=230)

    def reading_line(self, energy_step_vah: int = 242) -> bytes:
        self.energy_vah += energy_step_vah
        frame = MeterFrame(
            boot=self.boot,
            seq=self.seq,
            energy_vah=self.energy_vah,
            irms_ca=421,
            s_avg_va=968,
            s_max_va=2310,
            interval_min=15,
            relay_on=True,
        )
        self.seq += 1
        payload = encode_reading(frame, dev_eui=self.eui, key=self.key)
        return format_uplink(self.eui, 10, payload)

    def send_reading(self, energy_step_vah: int = 242) -> bytes:
        line = self.reading_line(energy_step_vah)
        self.write(line)
        return line

    def _read_commands(self) -> None:
        splitter = LineSplitter()
        while not self._stop.is_set():
            with self._lock:
                master = self._master
            if master < 0:
                self._stop.wait(0.02)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                data = os.read(master, 1024) if ready else b""
            except OSError:
                self._stop.wait(0.02)
                continue
            for raw in splitter.feed(data):
                self._answer(raw)

    def _answer(self, raw: bytes) -> None:
        try:
            line, _ = parse_line(raw)
        except PayloadError:
            return
        if not isinstance(line, DownlinkLine):
            return
        self.commands.append(line.payload)
        cmd_id = int.from_bytes(line.payload[2:4], "big") if len(line.payload) >= 4 else 0
        try:
            cmd = decode_command(line.payload, dev_eui=self.eui, key=self.key, require_mac=True)
            result, _ = self.state.apply(cmd, 0.0)
        except PayloadError:
            result = RESULT_BAD_ARG
        ack = encode_ack(AckFrame(cmd_id=cmd_id, result=result), dev_eui=self.eui, key=self.key)
        self.write(format_uplink(self.eui, 12, ack))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.unplug()
