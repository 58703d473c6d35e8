"""One community across processes (and machines): the market side.

``DistributedModel`` is a ``CommunityModel`` whose aggregator regions run in
worker processes (``gridcoop.agents.runtime.worker``): each region's physics, smart meters,
members, and its ``RegionalAggregator`` with its local book, local clearing and
ledger replica. Here stay the central market, settlement, the ledger (its one
writer), KPIs and extensions; ``model.aggregators`` holds stand-ins
(:class:`RemoteAggregator`) without books. The workers' aggregators send the
central market over the bus what they send it in one process, and each
region's physics draws from its own generators (``gridcoop.agents.physics.regional``);
the bus delivers in (sender, sequence) order, so the KPIs, trades and ledger
head hash equal the single-process run's.

The market drives workers phase by phase over a control channel (ZeroMQ
ROUTER/DEALER, CurveZMQ with keys; JSON headers with raw numpy frames, see
``gridcoop.agents.runtime.wire``). While the market writes the ledger for interval k the
workers already step the physics of k+1, which needs nothing from the market.
A worker that crashes, is refused or stops answering fails the run with a
:class:`~gridcoop.agents.runtime.worker.WorkerError` after ``timeout_s``; nothing hangs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np
import zmq
from numpy.typing import NDArray

from gridcoop.agents.bus.curve import CurveConfig, CurveGuard, CurveKeyPair
from gridcoop.agents.bus.transport import Bus
from gridcoop.agents.meters.sources import refuse_hardware
from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.physics.flows import Flows
from gridcoop.agents.runtime.remote_aggregator import RemoteAggregator, RemoteReplica
from gridcoop.agents.runtime.replicas import ReplicaMode
from gridcoop.agents.runtime.wire import pack, unpack
from gridcoop.agents.runtime.worker import WorkerError, serve
from gridcoop.agents.scenario.schema import ScenarioBase, ScenarioError, scenario_class
from gridcoop.units import UEUR_PER_EUR

__all__ = ["DistributedModel", "RemoteAggregator", "WorkerError", "load_market_keys",
           "load_worker_keys", "make_keys"]

Reply = tuple[dict[str, Any], dict[str, NDArray[Any]]]


def refuse_single_process_kinds(kind: str) -> None:
    """Raise ``ScenarioError`` for kinds whose community mechanisms (EV, DR, campus cases)
    bring their own physics or extensions: those run in the market's process only."""
    cls = scenario_class(kind)
    if cls.extensions is not ScenarioBase.extensions or hasattr(cls, "build_population"):
        raise ScenarioError(f"scenario kind {kind!r} runs its community mechanisms in one "
                            "process; run it without --processes (multi-process runs support "
                            "neighbourhood, campus-microgrid and market-only)")


def make_keys(directory: Path, workers: int = 1) -> list[Path]:
    """Write ``market.key[_secret]`` and ``worker-<i>.key[_secret]`` into ``directory``.

    Copy the market's public key and one worker pair to each worker machine."""
    written = list(CurveKeyPair.generate().save(directory, "market"))
    for i in range(workers):
        written.extend(CurveKeyPair.generate().save(directory, f"worker-{i}"))
    return written


def load_market_keys(directory: Path) -> tuple[CurveKeyPair, list[bytes]]:
    """The market's pair and the public keys of every authorised worker (``worker-*.key``)."""
    keys = CurveKeyPair.load(directory / "market.key_secret")
    workers = [_public(p) for p in sorted(directory.glob("worker-*.key"))]
    return keys, workers


def load_worker_keys(directory: Path, name: str) -> tuple[CurveKeyPair, bytes]:
    """A worker's pair (``NAME.key_secret``) and the market's public key (``market.key``)."""
    return CurveKeyPair.load(directory / f"{name}.key_secret"), _public(directory / "market.key")


def _public(path: Path) -> bytes:
    public, _ = zmq.auth.load_certificate(str(path))
    return public


def _spawned_worker(market: str, regions: list[str], timeout_s: float) -> None:
    serve(market, regions, timeout_s=timeout_s)


