"""``gridcoop scenarios``: list the built-in scenarios and their parameters."""

from __future__ import annotations

import click

from gridcoop.agents.scenario.schema import ScenarioError


@click.command()
@click.argument("name", required=False)
@click.option("--all", "show_all", is_flag=True,
              help="Show every parameter with its default, not only those the file sets.")
def scenarios(name: str | None, show_all: bool) -> None:
    """List built-in scenarios, or show every parameter of NAME (a name or YAML file)
    with its value, unit and meaning."""
    from gridcoop.experiments.scenarios import builtin_scenarios, describe_parameters, load_scenario
    from gridcoop.experiments.scenarios.parameters import describe_line

    chosen = [name] if name else list(builtin_scenarios())
    for item in chosen:
        try:
            kind, params = load_scenario(item)
        except ScenarioError as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(f"{params.get('name', item)}  (kind: {kind})")
        if params.get("description"):
            click.echo(f"    {params['description']}")
        effective = describe_parameters(kind, params)
        shown = effective if (show_all or name) else {
            k: v for k, v in effective.items()
            if k.split(".")[0] in params and k not in ("name", "description", "base_dir")}
        for key, value in shown.items():
            if key in ("name", "description", "kind"):
                continue
            click.echo(f"    {describe_line(key, value)}")
        click.echo("")
    if not name:
        click.echo("Run one: gridcoop run NAME [--days N] [--seed S] [--out DIR] "
                   "[--set name=value ...]; see all parameters: gridcoop scenarios NAME")
