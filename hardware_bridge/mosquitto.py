"""A private Mosquitto broker on a free loopback port (tests, benchmarks, demos).

Why our own process: the system broker may hold 1883 or not run at all, tests
must not share state with it, and the broker-restart test needs a broker it
can stop and start again on the same port with its persistence file, so
QoS 1 sessions survive the restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from gridcoop.hardware_bridge.errors import TransportError

SEARCH_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((path for path in SEARCH_PATHS if os.access(path, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MosquittoBroker:
    """``mosquitto -c <config>`` bound to 127.0.0.1 on a free port; stop/start/restart."""

    def __init__(
        self,
        *,
        port: int | None = None,
        persistence: bool = False,
        workdir: str | Path | None = None,
        executable: str | None = None,
    ) -> None:
        exe = executable or find_mosquitto()
        if exe is None:
            raise TransportError("mosquitto is not installed; apt-get install mosquitto")
        self.executable = exe
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="gridcoop-mqtt-")
        self.workdir = Path(workdir or self._tmp.name)  # type: ignore[union-attr]
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.persistence = persistence
        self.config_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "max_queued_messages 0",  # unlimited: a slow subscriber must not lose QoS 1 frames
            "max_inflight_messages 1000",
            "set_tcp_nodelay true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            "log_type error",
            "log_type warning",
            f"log_dest file {self.log_path}",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise it drops to 'mosquitto' and cannot write here
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self, timeout_s: float = 10.0) -> MosquittoBroker:
        if self._process is not None and self._process.poll() is None:
            return self
        self._process = subprocess.Popen(
            [self.executable, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise TransportError(
                    f"mosquitto exited with {self._process.returncode}; see {self.log_path}"
                )
            try:
                socket.create_connection((self.host, self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TransportError(f"mosquitto did not listen on {self.address} in {timeout_s:g} s")

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its persistence file on the way out."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        if down_s:
            time.sleep(down_s)
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
