"""The market's end of the control channel to its worker processes.

Why a channel of its own: the market drives the workers phase by phase
(ZeroMQ ROUTER/DEALER, CurveZMQ with keys; JSON headers with raw numpy frames,
see ``gridcoop.agents.runtime.wire``), so what happens when never depends on
socket timing. Commands are numbered; replies are matched by number, so a
command may be sent ahead and its replies collected when they are needed.
A worker that crashes, is refused or stops answering fails the run with a
:class:`~gridcoop.agents.runtime.worker.WorkerError` after ``timeout_s``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

import zmq
from numpy.typing import NDArray

from gridcoop.agents.bus.curve import CurveConfig, CurveGuard
from gridcoop.agents.runtime.wire import pack, unpack
from gridcoop.agents.runtime.worker import WorkerError, serve

Reply = tuple[dict[str, Any], dict[str, NDArray[Any]]]


def _spawned_worker(market: str, regions: list[str], timeout_s: float) -> None:
    serve(market, regions, timeout_s=timeout_s)


class ControlChannel:
    """A bound ROUTER socket, the workers that joined it, and the local worker processes."""

    def __init__(self, host: str, port: int, curve: CurveConfig | None, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.workers: list[bytes] = []
        self.processes: list[BaseProcess] = []
        self._sent = 0  # commands sent; replies are matched by number
        self._replies: dict[int, dict[bytes, Reply]] = {}
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.guard: CurveGuard | None = None
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        if curve is not None:
            self.guard = CurveGuard(self._context, curve)
            self.guard.arm_server(self._socket)
        self._socket.bind(f"tcp://{host}:{port}")
        self.address: str = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]

    def spawn(self, groups: list[list[str]]) -> None:
        """Start one local worker process per group of regions."""
        ctx = multiprocessing.get_context("spawn")
        for group in groups:
            process = ctx.Process(target=_spawned_worker, daemon=True,
                                  args=(self.address, group, self.timeout_s))
            process.start()
            self.processes.append(process)

    def hellos(self, count: int) -> dict[bytes, list[str]]:
        """Wait for ``count`` workers' hellos; returns the regions each claims."""
        deadline = time.monotonic() + self.timeout_s
        claimed: dict[bytes, list[str]] = {}
        while len(claimed) < count:
            self.check_alive()
            if self.guard is not None and self.guard.refused:
                raise WorkerError(f"{self.guard.refused} worker(s) refused: their CurveZMQ key "
                                  "is not among the authorised worker-*.key files")
            if time.monotonic() > deadline:
                raise WorkerError(f"only {len(claimed)} of {count} workers joined at "
                                  f"{self.address} within {self.timeout_s} s")
            if self._socket.poll(50):
                ident, *frames = self._socket.recv_multipart()
                claimed[ident] = unpack(frames)[0]["regions"]  # the hello
        self.workers = list(claimed)
        return claimed

    def check_alive(self) -> None:
        for process in self.processes:
            if process.exitcode is not None:
                raise WorkerError(f"worker process {process.pid} exited with code "
                                  f"{process.exitcode}; see its error above")

    def send_each(self, make: Callable[[int, bytes], tuple[dict[str, Any],
                                                           dict[str, NDArray[Any]]]]) -> int:
        """Send each worker its own command ``make(number, ident)``; returns the number."""
        self._sent += 1
        for ident in self.workers:
            header, arrays = make(self._sent, ident)
            self._socket.send_multipart([ident, *pack(header, arrays)])
        return self._sent

    def send(self, op: str, arrays: dict[str, NDArray[Any]] | None = None, **args: Any) -> int:
        """Send ``op`` to every worker; returns its number, to :meth:`wait` for its replies."""
        self._sent += 1
        frames = pack({"op": op, "n": self._sent, **args}, arrays or {})
        for ident in self.workers:
            self._socket.send_multipart([ident, *frames])
        return self._sent

    def call(self, op: str, pump: Callable[[], Any], arrays: dict[str, NDArray[Any]] | None = None,
             **args: Any) -> list[Reply]:
        """Send ``op`` to every worker and wait for their answers."""
        return self.wait(self.send(op, arrays, **args), pump)

    def wait(self, n: int, pump: Callable[[], Any]) -> list[Reply]:
        """``pump()`` (the workers' bus sends need the market's acks) until every worker
        answered command ``n``; answers to other commands are kept. Raises WorkerError on a
        worker's error, death or silence."""
        deadline = time.monotonic() + self.timeout_s
        while len(replies := self._replies.setdefault(n, {})) < len(self.workers):
            pump()
            if self._socket.poll(1):
                ident, *frames = self._socket.recv_multipart()
                header, arrays = unpack(frames)
                if "error" in header:
                    raise WorkerError(f"a worker failed:\n{header['error']}")
                self._replies.setdefault(int(header.pop("n")), {})[ident] = (header, arrays)
                continue
            self.check_alive()
            if time.monotonic() > deadline:
                raise WorkerError(f"{len(self.workers) - len(replies)} worker(s) did not answer "
                                  f"{n} within {self.timeout_s} s")
        del self._replies[n]
        return [replies[ident] for ident in self.workers]

    def close(self, pump: Callable[[], Any]) -> list[dict[str, float]]:
        """Stop the workers (they close their sockets); returns each one's CPU seconds."""
        cpu: list[dict[str, float]] = []
        try:
            if self.workers and not self._socket.closed:
                with contextlib.suppress(WorkerError):  # failing already; ended below
                    cpu = [{"cpu_s": h["cpu_s"], "replica_cpu_s": h["children_cpu_s"]}
                           for h, _ in self.call("stop", pump)]
            for process in self.processes:
                process.join(timeout=5)
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=5)
        finally:
            self.workers = []
            self._socket.close(linger=0)
            if self.guard is not None:
                self.guard.stop()
                self.guard = None
            self._context.destroy(linger=0)
        return cpu
