"""The page `gridcoop live CONFIG --viz` serves: the live community, read from its snapshots.

Solara imports this file in the live process itself; the runner publishes to
``experiments.live.page.PUBLISHER`` (see that module for why snapshots).
"""

from __future__ import annotations

from experiments.live.page import LivePageModel
from experiments.viz.components import component
from experiments.viz.page import GridcoopPage


@component
def Page() -> None:
    """One browser session: the live community; Step/Play fetch the newest interval."""
    GridcoopPage(LivePageModel, {}, name="gridcoop live")
