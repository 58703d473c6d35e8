"""Markdown reports of the campus cases: footprint totals and lighting rankings.

Why Markdown: it reads as plain text in a terminal, renders on any code host
and converts to HTML with one tool; the run writes it next to its tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gridcoop.agents.mechanisms.campus.footprint import FootprintResult
from gridcoop.agents.mechanisms.campus.lighting import LightingResult


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, columns: Sequence[str], headers: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table of ``columns`` under ``headers``."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in frame[list(columns)].itertuples(index=False):
        lines.append(
            "| " + " | ".join(_cell(v.item() if hasattr(v, "item") else v) for v in row) + " |"
        )
    if frame.empty:
        lines.append("| " + " | ".join("–" for _ in headers) + " |")
    return "\n".join(lines)


def render_footprint_report(
    result: FootprintResult, top: int = 10, title: str = "Energy footprint per student"
) -> str:
    """Totals, per-role figures and the largest footprints (1 token = 1 Wh)."""
    people = result.per_person
    students = people[people["role"] == "student"]
    unattributed = int(result.unattributed["energy_wh"].sum())
    share = result.attributed_wh / result.metered_wh if result.metered_wh else 0.0
    roles = people.groupby("role").agg(people=("person_id", "size"), tokens=("tokens", "sum"))
    roles = roles.reset_index()
    roles["kwh_per_person"] = roles["tokens"] / roles["people"] / 1000.0
    biggest = students.head(top).assign(kwh=lambda f: f["tokens"] / 1000.0)
    parts = [
        f"# {title}",
        "",
        f"- metered: **{result.metered_wh / 1000:,.1f} kWh**; written as tokens to the people "
        f"present: **{result.attributed_wh / 1000:,.1f} kWh** ({share:.1%})",
        f"- empty rooms (nobody to attribute to): {unattributed / 1000:,.1f} kWh",
        f"- students: {len(students):,}; tokens per interval equal the metered Wh exactly",
        "",
        "## Per role",
        "",
        markdown_table(
            roles,
            ["role", "people", "tokens", "kwh_per_person"],
            ["role", "people", "tokens (Wh)", "kWh per person"],
        ),
        "",
        f"## The {top} largest student footprints",
        "",
        markdown_table(
            biggest, ["person_id", "kwh", "intervals"], ["student", "kWh", "intervals present"]
        ),
        "",
    ]
    return "\n".join(parts)


def render_lighting_report(
    result: LightingResult,
    roles: Sequence[str] = ("student",),
    title: str = "Lights left on in empty rooms",
) -> str:
    """Waste per classroom (kWh and €/year) and the weekly and monthly top lists."""
    attributed = int(result.gaps.loc[result.gaps["session_id"] >= 0, "gap_wh"].sum())
    parts = [
        f"# {title}",
        "",
        f"- empty-room lighting attributed to the class before: {attributed / 1000:,.1f} kWh",
        f"- nobody's (switched on in an empty room, or the night before the day's first "
        f"class): {result.unattributed_wh / 1000:,.1f} kWh",
        "",
        "## Waste per classroom",
        "",
        markdown_table(
            result.waste_by_classroom,
            ["classroom", "waste_kwh", "waste_kwh_per_year", "waste_eur_per_year"],
            ["classroom", "kWh in the run", "kWh per year", "€ per year"],
        ),
        "",
    ]
    rankings = result.rankings
    for kind, heading in (("week", "Weekly rankings"), ("month", "Monthly rankings")):
        parts += [f"## {heading}", ""]
        mine = rankings[(rankings["period_kind"] == kind) & rankings["role"].isin(roles)]
        for (period, role), block in mine.groupby(["period", "role"], sort=True):
            for name in ("most sustainable", "least sustainable"):
                rows = block[block["list"] == name]
                parts += [
                    f"### {period}: {name} ({role}s)",
                    "",
                    markdown_table(
                        rows,
                        ["rank", "person_id", "score", "waste_wh", "sessions"],
                        ["#", role, "score (Wh per class or total)", "waste (Wh)", "classes"],
                    ),
                    "",
                ]
    return "\n".join(parts)
