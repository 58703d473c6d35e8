"""``gridcoop bench viz``: what one step of the page costs on the server.

A 100-household ``neighbourhood`` (the page's default), stepped one interval
at a time; after each step every view-model is recomputed and every chart the
page shows is drawn to SVG, exactly as the Solara components do
(``gridcoop.experiments.viz.render.render_page``, the KPI tiles and the member
view). Two figures per step:

* ``step_and_redraw_ms``: as the page runs; a chart whose view did not change
  (prices between two auctions, tokens within a day) is not drawn again;
* ``step_and_full_redraw_ms``: every chart drawn after every step (the cache
  emptied first), the worst case.

The issue asks for at most 300 ms per step and redraw. Browser-side costs
(websocket transfer of the charts, the DOM update) are not in these figures.
The run starts at midnight; ``quick`` covers half a day, the full run two days
(every hour of PV, trading and billing).
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.viz.ledger_panel import ChainVerifier
from gridcoop.experiments.viz.overview import kpi_tiles, member_panel
from gridcoop.experiments.viz.protocol import PageSource
from gridcoop.experiments.viz.render import PageState, render_page
from gridcoop.experiments.viz.source import as_page_source

HOUSEHOLDS = 100
TARGET_MS = 300.0
SEED = 1


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _figures(times_s: list[float]) -> dict[str, float]:
    ms = [t * 1000 for t in times_s]
    return {"mean": statistics.fmean(ms), "median": statistics.median(ms),
            "p95": _percentile(ms, 0.95), "max": max(ms)}


def redraw(source: PageSource, state: PageState, verifier: ChainVerifier) -> None:
    """Everything the page recomputes after a step: the panels, the KPI tiles and the
    member view (of the first member, as the page opens it)."""
    render_page(source, state)
    kpi_tiles(source, verifier)
    member_panel(source, state, source.members()[0].member_id)


def _run(steps: int, full_redraw: bool) -> tuple[dict[str, float], dict[str, float], float]:
    model = CommunityModel("neighbourhood", households=HOUSEHOLDS, seed=SEED, days=3)
    try:
        source = as_page_source(model)
        state = PageState()
        verifier = ChainVerifier()
        redraw(source, state, verifier)  # the page's first paint: figures created
        total: list[float] = []
        step_only: list[float] = []
        for _ in range(steps):
            if full_redraw:
                state.panels.clear()
                state.charts.clear()
            draws = state.draws
            gc.collect()
            start = time.perf_counter()
            model.step()
            stepped = time.perf_counter()
            redraw(source, state, verifier)
            end = time.perf_counter()
            total.append(end - start)
            step_only.append(stepped - start)
            assert state.draws > draws  # the network and balance change every step
        charts_per_step = state.draws / (steps + 1)
        return _figures(total), _figures(step_only), charts_per_step
    finally:
        model.close()


def run(quick: bool) -> dict[str, Any]:
    """Per-step figures in milliseconds (mean, median, p95, max)."""
    steps = 48 if quick else 192
    as_page, step_only, charts = _run(steps, full_redraw=False)
    full, _, _ = _run(steps // 2, full_redraw=True)
    return {
        "households": HOUSEHOLDS,
        "steps": steps,
        "target_ms": TARGET_MS,
        "step_only_ms": step_only,
        "step_and_redraw_ms": as_page,
        "charts_drawn_per_step": round(charts, 2),
        "step_and_full_redraw_ms": full,
        "within_target": as_page["p95"] <= TARGET_MS and full["p95"] <= TARGET_MS,
    }
