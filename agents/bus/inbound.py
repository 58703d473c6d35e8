"""The receiving half of an endpoint: reading its sockets, validating, acking, answering.

Split from :mod:`gridcoop.agents.bus.endpoint` so each file reads in one sitting; use
both through :class:`gridcoop.agents.bus.transport.Bus`. Every reader here reads one socket dry
without blocking and returns how many frames it handled; the bus calls them
when a socket is known to have work (a local send marked it) or a poll says so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import zmq
from zmq.utils.monitor import recv_monitor_message

from gridcoop.agents.bus.curve import ANY_NAME
from gridcoop.agents.bus.errors import (
    MalformedMessageError,
    MessageError,
    MessageRejectedError,
    SenderMismatchError,
)
from gridcoop.agents.bus.messages import Ack, Envelope, ErrorMessage, Message, decode, encode
from gridcoop.agents.bus.wire import (
    KIND_PUBLISH,
    KIND_REPLY,
    KIND_REQUEST,
    KIND_SEND,
    BusStats,
    make_header,
    parse_header,
)

if TYPE_CHECKING:
    from gridcoop.agents.bus.transport import Bus

Handler = Callable[[Message], Envelope]
"""A request handler: gets the request, returns the reply (reply_to, id and sender are stamped)."""

DEDUP_WINDOW = 100_000
"""Reliable message ids remembered per sender to recognise resends."""

ACK_CHUNK = 10_000
"""Most ids in one Ack (about 300 kB), well under any sane max_message_bytes."""

_EVENTS, _POLLIN, _NOBLOCK = int(zmq.EVENTS), int(zmq.POLLIN), int(zmq.NOBLOCK)


def readable(socket: zmq.Socket[bytes]) -> bool:
    """Whether a message waits (plain ints: pyzmq's enums double the cost of this hot call)."""
    return bool(cast(int, socket.getsockopt(_EVENTS)) & _POLLIN)


class Inbound:
    """State and readers for everything that arrives at one endpoint."""

    def __init__(self, bus: Bus, name: str) -> None:
        self.name = name
        self.stats = BusStats()
        self._bus = bus
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
        self._seen: dict[str, tuple[bytes, set[str], deque[str]]] = {}
        self._dealers: dict[str, zmq.Socket[bytes]] = {}
        self._dealer_readers: dict[str, Callable[[], int]] = {}
        self._monitors: dict[str, zmq.Socket[bytes]] = {}
        self._auth_failed: dict[str, str] = {}
        self._sub: zmq.Socket[bytes] | None = None
        self._awaiting: dict[str, int] = {}
        """Local publisher -> sequence number of its last publication we must still receive."""
        self.subscriber_counts: dict[str, int] = {}
        self._router = bus._new_socket(zmq.ROUTER, server=True, reader=self._read_router)
        self._router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # a restarted peer reconnecting under its name takes the name over at once, instead
        # of being refused until the dead connection times out
        self._router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self._xpub = bus._new_socket(zmq.XPUB, server=True)
        self._xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
        self._xpub.setsockopt(zmq.XPUB_NODROP, 1)

    # --- reliable messages and requests (ROUTER) -----------------------------------------

    def _read_router(self) -> int:
        if self._in_handler or self._closed:
            # a handler that sends, requests or drains pumps again: its own ROUTER is read
            # by the outer pump only, so requests are handled one at a time, in order
            return 0
        acks: dict[bytes, list[str]] = {}
        handled = self._flush_outbox()
        copy = self._bus.curve is None
        while readable(self._router):
            frames = self._router.recv_multipart(_NOBLOCK, copy=copy)
            handled += 1
            self._on_request(frames, acks)
        for ident, ids in acks.items():
            for start in range(0, len(ids), ACK_CHUNK):
                self._seq += 1
                chunk = ids[start : start + ACK_CHUNK]
                ack = Ack(acked_ids=chunk, sender=self.name, id=f"{self.name}:{self._seq}")
                header = make_header(KIND_REPLY, self._bus.codec, 0)
                self._reply(ident, [header, encode(ack, self._bus.codec)])
        return handled

    def _on_request(self, raw: list[bytes] | list[zmq.Frame], acks: dict[bytes, list[str]]) -> None:
        frames = [f if isinstance(f, bytes) else f.bytes for f in raw]
        ident, seq, message_id = frames[0], 0, None
        try:
            if len(frames) != 3:
                raise MalformedMessageError(
                    f"expected [routing id, header, payload], got {len(frames)} frames"
                )
            kind, codec, seq, session = parse_header(frames[1], KIND_SEND + KIND_REQUEST)
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
        elif self._is_duplicate(message.sender, session, message.id):
            self.stats.duplicates += 1
            acks.setdefault(ident, []).append(message.id)
        else:
            self._inbox.append((message.sender, seq, message))
            self.stats.received += 1
            acks.setdefault(ident, []).append(message.id)

    def _check_key(self, frame: zmq.Frame, sender: str) -> None:
        """Under CurveZMQ, the client's key must be listed for the name it sends as."""
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
        header = make_header(KIND_REPLY, self._bus.codec, seq)
        self._reply(ident, [header, encode(reply, self._bus.codec)])

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
        peer = self._bus._endpoints.get(ident.decode(errors="replace"))
        if peer is not None and self.name in peer._dealer_readers:
            self._bus._mark(peer._dealer_readers[self.name])

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

    def _is_duplicate(self, sender: str, session: bytes, message_id: str) -> bool:
        """A resend of a message already queued? Ids are remembered per sender session: a
        restarted sender starts a new session, and its ids count again from 1."""
        known = self._seen.get(sender)
        if known is None or known[0] != session:
            known = self._seen[sender] = (session, set(), deque())
        _, seen, order = known
        if message_id in seen:
            return True
        seen.add(message_id)
        order.append(message_id)
        if len(order) > DEDUP_WINDOW:
            seen.discard(order.popleft())
        return False

    # --- acks and replies (DEALERs) ------------------------------------------------------

    def _read_dealer(self, peer: str) -> int:
        dealer, handled = self._dealers.get(peer), 0
        while dealer is not None and not self._closed and readable(dealer):
            self._on_reply(peer, dealer.recv_multipart(_NOBLOCK))
            handled += 1
        return handled

    def _on_reply(self, peer: str, frames: list[bytes]) -> None:
        try:
            if len(frames) != 2:
                raise MalformedMessageError(f"reply with {len(frames)} frames, expected 2")
            _, codec, seq, _ = parse_header(frames[0], KIND_REPLY)
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

    def _read_monitors(self) -> None:
        for peer, monitor in self._monitors.items():
            while readable(monitor):
                event = recv_monitor_message(monitor)
                if event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    self._auth_failed.pop(peer, None)
                else:
                    name = zmq.Event(event["event"]).name
                    self._auth_failed[peer] = f"{name}, status {event['value']}"

    # --- publications (SUB) and subscriptions (XPUB) -------------------------------------

    def _read_sub(self) -> int:
        sub, handled = self._sub, 0
        while sub is not None and not self._closed and readable(sub):
            self._on_publish(sub.recv_multipart(_NOBLOCK))
            handled += 1
        return handled

    def _on_publish(self, frames: list[bytes]) -> None:
        try:
            if len(frames) != 3:
                raise MalformedMessageError(f"publication with {len(frames)} frames, expected 3")
            _, codec, seq, _ = parse_header(frames[1], KIND_PUBLISH)
            message = decode(frames[2], codec, self._bus.max_message_bytes)
        except MessageError as exc:
            self.stats.count_rejection(exc.code)
            return
        self._inbox.append((message.sender, seq, message))
        needed = self._awaiting.get(message.sender)
        if needed is not None and seq >= needed:
            del self._awaiting[message.sender]
        self.stats.received += 1

    def _read_xpub(self) -> int:
        handled = 0
        while not self._closed and readable(self._xpub):
            event = self._xpub.recv()
            topic = event[1:].decode(errors="replace")
            change = 1 if event[:1] == b"\x01" else -1
            self.subscriber_counts[topic] = self.subscriber_counts.get(topic, 0) + change
            handled += 1
        return handled

    def subscribers(self, topic: str) -> int:
        """How many subscriptions to exactly ``topic`` this endpoint's publisher has seen."""
        self._read_xpub()
        return self.subscriber_counts.get(topic, 0)
