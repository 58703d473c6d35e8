"""The market process's stand-ins for aggregators that run in worker processes.

Why stand-ins: ``CommunityModel`` and its callers know the aggregators as
``model.aggregators`` (Mesa agents with a region, nodes, a name and a replica).
In a multi-process run (``gridcoop.agents.runtime.distributed``) the real ones, with their
endpoint, local book and replica, live in the workers; these hold none of that
and ask the workers (``DistributedModel.worker_report()``) when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from gridcoop.agents.runtime.distributed import DistributedModel

__all__ = ["RemoteAggregator", "RemoteReplica"]


class RemoteReplica:
    """The market's view of a replica held by a worker's aggregator."""

    def __init__(self, model: DistributedModel, owner: str) -> None:
        self._model = model
        self.owner = owner

    @property
    def head_hash(self) -> str:
        """The worker's replica head once it verified every block published so far."""
        return str(self._model.worker_report()[self.owner.removeprefix("ra-")]["head"])


class RemoteAggregator(mesa.Agent):  # type: ignore[misc]
    """Stand-in for a region's aggregator hosted by a worker: it has no endpoint and no
    book; what the worker's aggregator did is in ``DistributedModel.worker_report()``."""

    def __init__(self, model: DistributedModel, region_id: str, nodes: slice,
                 replica: RemoteReplica) -> None:
        super().__init__(model)
        self.region_id = region_id
        self.nodes = nodes
        self.name = f"ra-{region_id}"
        self.replica = replica

    def handle_inbox(self) -> bool:
        """Its inbox is in the worker, which handles it during the worker's phases."""
        return False

    @property
    def refused(self) -> list[str]:
        return list(self.model.worker_report()[self.region_id]["refused"])

    @property
    def blocks_verified(self) -> int:
        return int(self.model.worker_report()[self.region_id]["blocks"])
