"""The ZeroMQ bus: named endpoints that send, publish, request and drain messages.

Why it looks like this: the model, not socket timing, must decide what
happens when. Nothing runs in the background; every socket is read only when
the model calls ``drain``, ``settle``, ``wait_acks``, ``request`` or ``pump``
(CurveZMQ's ZAP handler is the one helper thread). Real ZeroMQ sockets carry
every message, ``inproc://`` in one process (the default), ``tcp://`` between
processes, with CurveZMQ when a :class:`~gridcoop.agents.bus.curve.CurveConfig` is given.

Guarantees:

* **Reliable sends** (``send``, or ``send_many`` for a bundle; for anything that
  moves money or energy) go DEALER -> ROUTER. The receiving endpoint validates
  each message, queues it in its inbox and acknowledges it (one ``Ack`` per pump
  may cover many ids; an ack means "queued", not "acted on"; a sender in the same
  process is told directly). To an endpoint of the same process a send encodes
  nothing: the receiver takes the sender's own object, so the byte limit and parts
  do not apply; ``Bus(handover=False)`` encodes and decodes every message anyway,
  as between processes (to check a model's messages survive the wire).
  A send that would block at the high-water mark for longer than
  ``send_timeout_s`` raises :class:`BackpressureError` (nothing dropped, nothing
  queued); a message not acked within ``ack_timeout_s`` is resent ``retries``
  times (receivers drop duplicates by id) and then :class:`AckTimeoutError` is
  raised. Replies go through ROUTER_MANDATORY; a reply that cannot be sent yet
  waits in an outbox.
* **Publications** (``publish``; telemetry, ledger blocks) go XPUB -> SUB with
  ``XPUB_NODROP``: a full subscriber raises :class:`BackpressureError` instead
  of losing messages. Topics match by prefix (ZeroMQ semantics); a subscriber
  in the publisher's process takes the published object, not a decoded copy
  (unless ``handover=False``).
* **Requests** (``request``) are answered by a handler the peer registered with
  ``serve``; the caller pumps the bus until the reply arrives.
* **Bad frames** (malformed, unknown type, oversized, wrong schema version,
  a sender that is not the connected peer) are counted in ``stats``, answered
  with an ``ErrorMessage`` when they came over a reply channel, and never stop
  the bus. The sender of a rejected reliable message gets
  :class:`MessageRejectedError` from its next ``wait_acks``/``settle``.
* **Order**: ``drain()`` returns messages sorted by (sender name, sender
  sequence number): per-sender FIFO across sends and publications, senders
  merged by name. After ``bus.settle()`` (every reliable send acked and every
  local publication delivered) the result is independent of timing.

Usage::

    from gridcoop.agents.bus.transport import Bus
    from gridcoop.agents.bus.messages import MeterReadingBatch

    with Bus() as bus:                      # inproc; Bus("tcp") for sockets on 127.0.0.1
        region, market = bus.endpoint("region-1"), bus.endpoint("market")
        region.send("market", MeterReadingBatch(
            sim_time_s=900, region_id="region-1", interval_start_s=0, interval_s=900,
            meter_ids=["m1"], import_wh=[120], export_wh=[0], counters=[1]))
        bus.settle()                        # everything delivered and acknowledged
        [batch] = market.drain()

Across processes: each process makes ``Bus("tcp", ...)``, passes
``bus.address_of(name)`` of its endpoints to the others, which call
``bus.add_peer(name, address)``; every process pumps its own bus.
"""

from __future__ import annotations

import contextlib
import errno
import secrets
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal

import zmq

