"""``gridcoop viz``: serve the interactive page (Mesa SolaraViz + gridcoop panels)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

APP = Path(__file__).resolve().parents[1] / "viz" / "app.py"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 to serve the campus network).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port.")
@click.option("--scenario", default="neighbourhood", show_default=True,
              help="Built-in scenario name or a YAML file the page starts with.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a scenario parameter (repeatable), e.g. --set households=50.")
@click.option("--prepare-assets", is_flag=True,
              help="Fill Solara's offline asset cache from the npm registry, then exit.")
def viz(host: str, port: int, scenario: str, sets: tuple[str, ...],
        prepare_assets: bool) -> None:
    """Serve the web page: the community, flows, prices, ledger, rankings; step, play, reset."""
    from gridcoop.experiments.viz import assets

    if prepare_assets:
        sys.exit(assets.run_cli(None, [], None, None, force=False, check=False))

    from gridcoop.experiments.viz.controls import PageSettings, ScenarioError, check_settings

    settings = PageSettings(scenario, sets)
    try:
        check_settings(settings)
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario/--set") from None
    missing = assets.missing_packages(assets.default_cache_dir(), assets.SOLARA_PAGE_PACKAGES)
    if missing:
        click.echo("warning: the page's front-end assets are not cached ("
                   + ", ".join(p.spec for p in missing) + "); with no internet the page "
                   "stays blank. Run `gridcoop viz --prepare-assets` once.", err=True)
    os.environ["GRIDCOOP_VIZ"] = settings.to_env()
    # An offline campus server must not wait on Solara's phone-home calls.
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    from solara.__main__ import run as solara_run

    click.echo(f"gridcoop viz: serving {scenario} at http://{host}:{port}/", err=True)
    solara_run.main([str(APP), "--host", host, "--port", str(port), "--production",
                     "--no-open", "--no-check-version"], prog_name="gridcoop viz")
