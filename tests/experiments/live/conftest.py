"""Shared pieces of the live-mode tests: a private Mosquitto, a simulated fleet, a config.

Missing mosquitto skips the broker tests with a reason, except under CI=true
where they fail: CI must run everything.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker, find_mosquitto

IN_CI = os.environ.get("CI", "").lower() == "true"
INTERVAL_S = 300  # the shortest legal LoRa interval at DR0 is 181 s
SPEEDUP = 3000.0  # one 5-minute interval every 0.1 s of wall time


@pytest.fixture()
def broker() -> Iterator[MosquittoBroker]:
    if find_mosquitto() is None:
        message = "mosquitto is not installed (apt-get install mosquitto)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    with MosquittoBroker() as running:
        yield running


def make_simulator(broker: MosquittoBroker, meters: int, seed: int = 3) -> DeviceSimulator:
    return DeviceSimulator("chirpstack", broker=broker.address, meters=meters,
                           interval_s=INTERVAL_S, seed=seed, start_s=0,
                           client_id=f"devsim-{seed}-{time.monotonic_ns()}").start()


def write_config(tmp: Path, broker: MosquittoBroker, sim: DeviceSimulator, *, real: int,
                 simulated: int = 2, start_unix_s: float | None = None,
                 rules: list[dict[str, Any]] | None = None,
                 model: dict[str, Any] | None = None, **extra: Any) -> Path:
    """A live config; with ``model``, real meter ``h00i`` measures model member ``hi``."""
    sim.registry.dump(tmp / "devices.yaml")
    data: dict[str, Any] = {
        "community": {"name": "test", "seed": 1, "simulated_meters": simulated,
                      "meters": [{"node": f"h{i:03d}", "device": sim.devices[i].eui,
                                  "source": "lns"} for i in range(real)]},
        "sources": {"lns": {"kind": "chirpstack", "registry": "devices.yaml",
                            "host": broker.host, "port": broker.port,
                            "application_id": sim.application_id,
                            "client_id": f"live-{time.monotonic_ns()}"}},
        "clock": {"metering_minutes": INTERVAL_S // 60, "speedup": SPEEDUP, "epoch_s": 0,
                  "grace_s": INTERVAL_S // 2,
                  "start_unix_s": time.time() if start_unix_s is None else start_unix_s},
        "ledger": {"path": "ledger.sqlite", "signing": "block"},
        "commands": {"ack_timeout_s": 600, "rules": rules or []},
    }
    if model is not None:
        data["community"]["model"] = model
        for i, meter in enumerate(data["community"]["meters"]):
            meter["member"] = f"h{i}"
    data.update(extra)
    path = tmp / "live.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def command_log(rows: list[dict[str, Any]]) -> tuple[list[tuple[str, int, str]],
                                                     list[tuple[int, str, str]]]:
    """A live ledger's commands (appliance, command id, action) and outcomes (command id,
    outcome, via), from ``journal_rows``; an outcome names its command by txid."""
    sent = [r for r in rows if r["kind"] == "dr_command"]
    command_id = {r["txid"]: r["command_id"] for r in sent}
    return ([(r["appliance"], r["command_id"], r["action"]) for r in sent],
            [(command_id[r["command_txid"]], r["outcome"], r["via"]) for r in rows
             if r["kind"] == "dr_outcome"])
