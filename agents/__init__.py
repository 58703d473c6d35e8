"""The Mesa model of a local energy community, its agents, messages and bus.

``from agents import CommunityModel`` gives the model; the import is lazy so
that ``gridcoop.agents.bus.messages`` and ``gridcoop.agents.bus.transport`` stay light
for processes that only
talk on the bus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

__all__ = ["CommunityModel"]


def __getattr__(name: str) -> Any:
    if name == "CommunityModel":
        from gridcoop.agents.model.community import CommunityModel

        return CommunityModel
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
