"""``gridcoop worker``: host some regions of a run started elsewhere with ``gridcoop run``.

The market process (``gridcoop run SCENARIO --remote-workers N --listen 0.0.0.0:PORT
--curve-keys DIR``) waits for N workers; each one names the regions it hosts
and joins over ZeroMQ tcp with its CurveZMQ key pair (a worker whose key the
market does not list is refused).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--market", metavar="tcp://HOST:PORT", help="The market's --listen address.")
@click.option("--regions", metavar="R0,R1,...", help="The regions this worker hosts (r0, r1...).")
@click.option("--curve-keys", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with market.key and this worker's NAME.key_secret.")
@click.option("--name", default="worker-0", show_default=True,
              help="Which key pair in --curve-keys is this worker's.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=120.0,
              show_default=True, help="Seconds to wait for the market before giving up.")
@click.option("--make-keys", "make_keys_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Instead: write market and worker key pairs into this folder and exit.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --make-keys: how many worker key pairs.")
def worker(market: str | None, regions: str | None, curve_keys: Path | None, name: str,
           timeout_s: float, make_keys_dir: Path | None, workers: int) -> None:
    """Serve regions of a distributed run (see README, "One community across processes")."""
    from gridcoop.agents.bus.errors import CurveConfigError
    from gridcoop.agents.runtime.distributed import WorkerError, load_worker_keys, make_keys
    from gridcoop.agents.runtime.worker import serve

    if make_keys_dir is not None:
        for path in make_keys(make_keys_dir, workers):
            click.echo(path)
        return
    if not market or not regions:
        raise click.UsageError("give --market tcp://HOST:PORT and --regions r0,r1 (or --make-keys)")
    keys = market_key = None
    if curve_keys is not None:
        try:
            keys, market_key = load_worker_keys(curve_keys, name)
        except (OSError, ValueError, CurveConfigError) as exc:
            raise click.UsageError(f"cannot read the keys in {curve_keys}: {exc}") from None
    try:
        serve(market, [r.strip() for r in regions.split(",") if r.strip()], keys, market_key,
              timeout_s=timeout_s)
    except WorkerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"worker {name}: the run is over")
