"""Campus cases 1 and 3 as scenario kinds of the community model (``gridcoop run``).

Why the kinds bring their own nodes: the classrooms' meters must measure what
the card-reader log implies (HVAC while a class is held, a share per person
present, lights by the switch-on habit), so the model's meters read exactly
the energy that the footprint splits and the lighting study blames. Each kind
subclasses ``CampusMicrogrid`` (the hallway, nearest-classroom allocation, no
auctions) and adds an extension (``gridcoop.agents.mechanisms.campus.extension``).

Listed in ``gridcoop.agents.scenario.registry.KINDS`` as ``campus-footprint`` and
``campus-lighting``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from gridcoop.agents.mechanisms.campus.cardlog import (
    CampusConfig,
    presence_from_reads,
    read_card_csv,
    simulate_term,
)
from gridcoop.agents.mechanisms.campus.habits import decide_switch_offs, lighting_policy
from gridcoop.agents.mechanisms.campus.metering import simulate_readings, term_classrooms
from gridcoop.agents.model.population import NodeKind, Population
from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.flows import Flows, balance
from gridcoop.agents.scenario.schema import CampusMicrogrid

YEAR = 2024


class CampusCase(CampusMicrogrid):
    """What both campus cases share: the term, the people, the habits, the meters."""

    days: Annotated[int, Field(ge=1, le=3660)] = 14
    start_day_of_year: Annotated[int, Field(ge=1, le=365)] = 50  # 2024-02-19, a Monday
    classrooms: Annotated[int, Field(ge=2, le=200)] = 2
    panels_per_classroom: Annotated[int, Field(ge=0, le=100)] = 0
    occupancy: Annotated[float, Field(ge=0, le=1)] = 0.8
    students: Annotated[int, Field(ge=1, le=100_000)] = 1000
    teachers: Annotated[int, Field(ge=1, le=10_000)] = 24
    class_size_mean: Annotated[float, Field(gt=0)] = 35.0
    absence_mean: Annotated[float, Field(gt=0, lt=1)] = 0.2
    early_leave: Annotated[float, Field(ge=0, le=1)] = 0.05
    hvac_w: Annotated[float, Field(ge=0)] = 15_000.0
    person_w: Annotated[float, Field(ge=0)] = 100.0
    standby_w: Annotated[float, Field(ge=0)] = 50.0
    lights_on_h: Annotated[float, Field(ge=0, lt=24)] = 7.0
    #: when security switches the lights off again (``None``: nobody does)
    lights_off_h: Annotated[float, Field(ge=0, le=24)] | None = 22.0
    p_switch_off: Annotated[float, Field(ge=0, le=1)] = 0.3
    rankings_from_day: Annotated[int, Field(ge=0)] | None = 28
    price_eur_per_kwh: Annotated[float, Field(ge=0, le=10)] = 0.095
    card_csv: str = ""
    base_dir: str = ""
    top: Annotated[int, Field(ge=1, le=1000)] = 10
    #: the lighting policy when ``policies.lighting`` names none
    default_lighting_policy: ClassVar[str] = "habit"

    @model_validator(mode="after")
    def _campus_case(self) -> CampusCase:
        if self.metering_minutes != 15:
            raise ValueError("campus cases meter classrooms every 15 minutes; "
                             "set metering_minutes: 15")
        if self.start_weekday != (self.start_date().weekday()):
            raise ValueError(f"start_weekday={self.start_weekday} does not match day "
                             f"{self.start_day_of_year} of {YEAR} "
                             f"(a weekday {self.start_date().weekday()}); the term starts on "
                             "a Monday, e.g. start_day_of_year: 50")
        if self.start_date().weekday() != 0:
            raise ValueError(f"day {self.start_day_of_year} of {YEAR} is not a Monday; "
                             "a term starts on a Monday (e.g. 50, 57, 64)")
        if self.timetable is not None:
            raise ValueError("campus cases draw their timetable from the card-reader log; "
                             "drop timetable")
        if self.lights_off_h is not None and self.lights_off_h % 24 == self.lights_on_h:
            raise ValueError(f"lights_on_h and lights_off_h are the same hour "
                             f"({self.lights_on_h:g}): security cannot switch the lights on "
                             "and off at once; set lights_off_h: null if nobody switches "
                             "them off")
        return self

    def start_date(self) -> dt.date:
        return dt.date(YEAR, 1, 1) + dt.timedelta(days=self.start_day_of_year - 1)

    def config(self) -> CampusConfig:
        return CampusConfig(
            classrooms=self.classrooms, students=self.students, teachers=self.teachers,
            start_date=self.start_date().isoformat(), weeks=math.ceil(self.days / 7),
            occupancy=self.occupancy, class_size_mean=self.class_size_mean,
            absence_mean=self.absence_mean, early_leave=self.early_leave,
            interval_min=self.metering_minutes, lights_w=self.lighting_w, hvac_w=self.hvac_w,
            person_w=self.person_w, standby_w=self.standby_w, lights_on_h=self.lights_on_h,
            lights_off_h=self.lights_off_h, p_switch_off=self.p_switch_off,
            price_eur_per_kwh=self.price_eur_per_kwh)

    def build_population(self, clock: SimClock,
                         streams: dict[str, np.random.Generator]) -> Population:
        """One node per classroom along the hallway; the meters read the term's readings."""
        data = CampusTerm.simulate(self, streams)
        n = len(data.rooms)
        return Population(
            node_ids=tuple(data.rooms), kind=np.full(n, NodeKind.CLASSROOM, dtype=np.int64),
            region=np.zeros(n, dtype=np.int64), region_ids=("hallway",),
            region_slices=(slice(0, n),), physics=CampusCasePhysics(data, clock),
            pv_kwp=np.zeros(n), battery_kwh=np.zeros(n))


