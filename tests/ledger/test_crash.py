"""SIGKILL the writer at random points during appends; every committed block survives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gridcoop.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
KILLS = 24


def _run_and_kill(path: Path, signing: str, durability: str,
                  delay_s: float) -> list[tuple[int, str]]:
    """Start the writer, wait until it appends, SIGKILL it after ``delay_s``; return what it
    reported committed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "tests.ledger.crash_writer", str(path),
                                signing, durability],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    assert process.stdout is not None
    ready = process.stdout.readline()
    assert ready.startswith("ready"), (ready, process.stderr.read() if process.stderr else "")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout))  # type: ignore[arg-type]
    reader.start()
    time.sleep(delay_s)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    reader.join(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.stderr.read()  # type: ignore[union-attr]
    reported = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and len(parts[1]) == 64:  # a line cut by the kill is not a report
            reported.append((int(parts[0]), parts[1]))
    return reported


@pytest.mark.slow
@pytest.mark.parametrize(("signing", "durability"), [
    ("block", "power-safe"), ("full", "power-safe"), ("block", "simulation")])
def test_sigkill_during_appends_loses_no_committed_block(tmp_path: Path, signing: str,
                                                         durability: str) -> None:
    path = tmp_path / "ledger.sqlite"
    rng = random.Random(3)
    committed: dict[int, str] = {}
    for kill in range(KILLS):
        for height, block_hash in _run_and_kill(path, signing, durability,
                                                  rng.uniform(0.0, 0.4)):
            committed[height] = block_hash
        with Ledger.open(path, workers=0) as book:
            # every block the writer reported is there, unchanged, and the chain is whole
            assert book.height >= max(committed, default=0)
            for height, block_hash in committed.items():
                assert book.block(height).hash.hex() == block_hash
            if kill % 6 == 5:  # full re-verification now and then (it grows with the chain)
                report = book.verify()
                assert report.ok, report
    assert len(committed) > KILLS  # blocks were appended between the kills
