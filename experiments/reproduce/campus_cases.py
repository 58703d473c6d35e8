"""Campus cases 1 (student footprint) and 3 (lighting), and the DR pilot, row by row.

How gridcoop reads the pilot where it contradicts itself: 350,000 transactions
for about 1,000 students is 350 each (the text's "3500 per student" is a slip);
"about 35 students per classroom transaction" is the people present, so classes
enrol about 44 with a 20 % absence rate; "kW/h" and "W/h" mean kWh and Wh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gridcoop.agents.mechanisms.campus.burst import busiest_interval, interval_requests, run_burst
from gridcoop.experiments.reproduce.rows import Row, make_row


def footprint_stats(ext: Any, days: int) -> dict[str, float]:
    """Transactions, people and Wh per person-hour from one footprint run's extension."""
    tokens = ext.result.tokens
    written = tokens[tokens["tokens"] > 0]
    per_interval = written.groupby(["interval", "classroom"]).size()
    per_instant = written.groupby("interval").size()
    students = written[written["role"] == "student"]
    person_hours = float(students["seconds"].sum()) / 3600.0
    return {
        "transactions": float(ext.ledger_txs),
        "transactions_per_student": float(len(students)) / max(1, int(
            (ext.people["role"] == "student").sum())),
        "present_per_interval": float(per_interval.mean()),
        "max_per_interval": float(per_interval.max()),
        "max_simultaneous": float(per_instant.max()),
        "wh_per_student_hour": float(students["tokens"].sum()) / person_hours
        if person_hours else 0.0,
        "days": float(days),
    }


BURST_SENDERS = 4
"""Card-reader processes sending the burst: two per classroom of the pilot's two."""


def send_burst(ext: Any, folder: Path, senders: int = BURST_SENDERS) -> dict[str, Any]:
    """The run's busiest interval sent again, all at once, through the bus to a token desk."""
    tokens = ext.result.tokens
    k = busiest_interval(tokens)
    metered = {(room, k): int(ext.metered_wh[k, i]) for i, room in enumerate(ext.rooms)}
    result = run_burst(interval_requests(tokens, k), metered, ext.people["person_id"].tolist(),
                       ext.clock.step_s, folder, senders=senders)
    return {**result.figures(), "interval": k}


LARGE_CLASS = 125.0
"""Enrolment that leaves about 100 present: the pilot's "classroom of about 100 students"."""


def footprint_rows(stats: Sequence[dict[str, float]],
                   large: Sequence[dict[str, float]] = (),
                   bursts: Sequence[dict[str, Any]] = ()) -> list[Row]:
    """Case 1 published against gridcoop, one stats dict per seed; ``large`` are runs with
    classes of about 100 present, the reading that reproduces the pilot's total; ``bursts``
    the busiest interval of each ``large`` run sent at once through the bus."""
    def col(key: str, runs: Sequence[dict[str, Any]] = stats) -> list[float]:
        return [float(s[key]) for s in runs]

    rows = [
        make_row("Footprint", "ledger transactions over the 3-month term", "transactions",
                 350_000.0, col("transactions"), tolerance=0.1,
                 why="With about 35 present per class (Figure 5 and the text's average) a term "
                     "writes about a third of the pilot's total; classes of about 100 "
                     "present, the text's other figure, reproduce it (next rows)."),
        make_row("Footprint", "transactions per student", "transactions", 350.0,
                 col("transactions_per_student"), tolerance=0.15,
                 why="350,000 / 1,000 students; the text's 3,500 per student is read as a slip."),
        make_row("Footprint", "people present per classroom interval", "people", 35.0,
                 col("present_per_interval"), tolerance=0.1,
                 why="Classes enrol about 44; 20 % absence leaves about 35 present."),
        make_row("Footprint", "Wh per student-hour", "Wh", 500.0, col("wh_per_student_hour"),
                 tolerance=0.25,
                 why="The pilot's example: 20 kW with 40 students is 500 Wh per student-hour; "
                     "gridcoop meters HVAC, 100 W per person and standby, split per person."),
        make_row("Footprint", "most token requests in one 15-minute interval (both rooms)",
                 "requests", 180.0, col("max_simultaneous"), tolerance=0.25,
                 why="Each person present asks for their tokens when the interval's reading "
                     "arrives; with classes of about 35 present two rooms make fewer than 100 "
                     "at once; the pilot's 180 came from its larger classes (next rows)."),
    ]
    if large:
        rows += [
            make_row("Footprint", "transactions over the term, classes of ~100 present",
                     "transactions", 350_000.0, col("transactions", large), tolerance=0.1),
            make_row("Footprint", "transactions per 15 minutes, a class of ~100 present",
                     "transactions", 100.0, col("present_per_interval", large), tolerance=0.1),
            make_row("Footprint", "most token requests in one interval, classes of ~100",
                     "requests", 180.0, col("max_simultaneous", large), tolerance=0.25),
        ]
    if bursts:
        rows += _burst_rows(bursts, col)
    return rows


