"""Every region in the model's own process: the ``Regions`` part of a one-process run.

Why a part: the model's phases say *when* the regions read their meters,
step their physics, send orders and clear their local books; this says *how*
when they all live here (aggregators with their books and ledger replicas,
smart meters with their sources, the members' endpoints). Worker processes
host them instead with ``gridcoop.agents.runtime.regions.WorkerRegions``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gridcoop.agents.bus.messages import MAX_MESSAGE_BYTES
from gridcoop.agents.bus.transport import Bus, Endpoint
from gridcoop.agents.meters.smart_meters import PhysicsFeed, RegionMeters, simulated_sources
from gridcoop.agents.runtime.replicas import ProcessReplica, ReplicaMode, make_replicas
from gridcoop.agents.trading.aggregator import RegionalAggregator

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.agents.physics.flows import Flows


class InProcessRegions:
    """The regions' aggregators, meters and members, all in this process."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES,
                 replica: ProcessReplica | None = None) -> None:
        self.max_message_bytes = max_message_bytes  # one bus message, parts included
        self.started_replica = replica  # a replica process started before the ledger
        self.aggregators: list[Any] = []
        self.replicas: list[Any] = []
        self.region_meters: list[RegionMeters] = []
        self.meter_feed = PhysicsFeed()  # every region's meters, in node order
        self.member_endpoints: list[Endpoint] = []
        self.meter_endpoints: list[Endpoint] = []

    def make_bus(self, model: CommunityModel, transport: str) -> Bus:
        self.model = model
        return Bus(transport, max_message_bytes=self.max_message_bytes)  # type: ignore[arg-type]

    def attach(self, model: CommunityModel, replica_mode: ReplicaMode) -> None:
        """Each region's aggregator (its replica caught up on the registration block(s),
        listening to the central market's gates and blocks), meters and members."""
        pop, bus = model.population, model.bus
        owners = [f"ra-{r}" for r in pop.region_ids]
        replicas, self.replicas = make_replicas(model.accounts.genesis_bytes(), owners,
                                                replica_mode, pop.size, model.clock.days,
                                                self.started_replica)
        self.started_replica = None
        for replica in replicas:
            for block in model.accounts.ledger.blocks(1):
                replica.receive(block.height, block.hash.hex(), block.to_bytes())
        sources, self.meter_feed = simulated_sources(
            [[m.meter_id for m in model.meters[nodes]] for nodes in pop.region_slices],
            model.clock.step_s)
        for r, region in enumerate(pop.region_ids):
            nodes = pop.region_slices[r]
            ra = RegionalAggregator(model, region, nodes, bus.endpoint(f"ra-{region}"),
                                    replicas[r])
            ra.endpoint.subscribe("central", "gate")
            ra.endpoint.subscribe("central", "blocks")
            members = bus.endpoint(f"members-{region}")
            members.subscribe("central", "gate")
            meters = model.meters[nodes]
            self.region_meters.append(RegionMeters(region, meters, sources[r],
                                                   model.clock.step_s))
            model.region_meter_ids[region] = [m.meter_id for m in meters]
            self.aggregators.append(ra)
            self.member_endpoints.append(members)
            self.meter_endpoints.append(bus.endpoint(f"meters-{region}"))

    def start(self, model: CommunityModel) -> None:
        """Nothing to start: the regions run inside the model's phases."""

    def read(self, now_s: int) -> None:
        model = self.model
        for r, meters in enumerate(self.region_meters):
            endpoint = self.meter_endpoints[r]
            for columns in meters.read(now_s):
                nodes = model.population.region_slices[r]
                model.last_import_wh[nodes] = columns.import_wh
                model.last_export_wh[nodes] = columns.export_wh
                endpoint.send(self.aggregators[r].name, meters.to_message(columns, now_s))

    def step_physics(self, k: int) -> Flows:
        flows: Flows = self.model.population.physics.step(k)
        return flows

    def record_feeds(self, k: int, flows: Flows) -> None:
        self.meter_feed.record(k, flows.import_kwh * 1000, flows.export_kwh * 1000)

    def send_orders(self, auction: str, interval: int, now_s: int) -> None:
        model = self.model
        pop = model.population
        for endpoint in self.member_endpoints:
            endpoint.drain()  # the invitation; members answer with their orders below
        arrays = model.orders.arrays(interval)
        for r, endpoint in enumerate(self.member_endpoints):
            endpoint.send(self.aggregators[r].name, model.orders.message(
                arrays, r, pop.region_ids[r], pop.node_ids, auction, now_s))

    def order_count(self, interval: int) -> int:
        for ra in self.aggregators:
            ra.handle_inbox()
        return sum(len(ra.pending_orders(interval)) for ra in self.aggregators)

    def clear_local(self, auction: str, interval: int, now_s: int) -> int:
        for ra in self.aggregators:
            ra.handle_inbox()
            ra.clear_local(auction, interval, now_s)
        self.model.settle()
        return sum(int(ra.local_clearings) for ra in self.aggregators)

    def before_ledger(self, k: int) -> None:
        """Nothing runs ahead in one process."""

    def after_ledger(self, k: int) -> None:
        """Nothing is held in one process."""

    def wrap_meter_source(self, region_id: str, wrap: Callable[[Any], Any]) -> None:
        index = self.model.population.region_ids.index(region_id)
        self.region_meters[index].source = wrap(self.region_meters[index].source)

    def close(self) -> None:
        if self.started_replica is not None:  # the model failed before attaching it
            self.started_replica.close()
        for replica in self.replicas:
            replica.close()
