"""How a run starts its region workers: local spawned processes, or tasks on a Dask cluster.

Why each worker makes its own CurveZMQ key pair: its secret key then never
leaves the worker's process (not on argv, not on disk, not through Dask); only
the public key travels back to the market, over the channel that started the
worker (a ``multiprocessing`` pipe, or a named ``distributed.Queue``), and the
market allows that key for that worker's regions only, and only then lets the
worker connect (a handshake with a key not yet allowed would be refused). Keys
are fresh random pairs per run, never derived from the seed or the configuration.

Dask places the workers (local, SLURM, Kubernetes deployments alike); the
workers' data and control traffic still goes over ZeroMQ with CurveZMQ, as
with local processes: Dask only starts them and reports their keys.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import socket
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from gridcoop.agents.bus.curve import CurveKeyPair
from gridcoop.agents.runtime.worker import WorkerError, serve

__all__ = ["DaskLauncher", "Launcher", "LocalLauncher", "run_worker"]


class Launcher(Protocol):
    def start(self, address: str, market_key: bytes | None, groups: list[list[str]],
              timeout_s: float) -> list[bytes | None]:
        """Start one worker per group; each worker's public key (None without CurveZMQ)."""

    def go(self) -> None:
        """The workers' keys are allowed: let them connect."""

    def check_alive(self) -> None:
        """Raise :class:`WorkerError` if a worker has died."""

    def stop(self) -> None:
        """Wait a little for the workers to end, then end them."""


def run_worker(address: str, market_key: bytes | None, regions: list[str], timeout_s: float,
               report: Callable[[bytes | None], None]) -> str:
    """A launched worker: make a fresh key pair (with CurveZMQ), ``report`` its public key
    (returns once the market allowed it), serve the market until it says stop."""
    keys = CurveKeyPair.generate() if market_key is not None else None
    report(keys.public if keys is not None else None)
    serve(address, regions, keys, market_key, timeout_s=timeout_s)
    return ",".join(regions)


def _spawned(address: str, market_key: bytes | None, regions: list[str], timeout_s: float,
             pipe: Connection) -> None:
    def report(key: bytes | None) -> None:
        pipe.send(key)
        if not pipe.poll(timeout_s):
            raise WorkerError(f"the market did not let this worker connect within {timeout_s} s")
        pipe.recv()
        pipe.close()

    run_worker(address, market_key, regions, timeout_s, report)


class LocalLauncher:
    """One spawned process per group (a fresh interpreter: nothing inherited by ``fork``)."""

    def __init__(self) -> None:
        self.processes: list[BaseProcess] = []
        self._pipes: list[Connection] = []

    def start(self, address: str, market_key: bytes | None, groups: list[list[str]],
              timeout_s: float) -> list[bytes | None]:
        ctx = multiprocessing.get_context("spawn")
        for group in groups:
            ours, theirs = ctx.Pipe()
            process = ctx.Process(target=_spawned, daemon=True,
                                  args=(address, market_key, group, timeout_s, theirs))
            process.start()
            theirs.close()
            self.processes.append(process)
            self._pipes.append(ours)
        keys: list[bytes | None] = []
        for pipe in self._pipes:
            if not pipe.poll(timeout_s):
                self.check_alive()
                raise WorkerError(f"a worker process reported no key within {timeout_s} s")
            try:
                keys.append(pipe.recv())
            except EOFError:
                self.check_alive()
                raise WorkerError("a worker process ended before reporting its key") from None
        return keys

    def go(self) -> None:
        for pipe in self._pipes:
            pipe.send(True)
            pipe.close()
        self._pipes = []

    def check_alive(self) -> None:
        for process in self.processes:
            if process.exitcode is not None:
                raise WorkerError(f"worker process {process.pid} exited with code "
                                  f"{process.exitcode}; see its error above")

    def stop(self) -> None:
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)


def _dask_worker(address: str, market_key: bytes | None, regions: list[str], timeout_s: float,
                 queue_name: str, index: int) -> str:
    distributed: Any = importlib.import_module("distributed")
    queue = distributed.Queue(queue_name)

    def report(key: bytes | None) -> None:
        queue.put([index, None if key is None else key.decode()])
        if not distributed.Event(f"{queue_name}-go").wait(timeout=timeout_s):
            raise WorkerError(f"the market did not let this worker connect within {timeout_s} s")

    return run_worker(address, market_key, regions, timeout_s, report)


class DaskLauncher:
    """One long-running task per group on a Dask cluster, spread over its workers.

    ``address`` is a scheduler (``tcp://host:8786``) or ``"local"`` for a
    ``LocalCluster`` of one-thread worker processes started here (a scheduler that cannot
    be reached is a ``ValueError``, a usage error). The market must be reachable from the
    Dask workers at its ``--listen`` address.
    """

    def __init__(self, address: str, workers: int | None = None) -> None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise ValueError("--dask needs Dask distributed: pip install 'gridcoop[dist]'") \
                from None
        self._distributed = distributed
        self._cluster: Any = None
        if address == "local":
            self._cluster = distributed.LocalCluster(n_workers=max(1, workers or 1),
                                                     threads_per_worker=1, processes=True,
                                                     dashboard_address=None)
            address = self._cluster.scheduler_address
        try:
            self.client: Any = distributed.Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            self.stop()
            raise ValueError(f"--dask {address}: cannot reach the Dask scheduler ({exc})") \
                from None
        self.futures: list[Any] = []
        self._go: Any = None

    def start(self, address: str, market_key: bytes | None, groups: list[list[str]],
              timeout_s: float) -> list[bytes | None]:
        workers = sorted(self.client.scheduler_info().get("workers", {}))
        if not workers:
            raise WorkerError("the Dask cluster has no workers")
        if "//0.0.0.0:" in address:  # listening on every interface: name this host
            address = address.replace("0.0.0.0", socket.gethostbyname(socket.gethostname()))
        queue_name = f"gridcoop-keys-{uuid.uuid4().hex}"
        queue = self._distributed.Queue(queue_name, client=self.client)
        self._go = self._distributed.Event(f"{queue_name}-go", client=self.client)
        for i, group in enumerate(groups):
            self.futures.append(self.client.submit(
                _dask_worker, address, market_key, group, timeout_s, queue_name, i,
                key=f"gridcoop-region-worker-{queue_name[14:22]}-{i}", pure=False,
                workers=[workers[i % len(workers)]], allow_other_workers=True))
        keys: dict[int, bytes | None] = {}
        while len(keys) < len(groups):
            try:
                index, key = queue.get(timeout=timeout_s)
            except TimeoutError:
                self.check_alive()
                raise WorkerError(f"the Dask tasks reported {len(keys)} of {len(groups)} keys "
                                  f"within {timeout_s} s") from None
            keys[int(index)] = None if key is None else str(key).encode()
        return [keys[i] for i in range(len(groups))]

    def go(self) -> None:
        if self._go is not None:
            self._go.set()

    def check_alive(self) -> None:
        for future in self.futures:
            if future.status == "error":
                raise WorkerError(f"a region worker on Dask failed: {future.exception()!r}")
            if future.status == "cancelled":
                raise WorkerError("a region worker on Dask was cancelled (its Dask worker died?)")

    def stop(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            if self.futures:
                with contextlib.suppress(TimeoutError):
                    self._distributed.wait(self.futures, timeout=10)
                for future in self.futures:
                    future.cancel()
            client.close()
        if self._cluster is not None:
            self._cluster.close()
