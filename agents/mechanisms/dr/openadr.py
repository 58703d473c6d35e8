"""OpenADR 2.0b-style events and the appliance commands they turn into.

Why two signals: OpenADR 2.0b's SIMPLE signal (levels 0-3) is how a utility
asks for load shed in coarse steps; its LOAD_DISPATCH signal carries a power
(here + to absorb renewable excess, - to shed a given amount). An event has an
id, a modification number, an active period (start, duration) and targets
(aggregators, households, templates); each targeted device gets one command
(on/off, increase/decrease) for the event's active period, which its household
may opt in to or out of (see :mod:`gridcoop.agents.mechanisms.dr.response`).

SIMPLE levels and what they mean here (:data:`LEVEL_ACTIONS`):

- 0 normal: no command, everyone on local control;
- 1 moderate: switch off fully flexible loads (T4);
- 2 high: also defer scheduled loads (T1 off) and halve EV charging (T3);
- 3 emergency shed: switch off every flexible device, HVAC included (T2).

A part-power device gets "decrease" (by the asked share of its rated power);
an on/off device gets "off".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import numpy as np

from gridcoop.agents.mechanisms.dr.aggregation import market_demand
from gridcoop.agents.mechanisms.dr.fleet_params import FleetParams, FloatArray
from gridcoop.catalogue import Template
from gridcoop.market.excess_sharing import SharingResult, share_excess
from gridcoop.market.load_shedding import RunningLoad, turn_off_in_order

Action = Literal["on", "off", "increase", "decrease"]


class EventError(ValueError):
    """An event or command that cannot be carried out as given."""


class SignalLevel(IntEnum):
    """OpenADR 2.0b SIMPLE signal levels."""

    NORMAL = 0
    MODERATE = 1
    HIGH = 2
    EMERGENCY_SHED = 3


LEVEL_MEANING: dict[SignalLevel, str] = {
    SignalLevel.NORMAL: "normal operation: no command",
    SignalLevel.MODERATE: "moderate: switch off fully flexible loads (T4)",
    SignalLevel.HIGH: "high: T4 off, scheduled loads deferred (T1 off), EV charging halved (T3)",
    SignalLevel.EMERGENCY_SHED: "emergency shed: every flexible device off, HVAC included (T2)",
}

# Per level: template -> share of rated power to shed (1.0 = off).
LEVEL_ACTIONS: dict[SignalLevel, dict[Template, float]] = {
    SignalLevel.NORMAL: {},
    SignalLevel.MODERATE: {Template.FLEXIBLE: 1.0},
    SignalLevel.HIGH: {Template.FLEXIBLE: 1.0, Template.SCHEDULED: 1.0, Template.BATTERY: 0.5},
    SignalLevel.EMERGENCY_SHED: {t: 1.0 for t in Template},
}


@dataclass(frozen=True, slots=True)
class EventTargets:
    """Who an event is for; an empty field means everyone."""

    aggregator_ids: tuple[str, ...] = ()
    household_ids: tuple[str, ...] = ()
    templates: tuple[Template, ...] = ()

    def mask(self, params: FleetParams) -> np.ndarray:
        """Which devices of ``params`` the event targets (flexible devices only)."""
        selected = params.flexible.copy()
        if self.aggregator_ids:
            ras = np.array([a in self.aggregator_ids for a in params.aggregator_ids], dtype=bool)
            selected &= ras[params.household] if ras.size else selected
        if self.household_ids:
            hhs = np.array([h in self.household_ids for h in params.household_ids], dtype=bool)
            selected &= hhs[params.household] if hhs.size else selected
        if self.templates:
            selected &= np.isin(params.template, [int(t) for t in self.templates])
        return selected


@dataclass(frozen=True, slots=True)
class OpenADREvent:
    """One DR event (OpenADR 2.0b ``oadrEvent``, one interval)."""

    event_id: str
    start_s: int
    duration_s: int
    signal_name: Literal["SIMPLE", "LOAD_DISPATCH"] = "SIMPLE"
    level: SignalLevel = SignalLevel.NORMAL
    dispatch_kw: float = 0.0
    targets: EventTargets = EventTargets()
    modification_number: int = 0
    market_context: str = "gridcoop/dr"

    def __post_init__(self) -> None:
        if not self.event_id:
            raise EventError("event_id must be a non-empty string")
        if self.start_s < 0 or self.duration_s <= 0:
            raise EventError(
                f"event {self.event_id!r}: start_s must be >= 0 and duration_s > 0; "
                f"got {self.start_s}, {self.duration_s}"
            )
        if self.signal_name not in ("SIMPLE", "LOAD_DISPATCH"):
            raise EventError(
                f"event {self.event_id!r}: signal_name must be SIMPLE or LOAD_DISPATCH"
            )
        try:
            object.__setattr__(self, "level", SignalLevel(self.level))
        except ValueError:
            raise EventError(
                f"event {self.event_id!r}: SIMPLE level must be 0..3; got {self.level!r}"
            ) from None
        if self.signal_name == "LOAD_DISPATCH" and self.dispatch_kw == 0.0:
            raise EventError(f"event {self.event_id!r}: LOAD_DISPATCH needs a non-zero dispatch_kw")

    @property
    def end_s(self) -> int:
        return self.start_s + self.duration_s

    @property
    def meaning(self) -> str:
        if self.signal_name == "SIMPLE":
            return LEVEL_MEANING[self.level]
        verb = "absorb" if self.dispatch_kw > 0 else "shed"
        return f"load dispatch: {verb} {abs(self.dispatch_kw):g} kW"


@dataclass(frozen=True, slots=True)
class ApplianceCommand:
    """One command to one device for the event's active period.

    ``power_kw`` is the change asked for by "increase"/"decrease" (0 for on/off).
    """

    command_id: str
    event_id: str
    household_id: str
    device_id: str
    action: Action
    power_kw: float
    start_s: int
    duration_s: int

    @property
    def end_s(self) -> int:
        return self.start_s + self.duration_s

    def message_fields(self) -> dict[str, object]:
        """The fields of ``gridcoop.agents.bus.messages.DRCommand`` for this command."""
        return {
            "command_id": self.command_id,
            "household_id": self.household_id,
            "appliance": self.device_id,
            "action": self.action,
            "power_kw": self.power_kw,
            "start_s": self.start_s,
            "duration_s": self.duration_s,
            "event_id": self.event_id,
        }


def _command(
    event: OpenADREvent, params: FleetParams, i: int, action: Action, power_kw: float
) -> ApplianceCommand:
    household = params.household_ids[int(params.household[i])]
    device = params.device_ids[i]
    return ApplianceCommand(
        f"{event.event_id}/{household}/{device}",
        event.event_id,
        household,
        device,
        action,
        round(power_kw, 6),
        event.start_s,
        event.duration_s,
    )


def commands_for_level(
    event: OpenADREvent, params: FleetParams, expected_kw: FloatArray | None = None
) -> list[ApplianceCommand]:
    """Turn a SIMPLE event into commands (:data:`LEVEL_ACTIONS`).

    ``expected_kw`` (per device, e.g. the baseline mean power over the event)
    skips devices that would draw nothing anyway: such a command would change
    nothing and earn nothing.
    """
    if event.signal_name != "SIMPLE":
        raise EventError(f"event {event.event_id!r} is {event.signal_name}, not SIMPLE")
    actions = LEVEL_ACTIONS[event.level]
    targeted = event.targets.mask(params)
    commands = []
    for i in np.flatnonzero(targeted):
        share = actions.get(Template(int(params.template[i])))
        if share is None or (expected_kw is not None and expected_kw[i] <= 0.0):
            continue
        if share >= 1.0 or not params.divisible[i]:
            commands.append(_command(event, params, int(i), "off", 0.0))
        else:
            commands.append(
                _command(event, params, int(i), "decrease", share * float(params.power_kw[i]))
            )
    return commands


def commands_for_grants(
    event: OpenADREvent, params: FleetParams, result: SharingResult
) -> list[ApplianceCommand]:
    """Turn the central market's excess grants into "increase" (part power) or "on" commands."""
    commands = []
    index = {
        (params.household_ids[int(params.household[i])], params.device_ids[i]): int(i)
        for i in range(params.size)
    }
    for grant in result.grants:
        if grant.granted_w <= 0:
            continue
        i = index.get((grant.household_id, grant.appliance_id))
        if i is None:
            raise EventError(f"grant for unknown device {grant.household_id}/{grant.appliance_id}")
        if params.divisible[i]:
            commands.append(_command(event, params, i, "increase", grant.granted_w / 1000.0))
        else:
            commands.append(_command(event, params, i, "on", 0.0))
    return commands


