"""One named participant of the bus: sending, publishing, requesting, draining.

Use it through :class:`gridcoop.agents.bus.transport.Bus` (``bus.endpoint(name)``); the module
docstring of :mod:`gridcoop.agents.bus.transport` states the guarantees. The receiving half lives
in :mod:`gridcoop.agents.bus.inbound`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import zmq

from gridcoop.agents.bus.errors import (
    AckTimeoutError,
    AuthenticationError,
    BackpressureError,
    BusClosedError,
    MessageRejectedError,
    OversizedMessageError,
    RequestTimeoutError,
)
from gridcoop.agents.bus.inbound import Handler, Inbound
from gridcoop.agents.bus.messages import MESSAGE_TYPES, Envelope, ErrorMessage, Message, encode
from gridcoop.agents.bus.parts import split
from gridcoop.agents.bus.sockets import send_now
from gridcoop.agents.bus.wire import (
    BUNDLE_MAX,
    KIND_PUBLISH,
    KIND_REQUEST,
    KIND_SEND,
    make_header,
)

if TYPE_CHECKING:
    from gridcoop.agents.bus.transport import Bus

__all__ = ["Endpoint", "Handler"]

_AUTH_EVENTS = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_SUCCEEDED
)


class Endpoint(Inbound):
    """A named endpoint: a ROUTER (reliable in), an XPUB (publish), DEALERs and a SUB (out/in)."""

    def __init__(self, bus: Bus, name: str, session: bytes) -> None:
        super().__init__(bus, name)
        self._session = session
        """Tells this incarnation's ids from a restarted one's; never reaches the model."""
        self._sub_connected: set[str] = set()
        self.subscriptions: dict[str, set[str]] = {}
        self._local_subscribers: list[tuple[Endpoint, str]] = []
        self._topic_cache: dict[str, list[Endpoint]] = {}
        self.address = bus._bind(self._router, name, "router")
        self.pub_address = bus._bind(self._xpub, name, "pub")

    # --- sending ----------------------------------------------------------------------

    def send(self, to: str, message: Envelope) -> str:
        """Send reliably to endpoint ``to``; the receiver acknowledges it. Returns the message id.

        Fills in ``sender`` and (if empty) ``id`` on ``message``. Raises
        :class:`BackpressureError` instead of dropping when the peer's queue is full.
        """
        seq = self._stamp(message)
        frames = self._frame_sets(KIND_SEND, seq, self._payload(message, to), self._session)
        self._send_all(self._dealer(to), frames, f"endpoint {to!r}")
        self._sent(to, message, seq, frames)
        self._mark_router(to)
        return message.id

    def send_many(self, to: str, messages: Sequence[Envelope]) -> list[str]:
        """Send several messages reliably to ``to`` as one bundle: one frame set, one ack.

        Why: each transport message costs a send, a read and an ack whatever its size.
        The receiver still validates, acks and queues each message on its own (a bad one
        is refused alone); ids and order are those of sending one by one. Messages too
        large to share one frame of ``part_bytes`` go one by one. Returns the ids.
        """
        bus = self._bus
        stamped = [(self._stamp(m), m) for m in messages]
        payloads = [self._payload(m, to) for _, m in stamped]
        if len(stamped) < 2 or len(stamped) > BUNDLE_MAX \
                or sum(map(len, payloads)) > bus.part_bytes:
            for (seq, message), payload in zip(stamped, payloads, strict=True):
                frames = self._frame_sets(KIND_SEND, seq, payload, self._session)
                self._send_all(self._dealer(to), frames, f"endpoint {to!r}")
                self._sent(to, message, seq, frames)
        else:
            first = stamped[0][0]
            header = make_header(KIND_SEND, bus.codec, first, self._session)
            self._send_frames(self._dealer(to), [header, *payloads], f"endpoint {to!r}")
            for (seq, message), payload in zip(stamped, payloads, strict=True):
                # a resend goes alone: the receiver drops what it already has by id
                self._sent(to, message, seq, [[make_header(KIND_SEND, bus.codec, seq,
                                                              self._session), payload]])
        self._mark_router(to)
        return [m.id for _, m in stamped]

    def _sent(self, to: str, message: Envelope, seq: int, frames: list[list[bytes]]) -> None:
        """Remember a reliable send until its ack (frames: what a resend sends)."""
        self._pending[(to, message.id)] = (seq, frames)
        self._pending_by_seq[(to, seq)] = message
        self.stats.sent += 1

    def publish(self, topic: str, message: Envelope) -> str:
        """Publish to subscribers of ``topic`` (prefix match); not acknowledged. Returns the id."""
        seq = self._stamp(message)
        frames = [[topic.encode(), *f] for f in self._frames(KIND_PUBLISH, seq, message, b"")]
        self._send_all(self._xpub, frames, f"subscribers of {topic!r}")
        self.stats.published += 1
        subscribers = self._topic_cache.get(topic)
        if subscribers is None:
            subscribers = list(dict.fromkeys(e for e, prefix in self._local_subscribers
                                             if topic.startswith(prefix)))
            self._topic_cache[topic] = subscribers
        for subscriber in subscribers:
            subscriber._awaiting[self.name] = seq
            if self._bus.handover:
                subscriber._published_here[(self.name, seq)] = message  # not re-parsed
            self._bus._mark(subscriber._read_sub)
        return message.id

    def request(self, to: str, message: Envelope, timeout_s: float | None = None) -> Message:
        """Send a request to ``to`` and pump the bus until its reply arrives.

        The peer answers with a handler registered by :meth:`serve`; reliable
        messages this endpoint sent to ``to`` before are in ``to``'s inbox by then
        (one pipe, first in first out). Raises :class:`MessageRejectedError` on an
        error reply, :class:`RequestTimeoutError` or :class:`AuthenticationError`.
        """
        seq = self._stamp(message)
        frames = self._frames(KIND_REQUEST, seq, message, self._session)
        self._waiting.add(message.id)
        timeout = timeout_s if timeout_s is not None else self._bus.ack_timeout_s
        deadline = time.monotonic() + timeout
        try:
            self._send_all(self._dealer(to), frames, f"endpoint {to!r}")
            self.stats.sent += 1
            self._mark_router(to)
            while message.id not in self._replies:
                self._check_auth([to])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RequestTimeoutError(
                        f"{self.name}: no reply from {to!r} to {message.type} {message.id!r} "
                        f"within {timeout} s; is the peer's bus being pumped?"
                    )
                self._bus._progress(min(remaining, 0.05))
        finally:
            self._waiting.discard(message.id)
        reply = self._replies.pop(message.id)
        if isinstance(reply, ErrorMessage):
            raise MessageRejectedError(f"{to!r} rejected {message.type} {message.id!r}: "
                                       f"[{reply.code}] {reply.detail}", reply.code, reply.detail)
        return reply

    def serve(self, message_type: str, handler: Handler) -> None:
        """Answer requests of ``message_type`` with ``handler`` (run while the bus is pumped).

        A handler may send, publish and request; a ``ValueError`` it raises becomes
        a ``rejected`` error reply, any other exception an ``internal`` one and is
        re-raised to whoever pumped the bus.
        """
        if message_type not in MESSAGE_TYPES:
            raise ValueError(f"unknown message type {message_type!r}; known: "
                             f"{', '.join(sorted(MESSAGE_TYPES))}")
        self._handlers[message_type] = handler

    def subscribe(self, publisher: str, topic: str = "") -> None:
        """Receive what ``publisher`` publishes on topics starting with ``topic``.

        For a publisher on this bus, returns once the publisher has seen the
        subscription, so nothing it publishes afterwards is missed.
        """
        address = self._bus._address_of(publisher)
        sub = self._subs.get(publisher)
        if sub is None:

            def reader() -> int:
                return self._read_publisher(publisher)

            sub = self._bus._new_socket(zmq.SUB, server=False, reader=reader)
            self._bus._arm_client(sub, address.server_public_key)
            sub.connect(address.pub)
            self._subs[publisher] = sub
        local = self._bus._endpoints.get(publisher)
        before = local.subscribers(topic) if local is not None else 0
        sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.subscriptions.setdefault(publisher, set()).add(topic)
        if local is None:
            return
        deadline = time.monotonic() + self._bus.ack_timeout_s
        while local.subscribers(topic) <= before:
            if time.monotonic() > deadline:
                raise AckTimeoutError(
                    f"{publisher!r} did not see {self.name!r}'s subscription to {topic!r}", []
                )
            local._xpub.poll(10)
        local._local_subscribers.append((self, topic))
        local._topic_cache.clear()

    # --- receiving --------------------------------------------------------------------

    def drain(self) -> list[Message]:
        """Everything received so far, ordered by (sender name, sender sequence number).

        The order does not depend on arrival timing: per-sender FIFO, senders by
        name. Call it after :meth:`Bus.settle` to be sure everything sent is in.
        """
        if not self._closed:
            self._read_router()
            self._read_sub()
        inbox, self._inbox = self._inbox, []
        inbox.sort(key=lambda item: (item[0], item[1]))
        return [message for _, _, message in inbox]

    @property
    def pending(self) -> list[str]:
        """Ids of reliable messages sent and not yet acknowledged."""
        return [message_id for _, message_id in self._pending]

    def unsettled_publications(self) -> list[str]:
        """Local publishers whose publications since our subscription have not all arrived."""
        return list(self._awaiting)

    def wait_acks(self, timeout_s: float | None = None, retries: int | None = None) -> None:
        """Pump the bus until every reliable send is acknowledged; resend, then raise.

        Raises :class:`MessageRejectedError` if a peer answered with an error,
        :class:`AuthenticationError` if a peer refused our key, and
        :class:`AckTimeoutError` when acks are still missing after ``retries`` resends.
        """
        self._await_acks(timeout_s, retries, waited=False)

    def _await_acks(self, timeout_s: float | None, retries: int | None, waited: bool) -> None:
        """``waited``: one timeout has already passed (``Bus.settle``), so resend first."""
        timeout = timeout_s if timeout_s is not None else self._bus.ack_timeout_s
        attempts = (retries if retries is not None else self._bus.retries) + (0 if waited else 1)
        for attempt in range(attempts):
            if attempt or waited:
                self._resend()
            deadline = time.monotonic() + timeout
            while self._pending and time.monotonic() < deadline:
                self._check_auth([peer for peer, _ in self._pending])
                self._bus._progress(min(max(deadline - time.monotonic(), 0.0), 0.05))
            self.raise_rejections()
            if not self._pending:
                return
        unacked = self.pending
        raise AckTimeoutError(
            f"{self.name}: {len(unacked)} message(s) not acknowledged within {timeout} s "
            f"(first: {unacked[:3]}); the peer is gone or not pumping its bus",
            unacked,
        )

    def raise_rejections(self) -> None:
        """Raise the first error reply received for our reliable sends (and forget them all)."""
        if self._rejections:
            first, count = self._rejections[0], len(self._rejections)
            self._rejections.clear()
            if count > 1:
                first.args = (f"{first.args[0]} (and {count - 1} more rejections)",)
            raise first

    # --- internals --------------------------------------------------------------------

    def _frames(self, kind: bytes, seq: int, message: Envelope, session: bytes
                ) -> list[list[bytes]]:
        """The frame sets carrying ``message``: one, or one per part of a large payload."""
        return self._frame_sets(kind, seq, self._payload(message), session)

    def _payload(self, message: Envelope, to: str = "") -> bytes:
        """``message``'s wire bytes, refused when larger than any receiver accepts; empty for a
        send to an endpoint of this process, which takes the object (``Inbound._handed``)."""
        if self._bus.handover and to in self._bus._endpoints:
            return b""
        payload = encode(message, self._bus.codec)
        if len(payload) > self._bus.max_message_bytes:
            raise OversizedMessageError(
                f"{message.type} message {message.id!r} encodes to {len(payload)} bytes, more than "
                f"max_message_bytes={self._bus.max_message_bytes}; split it or raise the limit "
                "(on every bus that receives it)"
            )
        return payload

    def _frame_sets(self, kind: bytes, seq: int, payload: bytes, session: bytes
                    ) -> list[list[bytes]]:
        codec = self._bus.codec
        return [[make_header(kind, codec, seq, session, part), data]
                for part, data in split(payload, self._bus.part_bytes)]

    def _send_all(self, socket: zmq.Socket[bytes], frames: list[list[bytes]], what: str) -> None:
        for one in frames:
            self._send_frames(socket, one, what)

    def _stamp(self, message: Envelope) -> int:
        if self._closed:
            raise BusClosedError(f"endpoint {self.name!r} is closed")
        if message.sender and message.sender != self.name:
            raise ValueError(
                f"message sender {message.sender!r} is not this endpoint {self.name!r}; "
                "leave sender empty and the endpoint fills it in"
            )
        self._seq += 1
        message.sender = self.name
        if not message.id:
            message.id = f"{self.name}:{self._seq}"
        return self._seq

    def _send_frames(self, socket: zmq.Socket[bytes], frames: list[bytes], what: str) -> None:
        # Try at once; at the high-water mark wait up to send_timeout_s for room and try
        # once more; never block forever and never drop silently.
        if self._try_send(socket, frames):
            return
        if socket.poll(int(self._bus.send_timeout_s * 1000), zmq.POLLOUT) and self._try_send(
                socket, frames):
            return
        raise BackpressureError(
            f"{self.name}: sending to {what} would block for more than "
            f"{self._bus.send_timeout_s} s (high-water mark {self._bus.hwm} reached): the peer "
            "is not draining. Nothing was queued; drain or settle the bus, then send again, "
            "or raise hwm"
        )

    @staticmethod
    def _try_send(socket: zmq.Socket[bytes], frames: list[bytes]) -> bool:
        """Send without blocking; False when the socket is at its high-water mark."""
        try:
            send_now(socket, frames)
        except zmq.Again:
            return False
        return True

    def _mark_router(self, to: str) -> None:
        local = self._bus._endpoints.get(to)
        if local is not None:
            self._bus._mark(local._read_router)

    def _resend(self) -> None:
        for (peer, _), (_, frames) in list(self._pending.items()):
            self._send_all(self._dealer(peer), frames, f"endpoint {peer!r}")
            self.stats.resent += 1
            self._mark_router(peer)

    def _check_auth(self, peers: list[str]) -> None:
        self._read_monitors()
        for peer in peers:
            if peer in self._auth_failed:
                raise AuthenticationError(
                    f"{self.name}: CurveZMQ handshake with {peer!r} failed "
                    f"({self._auth_failed[peer]}): our public key is not allowed there, or the "
                    "server key we pinned for it is wrong"
                )

    def _dealer(self, to: str) -> zmq.Socket[bytes]:
        dealer = self._dealers.get(to)
        if dealer is None:
            address = self._bus._address_of(to)

            def reader() -> int:
                return self._read_dealer(to)

            dealer = self._bus._new_socket(zmq.DEALER, server=False, reader=reader)
            self._bus._arm_client(dealer, address.server_public_key)
            if self._bus.curve is not None:
                self._monitors[to] = dealer.get_monitor_socket(_AUTH_EVENTS)
            dealer.connect(address.router)
            self._dealers[to] = dealer
            self._dealer_readers[to] = reader
        return dealer

    def close(self) -> None:
        """Close every socket (linger 0). Pending acks are abandoned."""
        if self._closed:
            return
        self._closed = True
        for dealer in self._dealers.values():
            if self._bus.curve is not None:
                dealer.disable_monitor()
        sockets = [self._router, self._xpub, *self._dealers.values(), *self._monitors.values(),
                   *self._subs.values()]
        for socket in sockets:
            self._bus._forget(socket)
            socket.close(linger=0)
        self._bus._endpoints.pop(self.name, None)
        self._bus._sessions.pop(self._session, None)
        for endpoint in self._bus._endpoints.values():
            endpoint._awaiting.pop(self.name, None)
            endpoint._local_subscribers = [
                (e, t) for e, t in endpoint._local_subscribers if e is not self
            ]
            endpoint._topic_cache.clear()
