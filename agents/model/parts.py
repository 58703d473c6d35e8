"""The parts a ``CommunityModel`` is composed of, as small typed interfaces.

Why parts and not subclasses: a run mode differs from another in where the
regions run (this process or worker processes), where the meters' readings
come from (simulated, hardware bridges, a live journal) and how an estimated
reading is settled; everything else (the phases, the central market, the
ledger, the extensions) is one code path. A mode picks its parts when the
model is built; no class overrides another's private methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from gridcoop.agents.bus.transport import Bus
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.agents.physics.flows import Flows
    from gridcoop.agents.runtime.replicas import ReplicaMode

BoolArray = NDArray[np.bool_]


class Regions(Protocol):
    """Where the regions' physics, smart meters, members and aggregators run.

    The model calls these at fixed points of its phases; an implementation
    does the regional work there (in this process, or by driving workers).
    """

    aggregators: list[Any]
    replicas: list[Any]

    def make_bus(self, model: CommunityModel, transport: str) -> Bus:
        """The model's bus (before the central market is made)."""

    def attach(self, model: CommunityModel, replica_mode: ReplicaMode) -> None:
        """Make the aggregators (``self.aggregators``), meters and endpoints."""

    def start(self, model: CommunityModel) -> None:
        """The model is built (extensions included): start running the regions."""

    def read(self, now_s: int) -> None:
        """Phase 1: every region's meters report the intervals ended by ``now_s``; fills
        the model's ``last_import_wh`` / ``last_export_wh``."""

    def step_physics(self, k: int) -> Flows:
        """Phase 2: every node's flows of metering interval ``k``."""

    def record_feeds(self, k: int, flows: Flows) -> None:
        """Phase 2: what the simulated meters will read for interval ``k``."""

    def send_orders(self, auction: str, interval: int, now_s: int) -> None:
        """Phase 2 at a gate: each region's members send their ``OrderBatch``."""

    def order_count(self, interval: int) -> int:
        """Phase 3: how many orders the aggregators hold for ``interval``."""

    def clear_local(self, auction: str, interval: int, now_s: int) -> int:
        """Phase 3: each aggregator clears its local book and sends the centre the rest;
        returns the local clearings done so far."""

    def before_ledger(self, k: int) -> None:
        """Phase 4 starts (a worker may run ahead meanwhile)."""

    def after_ledger(self, k: int) -> None:
        """Phase 4 is over for step ``k``."""

    def wrap_meter_source(self, region_id: str, wrap: Callable[[Any], Any]) -> None:
        """Read ``region_id``'s meters from ``wrap(current source)`` from now on."""

    def close(self) -> None:
        """Stop whatever the regions hold (worker processes, meter sources)."""


class EstimatePricing(Protocol):
    """How the central market settles readings that are estimates, not measurements."""

    def estimated(self, interval: int, size: int) -> BoolArray | None:
        """Members whose reading of delivery ``interval`` is estimated (None: none are)."""

    def settled(self, interval: int, nodes: list[int]) -> None:
        """``nodes``' estimated readings of ``interval`` were billed at the grid tariffs."""


class MeteredPricing:
    """Every reading settles as metered (simulated meters, hardware bridges)."""

    def estimated(self, interval: int, size: int) -> BoolArray | None:
        return None

    def settled(self, interval: int, nodes: list[int]) -> None:
        raise AssertionError("metered pricing marks no reading estimated")
