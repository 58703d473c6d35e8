"""The research report: a Markdown summary, one plot per comparison.

Why the plot shows every seed: with a handful of seeds a mean and an interval
hide how the runs spread; each dot is one run, the bar the arm's mean.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from gridcoop.experiments.batch.sweep import SweepResult
from gridcoop.experiments.research.comparisons import Comparison


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.{digits}g}"


def verdict(row: pd.Series) -> str:
    """In words: do both 95 % intervals exclude 0 (the same way), and is that the better way?

    Both, because with 2 or 3 seeds a bootstrap has only a few distinct resamples
    and its interval is too narrow; the t interval is then the wider, honest one.
    """
    bounds = [row["boot_low"], row["boot_high"], row["t_low"], row["t_high"]]
    if any(isinstance(v, float) and math.isnan(v) for v in bounds):
        return "not measured"
    low, high = min(bounds[0], bounds[2]), max(bounds[1], bounds[3])
    if low <= 0.0 <= high:
        return "no clear effect"
    up = low > 0.0
    better = row["better"]
    if better == "none":
        return "rises" if up else "falls"
    good = (better == "higher") == up
    return ("rises" if up else "falls") + (" (better)" if good else " (worse)")


def _plot(comparison: Comparison, result: SweepResult, arms: dict[str, str], out: Path) -> Path:
    """Per outcome, each run's value off and on, and each arm's mean."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table = result.table[result.table["status"] == "ok"]
    sides = [arms.get(key, "") for key in table["key"]]
    outcomes = comparison.outcomes
    figure = Figure(figsize=(3.2 * len(outcomes), 3.0), dpi=100)
    FigureCanvasAgg(figure)
    for i, outcome in enumerate(outcomes):
        axes = figure.add_subplot(1, len(outcomes), i + 1)
        if outcome.kpi not in table.columns:
            axes.set_title(f"{outcome.label}\n(not reported)", fontsize=8)
            continue
        column = pd.to_numeric(table[outcome.kpi], errors="coerce")
        for x, name in enumerate(("off", "on")):
            points = column[[s == name for s in sides]].dropna().to_numpy(dtype=float)
            axes.scatter([x] * points.size, points, s=14, alpha=0.7)
            if points.size:
                axes.hlines(points.mean(), x - 0.25, x + 0.25, colors="k")
        axes.set_xticks([0, 1], ["off", "on"])
        axes.set_xlim(-0.6, 1.6)
        axes.set_title(outcome.label, fontsize=8)
        axes.tick_params(labelsize=7)
    figure.suptitle(comparison.title, fontsize=10)
    figure.tight_layout()
    path = out / "plots" / f"{comparison.name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def write_report(out: Path, chosen: list[Comparison], effects: pd.DataFrame,
                 ran: dict[str, SweepResult], arms: dict[str, dict[str, str]],
                 seeds: list[int], days: int | None,
                 executor: str, wall_s: float) -> Path:
    """``OUT/report.md`` over every comparison, with its plot."""
    lines = ["# Does each community mechanism change behaviour?", "",
             f"Seeds per arm: {', '.join(map(str, seeds))}; days: "
             f"{days if days is not None else 'each comparison default'}; ran on {executor} "
             f"in {wall_s:.0f} s.", "",
             "Both arms run the same seeds (common random numbers). Effect = the mean over "
             "seeds of on − off, in the outcome's unit. Interval: 95 % percentile bootstrap "
             "of that mean (10 000 resamples of the seeds, seeded, so the report is "
             "repeatable); the paired t 95 % interval beside it. g: Hedges' g (difference "
             "of the arms' means over their pooled sd, small-sample corrected). With few "
             "seeds the intervals are wide; where every seed's difference is the same the "
             "interval is that point. An effect \"rises\" or \"falls\" where both intervals "
             "exclude 0.", "", "All effects: [effects.csv](effects.csv).", ""]
    for comparison in chosen:
        rows = effects[effects["comparison"] == comparison.name]
        result = ran[comparison.name]
        failed = int((result.table["status"] != "ok").sum())
        lines += [f"## {comparison.title}", "", f"*{comparison.question}*", "",
                  f"Scenario `{comparison.scenario}`, `{comparison.switch}`: off = "
                  f"`{comparison.off}`, on = `{comparison.on}`"
                  + (f", fixed `{comparison.fixed}`" if comparison.fixed else "") + ". "
                  f"Runs: [{comparison.name}/report.md]({comparison.name}/report.md)"
                  + (f"; **{failed} run(s) failed**" if failed else "") + ".", "",
                  "| outcome | off | on | effect | 95 % bootstrap | 95 % t | g | reads |",
                  "|---|---|---|---|---|---|---|---|"]
        for _, row in rows.iterrows():
            lines.append(
                f"| {row['label']} | {_num(row['mean_off'])} | {_num(row['mean_on'])} | "
                f"{_num(row['difference'])} | [{_num(row['boot_low'])}, "
                f"{_num(row['boot_high'])}] | [{_num(row['t_low'])}, "
                f"{_num(row['t_high'])}] | {_num(row['hedges_g'], 2)} | {verdict(row)} |")
        plot = _plot(comparison, result, arms[comparison.name], out)
        lines += ["", f"![{comparison.title}](plots/{plot.name})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path

