"""Every built-in scenario kind: its schema class and the mechanisms it plugs into the model.

Why one explicit table: a kind exists because it is listed here, not because
some module happened to be imported first, and the table is the only place that
names both the schemas (``schema`` and the mechanisms' ``scenario`` modules)
and the extensions that run them, so neither has to import the other.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from gridcoop.agents.mechanisms.campus.extension import FootprintExtension, LightingExtension
from gridcoop.agents.mechanisms.campus.scenario import CampusFootprint, CampusLighting
from gridcoop.agents.mechanisms.dr.community import DRExtension
from gridcoop.agents.mechanisms.dr.scenario import DRCommunity, DRCommunityLarge
from gridcoop.agents.mechanisms.ev.community import EVCommunityExtension
from gridcoop.agents.mechanisms.ev.scenario import EVCommunity, EVCommunityLarge
from gridcoop.agents.model.extensions import CommunityExtension
from gridcoop.agents.scenario.schema import (
    CampusMicrogrid,
    MarketOnly,
    Neighbourhood,
    Scenario,
    ScenarioBase,
    ScenarioError,
    validate_params,
)

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel


@dataclass(frozen=True, slots=True)
class Kind:
    """A scenario kind: the schema of its parameters and the extensions its runs need."""

    schema: type[ScenarioBase]
    extensions: tuple[type[CommunityExtension], ...] = ()


KINDS: Final[Mapping[str, Kind]] = MappingProxyType({
    "neighbourhood": Kind(Neighbourhood),
    "market-only": Kind(MarketOnly),
    "campus-microgrid": Kind(CampusMicrogrid),
    "ev-community": Kind(EVCommunity, (EVCommunityExtension,)),
    "ev-community-large": Kind(EVCommunityLarge, (EVCommunityExtension,)),
    "dr-community": Kind(DRCommunity, (DRExtension,)),
    "dr-community-large": Kind(DRCommunityLarge, (DRExtension,)),
    "campus-footprint": Kind(CampusFootprint, (FootprintExtension,)),
    "campus-lighting": Kind(CampusLighting, (LightingExtension,)),
})


def kind_entry(kind: str) -> Kind:
    """The registry's entry for ``kind``, or a ScenarioError suggesting the closest kind."""
    entry = KINDS.get(kind)
    if entry is None:
        close = difflib.get_close_matches(kind, list(KINDS), n=1, cutoff=0.4)
        hint = f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(KINDS)
        raise ScenarioError(f"unknown scenario kind '{kind}'; {hint}")
    return entry


def scenario_class(kind: str) -> type[ScenarioBase]:
    """The schema class of scenario ``kind``."""
    return kind_entry(kind).schema


def build_scenario(kind: str, params: dict[str, Any] | None = None) -> Scenario:
    """Validate ``params`` for scenario ``kind`` (defaults fill the rest)."""
    return validate_params(scenario_class(kind), kind, params or {})


def extensions_for(scenario: Scenario, model: CommunityModel) -> list[CommunityExtension]:
    """The community mechanisms ``scenario``'s kind plugs into ``model`` (often none)."""
    return [extension(model) for extension in kind_entry(scenario.kind).extensions]
