"""Turn whatever Mesa hands the page into a :class:`PageSource`."""

from __future__ import annotations

from gridcoop.agents.model.community import CommunityModel
from gridcoop.experiments.viz.community import community_source
from gridcoop.experiments.viz.protocol import PageSource


class NotAPageSourceError(TypeError):
    """The page was given a model it does not know how to read."""


def as_page_source(model: object) -> PageSource:
    """A community model's page source, or the model itself if it is one (a live run)."""
    if isinstance(model, CommunityModel):
        return community_source(model)
    if isinstance(model, PageSource):
        return model
    raise NotAPageSourceError(
        f"{type(model).__name__} does not provide what the page reads; implement "
        "gridcoop.experiments.viz.protocol.PageSource (see that module's docstring)"
    )
