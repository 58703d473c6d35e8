"""Run one built-in scenario for one seed and keep what the comparisons need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

# One core per run, as in a sweep: the results do not depend on these options.
RUN_OPTIONS: dict[str, Any] = {"replicas": "shared", "ledger_workers": 0}


@dataclass
class Run:
    """A finished run: its summary, its tables and the extensions' own figures."""

    scenario: str
    seed: int
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    extensions: tuple[Any, ...]
    folder: Path
    steps_per_day: int


def run_case(scenario: str, seed: int, folder: Path, **overrides: Any) -> Run:
    """Run ``scenario`` with ``seed`` (and overrides), writing its outputs to ``folder``."""
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.agents.model.outputs import tables
    from gridcoop.experiments.commands.run import write_outputs
    from gridcoop.experiments.scenarios import load_scenario

    kind, params = load_scenario(scenario, (), seed=seed, **overrides)
    folder.mkdir(parents=True, exist_ok=True)
    ledger = folder / "ledger.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    model = CommunityModel(kind, ledger_path=str(ledger), **RUN_OPTIONS, **params)
    try:
        summary = model.run()
        write_outputs(model, summary, folder)
        return Run(scenario, seed, summary, tables(model), tuple(model.extensions), folder,
                   model.clock.steps_per_day)
    finally:
        model.close()
