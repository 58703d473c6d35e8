"""The ``gridcoop`` command line.

Each subcommand lives in its own module under ``gridcoop.experiments.commands`` and is
registered here by name; see ``LazyGroup`` for why they load lazily.
"""

from __future__ import annotations

import click

from gridcoop.experiments.lazy_group import LazyGroup

SUBCOMMANDS: dict[str, str] = {
    "bench": "gridcoop.experiments.commands.bench:bench",
    "run": "gridcoop.experiments.commands.run:run",
    "scenarios": "gridcoop.experiments.commands.scenarios:scenarios",
    "ledger": "gridcoop.experiments.commands.ledger:ledger",
    "viz": "gridcoop.experiments.commands.viz:viz",
    "devices": "gridcoop.experiments.commands.devices:devices",
    "openadr": "gridcoop.experiments.commands.openadr:openadr",
    "batch": "gridcoop.experiments.commands.batch:batch",
    "live": "gridcoop.experiments.commands.live:live",
    "worker": "gridcoop.experiments.commands.worker:worker",
    "research": "gridcoop.experiments.commands.research:research",
    "reproduce": "gridcoop.experiments.commands.reproduce:reproduce",
}


@click.group(cls=LazyGroup, lazy_subcommands=SUBCOMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gridcoop")
def main() -> None:
    """gridcoop: local energy communities (agents, market, ledger, meters)."""


if __name__ == "__main__":
    main()