def _burst_rows(bursts: Sequence[dict[str, Any]],
                col: Callable[[str, Sequence[dict[str, Any]]], list[float]]) -> list[Row]:
    """Figure 6: the busiest interval's requests arriving at once, through the real path."""
    senders = int(bursts[0]["senders"])
    return [
        make_row("Footprint burst", f"requests sent at once by {senders} card-reader processes",
                 "requests", 180.0, col("requests", bursts), tolerance=0.25,
                 why="The busiest interval of each run with classes of ~100 present, sent "
                     "over the bus (tcp, CurveZMQ) at one signal."),
        make_row("Footprint burst", "share of the requests performed (minted and sealed)",
                 "share", 1.0, [a / r if r else 0.0 for a, r in zip(
                     col("minted", bursts), col("requests", bursts), strict=True)],
                 tolerance=0.0, why="The pilot: all transactions were performed."),
        make_row("Footprint burst", "requests lost or minted twice", "requests", 0.0,
                 [lo + d for lo, d in zip(col("lost", bursts), col("duplicated", bursts),
                                           strict=True)], tolerance=0.0),
        make_row("Footprint burst", "latency to acceptance, median", "ms", None,
                 col("accept_p50_ms", bursts),
                 why="The pilot reports its server's CPU (100 % from 150 requests), not "
                     "latency: from each send to its mint applied to the open block."),
        make_row("Footprint burst", "latency to acceptance, 95th percentile", "ms", None,
                 col("accept_p95_ms", bursts)),
        make_row("Footprint burst", "latency to acceptance, slowest", "ms", None,
                 col("accept_max_ms", bursts)),
        make_row("Footprint burst", "latency to the sealed block, slowest", "ms", None,
                 col("seal_max_ms", bursts),
                 why="The interval's block is sealed once every request is answered."),
        make_row("Footprint burst", "requests accepted per second", "requests/s", None,
                 col("requests_per_s", bursts)),
    ]


MONTH_DAYS = 28
"""A month of the term, as the rankings count it: four weeks."""

PILOT_LIGHTS = "security switches the lights on at 16:15, nobody but the last one out off"


