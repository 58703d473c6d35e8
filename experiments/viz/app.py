"""The page `gridcoop viz` serves. Declarations only: the logic is in ``gridcoop.experiments.viz``.

Solara imports this file; ``gridcoop viz`` passes its options in the
``GRIDCOOP_VIZ`` environment variable (see ``gridcoop.experiments.viz.controls``).
"""

from __future__ import annotations

from gridcoop.experiments.viz.components import component
from gridcoop.experiments.viz.controls import PageCommunity, PageSettings, page_model_params
from gridcoop.experiments.viz.page import GridcoopPage

MODEL_PARAMS = page_model_params(PageSettings.from_env())


@component
def Page() -> None:
    """One browser session: its own community, controls and panels."""
    GridcoopPage(PageCommunity, MODEL_PARAMS, name="gridcoop")
