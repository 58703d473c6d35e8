"""Benchmarks printed by ``gridcoop bench``.

Each suite is a module exposing ``run(quick: bool) -> dict[str, object]`` that
returns its figures (flat or nested JSON-able values). Suites register here by
name; ``gridcoop bench NAME`` runs one, ``gridcoop bench`` runs them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

SUITES: dict[str, str] = {
    "market": "gridcoop.experiments.bench.market",
    "model": "gridcoop.experiments.bench.model",
    "ledger": "gridcoop.experiments.bench.ledger",
    "bus": "gridcoop.experiments.bench.bus",
    "bridge": "gridcoop.experiments.bench.bridge",
    "viz": "gridcoop.experiments.bench.viz",
    "batch": "gridcoop.experiments.bench.batch",
    "processes": "gridcoop.experiments.bench.processes",
    "live": "gridcoop.experiments.bench.live",
    "dr": "gridcoop.experiments.bench.dr",
    "ev": "gridcoop.experiments.bench.ev",
    "chaos": "gridcoop.experiments.bench.chaos",
    "learning": "gridcoop.experiments.bench.learning",
    "peers": "gridcoop.experiments.bench.peers",
    "footprint": "gridcoop.experiments.bench.footprint",
    "scale": "gridcoop.experiments.bench.scale",
}


def load_suite(name: str) -> Callable[[bool], dict[str, Any]]:
    """Import one suite's ``run`` function."""
    if name not in SUITES:
        known = ", ".join(sorted(SUITES))
        raise KeyError(f"unknown benchmark suite {name!r}; known suites: {known}")
    module = importlib.import_module(SUITES[name])
    run: Callable[[bool], dict[str, Any]] = module.run
    return run
