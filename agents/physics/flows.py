"""What one metering interval did at every node, and the contract of a node physics.

Why one shape for all scenario kinds: the meters, the market, settlement and
the KPIs only see these arrays, so households, classrooms and CSV-driven
traders run through the same pipeline.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class Flows(NamedTuple):
    """Energy per node over one interval, kWh, all >= 0 except ``storage_kwh``.

    Balance at every node: production + import = consumption + export + storage,
    where ``storage_kwh`` is what went into the node's battery (negative when it
    came out). ``ev_kwh`` is the part of consumption that charged EVs.
    """

    production_kwh: FloatArray
    consumption_kwh: FloatArray
    storage_kwh: FloatArray
    import_kwh: FloatArray
    export_kwh: FloatArray
    ev_kwh: FloatArray


def balance(
    production_kwh: FloatArray,
    consumption_kwh: FloatArray,
    storage_kwh: FloatArray,
    ev_kwh: FloatArray,
) -> Flows:
    """Split each node's residual into grid import and export."""
    residual = production_kwh - consumption_kwh - storage_kwh
    return Flows(
        production_kwh,
        consumption_kwh,
        storage_kwh,
        np.maximum(-residual, 0.0),
        np.maximum(residual, 0.0),
        ev_kwh,
    )


class NodePhysics(Protocol):
    """The physics of all nodes of a scenario, stepped by the model."""

    @property
    def size(self) -> int: ...

    def step(self, step: int) -> Flows:
        """Simulate metering interval ``step`` (steps are taken in order)."""
        ...

    def forecast_import_kwh(self, market: int) -> FloatArray:
        """Each node's expected net import (+) or export (-) over market interval ``market``."""
        ...
