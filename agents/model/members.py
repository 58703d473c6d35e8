"""Community members as Mesa agents: thin handles over the model's node arrays.

Why thin: the physics, forecasts and orders of all members are computed at
once on numpy arrays (see ``gridcoop.agents.physics``); each agent is the member's
identity (id, region, ledger account) and a readable view of its state, so
Mesa tools (AgentSet, the Solara page) still see real agents. A member
subclass may decide for itself in ``step()`` (the per-agent way,
``gridcoop.agents.behaviour.mesa_way``): it reads ``self.observation`` and sets
``self.action``; after clearing it finds ``self.outcome`` and ``learn()`` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from gridcoop.agents.model.population import NodeKind
from gridcoop.units import UEUR_PER_EUR

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel


class Member(mesa.Agent):  # type: ignore[misc]
    """A metered node that trades: household, classroom or CSV trader."""

    model: CommunityModel

    def __init__(self, model: CommunityModel, member_id: str, node: int, region: str) -> None:
        super().__init__(model)
        self.member_id = member_id
        self.node = node
        self.region = region
        self.observation: Any = None  # set before step() by a per-agent policy
        self.action: Any = None  # what step() decided
        self.outcome: Any = None  # what the last action got, before learn()

    def step(self) -> None:
        """Decide for this member (per-agent policies override this)."""

    def learn(self) -> None:
        """Update from ``self.outcome`` (per-agent learners override this)."""

    @property
    def account(self) -> str:
        """The member's pseudonymous ledger account."""
        return self.model.accounts.member_account(self.node)

    @property
    def bill_eur(self) -> float:
        """Net cost so far: local purchases + grid import + fees - local sales - feed-in."""
        return float(self.model.kpis.bill_u[self.node]) / UEUR_PER_EUR

    @property
    def baseline_bill_eur(self) -> float:
        """What the same energy would have cost with the grid only."""
        return float(self.model.kpis.baseline_u[self.node]) / UEUR_PER_EUR

    @property
    def kind(self) -> str:
        """The member kind (``Prosumer``, ``EVOwner``, ...): the class it was made as."""
        return next(c.__name__ for c in type(self).__mro__ if c.__module__ == __name__)

    def _last_order(self, name: str) -> int:
        last = self.model.orders.last
        return 0 if last is None else int(getattr(last, name)[self.node])

    @property
    def bid_wh(self) -> int:
        """The member's last bid (Wh; 0: none)."""
        return self._last_order("bid_wh")

    @property
    def bid_price_u(self) -> int:
        return self._last_order("bid_u")

    @property
    def offer_wh(self) -> int:
        """The member's last offer (Wh; 0: none)."""
        return self._last_order("offer_wh")

    @property
    def offer_price_u(self) -> int:
        return self._last_order("offer_u")

    def _standing(self, name: str) -> int:
        standing = self.model.member_standing
        return 0 if standing is None else int(standing[name][self.node])

    @property
    def tokens(self) -> int:
        """``token`` balance at the last daily record (rewards, footprint tokens)."""
        return self._standing("tokens")

    @property
    def energy_tokens_wh(self) -> int:
        """``wh`` balance at the last daily record (energy tokens of local trades)."""
        return self._standing("energy_tokens_wh")

    @property
    def rank(self) -> int:
        """Rank by tokens among the members at the last daily record (1: most)."""
        return self._standing("rank")

    @property
    def last_import_wh(self) -> int:
        return int(self.model.last_import_wh[self.node])

    @property
    def last_export_wh(self) -> int:
        return int(self.model.last_export_wh[self.node])


class Prosumer(Member):
    """A household with PV and perhaps a home battery."""

    @property
    def pv_kwp(self) -> float:
        return float(self.model.population.pv_kwp[self.node])

    @property
    def battery_soc_kwh(self) -> float:
        physics = self.model.population.physics
        batteries = getattr(physics, "batteries", None)
        return 0.0 if batteries is None else float(batteries.soc_kwh[self.node])


class EVOwner(Member):
    """A household with an electric vehicle (trips, home charging)."""

    def __init__(self, model: CommunityModel, member_id: str, node: int, region: str,
                 ev_index: int) -> None:
        super().__init__(model, member_id, node, region)
        self.ev_index = ev_index

    @property
    def ev_soc_kwh(self) -> float:
        return float(self.model.population.physics.evs.soc_kwh[self.ev_index])  # type: ignore[attr-defined]

    @property
    def ev_capacity_kwh(self) -> float:
        return float(self.model.population.physics.evs.capacity_kwh[self.ev_index])  # type: ignore[attr-defined]


class DRHousehold(Member):
    """A household with flexible appliances (templates T1-T4, docs/domain/communities.md)."""

    def __init__(self, model: CommunityModel, member_id: str, node: int, region: str,
                 dr_index: int) -> None:
        super().__init__(model, member_id, node, region)
        self.dr_index = dr_index

    @property
    def appliances(self) -> list[str]:
        """Names of the appliances this household owns."""
        fleet = self.model.population.physics.appliances  # type: ignore[attr-defined]
        return [spec.name for a, spec in enumerate(fleet.specs) if fleet.owned[a, self.dr_index]]


class Classroom(Member):
    """A classroom on the campus hallway: panels, and lights while a class is in session."""

    @property
    def number(self) -> int:
        """Position along the hallway (1 = first)."""
        return self.node + 1


class Trader(Member):
    """A market-only participant whose quantities and limit prices come from CSV files."""


def make_members(model: CommunityModel) -> list[Member]:
    """One member agent per node of ``model.population``, of its kind's class; members of
    a per-agent policy's group are instances of that policy's class."""
    pop = model.population
    ev_rank = np.cumsum(pop.kind == NodeKind.EV_OWNER) - 1
    dr_rank = np.cumsum(pop.kind == NodeKind.DR_HOUSEHOLD) - 1
    members: list[Member] = []
    for i, node_id in enumerate(pop.node_ids):
        region = pop.region_ids[int(pop.region[i])]
        kind = NodeKind(int(pop.kind[i]))
        member: Member
        if kind is NodeKind.PROSUMER:
            member = Prosumer(model, node_id, i, region)
        elif kind is NodeKind.EV_OWNER:
            member = EVOwner(model, node_id, i, region, int(ev_rank[i]))
        elif kind is NodeKind.DR_HOUSEHOLD:
            member = DRHousehold(model, node_id, i, region, int(dr_rank[i]))
        elif kind is NodeKind.CLASSROOM:
            member = Classroom(model, node_id, i, region)
        else:
            member = Trader(model, node_id, i, region)
        members.append(member)
    for nodes, cls, adapter in model.orders.bidders.agent_classes():
        chosen = []
        for i in nodes:
            old = members[int(i)]
            own = cls if isinstance(old, cls) or issubclass(cls, type(old)) else type(
                cls.__name__, (cls, type(old)), {})
            old.remove()
            extra = {"ev_index": old.ev_index} if isinstance(old, EVOwner) else (
                {"dr_index": old.dr_index} if isinstance(old, DRHousehold) else {})
            member = own(model, old.member_id, old.node, old.region, **extra)
            members[int(i)] = member
            chosen.append(member)
        adapter.bind(chosen, model)
    return members
