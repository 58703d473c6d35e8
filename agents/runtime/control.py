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
import time
from collections.abc import Callable
from typing import Any

import zmq
from numpy.typing import NDArray

from gridcoop.agents.bus.curve import CurveConfig, CurveGuard
from gridcoop.agents.runtime.launch import Launcher
from gridcoop.agents.runtime.wire import FrameError, pack, unpack
from gridcoop.agents.runtime.worker import WorkerError

Reply = tuple[dict[str, Any], dict[str, NDArray[Any]]]
Received = tuple[bytes, bytes | None, dict[str, Any], dict[str, NDArray[Any]]]


class ControlChannel:
    """A bound ROUTER socket, the workers that joined it, and how they were launched.

    Only the workers' hellos and replies count: a frame from any other connection,
    a frame that does not decode, a second hello or a reply to no command is
    refused and counted in ``refused`` (with ``refusals`` saying why), and the run
    goes on. Under CurveZMQ a worker is known by its key: a hello from a key that
    is not on the allow-list never gets past the handshake, and a key given a
    group of regions at launch may claim only that group.
    """

    def __init__(self, host: str, port: int, curve: CurveConfig | None, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.workers: list[bytes] = []
        self.launcher: Launcher | None = None
        self.curve = curve
        self.refused = 0
        self.refusals: dict[str, int] = {}
        self._sent = 0  # commands sent; replies are matched by number
        self._replies: dict[int, dict[bytes, Reply]] = {}
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.guard: CurveGuard | None = None
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.MAXMSGSIZE, 1 << 30)
        if curve is not None:
            self.guard = CurveGuard(self._context, curve)
            self.guard.arm_server(self._socket)
        self._socket.bind(f"tcp://{host}:{port}")
        self.address: str = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]
        self._groups: dict[bytes, list[str]] = {}  # key -> the regions it was launched for

    def launch(self, launcher: Launcher, groups: list[list[str]]) -> None:
        """Start one worker per group of regions; under CurveZMQ each reports its own fresh
        public key, which is allowed for that group's aggregators only."""
        self.launcher = launcher
        market_key = self.curve.keys.public if self.curve is not None else None
        keys = launcher.start(self.address, market_key, groups, self.timeout_s)
        if self.curve is not None:
            for key, group in zip(keys, groups, strict=True):
                if key is None:
                    raise WorkerError("a launched worker reported no CurveZMQ public key")
                self._groups[key] = group
                self.curve.allow(key, {f"ra-{r}" for r in group})
        launcher.go()

    def _refuse(self, why: str) -> None:
        self.refused += 1
        self.refusals[why] = self.refusals.get(why, 0) + 1

    def _receive(self) -> Received | None:
        """One frame set off the socket: (connection, CurveZMQ key, header, arrays), or None
        when it was refused (counted)."""
        ident, *frames = self._socket.recv_multipart(copy=False)
        key = str(frames[-1].get("User-Id")).encode() if self.curve is not None and frames \
            else None
        try:
            header, arrays = unpack([f.bytes for f in frames])
        except FrameError:
            self._refuse("undecodable")
            return None
        return ident.bytes, key, header, arrays

    def hellos(self, count: int) -> dict[bytes, list[str]]:
        """Wait for ``count`` workers' hellos; returns the regions each claims."""
        deadline = time.monotonic() + self.timeout_s
        claimed: dict[bytes, list[str]] = {}
        keys: set[bytes | None] = set()
        while len(claimed) < count:
            self.check_alive()
            if time.monotonic() > deadline:
                refused = self.guard.refused if self.guard is not None else 0
                raise WorkerError(f"only {len(claimed)} of {count} workers joined at "
                                  f"{self.address} within {self.timeout_s} s ({refused} "
                                  "handshake(s) refused: a worker's CurveZMQ key must be among "
                                  "the authorised worker-*.key files)")
            if not self._socket.poll(50):
                continue
            got = self._receive()
            if got is None:
                continue
            ident, key, header, _ = got
            regions = header.get("regions")
            if (header.get("op") != "hello" or not isinstance(regions, list)
                    or not all(isinstance(r, str) for r in regions) or ident in claimed):
                self._refuse("not a hello")
                continue
            if self.curve is not None:
                if key in keys or not self._may_claim(key, regions):
                    self._refuse("hello from a key that may not claim those regions")
                    continue
                keys.add(key)
            claimed[ident] = regions
        self.workers = list(claimed)
        return claimed

    def _may_claim(self, key: bytes | None, regions: list[str]) -> bool:
        """A launched worker's key claims its group; a key from the key folder binds the
        regions it claims first."""
        assert self.curve is not None and key is not None
        group = self._groups.get(key)
        if group is not None:
            return sorted(group) == sorted(regions)
        if self.curve.names_for(key) is None:
            return False
        self.curve.allow(key, {f"ra-{r}" for r in regions})
        return True

    def check_alive(self) -> None:
        if self.launcher is not None:
            self.launcher.check_alive()

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
                self._take_reply()
                continue
            self.check_alive()
            if time.monotonic() > deadline:
                raise WorkerError(f"{len(self.workers) - len(replies)} worker(s) did not answer "
                                  f"{n} within {self.timeout_s} s")
        del self._replies[n]
        return [replies[ident] for ident in self.workers]

    def _take_reply(self) -> None:
        got = self._receive()
        if got is None:
            return
        ident, _, header, arrays = got
        if ident not in self.workers:
            self._refuse("not from a worker")
            return
        number = header.pop("n", None)
        if type(number) is not int or not 0 < number <= self._sent:
            self._refuse("a reply to no command")
            return
        if "error" in header:
            raise WorkerError(f"a worker failed:\n{header['error']}")
        self._replies.setdefault(number, {})[ident] = (header, arrays)

    def close(self, pump: Callable[[], Any]) -> list[dict[str, float]]:
        """Stop the workers (they close their sockets); returns each one's CPU seconds."""
        cpu: list[dict[str, float]] = []
        try:
            if self.workers and not self._socket.closed:
                with contextlib.suppress(WorkerError):  # failing already; ended below
                    cpu = [{"cpu_s": float(h.get("cpu_s", 0.0)),
                            "replica_cpu_s": float(h.get("children_cpu_s", 0.0))}
                           for h, _ in self.call("stop", pump)]
            if self.launcher is not None:
                self.launcher.stop()
        finally:
            self.workers = []
            self._socket.close(linger=0)
            if self.guard is not None:
                self.guard.stop()
                self.guard = None
            self._context.destroy(linger=0)
        return cpu
