"""Hand-built campus days for the tests."""

from __future__ import annotations

import pandas as pd

H = 3600


def sessions_frame(rows: list[tuple[int, str, str, float, float]]) -> pd.DataFrame:
    """(session_id, classroom, teacher_id, start hour, end hour), day 0 unless hours >= 24."""
    return pd.DataFrame(
        {
            "session_id": [r[0] for r in rows],
            "classroom": [r[1] for r in rows],
            "course": [f"class-{r[0]}" for r in rows],
            "teacher_id": [r[2] for r in rows],
            "start_s": [round(r[3] * H) for r in rows],
            "end_s": [round(r[4] * H) for r in rows],
        }
    )


def presence_frame(rows: list[tuple[str, str, str, float, float, int]]) -> pd.DataFrame:
    """(person_id, role, classroom, start hour, end hour, session_id)."""
    return pd.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "role": [r[1] for r in rows],
            "classroom": [r[2] for r in rows],
            "start_s": [round(r[3] * H) for r in rows],
            "end_s": [round(r[4] * H) for r in rows],
            "session_id": [r[5] for r in rows],
        }
    )


def readings_frame(
    classroom: str,
    lighting_wh: dict[int, int],
    energy_wh: dict[int, int] | None = None,
    intervals: int = 96,
) -> pd.DataFrame:
    """One classroom, ``intervals`` 15-minute readings; unlisted intervals read 0."""
    energy = energy_wh or {}
    return pd.DataFrame(
        {
            "classroom": classroom,
            "interval": range(intervals),
            "interval_start_s": [k * 900 for k in range(intervals)],
            "energy_wh": [energy.get(k, 0) for k in range(intervals)],
            "lighting_wh": [lighting_wh.get(k, 0) for k in range(intervals)],
        }
    )