from gridcoop.agents.bus.curve import CurveConfig, CurveGuard
from gridcoop.agents.bus.endpoint import Endpoint, Handler
from gridcoop.agents.bus.errors import (
    AckTimeoutError,
    AuthenticationError,
    BackpressureError,
    BusClosedError,
    BusError,
    CurveConfigError,
    MessageRejectedError,
    RequestTimeoutError,
    SocketLimitError,
    UnknownPeerError,
)
from gridcoop.agents.bus.messages import MAX_MESSAGE_BYTES, Codec
from gridcoop.agents.bus.parts import PART_BYTES
from gridcoop.agents.bus.sockets import new_context, open_file_limit
from gridcoop.agents.bus.wire import BusStats, PeerAddress

__all__ = [
    "AckTimeoutError",
    "AuthenticationError",
    "BackpressureError",
    "Bus",
    "BusClosedError",
    "BusError",
    "BusStats",
    "CurveConfigError",
    "Endpoint",
    "Handler",
    "MessageRejectedError",
    "PeerAddress",
    "RequestTimeoutError",
    "SocketLimitError",
    "UnknownPeerError",
    "open_file_limit",
]

Transport = Literal["inproc", "tcp"]
SOCKETS_PER_REGION = 11
"""About how many sockets one region's endpoints open in one process (for the error)."""
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")


