"""Benchmark of live mode: how many meters one live process settles on time.

For each metering interval (15 and 5 min with the meters at DR0, and 1 min at
DR5: at DR0 the 1 % duty cycle allows a 20-byte frame only every 181 s) and
fleet size N, the device simulator publishes rounds of N
signed ChirpStack uplinks through a private Mosquitto; the live runner
(ChirpStack bridge, replay guard, per-meter decisions, ``full``-signed ledger
with one attestation per meter, one block per interval) settles each
interval. ``step_s`` is the wall time from a round's publication to its sealed
block; a size *holds* when every step fits in the real interval. Reports the
largest size that holds, up to 10,000 (``quick``: 50 and 200 meters).

``model``: the community model inside live mode (no hardware needed): the wall
time of one live interval's model step (neighbourhood of N households, one
real meter, 15-minute metering, one day), and how fast a restart replays the
recorded day into a fresh model ledger (intervals per second, heads checked).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from gridcoop.experiments.live.community import LiveCommunity
from gridcoop.experiments.live.config import load_config, parse_config
from gridcoop.experiments.live.journal import Interval
from gridcoop.experiments.live.runner import LiveRunner
from gridcoop.hardware_bridge.device_simulator import DeviceSimulator
from gridcoop.hardware_bridge.mosquitto import MosquittoBroker, find_mosquitto

ROUNDS = 3


def _one(broker: MosquittoBroker, meters: int, interval_s: int, folder: Path) -> dict[str, Any]:
    # A 20-byte frame fits the 1 % duty cycle every 181 s at DR0 (SF12) but every 6 s at
    # DR5 (SF7): the 1-minute case uses DR5, as a campus gateway close by allows.
    sim = DeviceSimulator("chirpstack", broker=broker.address, meters=meters,
                          interval_s=interval_s, dr=0 if interval_s >= 181 else 5,
                          seed=5, start_s=0,
                          client_id=f"bench-devsim-{meters}-{interval_s}").start()
    sim.registry.dump(folder / "devices.yaml")
    config = {
        "community": {"name": "bench", "meters": [
            {"node": f"n{i:05d}", "device": d.eui, "source": "lns"}
            for i, d in enumerate(sim.devices)]},
        "sources": {"lns": {"kind": "chirpstack", "registry": "devices.yaml",
                            "host": broker.host, "port": broker.port,
                            "client_id": f"bench-live-{meters}-{interval_s}"}},
        "clock": {"metering_minutes": interval_s // 60, "speedup": 1e6, "epoch_s": 0,
                  "start_unix_s": time.time() - 1e4, "grace_s": 0},
        "ledger": {"path": "ledger.sqlite", "signing": "full"}}
    (folder / "live.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    started = time.perf_counter()
    runner = LiveRunner(load_config(folder / "live.yaml"))
    setup_s = time.perf_counter() - started
    steps: list[float] = []
    try:
        source = runner.sources["lns"]
        for _ in range(ROUNDS):
            messages = sim.build_round()
            t0 = time.perf_counter()
            want = source.stats().get("accepted", 0) + len(messages)
            sim.publish_messages(messages)
            while source.stats().get("accepted", 0) < want and time.perf_counter() - t0 < 120:
                time.sleep(0.01)
            row = runner.step(runner.next_step)
            steps.append(time.perf_counter() - t0)
            if row["estimated"]:
                raise RuntimeError(f"{row['estimated']} meters missed their interval")
    finally:
        runner.close()
        sim.close()
    return {"meters": meters, "interval_s": interval_s, "setup_s": round(setup_s, 2),
            "max_step_s": round(max(steps), 3), "holds": max(steps) < interval_s}


def _model(households: int, folder: Path) -> dict[str, Any]:
    config = parse_config({
        "community": {"name": "bench", "seed": 1, "model": {
            "scenario": "neighbourhood", "days": 2, "params": {"households": households}},
            "meters": [{"node": "lab", "device": "70b3d57ed0000001", "source": "lns",
                        "member": f"h{1:0{len(str(households))}d}"}]},  # h1, h001, ...
        "sources": {"lns": {"kind": "chirpstack", "registry": "devices.yaml"}},
        "clock": {"metering_minutes": 15, "market_minutes": 60, "epoch_s": 0},
        "ledger": {"path": "ledger.sqlite", "signing": "full"}}, folder)
    steps = 96

    def inputs(k: int) -> list[Interval]:
        return [Interval("lab", k * 900, 900, 150, 0, k + 1)]

    live = LiveCommunity(config, folder / "ledger.sqlite", 0)
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        live.advance(k, inputs(k), [])
        times.append(time.perf_counter() - t0)
    live.close()
    t0 = time.perf_counter()
    again = LiveCommunity(config, folder / "ledger.sqlite", 0)
    for k in range(steps):
        again.advance(k, inputs(k), [], replay=True)
    replay_s = time.perf_counter() - t0
    again.close()
    return {"households": households, "mean_step_ms": round(1000 * sum(times) / steps, 1),
            "max_step_ms": round(1000 * max(times), 1),
            "replay_intervals_per_s": round(steps / replay_s, 1)}


def run(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"model": []}
    for households in ([50] if quick else [100, 1_000]):
        with tempfile.TemporaryDirectory(prefix="gridcoop-bench-live-model-") as tmp:
            out["model"].append(_model(households, Path(tmp)))
    if find_mosquitto() is None:
        return {**out, "skipped": "mosquitto is not installed"}
    sizes = [50, 200] if quick else [100, 1_000, 10_000]
    with MosquittoBroker() as broker:
        for interval_s in (900, 300, 60):
            rows = []
            for meters in sizes:
                with tempfile.TemporaryDirectory(prefix="gridcoop-bench-live-") as tmp:
                    rows.append(_one(broker, meters, interval_s, Path(tmp)))
            held = [r["meters"] for r in rows if r["holds"]]
            out[f"interval_{interval_s}s"] = {"largest_meters_on_time": max(held, default=0),
                                              "runs": rows}
    return out
