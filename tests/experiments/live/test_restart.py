"""SIGKILL the live process mid-run and start it again: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest

from experiments.live.journal import journal_rows, unpack_counter
from hardware_bridge.mosquitto import MosquittoBroker
from ledger.ledger import Ledger

from .conftest import INTERVAL_S, SPEEDUP, make_simulator, wait_for, write_config

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[3]


def _height(path: Path) -> int:
    if not path.exists():
        return 0
    book = Ledger.open(path, readonly=True)
    try:
        return book.height
    finally:
        book.close()


def _live(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "experiments.cli", "live", str(config), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_sigkill_and_restart_continue_the_ledger(broker: MosquittoBroker, tmp_path: Path) -> None:
    sim = make_simulator(broker, meters=3)
    start = time.time() + 1.0
    path = write_config(tmp_path, broker, sim, real=3, simulated=2, start_unix_s=start,
                        rules=[{"threshold_kw": 0.1, "node": "h002", "appliance": 1}])
    ledger_path = tmp_path / "ledger.sqlite"
    stop = threading.Event()

    def pace() -> None:
        time.sleep(max(0.0, start - time.time()))
        sim.run(speedup=SPEEDUP, stop=stop)

    pacer = threading.Thread(target=pace)
    pacer.start()
    try:
        first = _live(path)
        try:
            wait_for(lambda: _height(ledger_path) >= 6, 60, "six intervals before the kill")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        killed_at = _height(ledger_path)
        second = _live(path, "--steps", "10")
        out, _ = second.communicate(timeout=90)
        assert second.returncode == 0, out.decode()
        assert b"resumed from" in out
    finally:
        stop.set()
        pacer.join(10)
        sim.close()
    book = Ledger.open(ledger_path, readonly=True)
    try:
        assert book.verify().ok
        # one block per interval after the registration block, no gap, no repeat
        assert book.height == killed_at + 10
        times = [b.header.time_s for b in book.blocks(1)]
        assert times[1:] == [INTERVAL_S * (k + 1) for k in range(len(times) - 1)]
    finally:
        book.close()
    rows = journal_rows(ledger_path)
    meters = {r["issuer"] for r in rows
              if r["kind"] == "meter_attestation" and r["counter"] > 1 << 48}
    assert len(meters) == 3
    for meter in meters:
        mine = [r for r in rows if r["kind"] == "meter_attestation" and r["issuer"] == meter]
        # contiguous spans: each measured reading starts where the previous one ended
        assert all(a["start_s"] + a["span_s"] == b["start_s"] for a, b in pairwise(mine))
        # nothing lost or doubled: the recorded energy equals the device's own counter
        _, _, energy_vah = unpack_counter(mine[-1]["counter"])
        assert sum(r["import_wh"] for r in mine) == energy_vah
    commands = [r["appliance"] for r in rows if r["kind"] == "dr_command"]
    assert commands[0] == "a1/cmd0/off"
