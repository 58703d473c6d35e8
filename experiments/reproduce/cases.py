"""The pilot's cases, each run over the seeds and compared row by row.

A case takes the seeds, an output folder and ``quick`` (shorter runs, figures not
comparable, for smoke checks) and returns its rows and the plots it drew.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gridcoop.agents.mechanisms.ev.availability import hourly_capacity, typical_day
from gridcoop.experiments.reproduce import auction, campus_cases, ev_pilot, table1
from gridcoop.experiments.reproduce.rows import Row
from gridcoop.experiments.reproduce.runs import run_case

CaseResult = tuple[list[Row], list[Path]]
Case = Callable[[Sequence[int], Path, bool], CaseResult]


def hallway_table(seeds: Sequence[int], out: Path, quick: bool) -> CaseResult:
    """Table 1: campus-microgrid over three months, transfers between classrooms."""
    days = 7 if quick else None
    matrices = []
    for seed in seeds:
        run = run_case("campus-microgrid", seed, out / "runs" / "table1" / f"seed-{seed}",
                       days=days)
        matrices.append(run.tables["transfers"].to_numpy(dtype=np.float64))
    plot = out / "table1.png"
    _plot_table1(table1.published_matrix_kwh(), np.mean(matrices, axis=0), plot)
    return table1.rows(matrices), [plot]


def _plot_table1(paper: np.ndarray, mine: np.ndarray, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    top = max(paper.max(), mine.max())
    for ax, matrix, title in ((axes[0], paper, "published (kWh)"),
                              (axes[1], mine, "gridcoop, mean over seeds (kWh)")):
        image = ax.imshow(matrix, vmin=0, vmax=top, cmap="viridis")
        ax.set_title(title)
        ax.set_xlabel("to classroom")
        ax.set_ylabel("from classroom")
        ax.set_xticks(range(8), [str(i + 1) for i in range(8)])
        ax.set_yticks(range(8), [str(i + 1) for i in range(8)])
        fig.colorbar(image, ax=ax, shrink=0.8)
    shares = [table1.statistics(m) for m in (paper, mine)]
    x = np.arange(1, 5)
    for offset, stats, label in ((-0.2, shares[0], "published"), (0.2, shares[1], "gridcoop")):
        axes[2].bar(x + offset, [stats[f"share_distance_{d}"] for d in x], width=0.4, label=label)
    axes[2].set_xticks(x)
    axes[2].set_xlabel("distance (rooms)")
    axes[2].set_ylabel("share of the energy moved")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def ev_reserve(seeds: Sequence[int], out: Path, quick: bool) -> CaseResult:
    """The EV pilot: capacity as the pilot counts it, behaviour changes, critical hours."""
    days = 7 if quick else None
    extensions = []
    for seed in seeds:
        run = run_case("ev-community", seed, out / "runs" / "ev" / f"seed-{seed}", days=days)
        extensions.append(next(e for e in run.extensions if hasattr(e, "history")))
    plot = out / "ev_typical_day.png"
    fig, ax = plt.subplots(figsize=(8, 4))
    for ext in extensions:
        battery, v2g = hourly_capacity(ext.history, ext.warmup, ext.model.clock.days)
        ax.plot(range(24), typical_day(battery), color="tab:blue", alpha=0.6)
        ax.plot(range(24), typical_day(v2g), color="tab:orange", alpha=0.6)
    for start, end in ((8, 10), (18, 21)):
        ax.axvspan(start, end, color="grey", alpha=0.2)
    ax.axhline(35, color="red", linestyle="--", linewidth=1)
    ax.set_xlabel("hour of day")
    ax.set_ylabel("kWh plugged in (blue) / kW of V2G (orange)")
    ax.set_title("EV pilot, typical day per seed (grey: the pilot's critical periods)")
    fig.tight_layout()
    fig.savefig(plot, dpi=90)
    plt.close(fig)
    return ev_pilot.rows(extensions), [plot]


def footprint(seeds: Sequence[int], out: Path, quick: bool) -> CaseResult:
    """Case 1: tokens per student, transactions over a term, and Figure 6's burst."""
    days = 7 if quick else 91
    stats: dict[str, list[dict[str, float]]] = {"pilot": [], "large": []}
    bursts: list[dict[str, Any]] = []
    for variant, class_size in (("pilot", None), ("large", campus_cases.LARGE_CLASS)):
        for seed in seeds:
            folder = out / "runs" / f"footprint-{variant}" / f"seed-{seed}"
            run = run_case("campus-footprint", seed, folder, days=days,
                           class_size_mean=class_size)
            ext = next(e for e in run.extensions if e.name == "campus-footprint")
            stats[variant].append(campus_cases.footprint_stats(ext, days))
            if variant == "large":
                bursts.append(campus_cases.send_burst(ext, folder / "burst"))
    return campus_cases.footprint_rows(stats["pilot"], stats["large"], bursts), []


