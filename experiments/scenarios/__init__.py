"""Scenario files: the built-in YAML scenarios, loading by name or path, ``--set`` overrides.

The schema itself is ``gridcoop.agents.scenario.schema`` (the model validates its own
arguments with it); this package finds and reads the files::

    from gridcoop.experiments.scenarios import load_scenario
    kind, params = load_scenario("neighbourhood", ["households=1000", "signing=block"])
    model = CommunityModel(kind, **params)
"""

from gridcoop.agents.scenario.schema import KINDS, ScenarioError
from gridcoop.experiments.scenarios.loader import (
    BUILTIN_DIR,
    builtin_scenarios,
    describe_parameters,
    load_scenario,
    parse_sets,
)

# Campus cases 1 and 3 are experiments over the model (gridcoop.agents.mechanisms.campus); they
# register their kinds from this side so that agents never names experiments.
KINDS.setdefault("campus-footprint", "gridcoop.agents.mechanisms.campus.scenario:CampusFootprint")
KINDS.setdefault("campus-lighting", "gridcoop.agents.mechanisms.campus.scenario:CampusLighting")

__all__ = [
    "BUILTIN_DIR",
    "KINDS",
    "ScenarioError",
    "builtin_scenarios",
    "describe_parameters",
    "load_scenario",
    "parse_sets",
]
