"""Say why every refused frame was refused, and recognise a device that restarted.

Why at the live layer: the bridge's replay guard refuses and counts frames
(its reasons: ``duplicate``, ``replay``, ``seq_regression``, ``bad_mac``, ...)
but a person watching a live community saw only silent meters. After each
poll the runner asks the guard for the refusals since the last poll and logs
one line per meter and reason. Frames refused because the device's counters
went backwards (``seq_regression``, ``boot_regression``, ``fcnt_regression``,
``energy_regression``, ``replay``) are what a device restarted from scratch
sends (its EEPROM wiped or its firmware reflashed): that is said in words,
with what to do about it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("gridcoop.live")

RESTART_REASONS = frozenset({"replay", "seq_regression", "boot_regression", "fcnt_regression",
                             "energy_regression"})
"""Refusals a device sends after it restarted from scratch (its counters back at zero)."""


def refused_total(guard: Any) -> int:
    """How many frames the guard refused so far."""
    return sum(int(n) for key, n in guard.counters.items() if str(key).startswith("rejected."))


class RefusalLog:
    """Logs the refusals of each network server's guard since the last look."""

    def __init__(self, sources: Mapping[str, Any]) -> None:
        self._seen = {name: refused_total(s.guard) for name, s in sources.items()
                      if getattr(s, "guard", None) is not None}
        self.restarted: set[str] = set()
        """Meters recognised as restarted (one warning each until they are reset)."""

    def check(self, name: str, source: Any) -> list[str]:
        """Log (and return) one line per meter and reason refused since the last check."""
        guard = getattr(source, "guard", None)
        if guard is None:
            return []
        total = refused_total(guard)
        new = total - self._seen.get(name, 0)
        self._seen[name] = total
        if new <= 0:
            return []
        rows = guard.rejections(new)
        by_meter: Counter[tuple[str, str]] = Counter((meter, reason) for meter, reason, _d, _t
                                                     in rows)
        details = {(meter, reason): detail for meter, reason, detail, _t in rows}
        lines = []
        for (meter, reason), count in sorted(by_meter.items()):
            line = (f"network server {name}: {count} frame(s) from {meter} refused "
                    f"({reason}: {details[(meter, reason)]})")
            if reason in RESTART_REASONS and meter not in self.restarted:
                self.restarted.add(meter)
                line += ("; the device's counters went back: it looks RESTARTED (EEPROM wiped "
                         "or reflashed). Its frames stay refused until its old counters are "
                         "passed or the meter is reset on the bridge")
            log.warning("%s", line)
            lines.append(line)
        return lines
