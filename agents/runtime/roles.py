"""Who may send what in a multi-process run: each message kind from the role that sends it.

Why on top of CurveZMQ: a key proves which worker a connection belongs to and
the bus lets that key speak only for its regions' aggregators (``ra-<region>``);
these rules then keep an aggregator to its own region's business. The central
market takes readings, trades, orders, books and flexibility only from the
aggregator of the region they concern (every meter, member and trader of the
message in that region); an aggregator takes its region's readings from its
meters, orders from its members, gates and ledger blocks from the central
market. Anything else is refused with ``forbidden`` and counted
(``BusStats.rejected_forbidden``); the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gridcoop.agents.bus.messages import (
    ClearingResult,
    FlexibilityReport,
    GateClosed,
    GateOpen,
    LedgerBlock,
    Message,
    MeterReadingBatch,
    OrderBatch,
    OrderColumns,
)
from gridcoop.agents.bus.senders import Policy

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

__all__ = ["aggregator_policy", "central_policy"]

CENTRAL = "central"


def _outside(ids: Iterable[str], allowed: frozenset[str]) -> str | None:
    """The first id not in ``allowed`` (None when all are)."""
    for item in ids:
        if item not in allowed:
            return item
    return None


def central_policy(model: CommunityModel) -> Policy:
    """The central market's rule: aggregator messages about the sender's own region only;
    names that are no region's aggregator must be endpoints of the market's own bus."""
    pop = model.population
    regions = {f"ra-{region}": region for region in pop.region_ids}
    meters = {region: frozenset(model.region_meter_ids[region]) for region in pop.region_ids}
    members = {region: frozenset(pop.node_ids[nodes]) for region, nodes
               in zip(pop.region_ids, pop.region_slices, strict=True)}
    bus = model.bus

    def policy(message: Message) -> str | None:
        sender = message.sender
        region = regions.get(sender)
        if region is None:
            return None if sender in bus.endpoints else f"{sender!r} is no region's aggregator"
        if isinstance(message, MeterReadingBatch):
            if message.region_id != region:
                return f"readings of region {message.region_id!r}, not {region!r}"
            stranger = _outside(message.meter_ids, meters[region])
        elif isinstance(message, OrderColumns):
            if message.region_id != region:
                return f"orders of region {message.region_id!r}, not {region!r}"
            stranger = _outside(message.participant_ids, members[region])
        elif isinstance(message, ClearingResult):
            stranger = (_outside(message.buyer_ids, members[region])
                        or _outside(message.seller_ids, members[region]))
        elif isinstance(message, FlexibilityReport):
            stranger = None if message.aggregator_id == sender else message.aggregator_id
        else:
            return f"an aggregator does not send {message.type} to the central market"
        return None if stranger is None else f"{stranger!r} is not in region {region!r}"

    return policy


def aggregator_policy(region: str) -> Policy:
    """A worker's aggregator of ``region``: readings from its meters, orders from its
    members, gates and blocks from the central market."""
    senders: dict[type, str] = {MeterReadingBatch: f"meters-{region}",
                                OrderBatch: f"members-{region}", GateOpen: CENTRAL,
                                GateClosed: CENTRAL, LedgerBlock: CENTRAL}

    def policy(message: Message) -> str | None:
        expected = senders.get(type(message))
        if expected is None:
            return f"an aggregator takes no {message.type}"
        return None if message.sender == expected else f"only {expected!r} sends it"

    return policy
