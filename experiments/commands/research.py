"""``gridcoop research``: each community mechanism off and on over seeds, with a report.

    gridcoop research --out out/research [--seeds 5] [--only dr-rewards] [--dask local]

Writes ``OUT/report.md`` (effects with 95 % intervals, plots), ``OUT/effects.csv``
and each comparison's batch sweep in ``OUT/<comparison>/``. Running it again
skips finished runs. Exits 1 when a run failed (after writing everything), 2 on
bad options.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/research"), show_default=True, help="Output folder.")
@click.option("--seeds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Seeds per arm (0..N-1 from --first-seed).")
@click.option("--first-seed", type=int, default=0, show_default=True)
@click.option("--days", type=click.IntRange(min=1),
              help="Simulated days of every run (default: each comparison's).")
@click.option("--only", multiple=True, metavar="NAME",
              help="Run only this comparison (repeatable); --list shows them.")
@click.option("--list", "list_only", is_flag=True, help="List the comparisons and exit.")
@click.option("--workers", type=click.IntRange(min=1),
              help="Local worker processes, or LocalCluster workers with --dask local.")
@click.option("--dask", metavar="local|ADDRESS", help="Run on Dask distributed.")
@click.option("--shared-fs", is_flag=True,
              help="With --dask ADDRESS: workers write runs straight into --out.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def research(out_dir: Path, seeds: int, first_seed: int, days: int | None,
             only: tuple[str, ...], list_only: bool, workers: int | None, dask: str | None,
             shared_fs: bool, quiet: bool) -> None:
    """Switch each community mechanism off and on over seeds; report effects and intervals."""
    from gridcoop.experiments.batch import SweepError
    from gridcoop.experiments.research import COMPARISONS, run_research

    if list_only:
        for c in COMPARISONS.values():
            click.echo(f"{c.name:18} {c.scenario:18} {c.switch}: {c.off} -> {c.on}")
        return
    try:
        result = run_research(out_dir, seeds=seeds, first_seed=first_seed, days=days,
                              workers=workers, dask=dask, shared_fs=shared_fs,
                              only=only or None, progress=not quiet)
    except SweepError as exc:
        raise click.UsageError(str(exc)) from None
    failed = sum(int((r.table["status"] != "ok").sum()) for r in result.ran.values())
    click.echo(f"report: {result.report} ({len(result.ran)} comparison(s), "
               f"{result.wall_s:.1f} s)")
    if failed:
        click.echo(f"{failed} run(s) failed; see the report", err=True)
        raise SystemExit(1)
