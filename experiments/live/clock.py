"""Live time: wall time, or wall time sped up for rehearsals.

Why an anchor pair (wall second, live second): a rehearsal at speed-up 900
must give a restarted process the same live time as the one it replaces, and
the device simulator the same time as the runner; both only need the anchor.
At speed-up 1 with no anchor, live time is the wall clock itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LiveClock:
    """``now()`` = ``epoch_s + (wall - start_unix_s) * speedup`` (live seconds)."""

    def __init__(self, *, speedup: float = 1.0, start_unix_s: float | None = None,
                 epoch_s: float | None = None, wall: Callable[[], float] = time.time) -> None:
        if speedup <= 0:
            raise ValueError(f"speedup must be > 0, got {speedup}")
        self.wall = wall
        self.speedup = speedup
        self.start_unix_s = wall() if start_unix_s is None else start_unix_s
        self.epoch_s = self.start_unix_s if epoch_s is None else float(epoch_s)

    def now(self) -> float:
        return self.epoch_s + (self.wall() - self.start_unix_s) * self.speedup

    def wall_of(self, live_s: float) -> float:
        """The wall second at which live second ``live_s`` comes."""
        return self.start_unix_s + (live_s - self.epoch_s) / self.speedup

    def sleep_until(self, live_s: float, stop: threading.Event) -> bool:
        """Wait for live second ``live_s``; False if ``stop`` was set first."""
        while not stop.is_set():
            left = self.wall_of(live_s) - self.wall()
            if left <= 0:
                return True
            stop.wait(min(left, 0.5))
        return False
