"""The ``Regions`` part of a multi-process run: the regions live in worker processes.

Each worker (``gridcoop.agents.runtime.worker``) hosts some regions' smart
meters, members, and ``RegionalAggregator`` with its local book, local
clearing and ledger replica; the market process keeps the central market,
settlement, the ledger (its one writer), KPIs and extensions, and
``model.aggregators`` holds stand-ins (:class:`RemoteAggregator`) without
books. The workers' aggregators send the central market over the bus what
they send it in one process; the bus delivers in (sender, sequence) order, so
KPIs, trades and the ledger head hash equal the one-process run's.

Where the physics runs: a scenario without community extensions has its
physics stepped by the workers, each region from its own generators
(``gridcoop.agents.physics.regional``), and while the market writes the ledger
for interval k the workers already step k+1, which needs nothing from the
market. The EV, DR and campus extensions change the physics they step (V2G
discharge, DR commands) and read its state, so for those kinds the physics
stays with the extensions in the market process: each interval's flows, the
gate's order quantities and prices and the regions' flexibility travel to the
workers, which meter, order and clear as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.bus.curve import CurveConfig, CurveKeyPair
from gridcoop.agents.bus.errors import CurveConfigError
from gridcoop.agents.bus.messages import MAX_MESSAGE_BYTES
from gridcoop.agents.bus.transport import Bus
from gridcoop.agents.meters.sources import refuse_hardware
from gridcoop.agents.physics.flows import Flows
from gridcoop.agents.runtime.control import ControlChannel, Reply
from gridcoop.agents.runtime.keys import load_market_keys
from gridcoop.agents.runtime.launch import DaskLauncher, LocalLauncher
from gridcoop.agents.runtime.remote_aggregator import RemoteAggregator
from gridcoop.agents.runtime.replicas import ReplicaMode
from gridcoop.agents.runtime.roles import central_policy
from gridcoop.agents.runtime.worker import WorkerError
from gridcoop.agents.scenario.registry import kind_entry
from gridcoop.agents.scenario.schema import ScenarioError

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel

_LOCAL_ONLY = ("ledger_path", "replicas", "ledger_workers", "transport")


def physics_in_market(kind: str) -> bool:
    """Whether kind ``kind``'s extensions need the physics in the market process."""
    return bool(kind_entry(kind).extensions)


