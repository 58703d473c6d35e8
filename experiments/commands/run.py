"""``gridcoop run SCENARIO``: run one scenario and write its KPIs, ledger and tables.

Writes ``DIR/summary.json`` (the KPIs only: two runs with the same seed give
identical files), ``DIR/ledger.sqlite`` (verify it with ``gridcoop ledger
verify``) and the tables as CSV: ``trades.csv``, ``timeseries.csv``,
``bills.csv`` and, for ``campus-microgrid``, ``transfers.csv`` (classroom x
classroom kWh).

With ``--processes N`` or ``--remote-workers N`` the model is composed with
worker-hosted regions (``gridcoop.agents.runtime.regions.WorkerRegions``); every
scenario kind runs so, community mechanisms included, and the files are the
same byte for byte as in one process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gridcoop.agents.behaviour.errors import PolicyError
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.ledger.errors import StorageError


def write_outputs(model: Any, summary: dict[str, Any], out: Path) -> list[Path]:
    """Write summary.json and the tables; returns the files written."""
    from gridcoop.agents.model.outputs import tables

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.json"]
    written[0].write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for stem, frame in tables(model).items():
        path = out / f"{stem}.csv"
        frame.to_csv(path, index=stem == "transfers")
        written.append(path)
    for extension in getattr(model, "extensions", ()):
        written.extend(extension.write_files(out))
    return written


def _fresh_ledger(out: Path) -> Path:
    path = out / "ledger.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


@click.command()
@click.argument("scenario")
@click.option("--days", type=click.IntRange(min=1),
              help="Simulated days (default: the scenario's).")
@click.option("--seed", type=int, help="Seed of every random stream (default: the scenario's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: out/SCENARIO).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a scenario parameter, e.g. --set households=1000 --set "
                   "mix.prosumer=0.5 (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--processes", type=click.IntRange(min=0), default=0,
              help="Run the regions' meters, members and local books (and their physics, "
                   "for kinds without community mechanisms) in N local worker processes over "
                   "ZeroMQ tcp (same KPIs and ledger head hash as one process).")
@click.option("--remote-workers", type=click.IntRange(min=0), default=0,
              help="Also wait for N workers started elsewhere with `gridcoop worker`.")
@click.option("--listen", default="127.0.0.1:0", show_default=True, metavar="HOST:PORT",
              help="Where workers reach this market (0.0.0.0:5555 for other machines).")
@click.option("--curve-keys", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder with market.key_secret and the authorised worker-*.key files "
                   "(`gridcoop worker --make-keys DIR`); required with --remote-workers.")
@click.option("--dask", metavar="ADDRESS",
              help="Start the --processes region workers on this Dask cluster (a scheduler "
                   "address, or 'local'); the market must be reachable at --listen from there.")
def run(scenario: str, days: int | None, seed: int | None, out_dir: Path | None,
        sets: tuple[str, ...], quiet: bool, processes: int, remote_workers: int, listen: str,
        curve_keys: Path | None, dask: str | None) -> None:
    """Run SCENARIO (a built-in name, see `gridcoop scenarios`, or a YAML file)."""
    if dask is not None and not processes:
        raise click.UsageError("--dask places the --processes workers: give --processes N")
    from tqdm import tqdm

    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.experiments.scenarios import load_scenario

    try:
        kind, params = load_scenario(scenario, sets, days=days, seed=seed)
    except ScenarioError as exc:
        raise click.UsageError(str(exc)) from None
    out = out_dir if out_dir is not None else Path("out") / Path(scenario).stem
    try:
        out.mkdir(parents=True, exist_ok=True)
        if processes or remote_workers:
            from gridcoop.agents.runtime.distributed import DistributedModel

            click.echo(f"waiting for {processes + remote_workers} worker(s) at {listen}",
                       err=True)
            model = DistributedModel(kind, ledger_path=str(_fresh_ledger(out)),
                                     processes=processes, remote=remote_workers, listen=listen,
                                     curve_dir=curve_keys, dask=dask, **params)
        else:
            model = CommunityModel(kind, ledger_path=str(_fresh_ledger(out)), **params)
    except (ScenarioError, ValueError, StorageError, OSError) as exc:  # OSError: read-only out
        raise click.UsageError(str(exc)) from None
    try:
        with tqdm(total=model.clock.total_steps, unit="step", disable=quiet,
                  desc=f"{params.get('name', kind)} ({model.clock.days} d)") as bar:
            summary = model.run(progress=bar.update)
        written = write_outputs(model, summary, out)
    except PolicyError as exc:  # a member policy's bad actions: nothing of that step recorded
        raise click.UsageError(str(exc)) from None
    except (StorageError, OSError) as exc:  # a full disk: the ledger keeps every sealed block
        raise click.ClickException(str(exc)) from None
    finally:
        model.close()
    _print_summary(summary, out, written)


def _print_summary(summary: dict[str, Any], out: Path, written: list[Path]) -> None:
    def euro(value: Any) -> str:
        return "-" if value is None else f"{value:.4f}"

    click.echo(f"{summary['scenario']}: {summary['members']} members, {summary['days']} days, "
               f"seed {summary['seed']}, {summary['mechanism']}")
    click.echo(f"  self-sufficiency {summary['self_sufficiency']:.1%}, self-consumption "
               f"{summary['self_consumption']:.1%}, traded locally "
               f"{summary['share_traded_locally']:.1%} ({summary['local_traded_kwh']:.1f} kWh "
               f"in {summary['trades']} trades)")
    click.echo(f"  mean local price {euro(summary['mean_local_price_eur_per_kwh'])} EUR/kWh "
               f"(retail {euro(summary['mean_retail_price_eur_per_kwh'])}, feed-in "
               f"{euro(summary['feed_in_price_eur_per_kwh'])}); peak grid import "
               f"{summary['peak_grid_import_kw']:.1f} kW")
    click.echo(f"  bills {summary['bills_eur_total']:.2f} EUR vs grid-only "
               f"{summary['baseline_bills_eur_total']:.2f} EUR; {summary['members_saving']} "
               f"members save; tokens minted {summary['tokens_minted']}")
    click.echo(f"  ledger: {summary['ledger_height'] + 1} blocks, head "
               f"{summary['ledger_head_hash'][:16]}...")
    click.echo(f"wrote {', '.join(p.name for p in written)} and ledger.sqlite to {out}")
