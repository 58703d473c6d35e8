"""One named participant of the bus: its sockets, inbox, pending acks and counters.

Use it through :class:`agents.bus.Bus` (``bus.endpoint(name)``); the module
docstring of :mod:`agents.bus` explains the guarantees.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import zmq
from zmq.utils.monitor import recv_monitor_message

from agents.bus_errors import (
    AckTimeoutError,
    AuthenticationError,
    BackpressureError,
    BusClosedError,
    MalformedMessageError,
    MessageError,
    MessageRejectedError,
    OversizedMessageError,
    RequestTimeoutError,
    SenderMismatchError,
)
from agents.bus_wire import (
    KIND_PUBLISH,
    KIND_REPLY,
    KIND_REQUEST,
    KIND_SEND,
    BusStats,
    make_header,
    parse_header,
)
from agents.curve import ANY_NAME
from agents.messages import MESSAGE_TYPES, Ack, Envelope, ErrorMessage, Message, decode, encode

if TYPE_CHECKING:
    from agents.bus import Bus

Handler = Callable[[Message], Envelope]
"""A request handler: gets the request, returns the reply (reply_to, id and sender are stamped)."""

DEDUP_WINDOW = 100_000
"""Reliable message ids remembered per sender to recognise resends."""

_AUTH_EVENTS = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_SUCCEEDED
)


_EVENTS, _POLLIN, _NOBLOCK = int(zmq.EVENTS), int(zmq.POLLIN), int(zmq.NOBLOCK)


def _readable(socket: zmq.Socket[bytes]) -> bool:
    """Whether a message waits (plain ints: pyzmq's enums double the cost of this hot call)."""
    return bool(cast(int, socket.getsockopt(_EVENTS)) & _POLLIN)


class Endpoint:
    """A named endpoint: a ROUTER (reliable in), an XPUB (publish), DEALERs and a SUB (out/in)."""

    def __init__(self, bus: Bus, name: str) -> None:
        self.name = name
        self.stats = BusStats()
        self._bus = bus
        self._ident = name.encode()
        self._seq = 0
        self._closed = False
        self._in_handler = False
        self._inbox: list[tuple[str, int, Message]] = []
        self._pending: dict[tuple[str, str], tuple[int, list[bytes]]] = {}
        self._pending_by_seq: dict[tuple[str, int], str] = {}
        self._rejections: list[MessageRejectedError] = []
        self._replies: dict[str, Message] = {}
        self._waiting: set[str] = set()
        self._handlers: dict[str, Handler] = {}
        self._outbox: deque[list[bytes]] = deque()
        self._seen: dict[str, tuple[set[str], deque[str]]] = {}
        self._dealers: dict[str, zmq.Socket[bytes]] = {}
        self._monitors: dict[str, zmq.Socket[bytes]] = {}
        self._auth_failed: dict[str, str] = {}
        self._sub: zmq.Socket[bytes] | None = None
        self._sub_connected: set[str] = set()
        self.subscriptions: dict[str, set[str]] = {}
        self._sub_since: dict[tuple[str, str], int] = {}
        self._last_pub_seen: dict[str, int] = {}
        self.last_seq_by_topic: dict[str, int] = {}
        self.subscriber_counts: dict[str, int] = {}
        self._router = bus._new_socket(zmq.ROUTER, server=True, reader=self._read_router)
        self._router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.address = bus._bind(self._router, name, "router")
        self._xpub = bus._new_socket(zmq.XPUB, server=True)
        self._xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
        self._xpub.setsockopt(zmq.XPUB_NODROP, 1)
        self.pub_address = bus._bind(self._xpub, name, "pub")

    # --- sending ----------------------------------------------------------------------

    def _encode(self, message: Envelope) -> bytes:
        payload = encode(message, self._bus.codec)
        if len(payload) > self._bus.max_message_bytes:
            raise OversizedMessageError(
                f"{message.type} message {message.id!r} encodes to {len(payload)} bytes, more than "
                f"max_message_bytes={self._bus.max_message_bytes}; split it or raise the limit "
                "(on every bus that receives it)"
            )
        return payload

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
        try:
            socket.send_multipart(frames, _NOBLOCK)
            return
        except zmq.Again:
            pass
        timeout_ms = int(self._bus.send_timeout_s * 1000)
        if socket.poll(timeout_ms, zmq.POLLOUT):
            try:
                socket.send_multipart(frames, _NOBLOCK)
                return
            except zmq.Again:
                pass
        raise BackpressureError(
            f"{self.name}: sending to {what} would block for more than "
            f"{self._bus.send_timeout_s} s (high-water mark {self._bus.hwm} reached): the peer "
            "is not draining. Nothing was queued; drain or settle the bus, then send again, "
            "or raise hwm"
        )

    def send(self, to: str, message: Envelope) -> str:
        """Send reliably to endpoint ``to``; the receiver acknowledges it. Returns the message id.

        Fills in ``sender`` and (if empty) ``id`` on ``message``. Raises
        :class:`BackpressureError` instead of dropping when the peer's queue is full.
        """
        seq = self._stamp(message)
        frames = [make_header(KIND_SEND, self._bus.codec, seq), self._encode(message)]
        self._send_frames(self._dealer(to), frames, f"endpoint {to!r}")
        self._pending[(to, message.id)] = (seq, frames)
        self._pending_by_seq[(to, seq)] = message.id
        self.stats.sent += 1
        return message.id

    def publish(self, topic: str, message: Envelope) -> str:
        """Publish to subscribers of ``topic`` (prefix match); not acknowledged. Returns the id."""
        seq = self._stamp(message)
        header = make_header(KIND_PUBLISH, self._bus.codec, seq)
        frames = [topic.encode(), header, self._encode(message)]
        self._send_frames(self._xpub, frames, f"subscribers of {topic!r}")
        self.last_seq_by_topic[topic] = seq
        self.stats.published += 1
        return message.id

    def request(self, to: str, message: Envelope, timeout_s: float | None = None) -> Message:
        """Send a request to ``to`` and pump the bus until its reply arrives.

        The peer answers with a handler registered by :meth:`serve`. Raises
        :class:`MessageRejectedError` on an error reply, :class:`RequestTimeoutError`
        or :class:`AuthenticationError` when no reply can come.
        """
        seq = self._stamp(message)
        frames = [make_header(KIND_REQUEST, self._bus.codec, seq), self._encode(message)]
        self._waiting.add(message.id)
        self._send_frames(self._dealer(to), frames, f"endpoint {to!r}")
        self.stats.sent += 1
        deadline = time.monotonic() + (
            timeout_s if timeout_s is not None else self._bus.ack_timeout_s
        )
        try:
            while message.id not in self._replies:
                self._check_auth([to])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RequestTimeoutError(
                        f"{self.name}: no reply from {to!r} to {message.type} {message.id!r} "
                        f"within {timeout_s or self._bus.ack_timeout_s} s; is the peer's bus "
                        "being pumped, and does it serve this message type?"
                    )
                self._bus.pump(min(remaining, 0.05))
        finally:
            self._waiting.discard(message.id)
        reply = self._replies.pop(message.id)
        if isinstance(reply, ErrorMessage):
            raise MessageRejectedError(
                f"{to!r} rejected {message.type} {message.id!r}: [{reply.code}] {reply.detail}",
                reply.code,
                reply.detail,
            )
        return reply

    def serve(self, message_type: str, handler: Handler) -> None:
        """Answer requests of ``message_type`` with ``handler`` (run while the bus is pumped)."""
        if message_type not in MESSAGE_TYPES:
            raise ValueError(
                f"unknown message type {message_type!r}; known: {', '.join(sorted(MESSAGE_TYPES))}"
            )
        self._handlers[message_type] = handler

    def subscribe(self, publisher: str, topic: str = "") -> None:
        """Receive what ``publisher`` publishes on topics starting with ``topic``.

        For a publisher on this bus, returns once the publisher has seen the
        subscription, so nothing published afterwards is missed.
        """
        address = self._bus._address_of(publisher)
        if self._sub is None:
            self._sub = self._bus._new_socket(zmq.SUB, server=False, reader=self._read_sub)
        if publisher not in self._sub_connected:
            self._bus._arm_client(self._sub, address.server_public_key)
            self._sub.connect(address.pub)
            self._sub_connected.add(publisher)
        local = self._bus._endpoints.get(publisher)
        before = local.subscriber_counts.get(topic, 0) if local else 0
        self._sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.subscriptions.setdefault(publisher, set()).add(topic)
        if local is not None:
            self._sub_since.setdefault((publisher, topic), local._seq)
            deadline = time.monotonic() + self._bus.ack_timeout_s
            while local.subscriber_counts.get(topic, 0) <= before:
                if time.monotonic() > deadline:
                    raise AckTimeoutError(
                        f"{publisher!r} did not see {self.name!r}'s subscription to {topic!r}", []
                    )
                local._read_xpub()
                if local.subscriber_counts.get(topic, 0) <= before:
                    local._xpub.poll(10)

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
                self._bus.pump(min(max(deadline - time.monotonic(), 0.0), 0.05))
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

    def _resend(self) -> None:
        for (peer, _), (_, frames) in list(self._pending.items()):
            self._send_frames(self._dealer(peer), frames, f"endpoint {peer!r}")
            self.stats.resent += 1

    def _check_auth(self, peers: list[str]) -> None:
        self._read_monitors()
        for peer in peers:
            if peer in self._auth_failed:
                raise AuthenticationError(
                    f"{self.name}: CurveZMQ handshake with {peer!r} failed "
                    f"({self._auth_failed[peer]}): our public key is not allowed there, or the "
                    "server key we pinned for it is wrong"
                )

    def _read_dealer(self, peer: str) -> int:
        dealer, handled = self._dealers[peer], 0
        while _readable(dealer):
            self._on_reply(peer, dealer.recv_multipart(_NOBLOCK))
            handled += 1
        return handled

    def _read_sub(self) -> int:
        sub, handled = self._sub, 0
        while sub is not None and _readable(sub):
            self._on_publish(sub.recv_multipart(_NOBLOCK))
            handled += 1
        return handled

    def subscribers(self, topic: str) -> int:
        """How many subscriptions to exactly ``topic`` this endpoint's publisher has seen."""
        self._read_xpub()
        return self.subscriber_counts.get(topic, 0)

    def _read_xpub(self) -> int:
        handled = 0
        while _readable(self._xpub):
            event = self._xpub.recv()
            topic = event[1:].decode(errors="replace")
            change = 1 if event[:1] == b"\x01" else -1
            self.subscriber_counts[topic] = self.subscriber_counts.get(topic, 0) + change
            handled += 1
        return handled

    def _read_router(self) -> int:
        if self._in_handler:
            # a handler that sends, requests or drains pumps again: its own ROUTER is read
            # by the outer pump only, so requests are handled one at a time, in order
            return 0
        acks: dict[bytes, list[str]] = {}
        handled = self._flush_outbox()
        copy = self._bus.curve is None
        while _readable(self._router):
            frames = self._router.recv_multipart(_NOBLOCK, copy=copy)
            handled += 1
            self._on_request(frames, acks)
        for ident, ids in acks.items():
            self._seq += 1
            ack = Ack(acked_ids=ids, sender=self.name, id=f"{self.name}:{self._seq}")
            self._reply(ident, [make_header(KIND_REPLY, self._bus.codec, 0), encode(ack)])
        return handled

    def _on_request(self, raw: list[bytes] | list[zmq.Frame], acks: dict[bytes, list[str]]) -> None:
        frames = [f if isinstance(f, bytes) else f.bytes for f in raw]
        ident, seq, message_id = frames[0], 0, None
        try:
            if len(frames) != 3:
                raise MalformedMessageError(
                    f"expected [routing id, header, payload], got {len(frames)} frames"
                )
            kind, codec, seq = parse_header(frames[1], KIND_SEND + KIND_REQUEST)
            message = decode(frames[2], codec, self._bus.max_message_bytes)
            if not message.id:
                raise MalformedMessageError(
                    f"{message.type} message has an empty id; send it through an Endpoint, "
                    "which assigns one"
                )
            message_id = message.id
            sender = ident.decode(errors="replace")
            if message.sender != sender:
                raise SenderMismatchError(
                    f"envelope sender {message.sender!r} differs from the connected peer {sender!r}"
                )
            if not isinstance(raw[0], bytes):
                self._check_key(cast(zmq.Frame, raw[-1]), sender)
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            self._error_reply(ident, seq, message_id, exc.code, str(exc))
            return
        if kind == KIND_REQUEST:
            self._serve_request(ident, seq, message)
        elif self._is_duplicate(message.sender, message.id):
            self.stats.duplicates += 1
            acks.setdefault(ident, []).append(message.id)
        else:
            self._inbox.append((message.sender, seq, message))
            self.stats.received += 1
            acks.setdefault(ident, []).append(message.id)

    def _check_key(self, frame: zmq.Frame, sender: str) -> None:
        curve = self._bus.curve
        key = str(frame.get("User-Id")).encode()
        if curve is None or key == curve.keys.public:
            return
        names = curve.names_for(key) or ()
        if sender not in names and ANY_NAME not in names:
            raise SenderMismatchError(
                f"the CurveZMQ key {key.decode()[:8]}... may not speak for {sender!r}; "
                "list that name with the key in allowed_clients"
            )

    def _serve_request(self, ident: bytes, seq: int, message: Message) -> None:
        self.stats.received += 1
        handler = self._handlers.get(message.type)
        if handler is None:
            detail = f"{self.name!r} serves no {message.type!r} requests"
            self._error_reply(ident, seq, message.id, "no_handler", detail)
            return
        self._in_handler = True
        try:
            reply = handler(message)
        except (MessageError, ValueError) as exc:
            self._error_reply(ident, seq, message.id, "rejected", str(exc))
            return
        except Exception as exc:
            self._error_reply(ident, seq, message.id, "internal", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._in_handler = False
        if not isinstance(reply, Envelope):
            detail = f"the {message.type!r} handler returned {type(reply).__name__}, not a message"
            self._error_reply(ident, seq, message.id, "internal", detail)
            raise TypeError(detail)
        self._seq += 1
        reply.sender, reply.reply_to = self.name, message.id
        if not reply.id:
            reply.id = f"{self.name}:{self._seq}"
        self.stats.requests_served += 1
        self._reply(ident, [make_header(KIND_REPLY, self._bus.codec, seq), encode(reply)])

    def _error_reply(
        self, ident: bytes, seq: int, reply_to: str | None, code: str, detail: str
    ) -> None:
        self._seq += 1
        error = ErrorMessage(
            id=f"{self.name}:{self._seq}",
            sender=self.name,
            reply_to=reply_to,
            code=code,
            detail=detail[:2000],
        )
        self.stats.error_replies_sent += 1
        self._reply(ident, [make_header(KIND_REPLY, "json", seq), encode(error)])

    def _reply(self, ident: bytes, frames: list[bytes]) -> None:
        self._outbox.append([ident, *frames])
        self._flush_outbox()

    def _flush_outbox(self) -> int:
        sent = 0
        while self._outbox:
            try:
                self._router.send_multipart(self._outbox[0], _NOBLOCK)
            except zmq.Again:
                break  # the peer's queue is full: keep the reply and retry on the next pump
            except zmq.ZMQError as exc:
                if exc.errno != zmq.EHOSTUNREACH:
                    raise
                self.stats.replies_undeliverable += 1
            self._outbox.popleft()
            sent += 1
        return sent

    def _is_duplicate(self, sender: str, message_id: str) -> bool:
        seen, order = self._seen.setdefault(sender, (set(), deque()))
        if message_id in seen:
            return True
        seen.add(message_id)
        order.append(message_id)
        if len(order) > DEDUP_WINDOW:
            seen.discard(order.popleft())
        return False

    def _on_reply(self, peer: str, frames: list[bytes]) -> None:
        try:
            if len(frames) != 2:
                raise MalformedMessageError(f"reply with {len(frames)} frames, expected 2")
            _, codec, seq = parse_header(frames[0], KIND_REPLY)
            message = decode(frames[1], codec, self._bus.max_message_bytes)
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            return
        if message.reply_to is not None and message.reply_to in self._waiting:
            self._replies[message.reply_to] = message
            return
        if isinstance(message, Ack):
            for message_id in message.acked_ids:
                entry = self._pending.pop((peer, message_id), None)
                if entry is not None:
                    self._pending_by_seq.pop((peer, entry[0]), None)
                    self.stats.acked += 1
            return
        if isinstance(message, ErrorMessage):
            self.stats.error_replies_received += 1
            message_id = self._pending_by_seq.pop((peer, seq), "")
            if message_id:
                self._pending.pop((peer, message_id), None)
                self._rejections.append(
                    MessageRejectedError(
                        f"{peer!r} rejected message {message_id!r} from {self.name!r}: "
                        f"[{message.code}] {message.detail}",
                        message.code,
                        message.detail,
                    )
                )
                return
        self.stats.late_replies += 1

    def _on_publish(self, frames: list[bytes]) -> None:
        try:
            if len(frames) != 3:
                raise MalformedMessageError(f"publication with {len(frames)} frames, expected 3")
            _, codec, seq = parse_header(frames[1], KIND_PUBLISH)
            message = decode(frames[2], codec, self._bus.max_message_bytes)
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            return
        self._inbox.append((message.sender, seq, message))
        self._last_pub_seen[message.sender] = seq
        self.stats.received += 1

    def _read_monitors(self) -> None:
        for peer, monitor in self._monitors.items():
            while _readable(monitor):
                event = recv_monitor_message(monitor)
                if event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    self._auth_failed.pop(peer, None)
                else:
                    name = zmq.Event(event["event"]).name
                    self._auth_failed[peer] = f"{name}, status {event['value']}"

    def _dealer(self, to: str) -> zmq.Socket[bytes]:
        dealer = self._dealers.get(to)
        if dealer is None:
            address = self._bus._address_of(to)
            dealer = self._bus._new_socket(
                zmq.DEALER, server=False, reader=lambda: self._read_dealer(to)
            )
            dealer.setsockopt(zmq.ROUTING_ID, self._ident)
            self._bus._arm_client(dealer, address.server_public_key)
            if self._bus.curve is not None:
                self._monitors[to] = dealer.get_monitor_socket(_AUTH_EVENTS)
            dealer.connect(address.router)
            self._dealers[to] = dealer
        return dealer

    def unsettled_publications(self) -> list[str]:
        """Local publishers whose publications since our subscription have not all arrived."""
        late = []
        for publisher, topics in self.subscriptions.items():
            local = self._bus._endpoints.get(publisher)
            if local is None:
                continue
            needed = 0
            for prefix in topics:
                since = self._sub_since.get((publisher, prefix), 0)
                for topic, seq in local.last_seq_by_topic.items():
                    if seq > since and seq > needed and topic.startswith(prefix):
                        needed = seq
            if self._last_pub_seen.get(publisher, 0) < needed:
                late.append(publisher)
        return late

    def close(self) -> None:
        """Close every socket (linger 0). Pending acks are abandoned."""
        if self._closed:
            return
        self._closed = True
        for dealer in self._dealers.values():
            if self._bus.curve is not None:
                dealer.disable_monitor()
        sockets = [self._router, self._xpub, *self._dealers.values(), *self._monitors.values()]
        if self._sub is not None:
            sockets.append(self._sub)
        for socket in sockets:
            self._bus._forget(socket)
            socket.close(linger=0)
        self._bus._endpoints.pop(self.name, None)
