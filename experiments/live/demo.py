"""``gridcoop live demo``: a whole live community on one machine, in one command.

What runs: a private Mosquitto broker on a free loopback port, the ChirpStack
device simulator publishing two meters' LoRaWAN uplinks to it (and answering
downlinks), and the live community (a ten-household neighbourhood market whose
members ``h00`` and ``h01`` are measured by those two meters) with its page.
Everything it writes goes into one folder of the user's (the config, the
device registry, the ledger, the broker's files), never into the package.
Ctrl-C stops the page, then the community after its current interval, then
the simulator and the broker; the same folder can be inspected afterwards
(``gridcoop ledger verify DIR/ledger.sqlite``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker

DEMO_METERS = 2
INTERVAL_S = 300
"""Five-minute intervals: the shortest a LoRa meter at DR0 may send is 181 s."""


@dataclass
class Demo:
    """The running pieces of a demo, and the config that describes them."""

    config_path: Path
    broker: MosquittoBroker
    simulator: DeviceSimulator


def demo_config(workdir: Path, broker: MosquittoBroker, simulator: DeviceSimulator,
                speedup: float) -> Path:
    """Write ``devices.yaml`` and ``live.yaml`` into ``workdir``; returns the config's path."""
    simulator.registry.dump(workdir / "devices.yaml")
    data: dict[str, Any] = {
        "community": {
            "name": "demo", "seed": 1, "simulated_meters": 2, "simulated_mean_w": 600,
            "meters": [{"node": f"lab-{i + 1}", "device": simulator.devices[i].eui,
                        "source": "demo-lns", "member": f"h{i:02d}"}
                       for i in range(len(simulator.devices))],
            "model": {"scenario": "neighbourhood", "days": 7,
                      "params": {"households": 10, "regions": 2}}},
        "sources": {"demo-lns": {"kind": "chirpstack", "registry": "devices.yaml",
                                 "host": broker.host, "port": broker.port,
                                 "application_id": simulator.application_id}},
        "clock": {"metering_minutes": INTERVAL_S // 60, "market_minutes": 15,
                  "speedup": speedup, "epoch_s": 0, "start_unix_s": time.time(),
                  "grace_s": INTERVAL_S // 2},
        "ledger": {"path": "ledger.sqlite", "signing": "block"},
    }
    path = workdir / "live.yaml"
    path.write_text("# written by `gridcoop live demo`; paths are relative to this file\n"
                    + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def running_demo(workdir: Path, speedup: float) -> Iterator[Demo]:
    """Broker and device simulator running, the config written; all stopped on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("ledger.sqlite*"):  # a demo starts a fresh community
        stale.unlink()
    with MosquittoBroker(workdir=workdir / "broker") as broker:
        simulator = DeviceSimulator("chirpstack", broker=broker.address, meters=DEMO_METERS,
                                    interval_s=INTERVAL_S, seed=3, start_s=0,
                                    client_id=f"gridcoop-demo-devices-{time.monotonic_ns()}")
        stop = threading.Event()
        thread = threading.Thread(target=lambda: simulator.run(None, speedup=speedup, stop=stop),
                                  name="gridcoop-demo-devices", daemon=True)
        try:
            simulator.start()
            config = demo_config(workdir, broker, simulator, speedup)
            thread.start()
            yield Demo(config, broker, simulator)
        finally:
            stop.set()
            if thread.is_alive():
                thread.join(timeout=10)
            simulator.close()
