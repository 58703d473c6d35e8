"""``gridcoop batch campus-cases``: the campus cases (docs/domain/campus.md) in one command.

A registry maps each case to the scenario that reproduces it (and, where the
case compares options, a small sweep). Cases whose scenario is not among the
built-in scenarios (``gridcoop scenarios``) are not run, and the report says
so at the top, with the reason. For each case that runs, ``OUT/<case>/`` holds
the full sweep (runs, results table, report and plots) and
``OUT/<case>/reference/`` a copy of the tables, reports and plots of its
reference run (the first value of each swept option, the first seed), plus a
heatmap of its classroom x classroom tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gridcoop.experiments.batch.executors import make_executor
from gridcoop.experiments.batch.folders import copy_files, run_folder
from gridcoop.experiments.batch.spec import Sweep, SweepError, plan
from gridcoop.experiments.batch.sweep import SweepResult, run_sweep
from gridcoop.experiments.scenarios import builtin_scenarios

REFERENCE_FILES = ("*.csv", "*.parquet", "*.md", "*.html", "*.png", "*.svg", "summary.json")


@dataclass(frozen=True)
class CampusCase:
    """One campus case: its number and title (docs/domain/campus.md), scenario, comparison."""

    name: str
    number: int
    title: str
    scenario: str
    params: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    matrix_tables: tuple[str, ...] = ()
    note: str = ""


CAMPUS_CASES: dict[str, CampusCase] = {case.name: case for case in (
    CampusCase("campus-footprint", 1, "Energy footprint per student", "campus-footprint",
               note="each 15-minute interval's energy split among the people present, "
                    "as tokens (1 token = 1 Wh)"),
    CampusCase("campus-microgrid", 2, "Microgeneration between classrooms", "campus-microgrid",
               params={"allocation": ("nearest", "market")},
               matrix_tables=("transfers.csv",),
               note="static prices (nearest classroom in use) against dynamic prices "
                    "(the local market)"),
    CampusCase("campus-lighting", 3, "Lighting waste", "campus-lighting",
               note="energy in gaps between classes attributed to the previous class; "
                    "rankings and waste per classroom per year"),
    CampusCase("ev-community", 4, "EV pilot", "ev-community",
               note="7 Nissan Leafs in the spinning-reserve market, with gamification"),
    CampusCase("dr-community", 5, "DR pilot", "dr-community",
               note="8 classrooms' HVAC (T2), 7 EVs (T3), a T1 and a T4 outlet, "
                    "OpenADR-style commands"),
)}


@dataclass
class CampusResult:
    """Which cases ran (their sweeps), which were missing (and why), and the report."""

    out_dir: Path
    ran: dict[str, SweepResult]
    missing: dict[str, str]
    report: Path


def _heatmap(csv_path: Path, png_path: Path) -> None:
    """A matrix table (first column = row names) as an annotated heatmap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix = pd.read_csv(csv_path, index_col=0)
    figure = Figure(figsize=(1.2 + 0.75 * matrix.shape[1], 1.0 + 0.6 * matrix.shape[0]),
                    dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(matrix.to_numpy(dtype=float), cmap="viridis")
    axes.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=45,
                    ha="right", fontsize=8)
    axes.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index], fontsize=8)
    for (row, col), value in pd.DataFrame(matrix.to_numpy()).stack().items():
        axes.text(col, row, f"{value:.3g}", ha="center", va="center", fontsize=6, color="w")
    axes.set_title(f"{csv_path.stem} ({matrix.index.name or ''})", fontsize=10)
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    figure.savefig(png_path, format="png")


def _reference(case: CampusCase, sweep: Sweep, case_dir: Path) -> list[Path]:
    """Copy the reference run's tables, reports and plots; draw its matrix tables."""
    first = plan(sweep)[0]
    source = run_folder(case_dir, first.key)
    if not (source / "done.json").is_file():
        return []
    target = case_dir / "reference"
    copied = copy_files(source, target, REFERENCE_FILES)
    for name in case.matrix_tables:
        if (target / name).is_file():
            png = target / f"{Path(name).stem}.png"
            _heatmap(target / name, png)
            copied.append(png)
    return copied


