"""``gridcoop reproduce``: run the pilot's cases and compare them with its published results."""

from __future__ import annotations

from pathlib import Path

import click

from gridcoop.experiments.reproduce.cases import CASES


@click.command()
@click.option("--case", "cases", multiple=True, type=click.Choice(sorted(CASES)),
              help="Only these cases (default: all).")
@click.option("--seeds", type=click.IntRange(min=1, max=100), default=5, show_default=True,
              help="Seeds per case (0, 1, ...).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/reproduce"), show_default=True, help="Output folder.")
@click.option("--quick", is_flag=True, help="One week per run: a smoke check, not comparable.")
def reproduce(cases: tuple[str, ...], seeds: int, out_dir: Path, quick: bool) -> None:
    """Run the pilot's cases over SEEDS and write report.md beside the published results."""
    from gridcoop.experiments.reproduce.report import write

    chosen = cases or tuple(CASES)
    seed_list = list(range(seeds))
    rows, plots = [], []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.UsageError(f"cannot create {out_dir}: {exc.strerror}") from None
    for name in chosen:
        click.echo(f"# {name}: {len(seed_list)} seeds", err=True)
        case_rows, case_plots = CASES[name](seed_list, out_dir, quick)
        rows += case_rows
        plots += case_plots
    written = write(rows, seed_list, plots, out_dir)
    matched = sum(r.verdict == "match" for r in rows)
    compared = sum(r.verdict != "not published" for r in rows)
    click.echo(f"{matched} of {compared} published results match; wrote "
               f"{', '.join(p.name for p in written + plots)} to {out_dir}")
