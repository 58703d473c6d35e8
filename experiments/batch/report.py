"""``report.md`` and its PNG plots: each numeric KPI against each swept parameter.

Each plot shows, for every value of the parameter, the mean over seeds with
min-max bars (the spread over seeds); one line per combination of the other
swept parameters when there are few of them (at most ``MAX_LINES``), else one
line pooling them. Plots are drawn with matplotlib's ``Figure`` on the Agg
canvas (no pyplot state, no display needed). KPIs with the same value in every
run are listed in a table instead of drawn as flat lines.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridcoop.experiments.batch.table import sort_key

MAX_LINES = 6
MAX_SUMMARY_COMBOS = 12


def numeric_kpis(frame: pd.DataFrame, kpis: Sequence[str]) -> list[str]:
    """KPI columns holding numbers (not flags, not text)."""
    return [k for k in kpis if k in frame and pd.api.types.is_numeric_dtype(frame[k])
            and not pd.api.types.is_bool_dtype(frame[k])]


def groups_by(frame: pd.DataFrame,
              columns: Sequence[str]) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    """Rows grouped by the values of ``columns``, in first-seen order, missing values included.

    Why not ``DataFrame.groupby(dropna=False)``: on a nullable integer column holding a
    missing value (a swept ``null``) pandas raises instead of grouping.
    """
    codes = pd.Series(["\x1f".join(map(str, row)) for row in
                       frame[list(columns)].itertuples(index=False, name=None)], index=frame.index)
    return [(tuple(part.iloc[0][list(columns)]), part)
            for _, part in frame.groupby(codes, sort=False)]


def _label(value: Any) -> str:
    if value is pd.NA:  # a swept null in a nullable column
        return "null"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)


def tick_label(value: Any) -> str:
    """A value as an axis tick: a swept group (``mix``) becomes one ``key value`` line per
    entry instead of a line of JSON, so ticks stay readable whatever is swept."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return "\n".join(f"{key} {tick_label(sub)}" for key, sub in sorted(value.items()))
    if isinstance(value, list | tuple):
        return ", ".join(tick_label(item) for item in value)
    return _label(value)


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _values(frame: pd.DataFrame, column: str) -> list[Any]:
    """Distinct values of a column in sort order, as plain Python objects."""
    seen = {_label(v): v for v in frame[column].tolist()}
    return sorted(seen.values(), key=sort_key)


