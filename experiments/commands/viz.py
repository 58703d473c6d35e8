"""``gridcoop viz``: serve the interactive page (Mesa SolaraViz + gridcoop panels)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

APP = Path(__file__).resolve().parents[1] / "viz" / "app.py"


def ensure_assets() -> None:
    """Fetch the page's front-end assets into Solara's cache if any is missing; stop with a
    clear message (not a blank page) when they cannot be fetched."""
    from gridcoop.experiments.viz import assets

    cache = assets.default_cache_dir()
    missing = assets.missing_packages(cache, assets.SOLARA_PAGE_PACKAGES)
    if not missing:
        return
    click.echo("gridcoop viz: preparing the page's front-end assets once ("
               + ", ".join(p.spec for p in missing) + f") into {cache}", err=True)
    if assets.run_cli(None, [], None, None, force=False, check=False) != 0:
        raise click.ClickException(
            "the page's front-end assets are missing and could not be fetched from the npm "
            f"registry into {cache}; without them the browser shows a blank page. Run "
            "`gridcoop viz --prepare-assets` on a machine that reaches the registry (or set "
            "npm's registry), or see docs/guides/viz.md")


def quiet_solara() -> None:
    """No phone-home calls (an offline campus server must not wait on them), and no
    "runs on Solara" banner over the page's tables."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    import solara.server.settings

    solara.server.settings.theme.show_banner = False


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
    quiet_solara()  # before anything imports Solara: it reads its settings on import
    from gridcoop.experiments.viz import assets

    if prepare_assets:
        sys.exit(assets.run_cli(None, [], None, None, force=False, check=False))

    from gridcoop.experiments.viz.controls import PageSettings, ScenarioError, check_settings

    settings = PageSettings(scenario, sets)
    try:
        check_settings(settings)
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario/--set") from None
    ensure_assets()
    os.environ["GRIDCOOP_VIZ"] = settings.to_env()
    quiet_solara()
    from solara.__main__ import run as solara_run

    click.echo(f"gridcoop viz: serving {scenario} at http://{host}:{port}/", err=True)
    solara_run.main([str(APP), "--host", host, "--port", str(port), "--production",
                     "--no-open", "--no-check-version"], prog_name="gridcoop viz")
