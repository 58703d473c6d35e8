"""What a :class:`CommunityModel` says about one member beyond its bill: load and
production, storage, orders and trades (the member view's data).

Why a recorder: the model keeps only the last interval's per-member flows
(``last_flows``); the member view's range figures need each interval's load
and production, so the page source records them each time it sees a new
interval. At the page's default render interval (every step) that is every
interval; a page that redraws every few steps records only the intervals it
saw, and the member view says how many intervals its range figures cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.units import UEUR_PER_EUR, WH_PER_KWH

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class MemberInterval:
    """One member's load and production over one metering interval (kWh)."""

    time_s: int
    load_kwh: float
    production_kwh: float


class FlowRecorder:
    """Every member's load and production of each interval the page saw (float32 kWh)."""

    def __init__(self) -> None:
        self._times: list[int] = []
        self._load: list[FloatArray] = []
        self._production: list[FloatArray] = []

    def observe(self, model: CommunityModel) -> None:
        """Record the model's last interval if it is new."""
        flows = getattr(model, "last_flows", None)
        steps = int(model.steps)
        if flows is None or steps == 0:
            return
        time_s = int(model.clock.start_s(steps - 1))
        if self._times and self._times[-1] >= time_s:
            return
        self._times.append(time_s)
        self._load.append(np.asarray(flows.consumption_kwh, dtype=np.float32))
        self._production.append(np.asarray(flows.production_kwh, dtype=np.float32))

    def history(self, node: int) -> list[MemberInterval]:
        """The recorded intervals of member ``node``, oldest first."""
        return [MemberInterval(t, float(load[node]), float(prod[node]))
                for t, load, prod in zip(self._times, self._load, self._production,
                                         strict=True)]


def _kwh(wh: int) -> str:
    return f"{wh / WH_PER_KWH:,.3f} kWh"


def _eur_per_kwh(ueur_per_kwh: int) -> str:
    return f"{ueur_per_kwh / UEUR_PER_EUR:.4f} €/kWh"


def node_physics(physics: Any, node: int) -> tuple[Any, int]:
    """The physics that steps ``node`` and the node's index in it: a regional model's part
    (its own batteries and EVs), or the physics itself."""
    for region, nodes in enumerate(getattr(physics, "slices", ())):
        if nodes.start <= node < nodes.stop:
            return physics.part(region), node - nodes.start
    return physics, node


def storage_facts(physics: Any, node: int) -> list[tuple[str, str]]:
    """The member's home battery and EV state of charge, where it has them."""
    physics, node = node_physics(physics, node)
    facts: list[tuple[str, str]] = []
    batteries = getattr(physics, "batteries", None)
    if batteries is not None and float(batteries.capacity_kwh[node]) > 0:
        soc, capacity = float(batteries.soc_kwh[node]), float(batteries.capacity_kwh[node])
        facts.append(("battery state of charge",
                      f"{soc / capacity:.0%} ({soc:.2f} of {capacity:.2f} kWh)"))
    evs = getattr(physics, "evs", None)
    setup = getattr(physics, "setup", None)
    ev_nodes = getattr(setup, "ev_nodes", None)
    if evs is not None and ev_nodes is not None:
        for position in np.flatnonzero(np.asarray(ev_nodes) == node).tolist():
            soc, capacity = float(evs.soc_kwh[position]), float(evs.capacity_kwh[position])
            facts.append(("EV state of charge",
                          f"{soc / capacity:.0%} ({soc:.2f} of {capacity:.2f} kWh)"
                          if capacity > 0 else "-"))
    return facts


def interval_facts(model: CommunityModel, node: int) -> list[tuple[str, str]]:
    """Load and production of the last interval (before the battery and the grid)."""
    flows = getattr(model, "last_flows", None)
    if flows is None:
        return [("load this interval", "-"), ("production this interval", "-")]
    return [("load this interval", f"{float(flows.consumption_kwh[node]):.3f} kWh"),
            ("production this interval", f"{float(flows.production_kwh[node]):.3f} kWh")]


def order_facts(model: CommunityModel, node: int) -> list[tuple[str, str]]:
    """The member's bid and offer at the last gate."""
    last = model.orders.last
    if last is None:
        return [("orders (last gate)", "none yet")]
    bid_wh, offer_wh = int(last.bid_wh[node]), int(last.offer_wh[node])
    bid = f"{_kwh(bid_wh)} at up to {_eur_per_kwh(int(last.bid_u[node]))}" if bid_wh else "none"
    offer = (f"{_kwh(offer_wh)} at no less than {_eur_per_kwh(int(last.offer_u[node]))}"
             if offer_wh else "none")
    return [("bid (last gate)", bid), ("offer (last gate)", offer)]


def trade_rows(model: CommunityModel, node: int) -> list[tuple[str, str, str, str]]:
    """The member's trades in the newest central auction with trades: side, other party,
    energy, price."""
    names = model.population.node_ids
    for interval in sorted(list(model.central.auctions), reverse=True):  # copied: Play steps
        trades = model.central.auctions[interval].trades
        if not len(trades):
            continue
        rows = []
        for buyer, seller, wh, price in zip(trades.buyer.tolist(), trades.seller.tolist(),
                                             trades.energy_wh.tolist(), trades.price_u.tolist(),
                                             strict=True):
            if node in (buyer, seller):
                side, other = ("bought", seller) if buyer == node else ("sold", buyer)
                rows.append((f"interval {interval}: {side}", str(names[other]), _kwh(wh),
                             _eur_per_kwh(price)))
        return rows
    return []
