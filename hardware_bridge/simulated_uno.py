"""The meter firmware's Uno ``.hex`` running in simavr, its serial port on a pty.

Why: the serial bridge and the Python codec are only proven against the meter
if they talk to the compiled firmware itself, byte for byte, as they would over
USB. ``SimulatedUno`` starts the harness (``firmware/simavr/uno_pty.c``, built by
:func:`gridcoop.hardware_bridge.firmware_build.build_simavr_harness`), which runs
the ``.hex`` on simavr's ATmega328P at 16 MHz with UART0 on a pseudo-terminal and
a 50 Hz current of ``amps_rms`` on the current-transformer input. The pty's path
is a device name any pyserial user (``SerialMeterSource``) opens.

``hold=True`` keeps the MCU in reset until the host first writes to the port, as
an Uno restarts when its port is opened: the host then reads the boot banner
whole. (pyserial empties the input when it opens a port, and a pty has no DTR
line to reset the board with.)
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from gridcoop.hardware_bridge.errors import TransportError


class SimulatedUno:
    """One simulated Uno; ``port`` is the pty path while it runs."""

    def __init__(
        self,
        harness: Path,
        hex_file: Path,
        *,
        amps_rms: float = 0.0,
        max_sim_s: float = 3600.0,
        hold: bool = False,
    ) -> None:
        self.command = [str(harness), str(hex_file), f"{amps_rms:.6f}", f"{max_sim_s:.0f}",
                        str(int(hold))]  # fmt: skip
        self.port = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 10.0) -> SimulatedUno:
        process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline()  # "PTY /dev/pts/N", printed before the MCU runs
        if not line.startswith("PTY "):
            self.close()
            raise TransportError(f"simavr harness did not start: {line!r}")
        self.port = line.split(maxsplit=1)[1].strip()
        return self

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def close(self) -> str:
        """Stop the simulation; returns what the harness wrote on stderr (crash reports)."""
        process, self._process = self._process, None
        if process is None:
            return ""
        if process.poll() is None:
            process.terminate()
        try:
            _, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        with contextlib.suppress(OSError):
            if process.stdout is not None:
                process.stdout.close()
        return err or ""

    def __enter__(self) -> SimulatedUno:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
