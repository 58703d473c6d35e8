"""``gridcoop bench dr``: the large DR community and campus-footprint, wall time and ledger rate.

Why these two: they write the most ledger transactions per simulated hour of
the DR/campus kinds (a command and its outcome per appliance and event; a
token mint per person and interval). Figures: wall time of the whole run
(construction included), ledger transactions written during the run, and
transactions per second sustained over the run's wall time.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import gridcoop.experiments.scenarios  # noqa: F401  (registers the campus-case kinds)
from gridcoop.agents.model.community import CommunityModel


def _measure(kind: str, **params: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        model = CommunityModel(kind, ledger_path=Path(tmp) / "ledger.sqlite", **params)
        try:
            tx_before = _tx_count(model)
            summary = model.run()
            wall_s = time.perf_counter() - start
            txs = _tx_count(model) - tx_before
            report = model.accounts.ledger.verify()
        finally:
            model.close()
    figures = {"wall_s": round(wall_s, 2), "ledger_txs": txs,
               "ledger_txs_per_s": round(txs / wall_s, 1), "blocks": summary["ledger_height"] + 1,
               "verified": bool(getattr(report, "ok", True))}
    figures.update({k: v for k, v in summary.items()
                    if k.startswith(("dr_", "footprint_")) and not isinstance(v, float)})
    return figures


def _tx_count(model: CommunityModel) -> int:
    ledger = model.accounts.ledger
    return sum(block.header.tx_count for block in ledger.blocks()) + len(
        getattr(ledger, "_pending", []) or [])


def run(quick: bool) -> dict[str, Any]:
    """Large DR community (1,000 households, 8 RAs, 1 day) and campus-footprint (1,000
    students, 91 days); quick: 100 households in 4 RAs for a day, 200 students for 7 days."""
    if quick:
        dr = _measure("dr-community-large", dr_households=100, aggregators=4, days=1)
        fp = _measure("campus-footprint", students=200, teachers=8, days=7)
    else:
        dr = _measure("dr-community-large", dr_households=1000, aggregators=8, days=1)
        fp = _measure("campus-footprint", students=1000, teachers=24, days=91)
    return {**{f"dr_large.{k}": v for k, v in dr.items()},
            **{f"campus_footprint.{k}": v for k, v in fp.items()}}
