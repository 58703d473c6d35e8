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
import signal
import sys
from pathlib import Path
from typing import Any

import click

from gridcoop.agents.behaviour.errors import PolicyError
from gridcoop.agents.bus.errors import OversizedMessageError, SocketLimitError
from gridcoop.agents.bus.messages import MAX_MESSAGE_BYTES
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.ledger.errors import StorageError

MIB = 1024 * 1024
MAX_MESSAGE_MIB = 65_536
"""The largest --max-message-mib (64 GiB): beyond any machine's memory for one message."""


def write_outputs(model: Any, summary: dict[str, Any], out: Path) -> list[Path]:
    """Write summary.json and the tables; returns the files written."""
    from gridcoop.agents.model.outputs import write_tables

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.json"]
    written[0].write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.extend(write_tables(model, out))
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
@click.option("--max-message-mib", type=click.IntRange(min=1, max=MAX_MESSAGE_MIB),
              default=MAX_MESSAGE_BYTES // MIB, show_default=True,
              help="Largest bus message in MiB (a daily ledger block is one; larger ones "
                   "travel in parts of 1 MiB up to this size). Every process of the run "
                   "uses it.")
def run(scenario: str, days: int | None, seed: int | None, out_dir: Path | None,
        sets: tuple[str, ...], quiet: bool, processes: int, remote_workers: int, listen: str,
        curve_keys: Path | None, dask: str | None, max_message_mib: int) -> None:
    """Run SCENARIO (a built-in name, see `gridcoop scenarios`, or a YAML file)."""
    if dask is not None and not processes:
        raise click.UsageError("--dask places the --processes workers: give --processes N")
    from tqdm import tqdm

    from gridcoop.agents.model.community import CommunityModel
    from gridcoop.experiments.scenarios import load_scenario
    from gridcoop.experiments.scenarios.summary import summary_lines

    try:
        kind, params = load_scenario(scenario, sets, days=days, seed=seed)
    except ScenarioError as exc:
        raise click.UsageError(str(exc)) from None
    name = str(params.get("name") or Path(scenario).stem)
    out = out_dir if out_dir is not None else Path("out") / name
    make_out_dir(out)
    max_message_bytes = max_message_mib * MIB
    try:
        if processes or remote_workers:
            from gridcoop.agents.runtime.distributed import DistributedModel

            click.echo(f"waiting for {processes + remote_workers} worker(s) at {listen}",
                       err=True)
            model = DistributedModel(kind, ledger_path=str(_fresh_ledger(out)),
                                     processes=processes, remote=remote_workers, listen=listen,
                                     curve_dir=curve_keys, dask=dask,
                                     max_message_bytes=max_message_bytes, **params)
        else:
            from gridcoop.agents.model.regions import InProcessRegions

            model = CommunityModel(kind, ledger_path=str(_fresh_ledger(out)),
                                   region_host=InProcessRegions(max_message_bytes), **params)
    except (ScenarioError, ValueError, StorageError, OSError) as exc:  # OSError: read-only out
        raise click.UsageError(str(exc)) from None
    except SocketLimitError as exc:  # too many regions for this process's open-file limit
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("interrupted before the first step; no results written", err=True)
        sys.exit(INTERRUPTED_EXIT)
    try:
        with tqdm(total=model.clock.total_steps, unit="step", disable=quiet,
                  desc=f"{name} ({model.clock.days} d)") as bar, StopAtStepBoundary() as stop:
            while model.running and not stop.requested:
                model.step()
                bar.update(1)
        interrupted = stop.requested and model.running
        summary = partial_summary(model) if interrupted else model.summary()
        summary["name"] = name
        written = write_outputs(model, summary, out)
    except PolicyError as exc:  # a member policy's bad actions: nothing of that step recorded
        raise click.UsageError(str(exc)) from None
    except (StorageError, OSError) as exc:  # a full disk: the ledger keeps every sealed block
        raise click.ClickException(str(exc)) from None
    except OversizedMessageError as exc:  # the sealed blocks are kept
        raise click.ClickException(f"{exc} (here: --max-message-mib)") from None
    except SocketLimitError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        model.close()
    for line in summary_lines(summary):
        click.echo(line)
    click.echo(f"wrote {', '.join(p.name for p in written)} and ledger.sqlite to {out}")
    if interrupted:
        click.echo("interrupted: the files above hold the steps done so far and say "
                   "\"partial\": true", err=True)
        sys.exit(INTERRUPTED_EXIT)


INTERRUPTED_EXIT = 130
"""The shell's status for a process ended by Ctrl-C (128 + SIGINT)."""


class StopAtStepBoundary:
    """While active, Ctrl-C asks the run to stop after the current step instead of
    raising inside it (a block half-written to SQLite, a settlement half-done).

    A second Ctrl-C restores Python's default and interrupts at once.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _ask(self, signum: int, frame: Any) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)
        click.echo("\nstopping after this step (Ctrl-C again to stop at once)", err=True)

    def __enter__(self) -> StopAtStepBoundary:
        self._previous = signal.signal(signal.SIGINT, self._ask)
        return self

    def __exit__(self, *exc: object) -> None:
        if signal.getsignal(signal.SIGINT) == self._ask:
            signal.signal(signal.SIGINT, self._previous)


def make_out_dir(out: Path) -> None:
    """Create the output folder or stop with one line (exit 2) saying why it cannot be."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise click.UsageError(f"--out {out}: cannot create this folder ({reason})") from None


def partial_summary(model: Any) -> dict[str, Any]:
    """The KPIs of the steps done before Ctrl-C, marked partial.

    Every block the ledger sealed so far is whole (blocks are written in one
    SQLite transaction), so the ledger verifies; the summary says how far the
    run got instead of passing for a finished one.
    """
    summary: dict[str, Any] = model.summary()
    summary.update(partial=True, steps_done=int(model.steps),
                   steps_total=int(model.clock.total_steps))
    return summary