def lighting(seeds: Sequence[int], out: Path, quick: bool) -> CaseResult:
    """Case 3: lighting waste in empty classrooms, month by month with and without rankings,
    and the € per classroom-year under the pilot's lights and under a daytime round."""
    days = 7 if quick else 91
    summaries: list[dict[str, Any]] = []
    lit: list[float] = []
    months: dict[str, list[list[float]]] = {"ranking_response": [], "habit": []}
    for policy in months:
        for seed in seeds:
            run = run_case("campus-lighting", seed,
                           out / "runs" / f"lighting-{policy}" / f"seed-{seed}", days=days,
                           policies={"lighting": {"policy": policy}})
            if policy == "habit":  # the pilot's figure was measured before any ranking
                summaries.append(run.summary)
                term = next(e.term for e in run.extensions if e.name == "campus-lighting")
                lit.append(campus_cases.lit_share(term.lighting_wh, term.config.lights_w,
                                                  term.config.interval_s))
            months[policy].append(campus_cases.waste_kwh_per_day_by_month(
                run.tables["lighting_gaps"], run.steps_per_day, days))
    daytime = [run_case("campus-lighting", seed,
                        out / "runs" / "lighting-daytime" / f"seed-{seed}", days=days,
                        policies={"lighting": {"policy": "habit"}}, lights_on_h=7.0,
                        lights_off_h=22.0).summary for seed in seeds]
    plot = out / "lighting_by_month.png"
    fig, ax = plt.subplots(figsize=(7, 4))
    for policy, colour in (("ranking_response", "tab:green"), ("habit", "tab:grey")):
        mean = np.mean(months[policy], axis=0)
        ax.plot(range(1, len(mean) + 1), mean, marker="o", color=colour,
                label="rankings published from day 28" if policy != "habit" else "habit alone")
    ax.set_xlabel("month of the term (four weeks)")
    ax.set_ylabel("lighting waste, kWh per day")
    ax.legend()
    fig.tight_layout()
    fig.savefig(plot, dpi=90)
    plt.close(fig)
    return campus_cases.lighting_rows(summaries, months["ranking_response"], months["habit"],
                                      daytime, lit, days), [plot]


def demand_response(seeds: Sequence[int], out: Path, quick: bool) -> CaseResult:
    """The DR pilot: events, commands, compliance."""
    days = 1 if quick else None
    summaries = [run_case("dr-community", seed, out / "runs" / "dr" / f"seed-{seed}",
                          days=days).summary for seed in seeds]
    return campus_cases.dr_rows(summaries), []


def hourly_auction(seeds: Sequence[int], out: Path, quick: bool) -> CaseResult:
    """The review's hourly auction on its tariffs, under each reading of the average bid."""
    days = 1 if quick else None
    trades: dict[str, list[pd.DataFrame]] = {}
    for number, (label, options) in enumerate(auction.VARIANTS.items()):
        trades[label] = [
            run_case("neighbourhood", seed, out / "runs" / "auction" / f"v{number}-seed-{seed}",
                     days=days, mechanism="average_bid", mechanism_options=options
                     ).tables["trades"] for seed in seeds]
    return auction.rows(trades), []


CASES: dict[str, Case] = {
    "table1": hallway_table,
    "ev": ev_reserve,
    "footprint": footprint,
    "lighting": lighting,
    "dr": demand_response,
    "auction": hourly_auction,
}
"""Every case by the name ``gridcoop reproduce --case`` takes."""
