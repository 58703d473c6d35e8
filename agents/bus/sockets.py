"""ZeroMQ sockets at the lowest level: the context, and non-blocking reads and writes of
whole multipart messages on one socket.

Why not pyzmq's ``send_multipart``/``recv_multipart``: they turn their flags into
enum members on every frame, which costs about a third of a small message's
trip through an in-process socket; these take plain ints.
"""

from __future__ import annotations

import contextlib
import resource
from typing import Any, cast

import zmq

_EVENTS, _POLLIN = int(zmq.EVENTS), int(zmq.POLLIN)
_NOBLOCK, _SNDMORE, _RCVMORE = int(zmq.NOBLOCK), int(zmq.SNDMORE), int(zmq.RCVMORE)


def readable(socket: zmq.Socket[bytes]) -> bool:
    """Whether a message waits."""
    return bool(cast(int, socket.getsockopt(_EVENTS)) & _POLLIN)


def send_now(socket: zmq.Socket[bytes], frames: list[bytes]) -> None:
    """Send every frame as one message without blocking, as ``send_multipart`` does
    (``zmq.Again`` when the socket is at its high-water mark)."""
    send = socket.send
    for frame in frames[:-1]:
        send(frame, _NOBLOCK | _SNDMORE)
    send(frames[-1], _NOBLOCK)


def receive_now(socket: zmq.Socket[bytes], copy: bool = True) -> list[Any]:
    """One whole message's frames without blocking (bytes, or ``zmq.Frame`` if not ``copy``)."""
    recv = socket.recv
    frames = [recv(_NOBLOCK, copy=copy)]
    while socket.get(_RCVMORE):
        frames.append(recv(_NOBLOCK, copy=copy))
    return frames


FILE_LIMIT_CEILING = 1 << 16
"""Highest soft open-file limit a bus asks for (every ZeroMQ socket holds one or more)."""


def open_file_limit() -> int:
    """Raise this process's soft open-file limit towards its hard limit (at most
    :data:`FILE_LIMIT_CEILING`) where the system allows; return the soft limit in force.

    Why: each region's endpoints hold about a dozen sockets, each with its own file
    descriptors, so a hundred regions pass the usual soft limit of 1,024 long before
    the hard limit an administrator set.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FILE_LIMIT_CEILING if hard == resource.RLIM_INFINITY else min(hard, FILE_LIMIT_CEILING)
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
    return FILE_LIMIT_CEILING if soft == resource.RLIM_INFINITY else soft


def new_context() -> zmq.Context[zmq.Socket[bytes]]:
    """A ZeroMQ context allowed as many sockets as the open-file limit (raised) permits,
    instead of ZeroMQ's default of 1,023."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    files = open_file_limit()
    context.set(zmq.MAX_SOCKETS, max(1, min(files, context.get(zmq.SOCKET_LIMIT))))
    return context
