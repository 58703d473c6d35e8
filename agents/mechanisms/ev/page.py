"""What the web page's EV panel reads: capacity vs commitment per hour, and reserve calls.

Why here and not in ``gridcoop.experiments.viz``: the rows are plain dataclasses with the
fields of ``gridcoop.experiments.viz.protocol.EVSource`` (a structural protocol), built
from the extension's own arrays, so the page only finds the extension and
returns this view (``agents`` may not import ``experiments``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gridcoop.agents.mechanisms.ev.community import EVCommunityExtension


@dataclass(frozen=True)
class CapacityPoint:
    """One hour: firm capacity the RAs could offer, and capacity the market awarded."""

    time_s: int
    available_kw: float
    committed_kw: float


@dataclass(frozen=True)
class CallPoint:
    """One hour-segment of a reserve call: what the grid asked, what the meters saw."""

    time_s: int
    requested_kw: float
    served_kw: float


class EVPageData:
    """``capacity()`` and ``reserve_calls()`` of the running EV communities (all RAs summed)."""

    def __init__(self, extension: EVCommunityExtension) -> None:
        self.extension = extension

    def capacity(self) -> list[CapacityPoint]:
        """Every hour up to the model's current one (forecast and cleared a day ahead)."""
        ext = self.extension
        model = ext.model
        now_h = int(model.clock.start_s(int(model.steps))) // 3600
        hours = min(now_h + 1, ext.prepared_days * 24, ext.firm_kw.shape[1])
        firm = ext.firm_kw[:, :hours].sum(axis=0)
        awarded = ext.awarded_w[:, :hours].sum(axis=0)
        return [CapacityPoint(h * 3600, round(float(firm[h]), 3), int(awarded[h]) / 1000)
                for h in range(hours)]

    def reserve_calls(self) -> list[CallPoint]:
        """Segments sent so far; served is the metered delivery (the allocation until then)."""
        requested: dict[int, float] = {}
        served: dict[int, float] = {}
        for call in self.extension.calls():
            hours = call.duration_s / 3600
            got = call.allocated_wh if call.delivered_wh is None else call.delivered_wh
            requested[call.start_s] = requested.get(call.start_s, 0.0) + call.power_w / 1000
            served[call.start_s] = served.get(call.start_s, 0.0) + min(
                got / 1000 / hours, call.power_w / 1000)
        return [CallPoint(t, round(requested[t], 3), round(served[t], 3))
                for t in sorted(requested)]
