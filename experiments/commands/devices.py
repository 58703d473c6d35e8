"""``gridcoop devices``: simulated LoRaWAN meters, device registries, radio budget, firmware."""

from __future__ import annotations

import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import click

from gridcoop.hardware_bridge.airtime import budget_table
from gridcoop.hardware_bridge.device_simulator import DEMO_MASTER_KEY, DeviceSimulator
from gridcoop.hardware_bridge.errors import BridgeError, ConfigError
from gridcoop.hardware_bridge.registry import DeviceRegistry
from gridcoop.hardware_bridge.secret_files import MASTER_KEY_ENV, master_key


def _master_key(argv_key: str | None, path: Path | None) -> bytes:
    """The fleet's master key from a 0600 file or ``$GRIDCOOP_MASTER_KEY``, else the demo key."""
    if argv_key is not None:
        raise click.UsageError(
            "--master-key is not accepted: the command line is visible to every user. "
            f"Put the key (hex) in a file readable only by you (--master-key-file) or in "
            f"${MASTER_KEY_ENV}"
        )
    try:
        key = master_key(path)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    return DEMO_MASTER_KEY if key is None else key


def _master_key_options(fn: Callable[..., None]) -> Callable[..., None]:
    fn = click.option(
        "--master-key-file",
        default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"File (mode 0600) holding the hex master key devices derive theirs from; "
        f"else ${MASTER_KEY_ENV}; else the public demo key (simulation only).",
    )(fn)
    return click.option("--master-key", default=None, hidden=True)(fn)


@click.group()
def devices() -> None:
    """Meters and appliances: simulate a fleet, write its registry, check the radio budget."""


@devices.command()
@click.option(
    "--server",
    type=click.Choice(["chirpstack", "ttn"]),
    required=True,
    help="Which network server's MQTT format to speak.",
)
@click.option("--broker", default="127.0.0.1:1883", show_default=True, help="MQTT HOST:PORT.")
@click.option("--meters", default=10, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option(
    "--interval-s",
    default=900,
    show_default=True,
    type=click.IntRange(60),
    help="Metering interval of each device (whole minutes).",
)
@click.option(
    "--dr",
    default=0,
    show_default=True,
    type=click.IntRange(0, 7),
    help="EU868 data rate of the devices (DR0 = SF12 ... DR5 = SF7); the interval must keep "
    "each device within the 1 % duty cycle at this rate.",
)
@click.option(
    "--speedup",
    default=1.0,
    show_default=True,
    type=float,
    help="Virtual seconds per wall second (450: a 15-min round every 2 s; 0: as fast as possible).",
)
@click.option(
    "--rounds",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Rounds to publish; 0 runs until Ctrl-C.",
)
@click.option("--seed", default=0, show_default=True, type=int)
@_master_key_options
@click.option(
    "--app-id",
    default="gridcoop",
    show_default=True,
    help="ChirpStack application id or TTN application id.",
)
@click.option("--tenant", default="ttn", show_default=True, help="TTN tenant ('' for TTS OS).")
@click.option(
    "--qos",
    default=1,
    show_default=True,
    type=click.IntRange(0, 1),
    help="ChirpStack QoS (TTN is always 0).",
)
@click.option(
    "--start",
    "start_s",
    default=None,
    type=float,
    help="Virtual start time, Unix seconds (default: now, on the interval grid).",
)
@click.option(
    "--export-every",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Every k-th meter measures a PV roof (export).",
)
@click.option(
    "--registry-out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the devices and their keys here, for the bridge.",
)
def simulate(
    server: str,
    broker: str,
    meters: int,
    interval_s: int,
    dr: int,
    speedup: float,
    rounds: int,
    seed: int,
    master_key: str | None,
    master_key_file: Path | None,
    app_id: str,
    tenant: str,
    qos: int,
    start_s: float | None,
    export_every: int,
    registry_out: Path | None,
) -> None:
    """Publish realistic uplinks from simulated households and answer downlinks."""
    fleet_key = _master_key(master_key, master_key_file)
    if interval_s % 60:
        raise click.BadParameter("must be a whole number of minutes", param_hint="--interval-s")
    try:
        sim = DeviceSimulator(
            server,
            broker=broker,
            meters=meters,
            interval_s=interval_s,
            dr=dr,
            seed=seed,
            master_key=fleet_key,
            application_id=app_id,
            tenant=tenant,
            qos=qos,
            start_s=start_s,
            export_every=export_every,
        )
        if registry_out is not None:
            sim.registry.dump(registry_out)
            click.echo(f"registry of {meters} devices written to {registry_out}", err=True)
        sim.start()
    except BridgeError as exc:
        raise click.ClickException(str(exc)) from exc
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(
        f"{meters} {server} devices on {broker}, one round per "
        f"{interval_s / speedup if speedup > 0 else 0:g} s; Ctrl-C stops",
        err=True,
    )
    try:
        done = 0
        while not stop.is_set() and (rounds == 0 or done < rounds):
            sim.run(1, speedup=speedup if speedup > 0 else float("inf"), stop=stop)
            done += 1
            click.echo(
                f"round {done}: {sim.published} messages published, "
                f"{sim.commands_handled} commands answered",
                err=True,
            )
        sim.handle_downlinks()
    finally:
        signal.signal(signal.SIGINT, previous)
        sim.close()


@devices.command()
@click.option("--meters", default=10, show_default=True, type=click.IntRange(1, 16_777_214))
@_master_key_options
@click.option("--interval-s", default=900, show_default=True, type=click.IntRange(60))
@click.option("--dr", default=0, show_default=True, type=click.IntRange(0, 7))
@click.option("--export-every", default=0, show_default=True, type=click.IntRange(0))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML or JSON file (by extension). It holds keys: keep it private.",
)
def registry(
    meters: int,
    master_key: str | None,
    master_key_file: Path | None,
    interval_s: int,
    dr: int,
    export_every: int,
    out: Path,
) -> None:
    """Write the registry (devEUI, key, TTN id) of a simulated fleet for the bridge (0600)."""
    fleet_key = _master_key(master_key, master_key_file)
    try:
        fleet = DeviceRegistry.simulated(
            meters, fleet_key, interval_s=interval_s, dr=dr, export_every=export_every
        )
        fleet.dump(out)
    except BridgeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(fleet)} devices written to {out}")


