"""A worker process: some aggregator regions with their physics, meters, members and books.

Why this split: everything up to a region's remainder is regional. A worker
steps its regions' physics, reads their smart meters, builds their members'
orders and runs their ``RegionalAggregator``s: the local book, the local
clearing (``market.clear``), the flexibility report and the ledger replica. Over
the bus (ZeroMQ tcp, CurveZMQ with keys) its aggregators send the central
market exactly what they send it in one process (summed readings, local trades,
remainder orders, the full book, flexibility) and receive its gates and ledger
blocks. The central market, settlement and the ledger stay in the market
process (one writer). The market drives the worker phase by phase over a
control channel (``gridcoop.agents.runtime.regions``; frames in
``gridcoop.agents.runtime.wire``), so what happens when never depends on
socket timing. For scenario kinds whose extensions change the physics (EV,
DR, campus cases) the market steps the physics and sends the flows, order
arrays and flexibility; the worker meters, orders and clears with them.
"""

from __future__ import annotations

import resource
import time
import traceback
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
import zmq
from numpy.typing import NDArray

from gridcoop.agents.bus.curve import CurveConfig, CurveGuard, CurveKeyPair
from gridcoop.agents.bus.messages import MAX_MESSAGE_BYTES
from gridcoop.agents.bus.transport import Bus, PeerAddress
from gridcoop.agents.meters.smart_meters import RegionMeters, simulated_sources
from gridcoop.agents.model.orders import Flexibility, MemberOrders, OrderArrays
from gridcoop.agents.model.population import build_population, seeded_streams
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.flows import Flows
from gridcoop.agents.physics.regional import RegionalPhysics
from gridcoop.agents.runtime.replicas import make_replicas
from gridcoop.agents.runtime.roles import aggregator_policy
from gridcoop.agents.runtime.wire import pack, unpack
from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.agents.scenario.schema import CampusMicrogrid
from gridcoop.agents.trading.aggregator import RegionalAggregator

FloatArray = NDArray[np.float64]
Reply = tuple[dict[str, Any], dict[str, NDArray[Any]]]


class WorkerError(RuntimeError):
    """A worker could not reach the market, was refused, crashed or stopped answering."""


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


class _Meter:
    def __init__(self, meter_id: str) -> None:
        self.meter_id = meter_id


