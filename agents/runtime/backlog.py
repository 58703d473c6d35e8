"""Writing to a child's pipe without waiting for the child: what it has not read yet
waits in memory, up to a bound.

Why: the process replica's child needs a moment to start (it imports the ledger)
while the model already seals blocks. With a plain blocking pipe, the model
stopped for the child whenever the pipe was full, about a tenth of a
market-only run of 200 + 200 traders (``gridcoop bench peers``). Here the model
hands the bytes over and goes on; the backlog empties as the child reads.
Past ``limit`` bytes the writer does wait, so memory stays bounded however far
behind the child falls.
"""

from __future__ import annotations

import os
from collections import deque


class PipeBacklog:
    """A non-blocking writer to one pipe, with a queue of what the pipe could not take yet.

    Errors of the pipe (``BrokenPipeError`` when the reader is gone) propagate
    from ``write`` and ``push``.
    """

    def __init__(self, fd: int, limit: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.limit = limit
        self._parts: deque[memoryview] = deque()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Bytes written but not yet taken by the pipe."""
        return self._pending

    @property
    def over_limit(self) -> bool:
        return self._pending > self.limit

    def write(self, *chunks: bytes) -> None:
        """Queue ``chunks`` in order and push what the pipe takes now (never waits)."""
        for chunk in chunks:
            if chunk:
                self._parts.append(memoryview(chunk))
                self._pending += len(chunk)
        self.push()

    def push(self) -> bool:
        """Write as much of the backlog as the pipe takes now; True when none is left."""
        parts = self._parts
        while parts:
            part = parts[0]
            try:
                written = os.write(self.fd, part)
            except BlockingIOError:
                return False
            self._pending -= written
            if written == len(part):
                parts.popleft()
            else:
                parts[0] = part[written:]
        return True