def waste_kwh_per_day_by_month(gaps: pd.DataFrame, steps_per_day: int, days: int) -> list[float]:
    """Lighting waste (kWh per day) in each four-week month of the term."""
    day = gaps["interval"].to_numpy() // steps_per_day
    month = day // MONTH_DAYS
    months = -(-days // MONTH_DAYS)
    out = []
    for m in range(months):
        length = min(MONTH_DAYS, days - m * MONTH_DAYS)
        out.append(float(gaps["gap_wh"].to_numpy()[month == m].sum()) / 1000 / length)
    return out


def lit_share(lighting_wh: Any, lights_w: float, interval_s: int) -> float:
    """Share of the term a classroom's lights are on: lighting Wh over what always-on would
    draw (``lighting_wh``: intervals x classrooms)."""
    always_wh = lights_w * interval_s / 3600.0 * lighting_wh.size
    return float(lighting_wh.sum()) / always_wh if always_wh else 0.0


def savings(months: Sequence[float], month: int | None = None) -> float:
    """Saving against the first month: 1 - waste per day in ``month`` (index; ``None``: every
    month after the first, pooled by its mean) over the first month's."""
    later = months[1:] if month is None else months[month:month + 1]
    if not later or not months[0]:
        return 0.0
    return 1.0 - sum(later) / len(later) / months[0]


def _month_label(month: int, days: int) -> str:
    first = month * MONTH_DAYS + 1
    return f"month {month + 1} (days {first}-{min(days, first + MONTH_DAYS - 1)})"


def lighting_rows(summaries: Sequence[dict[str, Any]],
                  with_rankings: Sequence[Sequence[float]] = (),
                  without: Sequence[Sequence[float]] = (),
                  daytime: Sequence[dict[str, Any]] = (),
                  lit: Sequence[float] = (), days: int = 91) -> list[Row]:
    """Case 3: the waste in € per classroom-year (the habit alone: the pilot's lights, and
    ``daytime`` the lights from 07:00 to 22:00), the share of the term lit, and the saving
    against the first month, month by month, with and without the published rankings (one list
    of monthly kWh per day per seed)."""
    def eur(runs: Sequence[dict[str, Any]]) -> list[float]:
        return [s["lighting_waste_eur_per_classroom_year"] for s in runs]

    rows = [make_row("Lighting", "waste per classroom-year, the habit alone", "EUR", 100.0,
                     eur(summaries), tolerance=0.15,
                     why=f"The pilot's lights ({PILOT_LIGHTS}) at 750 W and 0.095 EUR/kWh, "
                         "before any ranking. 100 EUR is 1,050 kWh, about 3.8 empty hours a "
                         "day; lit most of the time (Figure 7) with classes held about a fifth "
                         "of it, a room wastes at least 180 EUR: the pilot's two statements do "
                         "not fit together at this power and tariff. Lights left on burn "
                         "through nights and weekends until a class switches them off.")]
    if daytime:
        rows.append(make_row(
            "Lighting", "the same with security's daytime round (on 07:00, off 22:00)", "EUR",
            100.0, eur(daytime), tolerance=0.15,
            why="Not the pilot's description (nobody switched the lights off at night): the "
                "reading that reproduces the 100 EUR (lights_on_h=7, lights_off_h=22)."))
    if lit:
        rows.append(make_row(
            "Lighting", "share of the term a classroom is lit, the habit alone", "share", 0.5,
            lit, tolerance=0.0, compare="at_least",
            why="Figure 7: 'lights were on for most of the time'."))
    if with_rankings and without:
        rows += [
            make_row("Lighting", "saving after the first month against the first, rankings "
                     "published from day 28", "share", 0.0,
                     [savings(m) for m in with_rankings], tolerance=0.0, compare="at_least",
                     why="The pilot reports that waste fell after the first month of rankings "
                         "and gives no size (it hopes for more than 50 % later); the response "
                         "to rankings is an assumption. Rankings reach only the waste a class "
                         "left on: lights security switches on in an empty room stay."),
            make_row("Lighting", "the same without rankings (the habit alone)", "share", None,
                     [savings(m) for m in without],
                     why="The pilot ran no term without rankings: this is gridcoop's control."),
        ]
        for month in range(1, len(with_rankings[0])):
            label = _month_label(month, days)
            rows += [
                make_row("Lighting", f"saving in {label}, with rankings", "share", 0.0,
                         [savings(m, month) for m in with_rankings], tolerance=0.0,
                         compare="at_least",
                         why="The pilot: savings after the first month, month not given."),
                make_row("Lighting", f"saving in {label}, the habit alone", "share", None,
                         [savings(m, month) for m in without]),
            ]
    return rows


def dr_rows(summaries: Sequence[dict[str, Any]]) -> list[Row]:
    """The DR pilot publishes its set-up, not outcomes: gridcoop's figures stand alone."""
    def col(key: str) -> list[float]:
        return [float(s.get(key, 0.0)) for s in summaries]

    return [
        make_row("DR pilot", "events", "events", None, col("dr_events")),
        make_row("DR pilot", "commands", "commands", None, col("dr_commands")),
        make_row("DR pilot", "opt-in rate", "share", None, col("dr_opt_in_rate")),
        make_row("DR pilot", "compliance of verified commitments", "share", None,
                 col("dr_compliance_rate")),
        make_row("DR pilot", "excess absorbed", "kWh", None, col("dr_excess_absorbed_kwh")),
    ]

