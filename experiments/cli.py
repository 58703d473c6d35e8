"""The ``gridcoop`` command line.

Each subcommand lives in its own module under ``experiments.commands`` and is
registered here by name; see ``LazyGroup`` for why they load lazily.
"""

from __future__ import annotations

import click

from experiments.lazy_group import LazyGroup

SUBCOMMANDS: dict[str, str] = {
    "bench": "experiments.commands.bench:bench",
    "run": "experiments.commands.run:run", "scenarios": "experiments.commands.scenarios:scenarios",
    "ledger": "experiments.commands.ledger:ledger",
    "viz": "experiments.commands.viz:viz",
    "devices": "experiments.commands.devices:devices",
    "batch": "experiments.commands.batch:batch",
    "live": "experiments.commands.live:live",
    "worker": "experiments.commands.worker:worker",
}


@click.group(cls=LazyGroup, lazy_subcommands=SUBCOMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gridcoop")
def main() -> None:
    """gridcoop: local energy communities (agents, market, ledger, meters)."""


if __name__ == "__main__":
    main()
