"""One community across processes (and machines): the market side.

``DistributedModel`` is a ``CommunityModel`` whose regions' physics, meters and
members run in worker processes (``agents.worker``). Everything else (the
aggregators' books and local clearing, the central market, the ledger,
settlement, KPIs, extensions) runs here, with the same code and in the same
order as a single-process run. Because each region's physics draws from its own
generators (``agents.physics.regional``) and the bus delivers in (sender,
sequence) order, the KPIs and the ledger head hash equal the single-process
run's.

The market drives workers phase by phase over a JSON control channel (ZeroMQ
ROUTER/DEALER; CurveZMQ with keys); the market messages themselves travel on the
bus. A worker that crashes, is refused or stops answering fails the run with a
:class:`~agents.worker.WorkerError` after ``timeout_s``; nothing hangs.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from agents.bus import Bus
from agents.curve import CurveConfig, CurveGuard, CurveKeyPair
from agents.meter_sources import refuse_hardware
from agents.model import CommunityModel
from agents.physics.flows import Flows
from agents.worker import WorkerError, serve

__all__ = ["DistributedModel", "WorkerError", "load_market_keys", "load_worker_keys",
           "make_keys"]


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
        self._flex: dict[int, Any] = {}
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._guard: CurveGuard | None = None
        super().__init__(scenario, transport="tcp", **kwargs)
        try:
            self._start(scenario, kwargs, processes, remote, int(port))
        except BaseException:
            self.close()
            raise

    # --- the bus and the control channel ----------------------------------------------

    def _make_bus(self, transport: str) -> Bus:
        if not hasattr(self, "_curve_keys"):
            return Bus("tcp", host=self._host)
        keys, allowed = self._curve_keys
        names = [f"{kind}-{r}" for r in self.population.region_ids
                 for kind in ("meters", "members")]
        self._curve = CurveConfig(keys, allowed_clients={k: names for k in allowed})
        return Bus("tcp", host=self._host, curve=self._curve)

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
        """Wait for every worker's hello; check the regions are covered once; send setups."""
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
                ident, raw = self._control.recv_multipart()
                claimed[ident] = json.loads(raw)["regions"]
        every = sorted(r for group in claimed.values() for r in group)
        if every != sorted(self.population.region_ids):
            raise WorkerError(f"the workers' regions {every} must cover each of "
                              f"{list(self.population.region_ids)} exactly once")
        local_only = ("ledger_path", "replicas", "ledger_workers", "transport")
        params = {k: v for k, v in kwargs.items() if k not in local_only and v is not None}
        addresses = {r: self.bus.address_of(f"ra-{r}") for r in self.population.region_ids}
        peers = {f"ra-{r}": [a.router, a.pub] for r, a in addresses.items()}
        self._workers = list(claimed)
        for ident in self._workers:
            setup = {"op": "setup", "kind": scenario, "params": params, "regions": claimed[ident],
                     "peers": peers}
            self._control.send_multipart([ident, json.dumps(setup, default=str).encode()])
        self._gather()

    def _check_alive(self) -> None:
        for process in self._processes:
            if process.exitcode is not None:
                raise WorkerError(f"worker process {process.pid} exited with code "
                                  f"{process.exitcode}; see its error above")

    def _call(self, op: str, **args: Any) -> list[dict[str, Any]]:
        """Send ``op`` to every worker; pump the bus (their sends need our acks) until all
        answer. Raises WorkerError on a worker's error, death or silence."""
        raw = json.dumps({"op": op, **args}).encode()
        for ident in self._workers:
            self._control.send_multipart([ident, raw])
        return self._gather()

    def _gather(self) -> list[dict[str, Any]]:
        replies: dict[bytes, dict[str, Any]] = {}
        deadline = time.monotonic() + self._timeout_s
        while len(replies) < len(self._workers):
            self.bus.pump(0)
            if self._control.poll(1):
                ident, raw = self._control.recv_multipart()
                reply = json.loads(raw)
                if "error" in reply:
                    raise WorkerError(f"a worker failed:\n{reply['error']}")
                replies[ident] = reply
                continue
            self._check_alive()
            if time.monotonic() > deadline:
                raise WorkerError(f"{len(self._workers) - len(replies)} worker(s) did not answer "
                                  f"within {self._timeout_s} s")
        return [replies[ident] for ident in self._workers]

    # --- the phases' regional parts, done by the workers --------------------------------

    def _read_regions(self, now_s: int) -> None:
        for reply in self._call("read", now_s=now_s):
            for r, (imp, exp) in reply["last"].items():
                nodes = self.population.region_slices[int(r)]
                self.last_import_wh[nodes] = imp
                self.last_export_wh[nodes] = exp

    def _step_physics(self, k: int) -> Flows:
        parts: dict[int, list[list[float]]] = {}
        for reply in self._call("physics", k=k):
            parts.update({int(r): arrays for r, arrays in reply["flows"].items()})
        ordered = [parts[r] for r in range(len(self.population.region_ids))]
        return Flows(*(np.concatenate([np.asarray(p[i], dtype=np.float64) for p in ordered])
                       for i in range(len(Flows._fields))))

    def _record_feeds(self, k: int, flows: Flows) -> None:
        """The workers' meters recorded their regions' flows already."""

    def _send_orders(self, auction: str, interval: int, now_s: int) -> None:
        self._flex = {}
        for reply in self._call("orders", auction=auction, interval=interval, now_s=now_s):
            self._flex.update({int(r): value for r, value in reply["flex"].items()})

    def flexibility(self, interval: int, nodes: slice) -> tuple[float, dict[str, float]]:
        demand, flexible = self._flex[self.population.region_slices.index(nodes)]
        return float(demand), {t: float(v) for t, v in flexible.items()}

    def close(self) -> None:
        """Stop the workers (they close their sockets), then close the bus and ledger."""
        try:
            if self._workers and not self._control.closed:
                with contextlib.suppress(WorkerError):  # failing already; ended below
                    self._call("stop")
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
