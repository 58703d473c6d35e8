"""`gridcoop live CONFIG --viz` in headless Chromium: the page shows the live model's ledger.

Mosquitto, the device simulator and the live process are real; the runner
stops after 3 intervals (the page keeps serving), so the head it shows is final.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gridcoop.hardware_bridge.mosquitto import MosquittoBroker
from tests.experiments.viz.conftest import (  # noqa: F401  (pytest fixtures)
    ARTIFACTS,
    browser_page,
    chromium,
    free_port,
    start_server,
)

from .conftest import SPEEDUP, make_simulator, wait_for, write_config

pytestmark = [pytest.mark.broker, pytest.mark.browser, pytest.mark.slow]
MODEL = {"scenario": "neighbourhood", "days": 1, "params": {"households": 8, "regions": 2}}
TIMEOUT_MS = 60_000


def test_the_live_page_shows_the_live_model(broker: MosquittoBroker, browser_page: Any,  # noqa: F811
                                            tmp_path: Path) -> None:
    sim = make_simulator(broker, meters=2)
    start = time.time() + 1.0
    path = write_config(tmp_path, broker, sim, real=2, start_unix_s=start, model=MODEL)
    heads = tmp_path / "ledger.model-heads.jsonl"
    stop = threading.Event()

    def pace() -> None:
        time.sleep(max(0.0, start - time.time()))
        sim.run(speedup=SPEEDUP, stop=stop)

    pacer = threading.Thread(target=pace)
    pacer.start()
    port = free_port()
    server = start_server([sys.executable, "-m", "gridcoop.experiments.cli", "live", str(path),
                           "--viz",
                           "--steps", "3", "--port", str(port)],
                          ARTIFACTS / "gridcoop-live-viz.log", port)
    try:
        wait_for(lambda: heads.exists() and len(heads.read_text().splitlines()) == 3, 60,
                 "three intervals")
        head = json.loads(heads.read_text().splitlines()[-1])["head"]
        page = browser_page
        server.open(page, TIMEOUT_MS)
        page.get_by_role("button", name="Step").wait_for(timeout=TIMEOUT_MS)
        page.locator(".gridcoop-ledger").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Step").click()  # fetch the newest interval
        page.locator(".gridcoop-ledger").get_by_text(f"head {head}").wait_for(timeout=TIMEOUT_MS)
        # the page says it is live, and counts the live model's intervals, not its own clicks
        assert page.locator(".gridcoop-live-badge").inner_text().startswith("LIVE")
        steps = page.locator(".gridcoop-live-steps").inner_text()
        assert steps.startswith("Live interval: ") and int(steps.split(": ")[1]) >= 3, steps
        assert page.problems == []
        page.screenshot(path=str(ARTIFACTS / "live-page.png"), full_page=True)
    finally:
        server.stop()
        stop.set()
        pacer.join(10)
        sim.close()
