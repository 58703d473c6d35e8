"""Small shared pieces of the page: errors, time and hash formatting, windows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
HISTORY_WINDOW_S = 3 * SECONDS_PER_DAY
"""How much history the charts show: three simulated days keeps them readable
and their redraw time flat however long the run grows."""

RANGES: dict[str, int | None] = {
    "last day": SECONDS_PER_DAY,
    "3 days": HISTORY_WINDOW_S,
    "week": 7 * SECONDS_PER_DAY,
    "whole run": None,
}
"""The page's time-range control: every time-series chart (and the member view's
range figures) shows this much history before the newest point. A narrower range
is the page's zoom; ``None`` is the whole run."""
DEFAULT_RANGE = "3 days"


class PageDataError(ValueError):
    """The community handed the page data it cannot show (a bug in the source)."""


class _Timed(Protocol):
    @property
    def time_s(self) -> int: ...


T = TypeVar("T", bound=_Timed)


def format_sim_time(time_s: int) -> str:
    """``day 2 13:05`` for simulated seconds since the start (day 1 at 0 s)."""
    if time_s < 0:
        raise PageDataError(f"simulated time must be >= 0 s, got {time_s}")
    day, rest = divmod(int(time_s), SECONDS_PER_DAY)
    hours, rest = divmod(rest, SECONDS_PER_HOUR)
    return f"day {day + 1} {hours:02d}:{rest // 60:02d}"


def short_hash(hex_hash: str, length: int = 12) -> str:
    """The first ``length`` hex digits, enough to tell blocks apart on screen."""
    return hex_hash[:length] if len(hex_hash) > length else hex_hash


def recent(rows: Sequence[T], window_s: int | None = HISTORY_WINDOW_S) -> list[T]:
    """The rows within ``window_s`` of the newest one (all of them for ``None``), oldest first.

    Rows must come in time order; an out-of-order row means the source is
    broken, so it is reported rather than silently re-sorted.
    """
    if not rows:
        return []
    previous = rows[0].time_s
    for row in rows:
        if row.time_s < previous:
            raise PageDataError(
                f"rows are not in time order ({row.time_s} s after {previous} s); "
                "the page source must return them oldest first"
            )
        previous = row.time_s
    if window_s is None:
        return list(rows)
    start = rows[-1].time_s - window_s
    first = len(rows)
    while first > 0 and rows[first - 1].time_s > start:
        first -= 1
    return list(rows[first:])


def first_per_hour(rows: Sequence[T]) -> list[T]:
    """The first row of each simulated hour: a cumulative series (tokens) drawn hourly, so
    its chart changes once an hour rather than every step."""
    kept: list[T] = []
    for row in rows:
        if not kept or row.time_s // SECONDS_PER_HOUR > kept[-1].time_s // SECONDS_PER_HOUR:
            kept.append(row)
    return kept


def range_text(window_s: int | None) -> str:
    """``last 3 days`` / ``whole run``: what a chart's title says it covers."""
    if window_s is None:
        return "whole run"
    days = window_s / SECONDS_PER_DAY
    return f"last {days:g} day{'' if days == 1 else 's'}"


def hours(rows: Sequence[_Timed]) -> tuple[float, ...]:
    """Each row's simulated time in hours since the start (the charts' x axis)."""
    return tuple(row.time_s / SECONDS_PER_HOUR for row in rows)
