"""Finding a policy by built-in name or by import path (``mypackage.policies:MyPolicy``).

Why import paths: a researcher's policy lives in their own package; the
scenario names it and validation imports it, so a typo fails when the
scenario is loaded (one line, exit code 2) and not hours into a run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from gridcoop.agents.behaviour.errors import PolicyImportError
from gridcoop.agents.behaviour.protocols import Decision

Factory = Callable[..., Any]
_BUILTIN: dict[Decision, dict[str, str]] = {
    Decision.BIDDING: {
        "tariff_share": "gridcoop.agents.behaviour.bidding:TariffShareBidding",
        "adaptive": "gridcoop.agents.behaviour.bidding:AdaptiveBidding",
        "roth_erev": "gridcoop.agents.behaviour.learning.policies:RothErevBidding",
        "q_learning": "gridcoop.agents.behaviour.learning.policies:QLearningBidding",
    },
    Decision.EV: {
        "routine": "gridcoop.agents.behaviour.ev:RoutineEV",
        "incentive_response": "gridcoop.agents.behaviour.ev:IncentiveResponseEV",
    },
    Decision.DR: {
        "fixed": "gridcoop.agents.behaviour.dr:FixedOptOut",
        "incentive_response": "gridcoop.agents.behaviour.dr:IncentiveResponse",
    },
    Decision.LIGHTING: {
        "habit": "gridcoop.agents.behaviour.lighting:HabitLighting",
        "ranking_response": "gridcoop.agents.behaviour.lighting:RankingResponseLighting",
    },
    Decision.BATTERY: {
        "self_consumption": "gridcoop.agents.behaviour.battery:SelfConsumptionBattery",
        "price_aware": "gridcoop.agents.behaviour.battery:PriceAwareBattery",
    },
}


def register(decision: Decision, name: str, target: str) -> None:
    """Make ``name`` a built-in policy for ``decision`` (``target``: ``module:attr``)."""
    _BUILTIN[decision][name] = target


def builtin_names(decision: Decision) -> tuple[str, ...]:
    return tuple(sorted(_BUILTIN[decision]))


def load(decision: Decision, spec: str) -> Factory:
    """The class (or factory) ``spec`` names: a built-in name or ``package.module:Name``."""
    target = _BUILTIN[decision].get(spec, spec)
    if ":" not in target:
        raise PolicyImportError(
            f"{decision.value} policy {spec!r} is not built in "
            f"({', '.join(builtin_names(decision)) or 'none'}) and not an import path "
            "like mypackage.policies:MyPolicy")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PolicyImportError(f"{decision.value} policy {spec!r}: cannot import "
                                f"{module_name!r} ({exc})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise PolicyImportError(f"{decision.value} policy {spec!r}: {module_name!r} has no "
                                f"class or function {attr!r}")
    return factory  # type: ignore[no-any-return]


def make(decision: Decision, spec: str | Any, params: Mapping[str, Any] | None = None) -> Any:
    """A policy object: ``spec`` itself if it is already one, else built from its name."""
    if not isinstance(spec, str):
        return spec
    return load(decision, spec)(**dict(params or {}))
