"""The page's model controls, and the model class the page builds from them.

Mesa's SolaraViz rebuilds the model on Reset as ``ModelClass(**controls)``
with every control, whatever the scenario. :class:`PageCommunity` takes them
all and passes on only those the chosen scenario has (``households`` means
nothing to the campus), so any combination of controls builds a valid model.
The mix of household kinds is two sliders that always add up: a prosumer
share, and the share of EV owners among the others (the rest are DR
households).

``gridcoop viz --scenario S --set name=value`` chooses the scenario the page
starts with; a ``--set`` naming a control sets that control's first value,
any other ``--set`` is passed to every model the page builds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from gridcoop.agents.model.community import CommunityModel
from gridcoop.agents.scenario.registry import build_scenario, scenario_class
from gridcoop.agents.scenario.schema import ScenarioError, Signing, merge_params
from gridcoop.experiments.scenarios import builtin_scenarios, load_scenario, parse_sets
from gridcoop.market import mechanism_names

ENV_VAR = "GRIDCOOP_VIZ"
"""How ``gridcoop viz`` hands its options to the page module Solara imports."""

DIRECT = ("seed", "mechanism", "signing", "days", "households", "regions", "classrooms",
          "occupancy")
"""Controls that are scenario parameters of the same name."""

ONLY_FOR = {"households": "neighbourhood", "regions": "neighbourhood",
            "prosumer_share": "neighbourhood", "ev_share_of_rest": "neighbourhood",
            "classrooms": "campus-microgrid", "occupancy": "campus-microgrid"}
"""Controls of one scenario kind; the others (seed, price rule, signing, days) apply to all.
(``market-only`` keeps the regions of its file: its CSV traders were split for them.)"""


@dataclass(frozen=True)
class PageSettings:
    """What ``gridcoop viz`` was asked to show."""

    scenario: str = "neighbourhood"
    sets: tuple[str, ...] = ()

    def to_env(self) -> str:
        return json.dumps({"scenario": self.scenario, "sets": list(self.sets)})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PageSettings:
        raw = environ.get(ENV_VAR)
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(str(data["scenario"]), tuple(str(s) for s in data.get("sets", ())))


@dataclass(frozen=True)
class Control:
    """One input on the page: a Mesa user-parameter spec plus the value it starts at."""

    label: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def spec(self, value: Any) -> dict[str, Any]:
        return {"type": self.kind, "label": self.label, "value": value, **self.options}


CONTROLS: dict[str, Control] = {
    "scenario": Control("Scenario", "Select"),
    "seed": Control("Seed", "SliderInt", {"min": 0, "max": 999, "step": 1}),
    "mechanism": Control("Price rule", "Select", {"values": list(mechanism_names())}),
    "signing": Control("Signing policy", "Select", {"values": list(get_args(Signing))}),
    "days": Control("Days to simulate", "SliderInt", {"min": 1, "max": 92, "step": 1}),
    "households": Control("Households (neighbourhood)", "SliderInt",
                          {"min": 10, "max": 500, "step": 10}),
    "regions": Control("Aggregator regions (neighbourhood)", "SliderInt",
                       {"min": 1, "max": 10, "step": 1}),
    "prosumer_share": Control("Prosumer share (neighbourhood)", "SliderFloat",
                              {"min": 0.0, "max": 1.0, "step": 0.05}),
    "ev_share_of_rest": Control("EV owners among the others (neighbourhood)", "SliderFloat",
                                {"min": 0.0, "max": 1.0, "step": 0.05}),
    "classrooms": Control("Classrooms (campus)", "SliderInt", {"min": 2, "max": 24, "step": 1}),
    "occupancy": Control("Occupancy (campus)", "SliderFloat",
                         {"min": 0.0, "max": 1.0, "step": 0.05}),
}


def applies(name: str, kind: str) -> bool:
    """Whether the control ``name`` changes a model of ``kind`` (the page shows only those)."""
    if name in ("scenario", "seed", "mechanism", "signing", "days"):
        return True
    return ONLY_FOR.get(name, kind) == kind


def scenario_kind(scenario: str) -> str:
    """The kind of a built-in scenario or YAML file (``""`` when it cannot be read)."""
    try:
        return load_scenario(scenario)[0]
    except ScenarioError:
        return ""


def scenario_arguments(scenario: str, controls: Mapping[str, Any],
                       overrides: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """``(kind, params)`` for ``CommunityModel``: the scenario file, the controls that
    apply to its kind, then ``overrides``; validated (raises ``ScenarioError``)."""
    kind, params = load_scenario(scenario)
    fields = scenario_class(kind).model_fields
    chosen: dict[str, Any] = {name: controls[name] for name in DIRECT
                              if name in controls and name in fields
                              and ONLY_FOR.get(name, kind) == kind}
    if kind == "neighbourhood" and "prosumer_share" in controls:
        prosumer = float(controls["prosumer_share"])
        ev_share = float(controls.get("ev_share_of_rest", 0.5))
        chosen["mix"] = {"prosumer": prosumer, "ev_owner": (1 - prosumer) * ev_share,
                         "dr_household": (1 - prosumer) * (1 - ev_share)}
    if "regions" in chosen and "households" in fields:
        households = int(chosen.get("households", params.get("households", 1)))
        chosen["regions"] = min(int(chosen["regions"]), households)
    params = merge_params(merge_params(params, chosen), dict(overrides or {}))
    build_scenario(kind, params)
    return kind, params


def initial_controls(settings: PageSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """The controls' first values (the scenario's own, then ``--set``) and the fixed rest."""
    kind, params = load_scenario(settings.scenario, settings.sets)
    defaults = scenario_class(kind)().model_dump()
    merged = {**defaults, **params}
    mix = merged.get("mix") or {"prosumer": 0.4, "ev_owner": 0.2, "dr_household": 0.4}
    others = 1.0 - mix["prosumer"]
    values: dict[str, Any] = {
        "scenario": settings.scenario,
        "seed": merged.get("seed", 0), "mechanism": merged["mechanism"],
        "signing": merged["signing"], "days": merged["days"],
        "households": merged.get("households", 100), "regions": merged.get("regions", 4),
        "prosumer_share": mix["prosumer"],
        "ev_share_of_rest": mix["ev_owner"] / others if others > 0 else 0.5,
        "classrooms": merged.get("classrooms", 8), "occupancy": merged.get("occupancy", 0.6),
    }
    sets = parse_sets(settings.sets)
    fixed = {k: v for k, v in sets.items() if k not in CONTROLS and k != "mix"}
    return values, fixed


def page_model_params(settings: PageSettings) -> dict[str, Any]:
    """SolaraViz ``model_params``: every control as an input, plus the fixed overrides."""
    values, fixed = initial_controls(settings)
    scenarios = list(builtin_scenarios())
    if settings.scenario not in scenarios:
        scenarios.append(settings.scenario)
    params: dict[str, Any] = {}
    for name, control in CONTROLS.items():
        spec = control.spec(values[name])
        if name == "scenario":
            spec["values"] = scenarios
        params[name] = spec
    params["overrides"] = fixed
    return params


class PageCommunity(CommunityModel):
    """A ``CommunityModel`` built from the page's controls (see the module docstring)."""

    def __init__(self, scenario: str = "neighbourhood", *, seed: int = 0,
                 mechanism: str = "average_bid", signing: str = "block", days: int = 7,
                 households: int = 100, regions: int = 4, prosumer_share: float = 0.4,
                 ev_share_of_rest: float = 1 / 3, classrooms: int = 8, occupancy: float = 0.6,
                 overrides: Mapping[str, Any] | None = None) -> None:
        controls = {"seed": seed, "mechanism": mechanism, "signing": signing, "days": days,
                    "households": households, "regions": regions,
                    "prosumer_share": prosumer_share, "ev_share_of_rest": ev_share_of_rest,
                    "classrooms": classrooms, "occupancy": occupancy}
        kind, params = scenario_arguments(scenario, controls, overrides)
        self.page_scenario = scenario
        super().__init__(kind, **params)


def check_settings(settings: PageSettings) -> None:
    """Fail early (``ScenarioError``) if the page could not build its first model."""
    values, fixed = initial_controls(settings)
    scenario_arguments(settings.scenario, values, fixed)


__all__ = ["CONTROLS", "PageCommunity", "PageSettings", "ScenarioError", "applies",
           "check_settings", "initial_controls", "page_model_params", "scenario_arguments",
           "scenario_kind"]
