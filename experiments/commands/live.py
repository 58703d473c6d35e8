"""``gridcoop live CONFIG.yaml``: the community attached to real meters, paced to wall time."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from gridcoop.experiments.live.config import LiveConfig, LiveConfigError, load_config
from gridcoop.experiments.live.journal import JournalError
from gridcoop.experiments.live.preflight import preflight
from gridcoop.experiments.live.runner import LiveRunner, configure_logging
from gridcoop.hardware_bridge.errors import BridgeError

DEMO = "demo"


@click.command()
@click.argument("config", metavar="CONFIG.yaml | demo", type=click.Path(dir_okay=False,
                                                                        path_type=Path))
@click.option("--steps", type=click.IntRange(1), default=None,
              help="Stop after this many intervals (default: run until Ctrl-C or `days`).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the event log (silences, reboots, outages, resumes) here.")
@click.option("--check", is_flag=True,
              help="Check everything a start needs (files, keys, variables, brokers) and exit.")
@click.option("--viz", is_flag=True,
              help="Also serve the web page of the live community (needs community.model).")
@click.option("--host", default="127.0.0.1", show_default=True, help="--viz: address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="--viz: TCP port.")
@click.option("--dir", "demo_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("gridcoop-live-demo"), show_default=True,
              help="demo: the folder for its config, device registry, ledger and broker files.")
@click.option("--speedup", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="demo: live time runs this many times faster (60: a 5-minute interval "
                   "every 5 s).")
@click.option("--no-page", is_flag=True, help="demo: run without the web page.")
def live(config: Path, steps: int | None, log_file: Path | None, check: bool, viz: bool,
         host: str, port: int, demo_dir: Path, speedup: float, no_page: bool) -> None:
    """Run the community live from CONFIG (YAML): meters in, commands out, a durable ledger.

    Stop with Ctrl-C (or SIGTERM); start again with the same CONFIG to resume from the ledger.
    With --viz the page (as `gridcoop viz` serves it) shows the live community instead of a
    simulated one; its Step/Play buttons fetch the newest interval.

    `gridcoop live demo` starts a private Mosquitto broker on a free loopback port, the device
    simulator and a live community with its page, all writing into --dir; Ctrl-C stops them all.
    """
    if str(config) == DEMO and not config.exists():
        _demo(demo_dir, speedup, steps, log_file, not no_page, host, port)
        return
    if not config.is_file():
        raise click.UsageError(f"live config {config} does not exist (or try `gridcoop live "
                               "demo`)")
    settings = _load(config)
    if check:
        problems = preflight(settings, network=True)
        for problem in problems:
            click.echo(f"{config}: {problem}", err=True)
        if problems:
            sys.exit(1)
        click.echo(f"{config}: ready ({len(settings.community.meters)} real meters, "
                   f"{settings.community.simulated_meters} simulated; files, secrets and "
                   "brokers checked)")
        return
    _run(settings, steps, log_file, viz, host, port)


def _load(config: Path) -> LiveConfig:
    try:
        return load_config(config)
    except LiveConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _run(settings: LiveConfig, steps: int | None, log_file: Path | None, viz: bool, host: str,
         port: int) -> None:
    problems = preflight(settings, network=False)
    if problems:
        raise click.ClickException("; ".join(problems))
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


def _demo(workdir: Path, speedup: float, steps: int | None, log_file: Path | None,
          page: bool, host: str, port: int) -> None:
    from gridcoop.experiments.live.demo import running_demo
    from gridcoop.hardware_bridge.errors import TransportError

    try:
        with running_demo(workdir, speedup) as demo:
            click.echo(f"gridcoop live demo: broker {demo.broker.address}, "
                       f"{len(demo.simulator.devices)} simulated LoRaWAN meters, config "
                       f"{demo.config_path}; Ctrl-C stops everything", err=True)
            _run(_load(demo.config_path), steps, log_file, page, host, port)
    except TransportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"demo stopped; its files are in {workdir} (gridcoop ledger verify "
               f"{workdir / 'ledger.sqlite'})")


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
    from gridcoop.experiments.commands.viz import ensure_assets, quiet_solara

    ensure_assets()
    quiet_solara()
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