class CampusFootprint(CampusCase):
    """Case 1: each interval's metered Wh split among the people present, as ledger tokens."""

    kind: Literal["campus-footprint"] = "campus-footprint"  # type: ignore[assignment]


class CampusLighting(CampusCase):
    """Case 3: lights left on in empty rooms, blamed on the class before; rankings, € a year."""

    kind: Literal["campus-lighting"] = "campus-lighting"  # type: ignore[assignment]
    #: the pilot's term (about 3 months) and its lights: security switches them on at
    #: 16:15 and nobody but a class's last one out switches them off (docs/domain/campus.md)
    days: Annotated[int, Field(ge=1, le=3660)] = 91
    lights_on_h: Annotated[float, Field(ge=0, lt=24)] = 16.25
    lights_off_h: Annotated[float, Field(ge=0, le=24)] | None = None
    #: the case publishes weekly rankings, and the pilot saw lighting waste fall after the
    #: first month of them: its classroom users respond unless ``policies.lighting`` says
    default_lighting_policy: ClassVar[str] = "ranking_response"


class CampusTerm:
    """The term behind a run: sessions, presence, the classroom meters' readings."""

    def __init__(self, config: CampusConfig, sessions: pd.DataFrame, presence: pd.DataFrame,
                 readings: pd.DataFrame, days: int) -> None:
        self.config = config
        end_s = days * 86_400
        self.sessions = sessions[sessions["start_s"] < end_s].reset_index(drop=True)
        self.presence = presence[presence["start_s"] < end_s].reset_index(drop=True)
        intervals = end_s // config.interval_s
        self.readings = readings[readings["interval"] < intervals].reset_index(drop=True)
        self.rooms = sorted(set(self.readings["classroom"]), key=lambda r: int(r.split("-")[1]))
        table = self.readings.pivot(index="interval", columns="classroom")
        self.energy_wh = table["energy_wh"][self.rooms].to_numpy(dtype=np.int64)
        self.lighting_wh = table["lighting_wh"][self.rooms].to_numpy(dtype=np.int64)
        self.students = config.students
        self.teachers = config.teachers

    @classmethod
    def simulate(cls, scenario: CampusCase, streams: dict[str, np.random.Generator]) -> CampusTerm:
        config = scenario.config()
        sessions, reads = simulate_term(config, streams["timetable"])
        if scenario.card_csv:
            path = Path(scenario.card_csv)
            path = path if path.is_absolute() else Path(scenario.base_dir or ".") / path
            reads = read_card_csv(str(path), config.start_date)
        presence = presence_from_reads(reads, sessions)
        switched = decide_switch_offs(
            sessions, presence, config, term_classrooms(sessions, config),
            lighting_policy(scenario, sessions, streams["load"]), scenario.rankings_from_day,
            scenario.top, scenario.seed)
        readings, _ = simulate_readings(sessions, presence, config, streams["load"], switched)
        return cls(config, sessions, presence, readings, scenario.days)


class CampusCasePhysics:
    """Classrooms consume what the term's readings say; no production (the meters import it)."""

    def __init__(self, term: CampusTerm, clock: SimClock) -> None:
        if term.energy_wh.shape[0] != clock.total_steps:
            raise ValueError(f"{term.energy_wh.shape[0]} metered intervals for "
                             f"{clock.total_steps} steps")
        self.term = term
        self.clock = clock
        self.n = len(term.rooms)

    @property
    def size(self) -> int:
        return self.n

    def step(self, step: int) -> Flows:
        consumption = self.term.energy_wh[step] / 1000.0
        zero = np.zeros(self.n)
        return balance(zero, consumption, zero.copy(), zero.copy())

    def forecast_import_kwh(self, market: int) -> np.ndarray:
        spm = self.clock.steps_per_market
        rows = self.term.energy_wh[market * spm:(market + 1) * spm]
        return np.asarray(rows.sum(axis=0) / 1000.0, dtype=np.float64)
