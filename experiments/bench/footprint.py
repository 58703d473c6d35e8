"""Benchmark of the footprint case's burst: one interval's token requests arriving at once.

The pilot's worst case (its Figure 6) was about 180 requests from two
classrooms' card readers arriving at its server simultaneously. Here N
requests (half per classroom, a few hundred Wh each, within each room's
reading) are sent by card-reader processes over the bus (tcp, CurveZMQ) at
one signal to the token desk, which checks each, mints it on a ``full``-signed
ledger and seals the interval's block once all are answered
(:mod:`gridcoop.agents.mechanisms.campus.burst`). Figures per size: latency
from send to acceptance (mint applied to the open block) at p50/p95/max, to
the sealed block, requests accepted per second, and the counts (none lost,
none minted twice). ``quick``: 180 requests; otherwise 180 and 1,000.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from gridcoop.agents.mechanisms.campus.burst import Request, run_burst

SENDERS = 4
INTERVAL_S = 900
INTERVAL = 40  # 10:00-10:15 on the term's first day


def _burst(size: int, folder: Path) -> dict[str, Any]:
    people = [f"s{i:05d}" for i in range(1, max(size, 1000) + 1)]
    requests: list[Request] = [(f"room-{1 + n % 2}", INTERVAL, people[n], 200 + n % 300)
                               for n in range(size)]
    metered: dict[tuple[str, int], int] = {}
    for room, k, _, wh in requests:
        metered[(room, k)] = metered.get((room, k), 0) + wh
    return run_burst(requests, metered, people, INTERVAL_S, folder, senders=SENDERS).figures()


def run(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in [180] if quick else [180, 1000]:
        with tempfile.TemporaryDirectory(prefix="gridcoop-bench-footprint-") as tmp:
            out[f"burst_{size}"] = _burst(size, Path(tmp))
    return out
