"""Classroom lighting decided week by week, with the rankings published in between.

Why week by week: a ranking can only change what people do after it is
published. So the term's classes are decided one ISO week at a time by the
scenario's lighting policy (``gridcoop.agents.behaviour.lighting``); once the
community publishes rankings (from ``rankings_from_day`` on), each week's
lights are attributed and ranked exactly as the lighting case does at the end
(``lighting_waste``), and the next week's classes see the teachers' ranks and
their peers' switch-off share. Before that, and with rankings never
published, every class sees only the habit. Each week's attribution starts with
the lights off on Monday: what burns overnight before the first class is
nobody's, so no ranking depends on the week before. A policy that declares
``reads_rankings = False`` (``habit``) is spared the weekly attribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gridcoop.agents.behaviour.lighting import PEER_SHARE
from gridcoop.agents.behaviour.observations import BoolArray, LightingObservation, Standing
from gridcoop.agents.behaviour.protocols import Decision, Group
from gridcoop.agents.behaviour.resolve import make
from gridcoop.agents.behaviour.validate import bool_column
from gridcoop.agents.mechanisms.campus.cardlog import DAY_S, CampusConfig
from gridcoop.agents.mechanisms.campus.lighting import lighting_waste
from gridcoop.agents.mechanisms.campus.metering import lighting_readings, lights_on_spans

WEEK_S = 7 * DAY_S


def decide_switch_offs(sessions: pd.DataFrame, presence: pd.DataFrame, config: CampusConfig,
                       classrooms: list[str], policy: Any,
                       rankings_from_day: int | None, top: int = 10,
                       seed: int = 0) -> BoolArray:
    """Per session in (start_s, session_id) order: did the last one out switch the lights off?"""
    ordered = sessions.sort_values(["start_s", "session_id"]).reset_index(drop=True)
    week = ordered["start_s"].to_numpy(dtype=np.int64) // WEEK_S
    teachers = ordered["teacher_id"].astype(str).to_numpy()
    name = getattr(policy, "name", type(policy).__name__)
    decided = np.zeros(len(ordered), dtype=bool)
    rank: dict[str, int] = {}
    peers: float | None = None
    for w in np.unique(week):
        rows = np.flatnonzero(week == w)
        ids = tuple(teachers[rows])
        published = {} if peers is None else {PEER_SHARE: np.full(rows.size, peers)}
        ranks = np.fromiter((rank.get(t, 0) for t in ids), dtype=np.int64, count=rows.size)
        zeros = np.zeros(rows.size, dtype=np.int64)
        observation = LightingObservation(
            int(w) * 7, ids, ordered["session_id"].to_numpy(dtype=np.int64)[rows],
            np.full(rows.size, config.p_switch_off), Standing(zeros, zeros, ranks, {}, published))
        decided[rows] = bool_column(name, ids, "switch_off",
                                    policy.decide(observation).switch_off)
        if (rankings_from_day is None or (int(w) + 1) * 7 < rankings_from_day
                or not getattr(policy, "reads_rankings", True)):
            continue
        week_sessions = ordered.iloc[rows].assign(switched_off=decided[rows])
        spans = lights_on_spans(week_sessions, config, classrooms, switched_off=decided[rows])
        readings = lighting_readings(spans, classrooms, config)
        week_presence = presence[presence["session_id"].isin(week_sessions["session_id"])]
        lists = lighting_waste(readings, week_sessions, week_presence, config.interval_s,
                               config.start_date, top=top, seed=seed).rankings
        lists = lists[(lists["period_kind"] == "week") & (lists["role"] == "teacher")]
        rank = {str(p): (-int(r) if kind == "least sustainable" else int(r))
                for p, r, kind in zip(lists["person_id"], lists["rank"], lists["list"],
                                      strict=True)}
        best = {p for p, r in rank.items() if r > 0}
        mine = np.fromiter((t in best for t in ids), dtype=bool, count=rows.size)
        peers = float(decided[rows][mine].mean()) if mine.any() else peers
    return decided


def lighting_policy(scenario: Any, sessions: pd.DataFrame, rng: np.random.Generator) -> Any:
    """The scenario's lighting policy (default: the kind's), set up for the term's teachers."""
    choice = scenario.policies.lighting
    name, params = ((scenario.default_lighting_policy, {}) if choice is None
                    else (choice.policy, dict(choice.params)))
    policy = make(Decision.LIGHTING, name, params)
    teachers = tuple(sorted(set(sessions["teacher_id"].astype(str))))
    policy.setup(Group(Decision.LIGHTING, "classroom users", teachers,
                       np.zeros(0, dtype=np.int64), rng, params))
    return policy
