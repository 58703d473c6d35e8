"""The page `gridcoop live CONFIG --viz` serves: the live community, read from its snapshots.

Solara imports this file in the live process itself; the runner publishes to
``gridcoop.experiments.live.page.PUBLISHER`` (see that module for why snapshots).
"""

from __future__ import annotations

from gridcoop.experiments.live.page import LivePageModel
from gridcoop.experiments.viz.components import component
from gridcoop.experiments.viz.page import GridcoopPage


@component
def Page() -> None:
    """One browser session: the live community; Step/Play fetch the newest interval."""
    GridcoopPage(LivePageModel, {}, name="gridcoop live", live=True)
