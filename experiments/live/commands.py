"""Commands to send: a queue aggregators push to, and live mode's own DR rule.

Why a queue of plain requests: the DR and EV aggregators (in this process, or
on other hosts over the CurveZMQ bus) decide *what* to command; live mode
alone owns the transports, the command ids (unique across restarts, from the
ledger) and the ledger records of each command and its outcome.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueuedCommand:
    """A request to command ``appliance`` of ``node``'s device (live mode picks the id)."""

    node: str
    appliance: int
    action: str  # hardware_bridge.Command actions: on, off, increase, decrease, dr_event, ...
    level: int = 0
    duration_min: int = 0
    reason: str = ""


class CommandQueue:
    """Thread-safe: aggregators ``push``; the live runner ``drain``s once per interval."""

    def __init__(self) -> None:
        self._items: list[QueuedCommand] = []
        self._lock = threading.Lock()

    def push(self, command: QueuedCommand) -> None:
        with self._lock:
            self._items.append(command)

    def drain(self) -> list[QueuedCommand]:
        with self._lock:
            out, self._items = self._items, []
            return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class ImportThresholdRule:
    """Shed one appliance while the community's import exceeds ``threshold_kw``.

    Fires once when import rises above the threshold (``action``, e.g. ``off``),
    and once more (``on``) when it falls below ``restore_below_kw`` if given.
    """

    def __init__(self, *, threshold_kw: float, node: str, appliance: int, action: str = "off",
                 level: int = 0, restore_below_kw: float | None = None) -> None:
        self.threshold_kw = threshold_kw
        self.node = node
        self.appliance = appliance
        self.action = action
        self.level = level
        self.restore_below_kw = restore_below_kw
        self.active = False

    def evaluate(self, import_kw: float) -> QueuedCommand | None:
        if not self.active and import_kw > self.threshold_kw:
            self.active = True
            return QueuedCommand(self.node, self.appliance, self.action, self.level,
                                 reason=f"community import {import_kw:.2f} kW > "
                                        f"{self.threshold_kw:g} kW")
        if self.active and self.restore_below_kw is not None and \
                import_kw < self.restore_below_kw:
            self.active = False
            return QueuedCommand(self.node, self.appliance, "on",
                                 reason=f"community import {import_kw:.2f} kW < "
                                        f"{self.restore_below_kw:g} kW")
        return None
