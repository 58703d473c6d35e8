"""The behaviour layer: what members decide, through policies (docs/guides/behaviour.md).

Each decision (bidding, EV commitments, DR opt-outs, classroom lights,
batteries) has an observation type, an action type and a policy interface
(``Policy[Obs, Act, Feedback]``). Built-in policies are vectorised over a
group of members; a Mesa member subclass with ``step()`` is the per-agent way
(``mesa_way``). Every action is validated before it is used
(``validate``); policies are found by name or import path (``resolve``).
"""

from gridcoop.agents.behaviour.actions import (
    BatteryActions,
    BidActions,
    DRActions,
    EVActions,
    LightingActions,
)
from gridcoop.agents.behaviour.errors import ActionError, PolicyError, PolicyImportError
from gridcoop.agents.behaviour.observations import (
    BatteryObservation,
    BidFeedback,
    BidObservation,
    DRObservation,
    EVObservation,
    LightingObservation,
    Standing,
)
from gridcoop.agents.behaviour.protocols import (
    BatteryPolicy,
    BiddingPolicy,
    Decision,
    DRPolicy,
    EVPolicy,
    Group,
    LightingPolicy,
    Policy,
    PolicyBase,
)

__all__ = [
    "ActionError", "BatteryActions", "BatteryObservation", "BatteryPolicy", "BidActions",
    "BidFeedback", "BidObservation", "BiddingPolicy", "DRActions", "DRObservation", "DRPolicy",
    "Decision", "EVActions", "EVObservation", "EVPolicy", "Group", "LightingActions",
    "LightingObservation", "LightingPolicy", "Policy", "PolicyBase", "PolicyError",
    "PolicyImportError", "Standing",
]