class WorkerRegions:
    """The regions hosted by ``processes`` local worker processes, or by ``remote`` workers
    started elsewhere (``gridcoop worker``) that join at ``listen`` (``HOST:PORT``; port 0
    picks one, see ``control_address``)."""

    def __init__(self, scenario: str, params: dict[str, Any], *, processes: int = 2,
                 remote: int = 0, listen: str = "127.0.0.1:0",
                 curve_dir: str | Path | None = None, timeout_s: float = 60.0,
                 dask: str | None = None, insecure: bool = False,
                 max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        if processes < 0 or remote < 0 or processes + remote < 1:
            raise ValueError("a distributed run needs at least one worker (processes or remote)")
        if dask is not None and not processes:
            raise ValueError("--dask places the --processes workers: give --processes N")
        refuse_hardware(params)  # workers host the meters and read simulated ones only
        self.kind, self.params = scenario, dict(params)
        self.physics_here = physics_in_market(scenario)
        self._processes, self._remote = processes, remote
        self._host, self._port = listen.rsplit(":", 1)
        self._timeout_s = timeout_s
        try:
            self._curve_keys = load_market_keys(Path(curve_dir)) if curve_dir else None
        except CurveConfigError as exc:  # a user's key folder: a usage error
            raise ValueError(str(exc)) from None
        if curve_dir is None and remote:
            raise ValueError("workers on other machines need CurveZMQ keys: give curve_dir")
        if insecure and (curve_dir is not None or remote or dask is not None):
            raise ValueError("plain tcp without CurveZMQ is for local worker processes only")
        self._insecure = insecure
        self._dask = dask
        self.max_message_bytes = max_message_bytes
        self._curve: CurveConfig | None = None
        self.control: ControlChannel | None = None
        self.aggregators: list[Any] = []
        self.replicas: list[Any] = []
        self._order_count = 0
        self._ahead: dict[tuple[str, int], int] = {}  # commands sent before they are needed
        self._ahead_to = 0  # the last step whose physics was sent ahead
        self._held_for = 0  # the gate step whose aggregators hold their messages
        self._gate_sent = 0  # the last gate step whose orders and clearing were sent
        self._report: tuple[int, dict[str, Any]] = (-1, {})
        self.local_clearings = 0  # local clearings done by the workers' aggregators
        self.worker_cpu_s: list[dict[str, float]] = []  # each worker's own and its replica's
        self.control_refused = 0  # frames the control channel refused (kept after close)
        self.control_auth_refused = 0  # and handshakes its CurveZMQ guard refused

    # --- construction -------------------------------------------------------------------

    def make_bus(self, model: CommunityModel, transport: str) -> Bus:
        """The market's tcp bus: CurveZMQ with a fresh key pair unless the run uses key files
        (then their pair) or asked for plain tcp. Worker keys are allowed as workers start
        (``worker-*.key`` files: for the regions each claims first)."""
        self.model = model
        if self._insecure:
            return Bus("tcp", host=self._host, max_message_bytes=self.max_message_bytes)
        if self._curve_keys is None:
            self._curve = CurveConfig(CurveKeyPair.generate())
        else:
            keys, allowed = self._curve_keys
            self._curve = CurveConfig(keys, allowed_clients={k: () for k in allowed})
        return Bus("tcp", host=self._host, curve=self._curve,
                   max_message_bytes=self.max_message_bytes)

    def attach(self, model: CommunityModel, replica_mode: ReplicaMode) -> None:
        """Stand-ins for the workers' aggregators and replicas (each worker makes its
        replicas with ``replica_mode``)."""
        self._replica_mode = replica_mode
        pop = model.population
        for r, region in enumerate(pop.region_ids):
            nodes = pop.region_slices[r]
            model.region_meter_ids[region] = [f"m-{pop.node_ids[i]}"
                                              for i in range(nodes.start, nodes.stop)]
            self.aggregators.append(RemoteAggregator(model, region, nodes, self.worker_report))

    def start(self, model: CommunityModel) -> None:
        """Bind the control channel, start the local workers, wait for every worker."""
        self.control = ControlChannel(self._host, int(self._port), self._curve, self._timeout_s)
        model.central.endpoint.policy = central_policy(model)
        regions = list(model.population.region_ids)
        groups = min(self._processes, len(regions))  # a worker without regions would idle
        launcher = LocalLauncher() if self._dask is None else DaskLauncher(self._dask, groups)
        self.control.launch(launcher, [list(map(str, g)) for g in np.array_split(regions, groups)]
                            if groups else [])
        self._setup(model, self.control.hellos(groups + self._remote))

    @property
    def control_address(self) -> str:
        assert self.control is not None
        return self.control.address

    def _setup(self, model: CommunityModel, claimed: dict[bytes, list[str]]) -> None:
        """Check the regions are covered once; send setups; wait until the workers'
        aggregators subscribed to the central market."""
        every = sorted(r for group in claimed.values() for r in group)
        if every != sorted(model.population.region_ids):
            raise WorkerError(f"the workers' regions {every} must cover each of "
                              f"{list(model.population.region_ids)} exactly once")
        params = {k: v for k, v in self.params.items() if k not in _LOCAL_ONLY and v is not None}
        central = model.bus.address_of("central")
        blocks = list(model.accounts.ledger.blocks(1))  # registration, for the replicas
        blobs = {"genesis": np.frombuffer(model.accounts.genesis_bytes(), dtype=np.uint8)}
        blobs.update({f"block{b.height}": np.frombuffer(b.to_bytes(), dtype=np.uint8)
                      for b in blocks})

        def setup(n: int, ident: bytes) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
            return {"op": "setup", "n": n, "kind": self.kind, "params": params,
                    "regions": claimed[ident], "central": [central.router, central.pub],
                    "replicas": self._replica_mode, "physics": not self.physics_here,
                    "max_message_bytes": self.max_message_bytes,
                    "blocks": [[b.height, b.hash.hex()] for b in blocks],
                    "block_frames": [f"block{b.height}" for b in blocks]}, blobs

        self._wait(self._channel.send_each(setup))
        regions = len(model.population.region_ids)
        endpoint = model.central.endpoint
        deadline = time.monotonic() + self._timeout_s
        while endpoint.subscribers("blocks") < regions or endpoint.subscribers("gate") < regions:
            model.bus.pump(0.01)
            if time.monotonic() > deadline:
                raise WorkerError("the workers' aggregators did not subscribe to the central "
                                  f"market within {self._timeout_s} s")

    # --- the control channel -------------------------------------------------------------

    @property
    def _channel(self) -> ControlChannel:
        if self.control is None:
            raise WorkerError("the workers are not started")
        return self.control

    def _pump(self) -> None:
        self.model.bus.pump(0)

    def _wait(self, n: int) -> list[Reply]:
        return self._channel.wait(n, self._pump)

    def _call(self, op: str, arrays: dict[str, NDArray[Any]] | None = None,
              **args: Any) -> list[Reply]:
        return self._wait(self._channel.send(op, arrays, **args))

    def _ahead_or_call(self, op: str, key: int, **args: Any) -> list[Reply]:
        """The replies to ``op`` for ``key``: sent ahead already, or sent now."""
        n = self._ahead.pop((op, key), None)
        return self._wait(n if n is not None else self._channel.send(op, **args))

    def _gates(self) -> int:
        return int(self.model.central.gates_published)

    # --- the phases' regional parts, done by the workers --------------------------------

    def read(self, now_s: int) -> None:
        model = self.model
        fed = self._ahead.pop(("feed", 0), None)
        if fed is not None:
            self._wait(fed)
        for _, arrays in self._ahead_or_call("read", now_s, now_s=now_s):
            for name, values in arrays.items():
                nodes = model.population.region_slices[int(name[3:])]
                (model.last_import_wh if name[:3] == "imp" else model.last_export_wh)[nodes] = \
                    values
        released = self._ahead.pop(("release", now_s), None)
        if released is not None:  # what the workers held is in the central inbox now
            self._wait(released)

    def step_physics(self, k: int) -> Flows:
        if self.physics_here:
            flows: Flows = self.model.population.physics.step(k)
            return flows
        parts: dict[str, NDArray[Any]] = {}
        for _, arrays in self._ahead_or_call("physics", k, k=k):
            parts.update(arrays)
        regions = range(len(self.model.population.region_ids))
        return Flows(*(np.concatenate([parts[f"{name}:{r}"] for r in regions])
                       for name in Flows._fields))

    def record_feeds(self, k: int, flows: Flows) -> None:
        """Workers that step the physics recorded their flows already; else they get them."""
        if self.physics_here:  # its reply is collected with the next reading's
            self._ahead["feed", 0] = self._channel.send(
                "feed", {"import_wh": flows.import_kwh * 1000,
                         "export_wh": flows.export_kwh * 1000}, k=k)

    def send_orders(self, auction: str, interval: int, now_s: int) -> None:
        args: dict[str, Any] = {"auction": auction, "interval": interval, "now_s": now_s,
                                "gates": self._gates()}
        if self.physics_here:
            replies = self._call("orders", self.model.orders.arrays(interval).as_arrays(), **args)
        else:
            replies = self._ahead_or_call("orders", interval, **args)
        self._order_count = sum(int(header["orders"]) for header, _ in replies)

    def order_count(self, interval: int) -> int:
        return self._order_count

    def clear_local(self, auction: str, interval: int, now_s: int) -> int:
        args: dict[str, Any] = {"auction": auction, "interval": interval, "now_s": now_s,
                                "gates": self._gates()}
        if self.physics_here:
            pop = self.model.population
            flex = {str(r): self.model.flexibility(interval, nodes)
                    for r, nodes in enumerate(pop.region_slices)}
            replies = self._call("clear", flex=flex, **args)
        else:
            replies = self._ahead_or_call("clear", interval, **args)
        self.local_clearings = sum(int(header["clearings"]) for header, _ in replies)
        return self.local_clearings

    def before_ledger(self, k: int) -> None:
        """Send the workers every command of the steps after ``k`` up to the next gate that
        needs nothing more from the market: the physics and meter readings of each step,
        at the gate step with the aggregators holding what they would send the centre.
        A worker does them in the order one process does (only a gate's physics comes
        before its reading, which it does not touch)."""
        if self.physics_here:
            return
        clock = self.model.clock
        spm = clock.steps_per_market
        gate = min((k // spm + 1) * spm, clock.total_steps - 1)  # the next gate step
        channel = self._channel
        for s in range(self._ahead_to + 1, gate + 1):
            now_s = clock.start_s(s)
            forwards = s % spm == 0  # its reading ends a delivery interval
            if not forwards:
                self._ahead["read", now_s] = channel.send("read", now_s=now_s)
            self._ahead["physics", s] = channel.send("physics", k=s)
            if forwards:
                self._ahead["read", now_s] = channel.send("read", now_s=now_s, hold=True)
                self._held_for = s
            self._ahead_to = s
        self._send_gate_work()

    def after_ledger(self, k: int) -> None:
        """Once the central market drained its inbox for step k, a gate step k+1's workers
        release what they prepared for it (forwarded readings, local clearing)."""
        if self.physics_here:
            return
        self._send_gate_work()
        if self._held_for == k + 1:
            self._ahead["release", self.model.clock.start_s(k + 1)] = \
                self._channel.send("release")

    def _send_gate_work(self) -> None:
        """The held gate step's orders and local clearing, once its auction is open (its
        members send once per gate, so the local book is final when their orders are in;
        the central market still closes the gate and reads the results at the same point
        of the step as in one process)."""
        model, s = self.model, self._held_for
        target = model.clock.market_of(s) + 1
        if (s <= self._gate_sent or model.nearest or target >= model.clock.total_markets
                or target not in model.central.auctions):
            return
        auction, now_s = model.central.auctions[target].auction_id, model.clock.start_s(s)
        for op in ("orders", "clear"):
            self._ahead[op, target] = self._channel.send(
                op, auction=auction, interval=target, now_s=now_s, gates=self._gates())
        self._gate_sent = s

    def wrap_meter_source(self, region_id: str, wrap: Callable[[Any], Any]) -> None:
        raise ScenarioError(f"region {region_id}'s meters are read in a worker process, which "
                            "reads simulated meters only; run other sources in one process")

    def worker_report(self) -> dict[str, dict[str, Any]]:
        """Per region, once every block published so far reached the worker: its replica's
        head, blocks verified, messages refused, local clearings and books still held."""
        central = self.model.central
        blocks = central.endpoint.stats.published - central.gates_published
        if self._report[0] != blocks:
            report: dict[str, dict[str, Any]] = {}
            for header, _ in self._call("replicas", blocks=blocks):
                report.update(header["regions"])
            self._report = (blocks, report)
        return self._report[1]

    def close(self) -> None:
        """Stop the workers (before the model closes its bus and ledger)."""
        if self.control is not None:
            guard = self.control.guard
            self.control_auth_refused = guard.refused if guard is not None else 0
            self.worker_cpu_s = self.control.close(self._pump) or self.worker_cpu_s
            self.control_refused = self.control.refused
            self.control = None
