"""The household's answer to a command: opt in only within its comfort limits.

Why simulate both ways: a household accepts a command only if running it
(through the same physics that will execute it) leaves every comfort measure
no worse than not running it: a T2 zone never further outside its band at any
step, a T1 job never later than its deadline, an EV never shorter of its
departure charge. When the baseline keeps comfort (the usual case) this means
the command keeps it too. On top of that the user may opt out anyway
(``opt_out_probability``, drawn from the seeded generator).

An accepted command carries its expected effect per step (commanded minus
baseline power), which is what the meters later verify.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gridcoop.agents.behaviour.observations import BoolArray, DRObservation
from gridcoop.agents.mechanisms.dr.devices import HouseholdSpec
from gridcoop.agents.mechanisms.dr.fleet import MODE_ABSOLUTE, MODE_RELATIVE, FleetState
from gridcoop.agents.mechanisms.dr.fleet_params import FleetParams, FloatArray
from gridcoop.agents.mechanisms.dr.flexibility import Trajectory, simulate
from gridcoop.agents.mechanisms.dr.openadr import ApplianceCommand, EventError, validate_commands
from gridcoop.catalogue import Template

COMFORT_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class CommandResponse:
    """A household's opt-in or opt-out, with the effect it commits to when opting in.

    ``expected_shift_kw`` holds, for each step of the command, commanded minus
    baseline power of the device (negative for a shed); ``committed_wh`` its
    energy (signed, whole Wh rounded toward zero).
    """

    command_id: str
    event_id: str
    household_id: str
    device_id: str
    opt_in: bool
    reason: str
    start_s: int
    step_s: int
    expected_shift_kw: tuple[float, ...]
    committed_wh: int

    def message_fields(self) -> dict[str, object]:
        """The fields of ``gridcoop.agents.bus.messages.DRResponse``."""
        return {
            "command_id": self.command_id,
            "household_id": self.household_id,
            "response": "opt_in" if self.opt_in else "opt_out",
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ResponseRun:
    """All answers to a batch of commands, and the two what-if runs behind them."""

    responses: tuple[CommandResponse, ...]
    baseline: Trajectory
    commanded: Trajectory


def command_arrays(
    params: FleetParams, commands: Sequence[ApplianceCommand], start_s: int, steps: int, step_s: int
) -> tuple[np.ndarray, FloatArray]:
    """The (steps, devices) mode and value arrays that carry out ``commands``."""
    mode = np.zeros((steps, params.size), dtype=np.int64)
    value = np.zeros((steps, params.size))
    index = {
        (params.household_ids[int(params.household[i])], params.device_ids[i]): i
        for i in range(params.size)
    }
    for c in commands:
        i = index[(c.household_id, c.device_id)]
        first = max((c.start_s - start_s) // step_s, 0)
        last = min(-(-(c.end_s - start_s) // step_s), steps)
        if c.action == "on":
            mode[first:last, i], value[first:last, i] = MODE_ABSOLUTE, params.power_kw[i]
        elif c.action == "off":
            mode[first:last, i], value[first:last, i] = MODE_ABSOLUTE, 0.0
        else:
            sign = 1.0 if c.action == "increase" else -1.0
            mode[first:last, i], value[first:last, i] = MODE_RELATIVE, sign * c.power_kw
    return mode, value


def _refusal(
    params: FleetParams,
    state: FleetState,
    i: int,
    c: ApplianceCommand,
    base: Trajectory,
    cmd: Trajectory,
) -> str:
    """Why device ``i`` cannot take command ``c`` within comfort ("" when it can)."""
    template = Template(int(params.template[i]))
    if not params.flexible[i]:
        return "not flexible: the user does not let this appliance be commanded"
    if c.action in ("increase", "decrease") and not params.divisible[i]:
        return "on/off appliance: cannot run at part power"
    if (
        template == Template.SCHEDULED
        and not params.interruptible[i]
        and state.started[i]
        and c.action in ("off", "decrease")
    ):
        return "running cycle cannot be interrupted"
    if template == Template.TEMPERATURE:
        worse = float(np.max(cmd.comfort_c[:, i] - base.comfort_c[:, i], initial=0.0))
        if worse > COMFORT_TOLERANCE:
            return f"comfort: temperature would leave the band by {worse:.2f} °C"
    if template in (Template.SCHEDULED, Template.BATTERY):
        lost = (
            cmd.missed_kwh[i] + cmd.infeasible_kwh[i] - base.missed_kwh[i] - base.infeasible_kwh[i]
        )
        if lost > COMFORT_TOLERANCE:
            what = (
                "job would miss its deadline"
                if template == Template.SCHEDULED
                else "EV would not be charged by departure"
            )
            return f"comfort: {what} by {lost:.3f} kWh"
    return ""


def respond(
    params: FleetParams,
    state: FleetState,
    households: Sequence[HouseholdSpec],
    commands: Sequence[ApplianceCommand],
    step_s: int,
    rng: np.random.Generator,
    opt_outs: Callable[[DRObservation], BoolArray] | None = None,
) -> ResponseRun:
    """Each household's answer to each command, decided at ``state.now_s``.

    Commands must start at or after now and cover whole steps. One uniform draw
    per command (in the order given) decides a comfort-allowed opt-out, so the
    random stream does not depend on which commands were refused. ``opt_outs``
    (a DR policy, ``gridcoop.agents.mechanisms.dr.behaviour``) decides instead
    from one observation row per command.
    """
    validate_commands(commands, params)
    for c in commands:
        if c.start_s < state.now_s or (c.start_s - state.now_s) % step_s or c.duration_s % step_s:
            raise EventError(
                f"command {c.command_id!r} must start at or after now ({state.now_s} s) on a "
                f"{step_s} s step boundary and last whole steps; got start {c.start_s}, "
                f"duration {c.duration_s}"
            )
    opt_out = {h.household_id: h.opt_out_probability for h in households}
    end = max((c.end_s for c in commands), default=state.now_s)
    steps = (end - state.now_s) // step_s
    mode, value = command_arrays(params, commands, state.now_s, steps, step_s)
    base = simulate(params, state, steps, step_s)
    cmd = simulate(params, state, steps, step_s, mode, value)
    index = {
        (params.household_ids[int(params.household[i])], params.device_ids[i]): i
        for i in range(params.size)
    }
    shifts = []
    for c in commands:
        i = index[(c.household_id, c.device_id)]
        first = (c.start_s - state.now_s) // step_s
        last = (c.end_s - state.now_s) // step_s
        shifts.append(cmd.power_kw[first:last, i] - base.power_kw[first:last, i])
    probability = np.array([opt_out.get(c.household_id, 0.0) for c in commands])
    if opt_outs is None:
        declined = rng.random(len(commands)) < probability
    else:
        kwh = np.array([abs(float(s.sum())) * step_s / 3600.0 for s in shifts])
        declined = opt_outs(DRObservation(commands[0].event_id if commands else "",
                                          tuple(c.household_id for c in commands), kwh,
                                          probability))
    answers = []
    for c, shift, decline in zip(commands, shifts, declined, strict=True):
        i = index[(c.household_id, c.device_id)]
        reason = _refusal(params, state, i, c, base, cmd)
        if not reason and abs(float(shift.sum())) * step_s / 3.6 < 1.0:
            reason = "no effect: the appliance would not change its consumption"
        if not reason and decline:
            reason = "declined by the user"
        accepted = not reason
        committed = int(float(shift.sum()) * step_s / 3.6) if accepted else 0
        answers.append(
            CommandResponse(
                c.command_id,
                c.event_id,
                c.household_id,
                c.device_id,
                accepted,
                reason or "accepted within comfort limits",
                c.start_s,
                step_s,
                tuple(float(x) for x in shift) if accepted else (),
                committed,
            )
        )
    return ResponseRun(tuple(answers), base, cmd)


def accepted_commands(
    commands: Sequence[ApplianceCommand], run: ResponseRun
) -> list[ApplianceCommand]:
    """The commands their households opted in to."""
    yes = {r.command_id for r in run.responses if r.opt_in}
    return [c for c in commands if c.command_id in yes]


def honoured_commands(
    commands: Sequence[ApplianceCommand],
    run: ResponseRun,
    households: Sequence[HouseholdSpec],
    rng: np.random.Generator,
) -> list[ApplianceCommand]:
    """The accepted commands that households actually carry out.

    Each accepted command is overridden by its user with the household's
    ``override_probability`` (one draw per accepted command, in order): the
    opt-in the meters will then find not honoured.
    """
    override = {h.household_id: h.override_probability for h in households}
    accepted = accepted_commands(commands, run)
    draws = rng.random(len(accepted))
    return [
        c
        for c, draw in zip(accepted, draws, strict=True)
        if draw >= override.get(c.household_id, 0.0)
    ]
