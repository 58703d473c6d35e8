"""Classroom meters every 15 minutes: simulated from the term, or read from CSV.

Why simulate from presence: the energy a classroom draws follows the people
in it (HVAC while a class is held, plugs per person) plus the lights, which
follow a *habit* rather than occupancy (on when security switches them on,
often left on after a class, through the night). The lighting circuit is metered on its own
(``lighting_wh``) for the lighting case; ``energy_wh`` is the whole classroom.

Readings table: ``classroom, interval, interval_start_s, energy_wh, lighting_wh``
(integer Wh per interval; ``interval = interval_start_s // interval_s``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridcoop.agents.behaviour.observations import BoolArray
from gridcoop.agents.mechanisms.campus.cardlog import DAY_S, CampusConfig, CardLogError
from gridcoop.agents.mechanisms.campus.intervals import IntArray, expand_to_intervals

SWITCH_OFF, SWITCH_ON = 0, 1  # at one instant, switch-offs first (sorted events)


def lights_on_spans(
    sessions: pd.DataFrame,
    config: CampusConfig,
    classrooms: list[str],
    rng: np.random.Generator | None = None,
    switched_off: BoolArray | None = None,
    until_s: int | None = None,
) -> pd.DataFrame:
    """When each classroom's lights are on: ``classroom, start_s, end_s``.

    One timeline per classroom, so lights left on run past midnight (the
    pilot's security switch-on at 16:15 stays lit until a class ends with the
    lights switched off). On every day the building opens (any class held that
    day) security switches the lights on at ``lights_on_h``; every class
    switches them on at its start; at a class's end the last one out switches
    them off (``switched_off``, one per class in (start, session id) order, as a
    lighting policy decided; without it, with ``p_switch_off``, one draw of
    ``rng`` per class in that order); security switches them off at
    ``lights_off_h`` (``None``: nobody does) unless a class is in session. At
    one instant switch-offs come first. Lights still on at ``until_s`` (default:
    the end of the last week with a class) end there.
    """
    ordered = sessions.sort_values(["start_s", "session_id"])
    if switched_off is None:
        if rng is None:
            raise ValueError("lights_on_spans needs switched_off or an rng to draw it")
        switched_off = rng.random(len(ordered)) < config.p_switch_off
    ordered = ordered.assign(switched_off=switched_off)
    days = np.unique(ordered["start_s"].to_numpy() // DAY_S)
    horizon = int(until_s if until_s is not None
                  else (int(days.max(initial=-1)) // 7 + 1) * 7 * DAY_S)
    security = [(int(d) * DAY_S + round(config.lights_on_h * 3600), SWITCH_ON, 0) for d in days]
    if config.lights_off_h is not None:
        security += [(int(d) * DAY_S + round(config.lights_off_h * 3600), SWITCH_OFF, 0)
                     for d in days]
    rows: list[tuple[str, int, int]] = []
    for room in classrooms:
        mine = ordered[ordered["classroom"] == room]
        events = security + [(int(s), SWITCH_ON, 1) for s in mine["start_s"]] + [
            (int(e), SWITCH_OFF, -1 - int(off)) for e, off in zip(
                mine["end_s"], mine["switched_off"], strict=True)]
        lit_from: int | None = None
        in_class = 0
        for time, switch, who in sorted(events):
            if time >= horizon:
                break
            in_class += 1 if who == 1 else -1 if who < 0 else 0
            if switch == SWITCH_ON and lit_from is None:
                lit_from = time
            elif (switch == SWITCH_OFF and lit_from is not None
                  and (who == -2 or (who == 0 and in_class == 0))):
                if time > lit_from:
                    rows.append((room, lit_from, time))
                lit_from = None
        if lit_from is not None and lit_from < horizon:
            rows.append((room, lit_from, horizon))
    return pd.DataFrame(rows, columns=["classroom", "start_s", "end_s"])


def _per_interval(
    room_index: IntArray,
    start_s: IntArray,
    end_s: IntArray,
    interval_s: int,
    n_rooms: int,
    n_intervals: int,
    weight: IntArray | None = None,
) -> np.ndarray:
    """Seconds (times ``weight``) of the spans falling in each (room, interval) cell."""
    row, interval, seconds = expand_to_intervals(start_s, end_s, interval_s)
    keep = interval < n_intervals
    cell = room_index[row[keep]] * n_intervals + interval[keep]
    w = seconds[keep] * (weight[row[keep]] if weight is not None else 1)
    return np.bincount(cell, weights=w, minlength=n_rooms * n_intervals).reshape(
        n_rooms, n_intervals
    )


def term_classrooms(sessions: pd.DataFrame, config: CampusConfig) -> list[str]:
    """The term's classrooms: the configured ones and any the sessions name."""
    return sorted(set(sessions["classroom"]) | {f"room-{i + 1}" for i in range(config.classrooms)})


