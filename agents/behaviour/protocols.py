"""Policy interfaces: one per decision, all of the same shape.

A policy is set up once for its group (``setup``), then asked to ``decide``
on each observation and returns actions of the decision's type; after the
outcome is known it gets ``feedback`` (learners update there; others ignore
it). A vectorised policy decides for the whole group at once; a per-agent one
(``gridcoop.agents.behaviour.mesa_way``) is wrapped into the same interface, so
the model has one code path for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import numpy as np

from gridcoop.agents.behaviour.actions import (
    BatteryActions,
    BidActions,
    DRActions,
    EVActions,
    LightingActions,
)
from gridcoop.agents.behaviour.observations import (
    BatteryObservation,
    BidFeedback,
    BidObservation,
    DRObservation,
    EVObservation,
    IntArray,
    LightingObservation,
)

Obs = TypeVar("Obs", contravariant=True)
Act = TypeVar("Act", covariant=True)
Fb = TypeVar("Fb", contravariant=True)


class Decision(StrEnum):
    """The decisions members make (the keys of a scenario's ``policies:`` section)."""

    BIDDING = "bidding"
    EV = "ev"
    DR = "dr"
    LIGHTING = "lighting"
    BATTERY = "battery"


@dataclass(frozen=True, slots=True)
class Group:
    """Whom a policy decides for, given once before the first decision.

    ``rng`` is the group's own seeded stream (all of a policy's randomness must
    come from it, so the same seed gives the same run); ``params`` are the
    scenario's parameters for the policy.
    """

    decision: Decision
    name: str
    member_ids: tuple[str, ...]
    nodes: IntArray
    rng: np.random.Generator
    params: Mapping[str, Any] = field(default_factory=dict)


class Policy(Protocol[Obs, Act, Fb]):
    """Decides ``Act`` from ``Obs`` for a group; may learn from ``Fb``."""

    name: str

    def setup(self, group: Group) -> None:
        """Called once with the group this policy decides for."""

    def decide(self, observation: Obs) -> Act:
        """The group's actions for one observation (rows in the observation's order)."""

    def feedback(self, outcome: Fb) -> None:
        """What the group's last actions led to (ignored by policies that do not learn)."""


BiddingPolicy = Policy[BidObservation, BidActions, BidFeedback]
EVPolicy = Policy[EVObservation, EVActions, None]
DRPolicy = Policy[DRObservation, DRActions, None]
LightingPolicy = Policy[LightingObservation, LightingActions, None]
BatteryPolicy = Policy[BatteryObservation, BatteryActions, None]


class PolicyBase:
    """Convenience base: keeps the group, ignores feedback. Subclasses write ``decide``."""

    name = "policy"

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.group: Group | None = None

    def setup(self, group: Group) -> None:
        self.group = group

    @property
    def rng(self) -> np.random.Generator:
        if self.group is None:
            raise RuntimeError(f"policy {self.name!r} used before setup()")
        return self.group.rng

    def feedback(self, outcome: Any) -> None:
        return None
