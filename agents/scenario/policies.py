"""The scenario's ``policies:`` section: which policy decides for which members.

Why validated here: a policy named in a scenario is imported when the
scenario is loaded, so a typo or a missing package fails at once with one
line (``gridcoop run`` exits with code 2), not when the first gate opens.

```yaml
policies:
  bidding:
    all: tariff_share                 # every member not named by kind below
    prosumer: {policy: adaptive, params: {learning_rate: 0.2}}
    ev_owner: mypackage.policies:MyBidder
  lighting: {policy: ranking_response, params: {rank_response: 0.3}}
  battery: {policy: price_aware, params: {charge_below: 0.3}}
```

Groups of ``bidding`` are ``all`` or a member kind (``prosumer``, ``ev_owner``,
``dr_household``, ``classroom``, ``trader``). A choice is a built-in name or an
import path ``package.module:Name``; ``params`` are passed to it as keywords.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from gridcoop.agents.behaviour.protocols import Decision
from gridcoop.agents.behaviour.resolve import load

BIDDING_GROUPS = ("all", "prosumer", "ev_owner", "dr_household", "classroom", "trader")


class PolicyChoice(BaseModel):
    """One policy and its parameters (a bare string is the policy with no parameters)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str
    params: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        return {"policy": value} if isinstance(value, str) else value


class Policies(BaseModel):
    """Per decision, the chosen policies (empty: the built-in defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bidding: dict[str, PolicyChoice] = {}
    lighting: PolicyChoice | None = None
    ev: PolicyChoice | None = None
    dr: PolicyChoice | None = None
    battery: PolicyChoice | None = None

    @model_validator(mode="after")
    def _importable(self) -> Policies:
        for group, choice in self.bidding.items():
            if group not in BIDDING_GROUPS:
                raise ValueError(f"policies.bidding: unknown group {group!r}; groups: "
                                 f"{', '.join(BIDDING_GROUPS)}")
            load(Decision.BIDDING, choice.policy)
        for decision in (Decision.LIGHTING, Decision.EV, Decision.DR, Decision.BATTERY):
            choice = getattr(self, decision.value)
            if choice is not None:
                factory = load(decision, choice.policy)
                if decision is Decision.BATTERY:  # built per region in the physics: check now
                    factory(**choice.params)
        return self


def _is_spec(value: Any) -> bool:
    return isinstance(value, str | dict | PolicyChoice)


def split_given(policies: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the scenario can validate, policy objects or classes given in Python).

    ``CommunityModel(policies={"bidding": {"prosumer": MyPolicy()}})`` keeps the
    object itself; names and ``{policy, params}`` go through the scenario schema.
    """
    specs: dict[str, Any] = {}
    objects: dict[str, Any] = {}
    for decision, value in (policies or {}).items():
        if decision == Decision.BIDDING.value and isinstance(value, dict):
            named = {g: v for g, v in value.items() if _is_spec(v)}
            given = {g: v for g, v in value.items() if not _is_spec(v)}
            if named:
                specs[decision] = named
            if given:
                objects[decision] = given
        elif _is_spec(value):
            specs[decision] = value
        else:
            objects[decision] = value
    return specs, objects