class RegionHost(mesa.Model):  # type: ignore[misc]
    """The regions one worker hosts: it does for them what ``CommunityModel`` does, up to
    the remainders sent to the central market. It is the aggregators' (Mesa) model."""

    def __init__(self, setup: dict[str, Any], blobs: dict[str, NDArray[Any]],
                 market_host: str, curve: CurveConfig | None) -> None:
        self.scenario = sc = build_scenario(setup["kind"], dict(setup["params"]))
        super().__init__(seed=sc.seed)
        self.clock = SimClock(days=sc.days, metering_minutes=sc.metering_minutes,
                              market_minutes=sc.market_minutes,
                              start_day_of_year=sc.start_day_of_year,
                              start_weekday=sc.start_weekday)
        streams = seeded_streams(sc.seed)
        self.population = pop = build_population(sc, self.clock, streams)
        self.mechanism = sc.mechanism
        self.nearest = isinstance(sc, CampusMicrogrid) and sc.allocation == "nearest"
        self.regions = [pop.region_ids.index(r) for r in setup["regions"]]
        self.member_orders = MemberOrders(sc, self.clock, lambda: pop.physics, pop.size, streams,
                                   pop.region_slices, self.regions)
        self.steps_physics = bool(setup.get("physics", True))  # else the market sends flows
        self._flex: dict[int, Flexibility] = {}  # the market's, when it steps the physics
        self.central = _Named("central")
        self.timeout_s = float(setup["timeout_s"])
        self.bus = Bus("tcp", curve=curve,
                       max_message_bytes=int(setup.get("max_message_bytes", MAX_MESSAGE_BYTES)))
        key = setup["market_key"].encode() if curve is not None and setup["market_key"] else None

        def there(address: str) -> str:
            return address.replace("0.0.0.0", market_host)

        router, pub = setup["central"]
        self.bus.add_peer("central", PeerAddress(there(router), there(pub), key))
        owners = [f"ra-{pop.region_ids[r]}" for r in self.regions]
        replicas, self.replicas = make_replicas(blobs["genesis"].tobytes(), owners,
                                                setup["replicas"], pop.size, self.clock.days)
        for replica in replicas:  # catch up on the registration block(s)
            for (height, block_hash), name in zip(setup["blocks"], setup["block_frames"],
                                                  strict=True):
                replica.receive(height, block_hash, blobs[name].tobytes())
        self.region_meter_ids: dict[str, list[str]] = {}
        self.aggregators: dict[int, RegionalAggregator] = {}
        self.meters: dict[int, RegionMeters] = {}
        self.meter_eps, self.member_eps = {}, {}
        meter_ids = [[f"m-{pop.node_ids[i]}" for i in range(nodes.start, nodes.stop)]
                     for nodes in (pop.region_slices[r] for r in self.regions)]
        sources, self.meter_feed = simulated_sources(meter_ids, self.clock.step_s)
        for r, replica, ids, source in zip(self.regions, replicas, meter_ids, sources,
                                           strict=True):
            region, nodes = pop.region_ids[r], pop.region_slices[r]
            self.region_meter_ids[region] = ids
            ra = RegionalAggregator(self, region, nodes, self.bus.endpoint(f"ra-{region}"),
                                    replica)
            ra.endpoint.policy = aggregator_policy(region)
            ra.endpoint.subscribe("central", "gate")
            ra.endpoint.subscribe("central", "blocks")
            self.aggregators[r] = ra
            self.meters[r] = RegionMeters(region, [_Meter(m) for m in ids],  # type: ignore[misc]
                                          source, self.clock.step_s)
            self.meter_eps[r] = self.bus.endpoint(f"meters-{region}")
            self.member_eps[r] = self.bus.endpoint(f"members-{region}")

    # --- phases ---------------------------------------------------------------------

    def read(self, now_s: int, hold: bool = False) -> Reply:
        """Phase 1: the meters report to their aggregators, which forward each delivery
        interval's sums to the central market (acked before the reply), or with ``hold``
        keep what they send until :meth:`release`."""
        if hold:
            for ra in self.aggregators.values():
                ra.hold()
        arrays: dict[str, NDArray[Any]] = {}
        for r in self.regions:
            meters = self.meters[r]
            for columns in meters.read(now_s):
                self.meter_eps[r].send(f"ra-{meters.region_id}", meters.to_message(columns, now_s))
                arrays[f"imp{r}"], arrays[f"exp{r}"] = columns.import_wh, columns.export_wh
        self.bus.settle()
        self._handle_all()
        self.bus.settle()
        return {"read": sorted({int(k[3:]) for k in arrays})}, arrays

    def physics(self, k: int) -> Reply:
        """Phase 2: the hosted regions' flows of interval ``k`` (kept for the meters too)."""
        arrays: dict[str, NDArray[Any]] = {}
        hosted = self._flows(k)
        self._meter(k, [hosted[r].import_kwh * 1000 for r in self.regions],
                    [hosted[r].export_kwh * 1000 for r in self.regions])
        for r, flows in hosted.items():
            for name, array in zip(Flows._fields, flows, strict=True):
                arrays[f"{name}:{r}"] = array
        return {"k": k}, arrays

    def feed(self, k: int, arrays: dict[str, NDArray[Any]]) -> Reply:
        """Phase 2 when the market steps the physics: the hosted regions' metered flows."""
        slices = [self.population.region_slices[r] for r in self.regions]
        self._meter(k, [arrays["import_wh"][s] for s in slices],
                    [arrays["export_wh"][s] for s in slices])
        return {"k": k}, {}

    def _meter(self, k: int, import_wh: list[NDArray[Any]], export_wh: list[NDArray[Any]]
               ) -> None:
        """Interval ``k``'s Wh per hosted region, in ``self.regions`` order (the shared
        bank's rows), for the meters to read."""
        self.meter_feed.record(k, np.concatenate(import_wh), np.concatenate(export_wh))

    def _flows(self, k: int) -> dict[int, Flows]:
        physics = self.population.physics
        if isinstance(physics, RegionalPhysics):
            return physics.step_regions(k, self.regions)
        full = physics.step(k)  # one region (campus) or deterministic CSV traders
        return {r: Flows(*(a[self.population.region_slices[r]] for a in full))
                for r in self.regions}

    def orders(self, auction: str, interval: int, now_s: int, gates: int,
               arrays: dict[str, NDArray[Any]] | None = None) -> Reply:
        """Phase 2 at a gate: once the aggregators have the invitation (``gates`` gate
        messages), each region's members send one ``OrderBatch`` and the books take them
        (built from ``arrays`` when the market steps the physics)."""
        self._catch_up(gates, 0)
        pop = self.population
        orders = (self.member_orders.arrays(interval) if arrays is None
                  else OrderArrays.from_arrays(arrays))
        for r in self.regions:
            self.member_eps[r].send(f"ra-{pop.region_ids[r]}", self.member_orders.message(
                orders, r, pop.region_ids[r], pop.node_ids, auction, now_s))
        self.bus.settle()
        self._handle_all()
        return {"orders": sum(len(ra.pending_orders(interval))
                              for ra in self.aggregators.values())}, {}

    def clear(self, auction: str, interval: int, now_s: int, gates: int,
              flex: dict[str, Any] | None = None) -> Reply:
        """Phase 3: each aggregator clears its local book (final once the members' orders
        are in) and sends trades, remainder, book and flexibility (the market's ``flex``
        when it steps the physics) to the central market (acked)."""
        self._catch_up(gates, 0)
        self._flex = {int(r): (float(d), dict(f)) for r, (d, f) in (flex or {}).items()}
        for ra in self.aggregators.values():
            ra.clear_local(auction, interval, now_s)
        self.bus.settle()
        return {"clearings": sum(ra.local_clearings for ra in self.aggregators.values())}, {}

    def release(self) -> Reply:
        """Send what the aggregators held (forwarded readings, local clearing), acked."""
        sent = sum(ra.release() for ra in self.aggregators.values())
        self.bus.settle()
        return {"sent": sent}, {}

    def replicas_report(self, blocks: int) -> Reply:
        """Every published block verified: each replica's head, what the aggregators refused."""
        self._catch_up(0, blocks)
        return {"regions": {self.population.region_ids[r]: {
            "head": ra.replica.head_hash, "blocks": ra.blocks_verified, "refused": ra.refused,
            "clearings": ra.local_clearings, "books": ra.books_held}
            for r, ra in self.aggregators.items()}}, {}

    def flexibility(self, interval: int, nodes: slice) -> Flexibility:
        """What ``CommunityModel.flexibility`` gives for a hosted region."""
        given = self._flex.get(self.population.region_slices.index(nodes))
        return given if given is not None else self.member_orders.flexibility(interval, nodes)

    # --- the bus ----------------------------------------------------------------------

    def _handle_all(self) -> None:
        for ra in self.aggregators.values():
            ra.handle_inbox()

    def _catch_up(self, gates: int, blocks: int) -> None:
        """Pump until every aggregator has received ``gates`` gate messages and ``blocks``
        ledger blocks from the central market (publications cross processes on their own
        time; the market says how many it sent)."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            self._handle_all()
            if all(ra.gates_seen >= gates and ra.blocks_verified >= blocks
                   for ra in self.aggregators.values()):
                return
            if time.monotonic() > deadline:
                raise WorkerError(f"the central market's publications ({gates} gates, {blocks} "
                                  f"blocks) did not arrive within {self.timeout_s} s")
            self.bus.pump(0.01)

    def close(self) -> None:
        self.bus.close()
        for replica in self.replicas:
            replica.close()


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return round(usage.ru_utime + usage.ru_stime, 3)


def _dispatch(host: RegionHost, op: str, request: dict[str, Any]) -> Reply:
    handlers: dict[str, Callable[..., Reply]] = {
        "read": host.read, "physics": host.physics, "feed": host.feed, "orders": host.orders,
        "clear": host.clear, "release": host.release, "replicas": host.replicas_report}
    handler = handlers.get(op)
    if handler is None:
        raise WorkerError(f"unknown command {op!r}; known: {', '.join(sorted(handlers))}")
    return handler(**request)


def serve(market: str, regions: list[str], keys: CurveKeyPair | None = None,
          market_key: bytes | None = None, timeout_s: float = 60.0) -> None:
    """Join the market at ``market`` (``tcp://HOST:PORT``) for ``regions`` and serve it
    until it says stop. With ``keys`` the control channel and the bus use CurveZMQ and
    ``market_key`` is the market's public key. Raises :class:`WorkerError` when the market
    does not answer within ``timeout_s`` (wrong address or a refused key)."""
    if (keys is None) != (market_key is None):
        raise WorkerError("give both the worker's key pair and the market's public key, or neither")
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    guard = CurveGuard(context, CurveConfig(keys)) if keys is not None else None
    control = context.socket(zmq.DEALER)
    control.setsockopt(zmq.LINGER, 0)
    if guard is not None and market_key is not None:
        guard.arm_client(control, market_key)
    host: RegionHost | None = None
    try:
        control.connect(market)
        control.send_multipart(pack({"op": "hello", "regions": regions}))
        while True:
            if not control.poll(int(timeout_s * 1000)):
                what = "its setup" if host is None else "a command"
                raise WorkerError(f"the market at {market} sent no {what} within {timeout_s} s: "
                                  "check the address, that the run is waiting for workers, and "
                                  "that this worker's CurveZMQ key is authorised there")
            request, blobs = unpack(control.recv_multipart())
            op, n = request.pop("op", None), request.pop("n", 0)
            if not isinstance(op, str) or type(n) is not int:
                raise WorkerError(f"a command without op and number: {request!r:.80}")
            if op == "stop":
                if host is not None:
                    host.close()  # the replicas' processes end, so their CPU time is counted
                    host = None
                control.send_multipart(pack({"n": n, "cpu_s": _cpu_s(resource.RUSAGE_SELF),
                                             "children_cpu_s": _cpu_s(resource.RUSAGE_CHILDREN)}))
                return
            try:
                if op == "setup":
                    curve = CurveConfig(keys) if keys is not None else None
                    request["market_key"] = market_key.decode() if market_key else None
                    request["timeout_s"] = timeout_s
                    market_host = market.split("//", 1)[1].rsplit(":", 1)[0]
                    host = RegionHost(request, blobs, market_host, curve)
                    header: dict[str, Any] = {}
                    arrays: dict[str, NDArray[Any]] = {}
                elif host is None:
                    raise WorkerError(f"{op!r} before setup")
                else:
                    if blobs:
                        request["arrays"] = blobs
                    header, arrays = _dispatch(host, op, request)
            except Exception:  # reported to the market, which fails the run with it
                control.send_multipart(pack({"n": n, "error": traceback.format_exc()}))
                raise
            control.send_multipart(pack({"n": n, **header}, arrays))
    finally:
        if host is not None:
            host.close()
        control.close(linger=0)
        if guard is not None:
            guard.stop()
        context.destroy(linger=0)