class DistributedModel(CommunityModel):
    """``CommunityModel`` with its regions hosted by ``processes`` local worker processes,
    or by ``remote`` workers started elsewhere (``gridcoop worker``) that join at
    ``listen`` (``HOST:PORT``; port 0 picks one, see ``control_address``)."""

    def __init__(self, scenario: str = "neighbourhood", *, processes: int = 2, remote: int = 0,
                 listen: str = "127.0.0.1:0", curve_dir: str | Path | None = None,
                 timeout_s: float = 60.0, **kwargs: Any) -> None:
        if processes < 0 or remote < 0 or processes + remote < 1:
            raise ValueError("a distributed run needs at least one worker (processes or remote)")
        refuse_hardware(kwargs)  # workers host the meters and read simulated ones only
        refuse_single_process_kinds(scenario)
        self._host, port = listen.rsplit(":", 1)
        self._timeout_s = timeout_s
        self._curve: CurveConfig | None = None
        if curve_dir is not None:
            keys, allowed = load_market_keys(Path(curve_dir))
            self._curve_keys: tuple[CurveKeyPair, list[bytes]] = (keys, allowed)
        elif remote:
            raise ValueError("workers on other machines need CurveZMQ keys: give curve_dir")
        self._workers: list[bytes] = []
        self._processes: list[BaseProcess] = []
        self._gates = 0  # gate messages the central market published
        self._order_count = 0
        self._sent = 0  # commands sent; replies are matched by number
        self._replies: dict[int, dict[bytes, Reply]] = {}
        self._ahead: dict[tuple[str, int], int] = {}  # commands sent before they are needed
        self._ahead_to = 0  # the last step whose physics was sent ahead
        self._held_for = 0  # the gate step whose aggregators hold their messages
        self._gate_sent = 0  # the last gate step whose orders and clearing were sent
        self._report: tuple[int, dict[str, Any]] = (-1, {})
        self.local_clearings = 0  # local clearings done by the workers' aggregators
        self.worker_cpu_s: list[dict[str, float]] = []  # each worker's own and its replica's
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._guard: CurveGuard | None = None
        super().__init__(scenario, transport="tcp", **kwargs)
        try:
            self._start(scenario, kwargs, processes, remote, int(port))
        except BaseException:
            self.close()
            raise

    # --- construction: the bus, stand-ins, the control channel ---------------------------

    def _make_bus(self, transport: str) -> Bus:
        if not hasattr(self, "_curve_keys"):
            return Bus("tcp", host=self._host)
        keys, allowed = self._curve_keys
        names = [f"ra-{r}" for r in self.population.region_ids]
        self._curve = CurveConfig(keys, allowed_clients={k: names for k in allowed})
        return Bus("tcp", host=self._host, curve=self._curve)

    def _make_replicas(self, owners: list[str], mode: ReplicaMode) -> list[Any]:
        """The replicas live with the aggregators in the workers (each worker makes them
        with ``mode``); here only views that ask the workers."""
        self._replica_mode = mode
        self.replicas = []
        return [RemoteReplica(self, owner) for owner in owners]

    def _make_aggregator(self, region: str, nodes: slice, replica: Any) -> Any:
        return RemoteAggregator(self, region, nodes, replica)

    def _start(self, scenario: str, kwargs: dict[str, Any], processes: int, remote: int,
               port: int) -> None:
        self._control = self._context.socket(zmq.ROUTER)
        self._control.setsockopt(zmq.LINGER, 0)
        if self._curve is not None:
            self._guard = CurveGuard(self._context, self._curve)
            self._guard.arm_server(self._control)
        self._control.bind(f"tcp://{self._host}:{port}")
        self.control_address: str = self._control.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]
        regions = list(self.population.region_ids)
        groups = min(processes, len(regions))  # a worker without regions would idle
        local = [list(map(str, g)) for g in np.array_split(regions, groups)] if groups else []
        ctx = multiprocessing.get_context("spawn")
        for group in local:
            process = ctx.Process(target=_spawned_worker, daemon=True,
                                  args=(self.control_address, group, self._timeout_s))
            process.start()
            self._processes.append(process)
        self._hellos(len(local) + remote, scenario, kwargs)

    def _hellos(self, count: int, scenario: str, kwargs: dict[str, Any]) -> None:
        """Wait for every worker's hello; check the regions are covered once; send setups;
        wait until the workers' aggregators subscribed to the central market."""
        deadline = time.monotonic() + self._timeout_s
        claimed: dict[bytes, list[str]] = {}
        while len(claimed) < count:
            self._check_alive()
            if self._guard is not None and self._guard.refused:
                raise WorkerError(f"{self._guard.refused} worker(s) refused: their CurveZMQ key "
                                  "is not among the authorised worker-*.key files")
            if time.monotonic() > deadline:
                raise WorkerError(f"only {len(claimed)} of {count} workers joined at "
                                  f"{self.control_address} within {self._timeout_s} s")
            if self._control.poll(50):
                ident, *frames = self._control.recv_multipart()
                claimed[ident] = unpack(frames)[0]["regions"]  # the hello
        every = sorted(r for group in claimed.values() for r in group)
        if every != sorted(self.population.region_ids):
            raise WorkerError(f"the workers' regions {every} must cover each of "
                              f"{list(self.population.region_ids)} exactly once")
        local_only = ("ledger_path", "replicas", "ledger_workers", "transport")
        params = {k: v for k, v in kwargs.items() if k not in local_only and v is not None}
        central = self.bus.address_of("central")
        blocks = list(self.accounts.ledger.blocks(1))  # registration, for the replicas
        blobs = {"genesis": np.frombuffer(self.accounts.genesis_bytes(), dtype=np.uint8)}
        blobs.update({f"block{b.height}": np.frombuffer(b.to_bytes(), dtype=np.uint8)
                      for b in blocks})
        self._workers = list(claimed)
        self._sent += 1
        for ident in self._workers:
            setup = {"op": "setup", "n": self._sent, "kind": scenario, "params": params,
                     "regions": claimed[ident],
                     "central": [central.router, central.pub], "replicas": self._replica_mode,
                     "blocks": [[b.height, b.hash.hex()] for b in blocks],
                     "block_frames": [f"block{b.height}" for b in blocks]}
            self._control.send_multipart([ident, *pack(setup, blobs)])
        self._wait(self._sent)
        regions = len(self.population.region_ids)
        endpoint = self.central.endpoint
        while (endpoint.subscribers("blocks") < regions
               or endpoint.subscribers("gate") < 2 * regions):
            self.bus.pump(0.01)  # members here and aggregators there listen to the gates
            if time.monotonic() > deadline:
                raise WorkerError("the workers' aggregators did not subscribe to the central "
                                  f"market within {self._timeout_s} s")

    def _check_alive(self) -> None:
        for process in self._processes:
            if process.exitcode is not None:
                raise WorkerError(f"worker process {process.pid} exited with code "
                                  f"{process.exitcode}; see its error above")

    # --- the control channel -------------------------------------------------------------

    def _send(self, op: str, **args: Any) -> int:
        """Send ``op`` to every worker; returns its number, to :meth:`_wait` for its replies."""
        self._sent += 1
        frames = pack({"op": op, "n": self._sent, **args})
        for ident in self._workers:
            self._control.send_multipart([ident, *frames])
        return self._sent

    def _call(self, op: str, **args: Any) -> list[Reply]:
        """Send ``op`` to every worker and wait for their answers."""
        return self._wait(self._send(op, **args))

    def _wait(self, n: int) -> list[Reply]:
        """Pump the bus (the workers' sends need our acks) until every worker answered
        command ``n``; answers to other commands are kept. Raises WorkerError on a
        worker's error, death or silence."""
        deadline = time.monotonic() + self._timeout_s
        while len(replies := self._replies.setdefault(n, {})) < len(self._workers):
            self.bus.pump(0)
            if self._control.poll(1):
                ident, *frames = self._control.recv_multipart()
                header, arrays = unpack(frames)
                if "error" in header:
                    raise WorkerError(f"a worker failed:\n{header['error']}")
                self._replies.setdefault(int(header.pop("n")), {})[ident] = (header, arrays)
                continue
            self._check_alive()
            if time.monotonic() > deadline:
                raise WorkerError(f"{len(self._workers) - len(replies)} worker(s) did not answer "
                                  f"{n} within {self._timeout_s} s")
        del self._replies[n]
        return [replies[ident] for ident in self._workers]

    def _ahead_or_call(self, op: str, key: int, **args: Any) -> list[Reply]:
        """The replies to ``op`` for ``key``: sent ahead already, or sent now."""
        n = self._ahead.pop((op, key), None)
        return self._wait(n if n is not None else self._send(op, **args))

    # --- the phases' regional parts, done by the workers --------------------------------

    def _read_regions(self, now_s: int) -> None:
        for _, arrays in self._ahead_or_call("read", now_s, now_s=now_s):
            for name, values in arrays.items():
                nodes = self.population.region_slices[int(name[3:])]
                (self.last_import_wh if name[:3] == "imp" else self.last_export_wh)[nodes] = values
        released = self._ahead.pop(("release", now_s), None)
        if released is not None:  # what the workers held is in the central inbox now
            self._wait(released)

    def _step_physics(self, k: int) -> Flows:
        parts: dict[str, NDArray[Any]] = {}
        for _, arrays in self._ahead_or_call("physics", k, k=k):
            parts.update(arrays)
        regions = range(len(self.population.region_ids))
        return Flows(*(np.concatenate([parts[f"{name}:{r}"] for r in regions])
                       for name in Flows._fields))

    def _record_feeds(self, k: int, flows: Flows) -> None:
        """The workers' meters recorded their regions' flows already."""

    def _open_gate(self, interval: int, now_s: int) -> None:
        published = self.central.endpoint.stats.published
        super()._open_gate(interval, now_s)
        self._gates += self.central.endpoint.stats.published - published

    def _send_orders(self, auction: str, interval: int, now_s: int) -> None:
        replies = self._ahead_or_call("orders", interval, auction=auction, interval=interval,
                                      now_s=now_s, gates=self._gates)
        self._order_count = sum(int(header["orders"]) for header, _ in replies)

    def clear_market(self, k: int) -> None:
        """Phase 3 as in ``CommunityModel``, with the local books cleared in the workers."""
        target = self.clock.market_of(k) + 1
        if self.nearest or target >= self.clock.total_markets:
            return
        now_s = self.clock.start_s(k)
        self.central.close_gate(target, self._order_count, now_s)
        self._gates += 1
        self.settle()
        auction = self.central.auctions[target].auction_id
        replies = self._ahead_or_call("clear", target, auction=auction, interval=target,
                                      now_s=now_s, gates=self._gates)
        self.local_clearings = sum(int(header["clearings"]) for header, _ in replies)
        self.central.handle_inbox()
        self.central.clear_central(target)
        price = self.central.last_price_u
        self.last_price_eur_per_kwh = None if price is None else price / UEUR_PER_EUR

    def record_ledger(self, k: int, gate: bool) -> None:
        """Phase 4; meanwhile the workers run ahead (:meth:`_run_ahead`). Once the central
        market drained its inbox for step k, a gate step k+1's workers release what they
        prepared for it (forwarded readings, local clearing) into its inbox."""
        self._run_ahead(k)
        super().record_ledger(k, gate)
        self._send_gate_work()
        if self._held_for == k + 1 and self._workers:
            self._ahead["release", self.clock.start_s(k + 1)] = self._send("release")

    def _run_ahead(self, k: int) -> None:
        """Send the workers every command of the steps after ``k`` up to the next gate that
        needs nothing more from the market: the physics and meter readings of each step,
        at the gate step with the aggregators holding what they would send the centre.
        A worker does them in the order one process does (only a gate's physics comes
        before its reading, which it does not touch)."""
        spm = self.clock.steps_per_market
        gate = min((k // spm + 1) * spm, self.clock.total_steps - 1)  # the next gate step
        for s in range(self._ahead_to + 1, gate + 1 if self._workers else 0):
            now_s = self.clock.start_s(s)
            forwards = s % spm == 0  # its reading ends a delivery interval
            if not forwards:
                self._ahead["read", now_s] = self._send("read", now_s=now_s)
            self._ahead["physics", s] = self._send("physics", k=s)
            if forwards:
                self._ahead["read", now_s] = self._send("read", now_s=now_s, hold=True)
                self._held_for = s
            self._ahead_to = s
        self._send_gate_work()

    def _send_gate_work(self) -> None:
        """The held gate step's orders and local clearing, once its auction is open (its
        members send once per gate, so the local book is final when their orders are in;
        the central market still closes the gate and reads the results at the same point
        of the step as in one process)."""
        s = self._held_for
        target = self.clock.market_of(s) + 1
        if (s <= self._gate_sent or self.nearest or target >= self.clock.total_markets
                or target not in self.central.auctions or not self._workers):
            return
        auction, now_s = self.central.auctions[target].auction_id, self.clock.start_s(s)
        self._ahead["orders", target] = self._send(
            "orders", auction=auction, interval=target, now_s=now_s, gates=self._gates)
        self._ahead["clear", target] = self._send(
            "clear", auction=auction, interval=target, now_s=now_s, gates=self._gates)
        self._gate_sent = s

    def worker_report(self) -> dict[str, dict[str, Any]]:
        """Per region, once every block published so far reached the worker: its replica's
        head, blocks verified, messages refused, local clearings and books still held."""
        blocks = self.central.endpoint.stats.published - self._gates
        if self._report[0] != blocks:
            report: dict[str, dict[str, Any]] = {}
            for header, _ in self._call("replicas", blocks=blocks):
                report.update(header["regions"])
            self._report = (blocks, report)
        return self._report[1]

    def close(self) -> None:
        """Stop the workers (they close their sockets), then close the bus and ledger."""
        try:
            if self._workers and not self._control.closed:
                with contextlib.suppress(WorkerError):  # failing already; ended below
                    self.worker_cpu_s = [{"cpu_s": h["cpu_s"], "replica_cpu_s":
                                          h["children_cpu_s"]} for h, _ in self._call("stop")]
            for process in self._processes:
                process.join(timeout=5)
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=5)
        finally:
            self._workers = []
            if hasattr(self, "_control"):
                self._control.close(linger=0)
            if self._guard is not None:
                self._guard.stop()
                self._guard = None
            self._context.destroy(linger=0)
            if hasattr(self, "bus"):
                super().close()
