"""``gridcoop live CONFIG.yaml``: the community attached to real meters, paced to wall time."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from experiments.live.config import LiveConfigError, load_config
from experiments.live.journal import JournalError
from experiments.live.runner import LiveRunner, configure_logging
from hardware_bridge.errors import BridgeError


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--steps", type=click.IntRange(1), default=None,
              help="Stop after this many intervals (default: run until Ctrl-C or `days`).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the event log (silences, reboots, outages, resumes) here.")
@click.option("--check", is_flag=True, help="Validate the config and exit.")
def live(config: Path, steps: int | None, log_file: Path | None, check: bool) -> None:
    """Run the community live from CONFIG (YAML): meters in, commands out, a durable ledger.

    Stop with Ctrl-C (or SIGTERM); start again with the same CONFIG to resume from the ledger.
    """
    try:
        settings = load_config(config)
    except LiveConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if check:
        click.echo(f"{config}: valid ({len(settings.community.meters)} real meters, "
                   f"{settings.community.simulated_meters} simulated)")
        return
    configure_logging(log_file)
    try:
        runner = LiveRunner(settings)
    except (LiveConfigError, JournalError, BridgeError) as exc:
        raise click.ClickException(str(exc)) from exc

    def _stop(signum: int, frame: FrameType | None) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with runner:
        done = runner.run(max_steps=steps)
        status = runner.status()
    click.echo(f"stopped after {done} interval(s); next interval {status['next_step']}, "
               f"ledger height {status['height']}, head {status['head_hash'][:16]}")
