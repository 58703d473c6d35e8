"""What a device does with commands: relay levels, DR events, idempotency.

Why one pure class: the simulated command sink, the device simulator and the
firmware (``firmware/gridcoop_meter/commands.c`` follows the same rules) must
agree on what "decrease 20 %" or "DR level 2 for 60 min" means, and on which
repeat of a command id is ignored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from gridcoop.hardware_bridge.codec import ALL_APPLIANCES
from gridcoop.hardware_bridge.command_codec import encode_command
from gridcoop.hardware_bridge.errors import CommandError
from gridcoop.hardware_bridge.readings import Command

# OpenADR 2.0b SIMPLE level -> share of normal power allowed (normal, moderate, high, emergency)
DR_LEVEL_CAP_PCT = (100, 75, 50, 0)
RESULT_OK, RESULT_BAD_ARG, RESULT_BUSY, RESULT_UNSUPPORTED = 0, 1, 2, 3
RECENT_COMMAND_IDS = 8  # the firmware keeps the same number


@dataclass(slots=True)
class ApplianceState:
    """Levels (0..100 % of normal power) of one device's appliances, plus any DR cap."""

    levels: dict[int, int] = field(default_factory=dict)
    default_level: int = 100
    dr_cap_pct: int = 100
    dr_until_s: float | None = None
    interval_s: int = 900
    recent_ids: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_COMMAND_IDS))

    def level(self, appliance: int, now_s: float) -> int:
        """Effective level of one appliance now: its own setting under the DR cap."""
        own = self.levels.get(appliance, self.default_level)
        if self.dr_until_s is not None and now_s >= self.dr_until_s:
            self.dr_cap_pct, self.dr_until_s = 100, None
        return min(own, self.dr_cap_pct)

    def relay_on(self, now_s: float) -> bool:
        """Whether any appliance draws power (the header's relay bit)."""
        self.level(ALL_APPLIANCES, now_s)  # expires a finished DR event
        return min(max([*self.levels.values(), self.default_level]), self.dr_cap_pct) > 0

    def _set(self, appliance: int, value: int, relative: bool = False) -> None:
        """Set (or, relative, shift each selected appliance's own level by) ``value``."""

        def clamp(level: int) -> int:
            return max(0, min(100, level))

        if appliance == ALL_APPLIANCES:
            if relative:
                self.default_level = clamp(self.default_level + value)
                self.levels = {k: clamp(v + value) for k, v in self.levels.items()}
            else:
                self.levels.clear()
                self.default_level = clamp(value)
        else:
            base = self.levels.get(appliance, self.default_level) if relative else 0
            self.levels[appliance] = clamp(base + value)

    def apply(self, cmd: Command, now_s: float) -> tuple[int, bool]:
        """Carry out ``cmd``; returns (result code, applied). A repeated id is not re-applied."""
        try:
            encode_command(cmd)
        except CommandError:
            return RESULT_BAD_ARG, False
        if cmd.command_id in self.recent_ids:
            return RESULT_OK, False
        self.recent_ids.append(cmd.command_id)
        target = cmd.appliance
        if cmd.action in ("on", "off"):
            self._set(target, 100 if cmd.action == "on" else 0)
        elif cmd.action == "increase":
            self._set(target, cmd.level, relative=True)
        elif cmd.action == "decrease":
            self._set(target, -cmd.level, relative=True)
        elif cmd.action == "set_level":
            self._set(target, cmd.level)
        elif cmd.action == "dr_event":
            self.dr_cap_pct = DR_LEVEL_CAP_PCT[cmd.level]
            self.dr_until_s = now_s + cmd.duration_min * 60 if cmd.duration_min else None
        elif cmd.action == "restore":
            self.levels.clear()
            self.default_level, self.dr_cap_pct, self.dr_until_s = 100, 100, None
        elif cmd.action == "set_interval":
            self.interval_s = cmd.interval_s
        return RESULT_OK, True
