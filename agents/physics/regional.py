"""Physics made of one independent part per aggregator region.

Why per region: a worker process that hosts some regions must draw exactly the
random numbers those regions would draw in a single-process run. Each region's
part has its own generator streams (seeded by ``(seed, stream, region)``), so
stepping regions 0-1 in one process and 2-3 in another gives the very arrays a
single process gets by stepping all four and concatenating them. Parts are
built lazily: a process only pays for the regions it steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.physics.flows import Flows, NodePhysics
from gridcoop.agents.physics.joint import JointHouseholds

FloatArray = NDArray[np.float64]


class _Concat:
    """A read-only view joining one attribute of every part's fleet (EVs, appliances)."""

    def __init__(self, parts: list[Any], attribute: str) -> None:
        self._fleets = [getattr(p, attribute) for p in parts]

    def __getattr__(self, name: str) -> Any:
        values = [getattr(f, name) for f in self._fleets]
        first = values[0]
        if isinstance(first, np.ndarray):
            return np.concatenate(values, axis=first.ndim - 1)
        return first  # shared, e.g. the appliance specs


class RegionalPhysics:
    """Node physics whose nodes are the concatenation of per-region parts (in region order)."""

    def __init__(self, factories: Sequence[Callable[[], NodePhysics]],
                 slices: Sequence[slice]) -> None:
        self._factories = list(factories)
        self.slices = tuple(slices)
        self._parts: dict[int, NodePhysics] = {}
        self._joint: JointHouseholds | Literal[False] | None = None  # None: not decided yet

    @property
    def size(self) -> int:
        return self.slices[-1].stop if self.slices else 0

    @property
    def regions(self) -> int:
        return len(self.slices)

    def part(self, region: int) -> NodePhysics:
        """Region ``region``'s physics (built on first use)."""
        if region not in self._parts:
            self._parts[region] = self._factories[region]()
        return self._parts[region]

    def _all(self) -> list[NodePhysics]:
        return [self.part(r) for r in range(self.regions)]

    def step_regions(self, step: int, regions: Sequence[int]) -> dict[int, Flows]:
        """The flows of interval ``step`` of the given regions only."""
        return {r: self.part(r).step(step) for r in regions}

    def _joined(self) -> JointHouseholds | None:
        """Every part stepped together, when they can be (decided once)."""
        if self._joint is None:
            self._joint = JointHouseholds.of(self._all(), self.slices) or False
        return self._joint or None

    def step(self, step: int) -> Flows:
        """Interval ``step`` of every region: households step together when they can
        (:class:`~gridcoop.agents.physics.joint.JointHouseholds`, the same numbers)."""
        joint = self._joined()
        if joint is not None:
            return joint.step(step)
        flows = self.step_regions(step, range(self.regions))
        return Flows(*(np.concatenate([f[i] for f in flows.values()])
                       for i in range(len(Flows._fields))))

    def forecast_region(self, market: int, region: int) -> FloatArray:
        return self.part(region).forecast_import_kwh(market)

    def forecast_import_kwh(self, market: int) -> FloatArray:
        joint = self._joined()
        if joint is not None:
            return joint.forecast_import_kwh(market)
        return np.concatenate([self.forecast_region(market, r) for r in range(self.regions)])

    def flexible_region(self, market: int, region: int) -> dict[str, FloatArray]:
        """Flexible kW per template of one region's nodes (the templates that region has)."""
        flexible = getattr(self.part(region), "flexible_kw", None)
        return {} if flexible is None else dict(flexible(market))

    def flexible_kw(self, market: int) -> dict[str, FloatArray]:
        """Flexible kW per template over all nodes (zero where a region lacks a template)."""
        per_region = [self.flexible_region(market, r) for r in range(self.regions)]
        names = sorted({t for d in per_region for t in d})
        return {t: np.concatenate([d.get(t, np.zeros(s.stop - s.start))
                                   for d, s in zip(per_region, self.slices, strict=True)])
                for t in names}

    @property
    def evs(self) -> Any:
        """Every region's EV fleet as one (SoC and capacity in EV-owner order)."""
        return _Concat(self._all(), "evs")

    @property
    def appliances(self) -> Any:
        """Every region's appliance fleet as one (ownership in DR-household order)."""
        return _Concat(self._all(), "appliances")