def lighting_readings(lights: pd.DataFrame, classrooms: list[str], config: CampusConfig
                      ) -> pd.DataFrame:
    """``classroom, interval, lighting_wh`` of the intervals ``lights`` (spans) fall in."""
    if lights.empty:
        return pd.DataFrame({"classroom": [], "interval": [], "lighting_wh": []})
    room_of = {room: i for i, room in enumerate(classrooms)}
    first = int(lights["start_s"].min()) // config.interval_s
    last = (int(lights["end_s"].max()) - 1) // config.interval_s + 1
    lit_s = _per_interval(
        lights["classroom"].map(room_of).to_numpy(dtype=np.int64),
        lights["start_s"].to_numpy(dtype=np.int64),
        lights["end_s"].to_numpy(dtype=np.int64),
        config.interval_s, len(classrooms), last)[:, first:]
    wh = np.floor(lit_s * config.lights_w / 3600.0 + 1e-9).astype(np.int64)
    return pd.DataFrame({
        "classroom": np.repeat(np.array(classrooms, dtype=object), last - first),
        "interval": np.tile(np.arange(first, last, dtype=np.int64), len(classrooms)),
        "lighting_wh": wh.ravel()})


def simulate_readings(
    sessions: pd.DataFrame,
    presence: pd.DataFrame,
    config: CampusConfig,
    rng: np.random.Generator,
    switched_off: BoolArray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Meter readings of every classroom for every interval of the term, and the light spans.

    Energy (Wh, floored per interval): lights ``lights_w`` while lit, HVAC
    ``hvac_w`` while a class is held, ``person_w`` per person present, and
    ``standby_w`` always. ``switched_off``: see ``lights_on_spans``.
    """
    classrooms = term_classrooms(sessions, config)
    room_of = {room: i for i, room in enumerate(classrooms)}
    n_rooms, interval_s = len(classrooms), config.interval_s
    n_intervals = config.days * DAY_S // interval_s
    lights = lights_on_spans(sessions, config, classrooms, rng, switched_off,
                             until_s=n_intervals * interval_s)

    def cells(frame: pd.DataFrame) -> np.ndarray:
        return _per_interval(
            frame["classroom"].map(room_of).to_numpy(dtype=np.int64),
            frame["start_s"].to_numpy(dtype=np.int64),
            frame["end_s"].to_numpy(dtype=np.int64),
            interval_s,
            n_rooms,
            n_intervals,
        )

    lit_s, held_s, people_s = cells(lights), cells(sessions), cells(presence)
    lighting_wh = np.floor(lit_s * config.lights_w / 3600.0 + 1e-9).astype(np.int64)
    other_wh = (
        held_s * config.hvac_w + people_s * config.person_w + interval_s * config.standby_w
    ) / 3600.0
    energy_wh = np.floor(lit_s * config.lights_w / 3600.0 + other_wh + 1e-9).astype(np.int64)
    grid = np.arange(n_intervals, dtype=np.int64)
    readings = pd.DataFrame(
        {
            "classroom": np.repeat(np.array(classrooms, dtype=object), n_intervals),
            "interval": np.tile(grid, n_rooms),
            "interval_start_s": np.tile(grid * interval_s, n_rooms),
            "energy_wh": energy_wh.ravel(),
            "lighting_wh": lighting_wh.ravel(),
        }
    )
    return readings, lights


def read_meter_csv(path: str, start_date: str, interval_s: int) -> pd.DataFrame:
    """Real readings from CSV: ``classroom, interval_start, energy_wh`` [, ``lighting_wh``]."""
    frame = pd.read_csv(path, dtype={"classroom": str})
    missing = {"classroom", "interval_start", "energy_wh"} - set(frame.columns)
    if missing:
        raise CardLogError(
            f"{path}: missing column(s) {sorted(missing)}; expected "
            "classroom, interval_start, energy_wh[, lighting_wh]"
        )
    start = pd.to_datetime(frame["interval_start"]) - pd.Timestamp(start_date)
    seconds = start.dt.total_seconds().astype(np.int64).to_numpy()
    if (seconds % interval_s).any() or (seconds < 0).any():
        raise CardLogError(
            f"{path}: interval_start must fall on {interval_s // 60}-minute "
            f"boundaries on or after {start_date}"
        )
    lighting = frame.get("lighting_wh", 0)
    return pd.DataFrame(
        {
            "classroom": frame["classroom"],
            "interval": seconds // interval_s,
            "interval_start_s": seconds,
            "energy_wh": frame["energy_wh"].astype(np.int64),
            "lighting_wh": pd.Series(lighting, index=frame.index).astype(np.int64),
        }
    )
