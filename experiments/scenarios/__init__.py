"""Scenario files: the built-in YAML scenarios, loading by name or path, ``--set`` overrides.

The schema itself is ``agents.scenario`` (the model validates its own
arguments with it); this package finds and reads the files::

    from experiments.scenarios import load_scenario
    kind, params = load_scenario("neighbourhood", ["households=1000", "signing=block"])
    model = CommunityModel(kind, **params)
"""

from agents.scenario import KINDS, ScenarioError
from experiments.scenarios.loader import (
    BUILTIN_DIR,
    builtin_scenarios,
    describe_parameters,
    load_scenario,
    parse_sets,
)

# Campus cases 1 and 3 are experiments over the model (experiments.campus); they
# register their kinds from this side so that agents never names experiments.
KINDS.setdefault("campus-footprint", "experiments.campus.scenario:CampusFootprint")
KINDS.setdefault("campus-lighting", "experiments.campus.scenario:CampusLighting")

__all__ = [
    "BUILTIN_DIR",
    "KINDS",
    "ScenarioError",
    "builtin_scenarios",
    "describe_parameters",
    "load_scenario",
    "parse_sets",
]