def run_campus_cases(out_dir: str | Path, *, seeds: int = 2, days: int | None = None,
                     workers: int | None = None, dask: str | None = None,
                     shared_fs: bool = False, cases: Iterable[CampusCase | str] | None = None,
                     progress: bool = True) -> CampusResult:
    """Run every campus case whose scenario exists; write ``OUT/report.md`` over them all."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = [_lookup(c) for c in (cases if cases is not None else CAMPUS_CASES.values())]
    available = builtin_scenarios()
    missing = {c.name: f"scenario `{c.scenario}` is not among the built-in scenarios "
                       f"(`gridcoop scenarios` lists: {', '.join(available)})"
               for c in chosen if c.scenario not in available}
    ran: dict[str, SweepResult] = {}
    references: dict[str, list[Path]] = {}
    runnable = [c for c in chosen if c.name not in missing]
    executor = make_executor(workers, dask, shared_fs) if runnable else None
    try:
        for case in runnable:
            sweep = Sweep(scenario=case.scenario, params={k: list(v) for k, v in
                                                          case.params.items()},
                          seeds=seeds, days=days)
            case_dir = out / case.name
            ran[case.name] = run_sweep(sweep, case_dir, executor=executor, progress=progress)
            references[case.name] = _reference(case, sweep, case_dir)
    finally:
        if executor is not None:
            executor.close()
    report = _write_index(out, chosen, ran, missing, references, seeds, days,
                          executor.description if executor is not None else "nothing to run")
    return CampusResult(out_dir=out, ran=ran, missing=missing, report=report)


def _write_index(out: Path, chosen: list[CampusCase], ran: dict[str, SweepResult],
                 missing: dict[str, str], references: dict[str, list[Path]], seeds: int,
                 days: int | None, executor: str) -> Path:
    lines = ["# Campus cases", "",
             f"Seeds per configuration: {seeds}; days: "
             f"{days if days is not None else 'each scenario default'}; ran on {executor}.", ""]
    if missing:
        lines += [f"## NOT RUN: {len(missing)} case(s) have no scenario yet", ""]
        for name, reason in missing.items():
            case = _case(chosen, name)
            lines.append(f"- **{case.number}. {case.title}** (`{name}`): {reason}")
        lines.append("")
    lines += ["| case | scenario | status | runs ok / total | report |", "|---|---|---|---|---|"]
    for case in chosen:
        if case.name in missing:
            lines.append(f"| {case.number}. {case.title} | `{case.scenario}` | missing | - | - |")
            continue
        result = ran[case.name]
        ok = int((result.table["status"] == "ok").sum())
        status = "ok" if ok == len(result.table) else f"{len(result.table) - ok} failed"
        lines.append(f"| {case.number}. {case.title} | `{case.scenario}` | {status} | "
                     f"{ok} / {len(result.table)} | [{case.name}/report.md]"
                     f"({case.name}/report.md) |")
    lines.append("")
    for case in chosen:
        if case.name not in ran:
            continue
        lines += [f"## {case.number}. {case.title}", "", case.note + "." if case.note else "", ""]
        compared = ", ".join(f"`{k}` = {', '.join(map(str, v))}" for k, v in case.params.items())
        lines += [f"Compared: {compared}." if compared else "Pilot defaults over seeds.", "",
                  f"Sweep: [report]({case.name}/report.md), [results.csv]({case.name}/"
                  "results.csv), plots in "
                  f"`{case.name}/plots/`.", ""]
        files = references.get(case.name, [])
        if not files:
            lines += ["The reference run did not finish; see the sweep report.", ""]
            continue
        lines += ["Reference run (first value of each option, first seed): "
                  + ", ".join(f"[{p.name}]({case.name}/reference/{p.name})"
                              for p in files if p.suffix != ".png"), ""]
        lines += [f"![{p.stem}]({case.name}/reference/{p.name})" for p in files
                  if p.suffix == ".png"]
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _case(chosen: list[CampusCase], name: str) -> CampusCase:
    return next(c for c in chosen if c.name == name)


def _lookup(case: CampusCase | str) -> CampusCase:
    if isinstance(case, CampusCase):
        return case
    if case not in CAMPUS_CASES:
        raise SweepError(f"unknown campus case {case!r}; known: {', '.join(CAMPUS_CASES)}")
    return CAMPUS_CASES[case]
