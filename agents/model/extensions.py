"""Community mechanisms plugged into the model's phases.

Why a hook object and not more branches in ``CommunityModel.step``: the EV
spinning-reserve community, the DR community and the campus gamification cases
each add behaviour at the same fixed points of a step (after the physics, before
a block is sealed, at the end of a day, at the end of the run) and each adds its
own KPIs, tables and files. The model calls every extension's hooks in the order
the scenario lists them, so a run stays deterministic, and the model itself
knows none of their details.

Extensions run in the model's (market) process in every run mode. They may
change the physics they step (EV V2G discharge, DR commands) and read the
meters' values (``model.last_import_wh``), so a multi-process run of a kind
with extensions keeps the physics with them and sends the workers the flows
(``gridcoop.agents.runtime.regions``); an extension needs no change to run
under ``--processes``.

A scenario kind names its extensions in its entry of
``gridcoop.agents.scenario.registry.KINDS``, next to its schema class.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from gridcoop.agents.model.community import CommunityModel


class CommunityExtension:
    """Base of every community mechanism; each hook's default does nothing.

    Hooks run inside the model's phases (docs/architecture.md, "One
    step"): ``after_physics`` in phase 2 once every node's physics has run for
    interval ``k``; ``before_seal`` in phase 4 just before the interval's block
    is sealed (write ledger transactions here so they land in that block);
    ``end_of_day`` after a simulated day's bills; ``finish`` after the last
    interval, before the final block.
    """

    name = "extension"

    def __init__(self, model: CommunityModel) -> None:
        self.model = model

    def after_physics(self, k: int) -> None:
        """Phase 2: the physics of interval ``k`` has run (flows are in the model's arrays)."""

    def before_seal(self, k: int, now_s: int) -> None:
        """Phase 4: record this interval's transactions; the block is sealed right after."""

    def end_of_day(self, day: int) -> None:
        """Day ``day`` (0-based) is over and billed."""

    def finish(self) -> None:
        """The run's last interval has been read and settled; the last block follows."""

    def summary(self) -> dict[str, Any]:
        """KPIs merged into ``summary.json`` (plain JSON values, deterministic)."""
        return {}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables written as ``<stem>.csv`` next to the model's own."""
        return {}

    def write_files(self, out: Path) -> list[Path]:
        """Other files of the run (reports, plots) written into ``out``; returns their paths."""
        return []

    def close(self) -> None:
        """Release what the extension holds (files, processes)."""
