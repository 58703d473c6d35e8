"""Write the comparison rows as report.md and comparison.csv."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gridcoop.experiments.reproduce.rows import Row


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "share":
        return f"{100 * value:.0f} %"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def frame(rows: Sequence[Row]) -> pd.DataFrame:
    """The rows as a table, one line per compared result."""
    return pd.DataFrame([{
        "case": r.case, "result": r.result, "unit": r.unit, "published": r.published,
        "gridcoop_mean": r.mean, "gridcoop_min": r.low, "gridcoop_max": r.high,
        "seeds": len(r.values), "verdict": r.verdict, "why": r.why,
    } for r in rows])


def markdown(rows: Sequence[Row], seeds: Sequence[int], plots: Sequence[Path]) -> str:
    """One section per case: published, gridcoop (mean and range over seeds), verdict, why."""
    lines = ["# The pilot's published results beside gridcoop's", "",
             f"Seeds: {', '.join(map(str, seeds))}. A row matches when the published figure "
             "lies within gridcoop's range over the seeds, widened by the row's tolerance.", ""]
    for case in dict.fromkeys(r.case for r in rows):
        lines += [f"## {case}", "",
                  "| result | published | gridcoop mean (range) | verdict | why |",
                  "|---|---|---|---|---|"]
        for r in (r for r in rows if r.case == case):
            mine = f"{_fmt(r.mean, r.unit)} ({_fmt(r.low, r.unit)} to {_fmt(r.high, r.unit)})"
            unit = "" if r.unit == "share" else f" {r.unit}"
            paper = _fmt(r.published, r.unit) + (unit if r.published is not None else "")
            lines.append(f"| {r.result} | {paper} | {mine}{unit} | {r.verdict} | {r.why} |")
        lines.append("")
    if plots:
        lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots] + [""]
    matched = sum(r.verdict == "match" for r in rows)
    compared = sum(r.verdict != "not published" for r in rows)
    lines.append(f"{matched} of {compared} published results match.")
    return "\n".join(lines) + "\n"


def write(
    rows: Sequence[Row], seeds: Sequence[int], plots: Sequence[Path], out: Path
) -> list[Path]:
    """report.md and comparison.csv in ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    md, csv = out / "report.md", out / "comparison.csv"
    md.write_text(markdown(rows, seeds, plots), encoding="utf-8")
    frame(rows).to_csv(csv, index=False)
    return [md, csv]
