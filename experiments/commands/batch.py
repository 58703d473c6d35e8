"""``gridcoop batch``: sweeps of parameters and seeds, in parallel, resumable, with a report.

    gridcoop batch neighbourhood --param mechanism=average_bid,pay_as_clear \\
        --param households=50,100 --seeds 3 --days 1 --out out/sweep [--workers 2]
    gridcoop batch sweep.yaml [--dask local | --dask tcp://scheduler:8786]
    gridcoop batch campus-cases --out out/campus-cases

Writes ``DIR/results.parquet``, ``DIR/results.csv``, ``DIR/report.md`` with
``DIR/plots/*.png``, and each run's files in ``DIR/runs/<key>/``. Running the
same command again skips the runs that finished. Exits 1 when a run failed
(after writing everything), 2 on bad options.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml

from gridcoop.experiments.commands.run import INTERRUPTED_EXIT

CAMPUS = "campus-cases"


def parse_param(item: str) -> tuple[str, list[Any]]:
    """``"households=50,100"`` -> ``("households", [50, 100])``; values are read as YAML."""
    name, sep, raw = item.partition("=")
    name = name.strip()
    if not sep or not name or not raw.strip():
        raise click.UsageError(f"--param {item!r} must look like name=value1,value2,... "
                               "e.g. --param households=50,100")
    values: list[Any] = []
    for text in raw.split(","):
        if not text.strip():
            raise click.UsageError(f"--param {item!r} has an empty value between commas")
        try:
            values.append(yaml.safe_load(text))
        except yaml.YAMLError:
            values.append(text.strip())
    return name, values


@click.command()
@click.argument("target", metavar="SCENARIO | SWEEP.yaml | campus-cases")
@click.option("--param", "params", multiple=True, metavar="NAME=V1,V2,...",
              help="Sweep a scenario parameter over these values (repeatable; every "
                   "combination runs). Nested names use dots: strategy.jitter=0,0.1.")
@click.option("--seeds", type=click.IntRange(min=1),
              help="Seeds per combination: 0..N-1 (default 1; campus-cases 2).")
@click.option("--first-seed", type=int, help="Start the seeds here instead of 0.")
@click.option("--days", type=click.IntRange(min=1), help="Simulated days of every run.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Fix a scenario parameter for every run (repeatable).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: out/batch/NAME).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Local worker processes, or LocalCluster workers with --dask local "
                   "(default: CPU count).")
@click.option("--dask", metavar="local|ADDRESS",
              help="Run on Dask distributed: 'local' starts a LocalCluster, or give a "
                   "scheduler address such as tcp://10.0.0.5:8786.")
@click.option("--shared-fs", is_flag=True,
              help="With --dask ADDRESS: the workers see --out at the same path and write "
                   "runs there (default: files come back through Dask).")
@click.option("--case", "cases", multiple=True, metavar="NAME",
              help="With campus-cases: run only these cases (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def batch(target: str, params: tuple[str, ...], seeds: int | None, first_seed: int | None,
          days: int | None, sets: tuple[str, ...], out_dir: Path | None, workers: int | None,
          dask: str | None, shared_fs: bool, cases: tuple[str, ...], quiet: bool) -> None:
    """Run a sweep of SCENARIO (or a YAML sweep file), or reproduce the campus cases."""
    from gridcoop.experiments.batch import SweepError

    try:
        if target == CAMPUS:
            if params or sets:
                raise click.UsageError("campus-cases runs each case's own scenario; "
                                       "--param and --set do not apply")
            _campus(out_dir, seeds, days, workers, dask, shared_fs, cases, quiet)
            return
        if cases:
            raise click.UsageError("--case only applies to campus-cases")
        _sweep(target, params, seeds, first_seed, days, sets, out_dir, workers, dask,
               shared_fs, quiet)
    except SweepError as exc:
        raise click.UsageError(str(exc)) from None


def _sweep(target: str, params: tuple[str, ...], seeds: int | None, first_seed: int | None,
           days: int | None, sets: tuple[str, ...], out_dir: Path | None, workers: int | None,
           dask: str | None, shared_fs: bool, quiet: bool) -> None:
    from gridcoop.agents.scenario.schema import ScenarioError, merge_params
    from gridcoop.experiments.batch import (
        SweepOptions,
        is_sweep_file,
        load_sweep_file,
        run_sweep,
        sweep_from_dict,
    )
    from gridcoop.experiments.scenarios import parse_sets

    if is_sweep_file(target):
        base, options = load_sweep_file(target)
        data: dict[str, Any] = base.model_dump(by_alias=True)
        source = target
    else:
        data, options, source = {"scenario": target}, SweepOptions(), "command line"
    data["params"] = {**data.get("params", {}), **dict(parse_param(p) for p in params)}
    if seeds is not None or first_seed is not None:
        count = seeds if seeds is not None else len(data.get("seeds", [0]))
        start = first_seed or 0
        data["seeds"] = list(range(start, start + count))
    if days is not None:
        data["days"] = days
    try:
        data["set"] = merge_params(data.get("set", {}), parse_sets(sets))
    except ScenarioError as exc:
        raise click.UsageError(str(exc)) from None
    sweep = sweep_from_dict(data, source)
    out = out_dir or (Path(options.out) if options.out else
                      Path("out") / "batch" / sweep.scenario_label)
    result = run_sweep(sweep, out, workers=workers or options.workers,
                       dask=dask or options.dask, shared_fs=shared_fs or options.shared_fs,
                       progress=not quiet)
    ok = int((result.table["status"] == "ok").sum())
    missing = int((result.table["status"] == "missing").sum())
    not_run = f", {missing} not run" if missing else ""
    click.echo(f"{sweep.scenario_label}: {len(result.table)} runs, {ok} ok, "
               f"{result.failed - missing} failed{not_run} ({result.executed} executed, "
               f"{result.skipped} finished before) in "
               f"{result.wall_s:.1f} s on {result.executor}")
    click.echo(f"wrote {out / 'results.parquet'}, results.csv and report.md (+ plots/)")
    if result.interrupted:
        click.echo("interrupted: the table and report are partial (runs not run are "
                   "'missing'); run the same command again to resume", err=True)
        sys.exit(INTERRUPTED_EXIT)
    if result.failed:
        raise click.ClickException(f"{result.failed} run(s) failed; their errors are in "
                                   f"{out / 'report.md'} and runs/<key>/error.txt")


def _campus(out_dir: Path | None, seeds: int | None, days: int | None, workers: int | None,
            dask: str | None, shared_fs: bool, cases: tuple[str, ...], quiet: bool) -> None:
    from gridcoop.experiments.batch import run_campus_cases

    out = out_dir or Path("out") / CAMPUS
    result = run_campus_cases(out, seeds=seeds or 2, days=days, workers=workers, dask=dask,
                              shared_fs=shared_fs, cases=cases or None, progress=not quiet)
    for name, sweep in result.ran.items():
        ok = int((sweep.table["status"] == "ok").sum())
        click.echo(f"{name}: {ok} / {len(sweep.table)} runs ok -> {out / name}")
    for name, reason in result.missing.items():
        click.echo(f"NOT RUN {name}: {reason}", err=True)
    click.echo(f"wrote {result.report}")
    failed = sum(s.failed for s in result.ran.values())
    if failed:
        raise click.ClickException(f"{failed} campus run(s) failed; see {result.report}")
