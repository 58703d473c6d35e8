"""``gridcoop live CONFIG.yaml``: the community attached to real meters, paced to wall time."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from gridcoop.experiments.live.config import LiveConfigError, load_config
from gridcoop.experiments.live.journal import JournalError
from gridcoop.experiments.live.runner import LiveRunner, configure_logging
from gridcoop.hardware_bridge.errors import BridgeError


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--steps", type=click.IntRange(1), default=None,
              help="Stop after this many intervals (default: run until Ctrl-C or `days`).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the event log (silences, reboots, outages, resumes) here.")
@click.option("--check", is_flag=True, help="Validate the config and exit.")
@click.option("--viz", is_flag=True,
              help="Also serve the web page of the live community (needs community.model).")
@click.option("--host", default="127.0.0.1", show_default=True, help="--viz: address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="--viz: TCP port.")
def live(config: Path, steps: int | None, log_file: Path | None, check: bool, viz: bool,
         host: str, port: int) -> None:
    """Run the community live from CONFIG (YAML): meters in, commands out, a durable ledger.

    Stop with Ctrl-C (or SIGTERM); start again with the same CONFIG to resume from the ledger.
    With --viz the page (as `gridcoop viz` serves it) shows the live community instead of a
    simulated one; its Step/Play buttons fetch the newest interval.
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
        done = _serve(runner, steps, host, port) if viz else runner.run(max_steps=steps)
        status = runner.status()
    click.echo(f"stopped after {done} interval(s); next interval {status['next_step']}, "
               f"ledger height {status['height']}, head {status['head_hash'][:16]}")


def _serve(runner: LiveRunner, steps: int | None, host: str, port: int) -> int:
    """Step the runner in a thread while the page is served here; returns intervals done."""
    if runner.community is None:
        raise click.ClickException("--viz shows the community model: set community.model in "
                                   "the config")
    from gridcoop.experiments.live.page import PUBLISHER

    runner.community.publisher = PUBLISHER
    runner.community.publish()
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(runner.run(max_steps=steps)),
                              name="gridcoop-live", daemon=True)
    worker.start()
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    from solara.__main__ import run as solara_run

    app = Path(__file__).resolve().parents[1] / "live" / "page_app.py"
    click.echo(f"gridcoop live: page at http://{host}:{port}/", err=True)
    try:
        solara_run.main([str(app), "--host", host, "--port", str(port), "--production",
                         "--no-open", "--no-check-version"], prog_name="gridcoop live",
                        standalone_mode=False)
    finally:
        runner.stop()
        worker.join()
    return done[0] if done else 0