@devices.command()
@click.option("--bytes", "app_bytes", default=20, show_default=True, type=click.IntRange(1, 242))
@click.option("--interval-s", default=900, show_default=True, type=click.IntRange(1))
def airtime(app_bytes: int, interval_s: int) -> None:
    """Time on air and duty cycle of one frame per interval at each EU868 data rate."""
    click.echo(f"{app_bytes} B every {interval_s} s (ETSI 1 %, TTN fair use 30 s/day)")
    click.echo(f"{'DR':>3} {'SF':>3} {'ms':>8} {'s/day':>8} {'duty %':>8}  fits  ETSI  TTN")
    for row in budget_table(app_bytes, interval_s):
        click.echo(
            f"{row['dr']:>3} {row['sf'] or 'FSK':>3} {row['airtime_ms']:>8} "
            f"{row['airtime_s_per_day']:>8} {row['duty_cycle_pct']:>8}  "
            f"{'yes' if row['fits'] else 'no':>4}  {'ok' if row['etsi_ok'] else 'NO':>4}  "
            f"{'ok' if row['ttn_fair_use_ok'] else 'NO':>3}"
        )


@devices.command()
@click.option(
    "--build-dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to build (default: a temporary directory).",
)
def firmware(build_dir: Path | None) -> None:
    """Compile the meter firmware for an Arduino Uno and print its flash and RAM use."""
    from gridcoop.hardware_bridge.firmware_build import UNO_FLASH_BYTES, UNO_RAM_BYTES, build_uno

    with tempfile.TemporaryDirectory(prefix="gridcoop-fw-") as tmp:
        try:
            size = build_uno(build_dir or Path(tmp))
        except BridgeError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"flash {size.flash_bytes} / {UNO_FLASH_BYTES} B, "
            f"static RAM {size.ram_bytes} / {UNO_RAM_BYTES} B"
        )
        if build_dir:
            click.echo(f"firmware: {size.elf.with_suffix('.hex')}")
