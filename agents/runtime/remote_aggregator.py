"""The market process's stand-ins for aggregators that run in worker processes.

Why stand-ins: ``CommunityModel`` and its callers know the aggregators as
``model.aggregators`` (Mesa agents with a region, nodes, a name and a replica).
In a multi-process run (``gridcoop.agents.runtime.regions``) the real ones, with their
endpoint, local book and replica, live in the workers; these hold none of that
and ask the workers (``WorkerRegions.worker_report()``) when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mesa

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

__all__ = ["RemoteAggregator", "RemoteReplica"]

Report = Callable[[], dict[str, dict[str, Any]]]  # per region, what its worker reports


class RemoteReplica:
    """The market's view of a replica held by a worker's aggregator."""

    def __init__(self, report: Report, owner: str) -> None:
        self._report = report
        self.owner = owner

    @property
    def head_hash(self) -> str:
        """The worker's replica head once it verified every block published so far."""
        return str(self._report()[self.owner.removeprefix("ra-")]["head"])


class RemoteAggregator(mesa.Agent):  # type: ignore[misc]
    """Stand-in for a region's aggregator hosted by a worker: it has no endpoint and no
    book; what the worker's aggregator did is in ``WorkerRegions.worker_report()``."""

    def __init__(self, model: CommunityModel, region_id: str, nodes: slice,
                 report: Report) -> None:
        super().__init__(model)
        self._worker_report = report
        self.region_id = region_id
        self.nodes = nodes
        self.name = f"ra-{region_id}"
        self.replica = RemoteReplica(report, self.name)

    def handle_inbox(self) -> bool:
        """Its inbox is in the worker, which handles it during the worker's phases."""
        return False

    def _report(self) -> dict[str, Any]:
        return self._worker_report()[self.region_id]

    @property
    def refused(self) -> list[str]:
        return list(self._report()["refused"])

    @property
    def blocks_verified(self) -> int:
        return int(self._report()["blocks"])