def plot_kpi(frame: pd.DataFrame, kpi: str, parameter: str, others: Sequence[str],
             path: Path) -> None:
    """One PNG: ``kpi`` (mean over seeds, min-max bars) against ``parameter``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = _values(frame, parameter)
    numeric_x = all(isinstance(v, int | float) and not isinstance(v, bool) for v in xs)
    position = {_label(v): (float(v) if numeric_x else float(i)) for i, v in enumerate(xs)}
    groups: list[tuple[str, pd.DataFrame]]
    by_others = groups_by(frame, others) if others else []
    if others and len(by_others) <= MAX_LINES:
        groups = [(", ".join(f"{o}={_label(v)}" for o, v in zip(others, key, strict=True)),
                   part) for key, part in by_others]
        groups.sort(key=lambda g: g[0])
    else:
        groups = [("all other values pooled" if others else "", frame)]
    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    markers = "osD^vP*X"
    # Lines with equal values would hide each other: shift each group a little sideways.
    span = (max(position.values()) - min(position.values())) or 1.0
    step = (0.012 * span) if numeric_x else 0.06
    for index, (name, part) in enumerate(groups):
        shift = (index - (len(groups) - 1) / 2) * step
        points = []
        for x in xs:
            cell = part[part[parameter].map(_label) == _label(x)][kpi].dropna()
            if len(cell):
                values = cell.astype(float)
                points.append((position[_label(x)] + shift, values.mean(), values.min(),
                               values.max()))
        if not points:
            continue
        px, mean, low, high = zip(*points, strict=True)
        axes.errorbar(px, mean, yerr=[[m - lo for m, lo in zip(mean, low, strict=True)],
                                      [hi - m for m, hi in zip(mean, high, strict=True)]],
                      marker=markers[index % len(markers)], capsize=4, label=name or None)
    if not numeric_x:
        labels = [tick_label(v) for v in xs]
        lines = max(label.count("\n") + 1 for label in labels)
        axes.set_xticks([position[_label(v)] for v in xs], labels, fontsize=8 if lines > 1 else 9)
        if lines > 1:
            figure.set_figheight(4.0 + 0.16 * lines)
    axes.set_xlabel(parameter)
    axes.set_ylabel(kpi)
    seeds = frame["seed"].nunique()
    axes.set_title(f"{kpi} vs {parameter}\nmean over {seeds} seed(s); bars: min-max",
                   fontsize=10)
    if len(groups) > 1 or (groups and groups[0][0]):
        axes.legend(fontsize=8)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format="png")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.6g}"


def write_report(frame: pd.DataFrame, out_dir: Path, *, title: str, parameters: Sequence[str],
                 kpis: Sequence[str], facts: Sequence[tuple[str, str]]) -> Path:
    """Write ``report.md`` and ``plots/*.png`` under ``out_dir``; returns the report's path."""
    plots = out_dir / "plots"
    plots.mkdir(exist_ok=True)
    for old in plots.glob("*.png"):
        old.unlink()
    ok = frame[frame["status"] == "ok"]
    failed = frame[frame["status"] != "ok"]
    lines = [f"# {title}", ""]
    lines += [f"- **{name}**: {value}" for name, value in facts]
    lines += [f"- **runs**: {len(frame)} ({len(ok)} ok, {len(failed)} failed)",
              "- **tables**: [results.csv](results.csv), `results.parquet`; each run's files "
              "in `runs/<key>/`", ""]
    if len(failed):
        lines += ["## Failed runs", ""]
        lines += _md_table(["key", *parameters, "seed", "error"],
                           [[r["key"], *[_label(r[p]) for p in parameters], r["seed"],
                             str(r["error"]).splitlines()[0] if r["error"] else ""]
                            for _, r in failed.iterrows()])
        lines += ["", "Each failed run's traceback is in `runs/<key>/error.txt`; a re-run of "
                  "the same sweep tries failed runs again.", ""]
    numeric = numeric_kpis(ok, kpis)
    varying = [k for k in numeric if ok[k].dropna().nunique() > 1]
    constant = [k for k in numeric if k not in varying and ok[k].notna().any()]
    lines += _summary_section(ok, parameters, varying)
    if parameters and len(ok):
        for parameter in parameters:
            others = [p for p in parameters if p != parameter]
            lines += [f"## KPIs against `{parameter}`", ""]
            for kpi in varying:
                name = f"{_file_name(kpi)}--{_file_name(parameter)}.png"
                plot_kpi(ok, kpi, parameter, others, plots / name)
                lines += [f"![{kpi} vs {parameter}](plots/{name})", ""]
    elif len(ok):
        lines += ["No swept parameter: the table above gives the spread over seeds.", ""]
    if constant:
        lines += ["## KPIs equal in every run", ""]
        lines += _md_table(["KPI", "value"], [[k, _label(ok[k].dropna().iloc[0])]
                                              for k in constant])
        lines.append("")
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _summary_section(ok: pd.DataFrame, parameters: Sequence[str],
                     kpis: Sequence[str]) -> list[str]:
    if not len(ok) or not kpis:
        return []
    if parameters:
        combos = groups_by(ok, parameters)
        combos.sort(key=lambda c: [sort_key(v) for v in c[0]])
    else:
        combos = [((), ok)]
    if len(combos) > MAX_SUMMARY_COMBOS:
        return [f"{len(combos)} parameter combinations: see results.csv for the numbers.", ""]
    header = ["KPI"]
    for values, _ in combos:
        header.append(", ".join(f"{p}={_label(v)}" for p, v in zip(parameters, values,
                                                                    strict=True)) or "all runs")
    rows = []
    for kpi in kpis:
        row = [kpi]
        for _, part in combos:
            values = part[kpi].dropna().astype(float)
            row.append("-" if not len(values) else
                       f"{_number(values.mean())} [{_number(values.min())}, "
                       f"{_number(values.max())}]")
        rows.append(row)
    seeds = ok["seed"].nunique()
    return ["## Mean over seeds [min, max]", "", f"{seeds} seed(s) per combination.", "",
            *_md_table(header, rows), ""]
