"""Scenario files: the built-in YAML scenarios, loading by name or path, ``--set`` overrides.

The schema itself is ``gridcoop.agents.scenario.schema`` (the model validates its own
arguments with it); this package finds and reads the files::

    from gridcoop.experiments.scenarios import load_scenario
    kind, params = load_scenario("neighbourhood", ["households=1000", "signing=block"])
    model = CommunityModel(kind, **params)
"""

from gridcoop.agents.scenario.registry import KINDS
from gridcoop.agents.scenario.schema import ScenarioError
from gridcoop.experiments.scenarios.loader import (
    BUILTIN_DIR,
    builtin_scenarios,
    describe_parameters,
    load_scenario,
    parse_sets,
)

__all__ = [
    "BUILTIN_DIR",
    "KINDS",
    "ScenarioError",
    "builtin_scenarios",
    "describe_parameters",
    "load_scenario",
    "parse_sets",
]