class Bus:
    """A ZeroMQ context and the endpoints living in it (one per process, usually)."""

    def __init__(
        self,
        transport: Transport = "inproc",
        *,
        host: str = "127.0.0.1",
        curve: CurveConfig | None = None,
        hwm: int = 10_000,
        send_timeout_s: float = 1.0,
        ack_timeout_s: float = 10.0,
        retries: int = 1,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        part_bytes: int = PART_BYTES,
        codec: Codec = "json",
        handover: bool = True,
    ) -> None:
        if transport not in ("inproc", "tcp"):
            raise ValueError(f"transport must be 'inproc' or 'tcp', got {transport!r}")
        if curve is not None and transport != "tcp":
            raise CurveConfigError(
                "CurveZMQ protects tcp only; inproc never leaves the process. Use transport='tcp'"
            )
        if hwm < 1 or send_timeout_s < 0 or ack_timeout_s <= 0 or retries < 0:
            raise ValueError("hwm must be >= 1, timeouts positive and retries >= 0")
        if max_message_bytes < 1 or part_bytes < 1:
            raise ValueError("max_message_bytes and part_bytes must be positive")
        self.transport = transport
        self.host = host
        self.curve = curve
        self.hwm = hwm
        self.send_timeout_s = send_timeout_s
        self.ack_timeout_s = ack_timeout_s
        self.retries = retries
        self.max_message_bytes = max_message_bytes
        self.part_bytes = min(part_bytes, max_message_bytes)
        self.codec: Codec = codec
        self.handover = handover
        self._context = new_context()
        self._guard = CurveGuard(self._context, curve) if curve is not None else None
        self._endpoints: dict[str, Endpoint] = {}
        self._peers: dict[str, PeerAddress] = {}
        self._poller = zmq.Poller()
        self._readers: dict[zmq.Socket[bytes], Callable[[], int]] = {}
        self._marked: dict[Callable[[], int], None] = {}
        self._sessions: dict[bytes, Endpoint] = {}
        self._closed = False

    # --- endpoints and peers --------------------------------------------------------

    def endpoint(self, name: str) -> Endpoint:
        """Create the endpoint ``name`` (letters, digits, ``_.:-``; at most 128 characters)."""
        if self._closed:
            raise BusClosedError("the bus is closed; create a new Bus")
        if not name or len(name) > 128 or not set(name) <= _NAME_CHARS:
            raise ValueError(
                f"endpoint name {name!r} must be 1-128 characters of letters, digits and _.:-"
            )
        if name in self._endpoints or name in self._peers:
            raise ValueError(f"endpoint {name!r} already exists on this bus")
        session = b""
        while not session or session in self._sessions:  # a handover finds its sender by it
            session = secrets.token_hex(4).encode()
        endpoint = Endpoint(self, name, session)
        self._sessions[session] = endpoint
        self._endpoints[name] = endpoint
        return endpoint

    def __getitem__(self, name: str) -> Endpoint:
        return self._endpoints[name]

    def address_of(self, name: str) -> PeerAddress:
        """How another process reaches the local endpoint ``name`` (give it to ``add_peer``)."""
        endpoint = self._endpoints[name]
        key = self.curve.keys.public if self.curve is not None else None
        return PeerAddress(endpoint.address, endpoint.pub_address, key)

    def add_peer(self, name: str, address: PeerAddress) -> None:
        """Make an endpoint of another process reachable by name (tcp only)."""
        if self.transport != "tcp":
            raise ValueError("peers in other processes need transport='tcp'")
        if not address.router.startswith("tcp://") or not address.pub.startswith("tcp://"):
            raise ValueError(f"peer addresses must be tcp:// addresses, got {address}")
        if self.curve is not None and address.server_public_key is None:
            raise CurveConfigError(f"peer {name!r} needs its server_public_key when Curve is on")
        if name in self._endpoints:
            raise ValueError(f"{name!r} is a local endpoint of this bus")
        self._peers[name] = address

    def _address_of(self, name: str) -> PeerAddress:
        if name in self._endpoints:
            return self.address_of(name)
        if name in self._peers:
            return self._peers[name]
        known = ", ".join(sorted([*self._endpoints, *self._peers])) or "none"
        raise UnknownPeerError(
            f"no endpoint {name!r} on this bus (known: {known}); "
            "create it with bus.endpoint() or register it with bus.add_peer()"
        )

    # --- sockets (used by Endpoint) -------------------------------------------------

    def _new_socket(
        self, kind: int, *, server: bool, reader: Callable[[], int] | None = None
    ) -> zmq.Socket[bytes]:
        """A socket with the bus's limits; ``pump`` watches it if given a ``reader``."""
        try:
            socket = self._context.socket(kind)
        except zmq.ZMQError as exc:
            if exc.errno not in (errno.EMFILE, errno.ENFILE):
                raise
            raise SocketLimitError(
                f"cannot open another ZeroMQ socket ({exc.strerror}) for the "
                f"{len(self._endpoints)} endpoints of this bus; the limits are "
                f"{self._context.get(zmq.MAX_SOCKETS)} sockets and {open_file_limit()} open "
                f"files; run fewer regions in this process (each needs about "
                f"{SOCKETS_PER_REGION}), or raise the hard open-file limit (ulimit -Hn)"
            ) from None
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SNDHWM, self.hwm)
        socket.setsockopt(zmq.RCVHWM, self.hwm)
        if self.transport == "tcp":
            # a frame past this hard cap drops the connection; up to part_bytes it is read
            # (larger messages travel in parts), a little more is read and refused
            socket.setsockopt(zmq.MAXMSGSIZE, 4 * self.part_bytes + 65_536)
        if server and self._guard is not None:
            self._guard.arm_server(socket)
        if reader is not None:
            self._poller.register(socket, zmq.POLLIN)
            self._readers[socket] = reader
        return socket

    def _arm_client(self, socket: zmq.Socket[bytes], server_key: bytes | None) -> None:
        if self._guard is not None:
            if server_key is None:
                raise CurveConfigError("Curve is on but the peer has no server public key")
            self._guard.arm_client(socket, server_key)

    def _bind(self, socket: zmq.Socket[bytes], name: str, role: str) -> str:
        if self.transport == "inproc":
            address = f"inproc://gridcoop/{name}/{role}"
            socket.bind(address)
            return address
        socket.bind(f"tcp://{self.host}:*")
        endpoint: bytes = socket.getsockopt(zmq.LAST_ENDPOINT)  # type: ignore[assignment]
        return endpoint.decode()

    def _forget(self, socket: zmq.Socket[bytes]) -> None:
        self._readers.pop(socket, None)
        with contextlib.suppress(KeyError):
            self._poller.unregister(socket)

    # --- driving ----------------------------------------------------------------------

    def pump(self, timeout_s: float = 0.0) -> int:
        """Read every local socket once (acks, replies, handlers); wait up to ``timeout_s``
        for activity if there was none. Returns the number of frames handled."""
        if self._closed:
            raise BusClosedError("the bus is closed; create a new Bus")
        handled = self._run_marked()
        # one zmq_poll over every watched socket is far cheaper than asking each in Python
        ready = self._poller.poll(0)
        if not ready and not handled and timeout_s > 0:
            ready = self._poller.poll(int(timeout_s * 1000))
        readers = self._readers
        for socket, _ in ready:
            reader = readers.get(socket)
            if reader is not None:  # a handler may have closed it meanwhile
                handled += reader()
        return handled

    def _mark(self, reader: Callable[[], int]) -> None:
        """A local send put work on the socket ``reader`` reads: read it before polling."""
        self._marked[reader] = None

    def _run_marked(self) -> int:
        """Run marked readers in marking order (a dict keeps it), and retry held-back replies."""
        handled = 0
        for endpoint in self._endpoints.values():
            if endpoint._outbox:
                handled += endpoint._flush_outbox()
        marked = self._marked
        while marked:
            reader = next(iter(marked))
            del marked[reader]
            handled += reader()
        return handled

    def _progress(self, timeout_s: float) -> int:
        """Do the local work we know of; only if there is none, poll every socket (and wait)."""
        return self._run_marked() or self.pump(timeout_s)

    def settle(self, timeout_s: float | None = None) -> None:
        """Pump until every reliable send of every local endpoint is acknowledged and every
        local publication has reached its local subscribers; then drains are deterministic.

        Raises :class:`MessageRejectedError`, :class:`AuthenticationError` or
        :class:`AckTimeoutError` (after resending once per ``retries``).
        """
        timeout = timeout_s if timeout_s is not None else self.ack_timeout_s
        deadline = time.monotonic() + timeout
        while True:
            waiting: list[Endpoint] = []
            late: list[tuple[str, str]] = []
            for endpoint in list(self._endpoints.values()):  # one pass: it runs every pump
                if endpoint._rejections:
                    endpoint.raise_rejections()
                if endpoint._pending:
                    waiting.append(endpoint)
                if endpoint._awaiting:
                    late.extend((endpoint.name, p) for p in endpoint._awaiting)
            if not waiting and not late:
                return
            if self.curve is not None:
                for endpoint in waiting:
                    endpoint._check_auth([peer for peer, _ in endpoint._pending])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._progress(min(remaining, 0.05))
        for endpoint in waiting:
            endpoint._await_acks(timeout, None, waited=True)  # resend, then AckTimeoutError
        if late:
            raise AckTimeoutError(
                f"publications not delivered within {timeout} s (subscriber, publisher): {late}", []
            )

    @property
    def stats(self) -> BusStats:
        """Counters summed over all endpoints, plus the CurveZMQ handshakes refused."""
        total = BusStats()
        for endpoint in self._endpoints.values():
            total = total + endpoint.stats
        if self._guard is not None:
            total.auth_refused = self._guard.refused
        return total

    @property
    def context(self) -> zmq.Context[zmq.Socket[bytes]]:
        """The ZeroMQ context (an ``inproc://`` peer must use this one)."""
        return self._context

    @property
    def endpoints(self) -> dict[str, Endpoint]:
        return dict(self._endpoints)

    # --- shutdown -------------------------------------------------------------------

    def close(self) -> None:
        """Close every socket (linger 0), stop the ZAP thread, terminate the context."""
        if self._closed:
            return
        self._closed = True
        try:
            for endpoint in list(self._endpoints.values()):
                endpoint.close()
        finally:
            if self._guard is not None:
                self._guard.stop()
            self._context.destroy(linger=0)

    def __enter__(self) -> Bus:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
