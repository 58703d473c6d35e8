"""The scenario registry: every built-in kind listed once, with its schema and extensions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gridcoop.agents.mechanisms.campus.extension import FootprintExtension, LightingExtension
from gridcoop.agents.mechanisms.dr.community import DRExtension
from gridcoop.agents.mechanisms.ev.community import EVCommunityExtension
from gridcoop.agents.scenario.registry import KINDS, build_scenario, scenario_class
from gridcoop.agents.scenario.schema import ScenarioError

BUILTIN = ["neighbourhood", "market-only", "campus-microgrid", "ev-community",
           "ev-community-large", "dr-community", "dr-community-large", "campus-footprint",
           "campus-lighting"]


def test_every_builtin_kind_is_listed_with_the_schema_of_its_own_kind() -> None:
    assert list(KINDS) == BUILTIN
    for kind, entry in KINDS.items():
        assert entry.schema.model_fields["kind"].default == kind


def test_extensions_of_each_kind() -> None:
    assert {k: e.extensions for k, e in KINDS.items() if e.extensions} == {
        "ev-community": (EVCommunityExtension,), "ev-community-large": (EVCommunityExtension,),
        "dr-community": (DRExtension,), "dr-community-large": (DRExtension,),
        "campus-footprint": (FootprintExtension,), "campus-lighting": (LightingExtension,)}


def test_the_registry_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        KINDS["x"] = KINDS["neighbourhood"]  # type: ignore[index]


def test_a_kind_exists_whatever_was_imported_first() -> None:
    """In a fresh interpreter importing only the registry, the campus kinds are there."""
    code = ("from gridcoop.agents.scenario.registry import build_scenario\n"
            "print(build_scenario('campus-lighting', {'days': 1}).kind)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "campus-lighting"


def test_an_unknown_kind_names_the_closest() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario kind 'dr-comunity'; did you mean "
                                            "'dr-community'"):
        scenario_class("dr-comunity")
    with pytest.raises(ScenarioError, match="unknown parameter 'dayz'; did you mean 'days'"):
        build_scenario("neighbourhood", {"dayz": 1})