def commands_for_dispatch(
    event: OpenADREvent, params: FleetParams, up_kw: FloatArray, down_kw: FloatArray
) -> tuple[list[ApplianceCommand], SharingResult]:
    """Turn a LOAD_DISPATCH event into commands, sharing it as the central market does.

    Positive ``dispatch_kw`` (excess to absorb) is shared over the targeted
    devices' up flexibility with :func:`gridcoop.market.excess_sharing.share_excess`.
    Negative (power to shed): every household keeps the share of its sheddable
    load (``down_kw``) that :func:`share_excess` grants from what remains, and
    sheds the rest by turning devices off in its own off-sequence.
    """
    if event.signal_name != "LOAD_DISPATCH":
        raise EventError(f"event {event.event_id!r} is {event.signal_name}, not LOAD_DISPATCH")
    targeted = event.targets.mask(params)
    if event.dispatch_kw > 0:
        demand = market_demand(params, np.where(targeted, up_kw, 0.0))
        result = share_excess(round(event.dispatch_kw * 1000), demand)
        return commands_for_grants(event, params, result), result
    sheddable = np.where(targeted, down_kw, 0.0)
    demand = market_demand(params, sheddable)
    total_w = sum(ra.demand_w for ra in demand)
    keep_w = max(total_w - round(-event.dispatch_kw * 1000), 0)
    result = share_excess(keep_w, demand)
    commands = []
    for ra in demand:
        for household in ra.households:
            h = params.household_ids.index(household.household_id)
            devices = np.flatnonzero(params.household == h)
            order = sorted(
                (i for i in devices if params.off_rank[i] > 0),
                key=lambda i: int(params.off_rank[i]),
            )
            running = [
                RunningLoad(x.appliance_id, x.demand_w, x.divisible) for x in household.loads
            ]
            allowed = sum(result.household_level_w[household.household_id])
            shed = turn_off_in_order(running, [params.device_ids[i] for i in order], allowed)
            for load in household.loads:
                i = next(int(j) for j in devices if params.device_ids[j] == load.appliance_id)
                cut_w = load.demand_w - shed.power_w[load.appliance_id]
                if load.appliance_id in shed.turned_off and not params.divisible[i]:
                    commands.append(_command(event, params, i, "off", 0.0))
                elif cut_w > 0:
                    commands.append(_command(event, params, i, "decrease", cut_w / 1000.0))
    return commands, result


def validate_commands(commands: Sequence[ApplianceCommand], params: FleetParams) -> None:
    """Every command names a known device; no device gets two overlapping commands."""
    known = {
        (params.household_ids[int(params.household[i])], params.device_ids[i])
        for i in range(params.size)
    }
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for c in commands:
        key = (c.household_id, c.device_id)
        if key not in known:
            raise EventError(
                f"command {c.command_id!r}: unknown device {c.household_id}/{c.device_id}"
            )
        if c.action not in ("on", "off", "increase", "decrease"):
            raise EventError(f"command {c.command_id!r}: unknown action {c.action!r}")
        if c.power_kw < 0 or c.duration_s <= 0:
            raise EventError(f"command {c.command_id!r}: power_kw must be >= 0, duration_s > 0")
        for start, end in spans.get(key, []):
            if c.start_s < end and start < c.end_s:
                raise EventError(
                    f"command {c.command_id!r} overlaps another command for {key[0]}/{key[1]}; "
                    "send one command per device at a time"
                )
        spans.setdefault(key, []).append((c.start_s, c.end_s))
