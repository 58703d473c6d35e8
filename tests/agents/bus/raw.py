"""A raw ZeroMQ DEALER beside a bus endpoint: the peer that puts any frames on the wire."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import zmq

from gridcoop.agents.bus.transport import Bus, Endpoint, PeerAddress


@contextmanager
def raw_peer(transport: Literal["inproc", "tcp"] = "inproc", name: str = "market",
             max_message_bytes: int | None = None
             ) -> Iterator[tuple[Bus, Endpoint, zmq.Socket[bytes]]]:
    """A bus with endpoint ``name`` and a raw DEALER connected to its ROUTER. Inproc peers
    share the bus's context; over tcp the raw peer has its own, as another process would."""
    bus = Bus(transport) if max_message_bytes is None else Bus(
        transport, max_message_bytes=max_message_bytes)
    endpoint = bus.endpoint(name)
    context = bus.context if transport == "inproc" else zmq.Context()
    raw = context.socket(zmq.DEALER)
    raw.setsockopt(zmq.LINGER, 0)
    raw.connect(endpoint.address)
    try:
        yield bus, endpoint, raw
    finally:
        raw.close()
        if context is not bus.context:
            context.term()
        bus.close()


@contextmanager
def rogue_peer(bus: Bus, name: str, socket_type: int) -> Iterator[zmq.Socket[bytes]]:
    """A raw socket of ``socket_type`` in a context of its own (as another process's),
    bound to a tcp port that ``bus`` knows as peer ``name``'s router and publisher."""
    context = zmq.Context()
    socket = context.socket(socket_type)
    socket.setsockopt(zmq.LINGER, 0)
    address = f"tcp://127.0.0.1:{socket.bind_to_random_port('tcp://127.0.0.1')}"
    try:
        bus.add_peer(name, PeerAddress(address, address))
        yield socket
    finally:
        socket.close()
        context.term()
