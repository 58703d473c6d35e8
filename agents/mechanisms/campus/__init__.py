"""The campus gamification cases: energy footprint per student (case 1), lighting waste (case 3).

Why pure tables in, tables out: a run wires these to its meters, its card
readers and its ledger; here they only compute, over numpy arrays and pandas
DataFrames, so a whole term of a 1,000-student campus takes well under a
second and every figure can be checked by hand.

Usage::

    import numpy as np
    from gridcoop.agents.mechanisms.campus import (CampusConfig, simulate_term, presence_from_reads,
                                    simulate_readings, footprint, lighting_waste)

    config = CampusConfig()                       # 2 classrooms, 1,000 students, 13 weeks
    rng = np.random.default_rng(7)
    sessions, reads = simulate_term(config, rng)  # timetable and card-reader log
    presence = presence_from_reads(reads, sessions)
    readings, lights = simulate_readings(sessions, presence, config, rng)
    case1 = footprint(readings, presence, config.interval_s)
    case3 = lighting_waste(readings, sessions, presence, config.interval_s, config.start_date)
"""

from gridcoop.agents.mechanisms.campus.cardlog import (
    CampusConfig,
    CardLogError,
    presence_from_reads,
    read_card_csv,
    simulate_term,
)
from gridcoop.agents.mechanisms.campus.footprint import FootprintResult, footprint
from gridcoop.agents.mechanisms.campus.intervals import IntervalError
from gridcoop.agents.mechanisms.campus.lighting import LightingResult, lighting_waste
from gridcoop.agents.mechanisms.campus.metering import (
    lights_on_spans,
    read_meter_csv,
    simulate_readings,
)
from gridcoop.agents.mechanisms.campus.report import (
    markdown_table,
    render_footprint_report,
    render_lighting_report,
)

__all__ = [
    "CampusConfig",
    "CardLogError",
    "FootprintResult",
    "IntervalError",
    "LightingResult",
    "footprint",
    "lighting_waste",
    "lights_on_spans",
    "markdown_table",
    "presence_from_reads",
    "read_card_csv",
    "read_meter_csv",
    "render_footprint_report",
    "render_lighting_report",
    "simulate_readings",
    "simulate_term",
]
