"""``gridcoop bench``: print the figures each issue asks for."""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Any

import click

from gridcoop.experiments.bench import SUITES, load_suite
from gridcoop.experiments.bench.peers import ASSUME_ENV, SIZES_ENV, parse_sizes


def _print_figures(prefix: str, figures: Any) -> None:
    if isinstance(figures, dict):
        for key, value in figures.items():
            _print_figures(f"{prefix}.{key}" if prefix else str(key), value)
    elif isinstance(figures, float):
        click.echo(f"{prefix:<60} {figures:,.3f}")
    else:
        click.echo(f"{prefix:<60} {figures}")


def _sizes(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    """The sizes as given (checked), or a usage error: one line, exit code 2."""
    if value is None:
        return None
    try:
        return ",".join(map(str, parse_sizes(value)))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("suites", nargs=-1, type=click.Choice(sorted(SUITES)))
@click.option("--json", "as_json", is_flag=True, help="Print all figures as one JSON object.")
@click.option("--quick", is_flag=True,
              help="Smaller sizes, for a smoke check (figures not comparable).")
@click.option("--assume-python", type=click.Path(exists=True, dir_okay=False),
              help="peers: the Python interpreter of an environment that has ASSUME 0.6.0.")
@click.option("--peer-sizes", callback=_sizes, metavar="N,N,...", envvar=SIZES_ENV,
              help="peers: units per side to compare with ASSUME (default 50,200).")
def bench(suites: tuple[str, ...], as_json: bool, quick: bool, assume_python: str | None,
          peer_sizes: str | None) -> None:
    """Run benchmark SUITES (all when none is named) and print their figures."""
    if assume_python:
        os.environ[ASSUME_ENV] = assume_python
    if peer_sizes:
        os.environ[SIZES_ENV] = peer_sizes
    chosen = suites or tuple(SUITES)
    results: dict[str, Any] = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
    }
    for name in chosen:
        if not as_json:
            click.echo(f"# {name}", err=True)
        results[name] = load_suite(name)(quick)
        if not as_json:
            _print_figures(name, results[name])
    if as_json:
        click.echo(json.dumps(results, indent=2, sort_keys=True))
