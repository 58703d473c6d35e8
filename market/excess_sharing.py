"""Sharing renewable excess among regional aggregators (RAs), and rationing it.

Why integer watts: every split here is a division of one integer among several
claimants; doing it in whole watts with the largest-remainder method makes each
level sum *exactly* to what it was given, so nothing is created or lost between
the central market, the aggregators, the households and their appliances.

The rules (docs/domain/communities.md, "The flow"):

1. **Enough for everyone** (``available_w >= total demand``): every load gets
   its whole demand; the rest (``remainder_w``) goes to storage or reserves.
   This is "in proportion to demand", capped at demand.
2. **Rationing** (``available_w < total demand``): templates are served in
   order T1, T2, T3, T4. A template level whose total demand fits is served in
   full. At the first level that does not fit (the *marginal* level) what is
   left is split among the RAs in proportion to their demand *at that level*;
   later levels get nothing.
3. **Inside an RA** "the same way": each RA's grant is spread over its
   households level by level; at the RA's marginal level in proportion to each
   household's demand at that level.
4. **Inside a household** the household's grant (the sum over its levels) is
   spent by the user's **equipment priority** (lower number first). Equal
   priority: the lower template first (T1 before T4). Equal priority and
   template: indivisible (on/off) loads first, in appliance-id order, each
   switched on only if its whole demand fits; then the divisible loads share
   what is left in proportion to demand. What a group does not use passes to
   the next group. What the household cannot use at all (an on/off load that
   does not fit) is not re-offered: it joins ``remainder_w`` (one pass, so the
   result is monotone and easy to audit).
5. **Ties** in a proportional split (equal remainders) go to the claimant with
   the smaller id (aggregator, household or appliance id, compared as strings),
   so the result never depends on the order of the input.

Loads that get less than their demand are the ones switched off or turned
down: with the default off-sequence (reverse priority) this is rule 4 read
backwards. :func:`gridcoop.market.load_shedding.turn_off_in_order` applies an
explicit off-sequence when a household's running load must fit under a limit.

Usage::

    from gridcoop.catalogue import Template
    from gridcoop.market.excess_sharing import (AggregatorDemand, FlexibleLoad,
                                                HouseholdDemand, share_excess)
    ra = AggregatorDemand("ra-1", (HouseholdDemand("h1", (
        FlexibleLoad("ev", Template.BATTERY, priority=1, demand_w=3650),)),))
    result = share_excess(2000, [ra])
    result.household_w()   # {"h1": 2000}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gridcoop.catalogue import Template

__all__ = [
    "AggregatorDemand",
    "ExcessSharingError",
    "FlexibleLoad",
    "HouseholdDemand",
    "LoadGrant",
    "SharingResult",
    "Template",
    "share_excess",
    "split_largest_remainder",
]


class ExcessSharingError(ValueError):
    """Bad input to excess sharing; the message names the field and the fix."""


def check_int(name: str, value: object, minimum: int | None = 0) -> int:
    """``value`` if it is an int >= ``minimum``, else ExcessSharingError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ExcessSharingError(
            f"{name} must be an integer; got {value!r} (powers are whole watts: round(kw * 1000))"
        )
    if minimum is not None and value < minimum:
        raise ExcessSharingError(f"{name} must be >= {minimum}; got {value}")
    return value


def check_id(name: str, value: object) -> str:
    """``value`` if it is a non-empty string, else ExcessSharingError naming ``name``."""
    if not isinstance(value, str) or not value:
        raise ExcessSharingError(f"{name} must be a non-empty string; got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class FlexibleLoad:
    """One appliance's claim on the excess in one interval.

    ``priority`` is the household's equipment priority (1 = served first);
    ``divisible`` says the appliance can run at any power up to ``demand_w``
    (an EV charger, an inverter HVAC); an on/off appliance gets all or nothing.
    """

    appliance_id: str
    template: Template
    priority: int
    demand_w: int
    divisible: bool = True

    def __post_init__(self) -> None:
        check_id("appliance_id", self.appliance_id)
        try:
            template = Template(self.template)
        except ValueError:
            raise ExcessSharingError(
                f"appliance {self.appliance_id!r}: template must be 1..4 (T1..T4); "
                f"got {self.template!r}"
            ) from None
        object.__setattr__(self, "template", template)
        check_int(f"appliance {self.appliance_id!r} priority", self.priority, minimum=None)
        check_int(f"appliance {self.appliance_id!r} demand_w", self.demand_w)


@dataclass(frozen=True, slots=True)
class HouseholdDemand:
    """A household's flexible loads for one interval."""

    household_id: str
    loads: tuple[FlexibleLoad, ...]

    def __post_init__(self) -> None:
        check_id("household_id", self.household_id)
        object.__setattr__(self, "loads", tuple(self.loads))
        seen: set[str] = set()
        for load in self.loads:
            if not isinstance(load, FlexibleLoad):
                raise ExcessSharingError(
                    f"household {self.household_id!r}: loads must be FlexibleLoad; got {load!r}"
                )
            if load.appliance_id in seen:
                raise ExcessSharingError(
                    f"household {self.household_id!r}: appliance id {load.appliance_id!r} "
                    "appears twice; give each appliance its own id"
                )
            seen.add(load.appliance_id)

    @property
    def demand_w(self) -> int:
        return sum(load.demand_w for load in self.loads)

    def demand_at_w(self, template: Template) -> int:
        return sum(load.demand_w for load in self.loads if load.template == template)


@dataclass(frozen=True, slots=True)
class AggregatorDemand:
    """One RA's members' flexible demand for one interval."""

    aggregator_id: str
    households: tuple[HouseholdDemand, ...]

    def __post_init__(self) -> None:
        check_id("aggregator_id", self.aggregator_id)
        object.__setattr__(self, "households", tuple(self.households))
        for household in self.households:
            if not isinstance(household, HouseholdDemand):
                raise ExcessSharingError(
                    f"aggregator {self.aggregator_id!r}: households must be HouseholdDemand; "
                    f"got {household!r}"
                )

    @property
    def demand_w(self) -> int:
        return sum(household.demand_w for household in self.households)

    def demand_at_w(self, template: Template) -> int:
        return sum(household.demand_at_w(template) for household in self.households)


@dataclass(frozen=True, slots=True)
class LoadGrant:
    """What one appliance was given; ``granted_w < demand_w`` means turned down or off."""

    aggregator_id: str
    household_id: str
    appliance_id: str
    template: Template
    priority: int
    demand_w: int
    granted_w: int


@dataclass(frozen=True, slots=True)
class SharingResult:
    """The outcome of one interval's sharing.

    ``available_w == granted_w + remainder_w`` always; ``unused_w`` is the part
    of the remainder that reached a household but fitted none of its on/off
    loads. The level tables show the template rationing before each household
    spent its grant by its own priorities.
    """

    available_w: int
    demand_w: int
    granted_w: int
    remainder_w: int
    unused_w: int
    grants: tuple[LoadGrant, ...]
    aggregator_level_w: dict[str, tuple[int, ...]]
    """W granted to each RA at T1, T2, T3, T4 (the between-RA rationing)."""
    household_level_w: dict[str, tuple[int, ...]]
    """W granted to each household at T1..T4 (before it spends them by priority)."""

    def aggregator_w(self) -> dict[str, int]:
        """Power granted per aggregator (W)."""
        out: dict[str, int] = {}
        for grant in self.grants:
            out[grant.aggregator_id] = out.get(grant.aggregator_id, 0) + grant.granted_w
        return out

    def household_w(self) -> dict[str, int]:
        """Power granted per household (W)."""
        out: dict[str, int] = {}
        for grant in self.grants:
            out[grant.household_id] = out.get(grant.household_id, 0) + grant.granted_w
        return out

    def load_w(self) -> dict[tuple[str, str], int]:
        """Power granted per (household id, appliance id) (W)."""
        return {(g.household_id, g.appliance_id): g.granted_w for g in self.grants}

    def short_loads(self) -> tuple[LoadGrant, ...]:
        """Loads that got less than their demand: the ones turned down or off."""
        return tuple(g for g in self.grants if g.granted_w < g.demand_w)


def split_largest_remainder(
    total: int, weights: Sequence[int], tie_keys: Sequence[str]
) -> list[int]:
    """Split ``total`` in proportion to ``weights``, exactly (Hamilton's method).

    Each share is ``total * w // W`` plus one unit for the largest remainders;
    equal remainders favour the smaller ``tie_keys`` entry. The shares sum to
    ``total`` exactly. All weights zero is allowed only for ``total == 0``.
    """
    check_int("total", total)
    if len(weights) != len(tie_keys):
        raise ExcessSharingError(
            f"weights ({len(weights)}) and tie_keys ({len(tie_keys)}) must have the same length"
        )
    for weight in weights:
        check_int("weight", weight)
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total != 0:
            raise ExcessSharingError(
                f"cannot split {total} among claimants whose weights are all 0"
            )
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    left = total - sum(shares)
    order = sorted(
        range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), tie_keys[i])
    )
    for i in order[:left]:
        shares[i] += 1
    return shares


def _fill_levels(
    available_w: int, demands_by_level: Sequence[Sequence[int]], keys: Sequence[str]
) -> list[tuple[int, ...]]:
    """Serve template levels in order; split the marginal level proportionally.

    ``demands_by_level[t][i]`` is claimant ``i``'s demand at level ``t``.
    Returns, per claimant, its grant at each level.
    """
    per_level: list[list[int]] = []
    left = available_w
    for demands in demands_by_level:
        if left >= sum(demands):
            shares = list(demands)
        else:
            shares = split_largest_remainder(left, demands, keys)
        per_level.append(shares)
        left -= sum(shares)
    return [tuple(level[i] for level in per_level) for i in range(len(keys))]


def _spend_in_household(grant_w: int, loads: Sequence[FlexibleLoad]) -> tuple[list[int], int]:
    """Spend a household's grant by equipment priority (rule 4); return grants and unused W."""
    granted = [0] * len(loads)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, load in enumerate(loads):
        groups.setdefault((load.priority, int(load.template)), []).append(i)
    left = grant_w
    for key in sorted(groups):
        members = groups[key]
        indivisible = sorted(
            (i for i in members if not loads[i].divisible), key=lambda i: loads[i].appliance_id
        )
        for i in indivisible:
            if 0 < loads[i].demand_w <= left:
                granted[i] = loads[i].demand_w
                left -= loads[i].demand_w
        divisible = [i for i in members if loads[i].divisible]
        demand = sum(loads[i].demand_w for i in divisible)
        if left >= demand:
            shares = [loads[i].demand_w for i in divisible]
        else:
            shares = split_largest_remainder(
                left,
                [loads[i].demand_w for i in divisible],
                [loads[i].appliance_id for i in divisible],
            )
        for i, share in zip(divisible, shares, strict=True):
            granted[i] = share
            left -= share
    return granted, left


def _validate_community(aggregators: Sequence[AggregatorDemand]) -> None:
    seen_ra: set[str] = set()
    seen_hh: dict[str, str] = {}
    for ra in aggregators:
        if not isinstance(ra, AggregatorDemand):
            raise ExcessSharingError(f"aggregators must be AggregatorDemand; got {ra!r}")
        if ra.aggregator_id in seen_ra:
            raise ExcessSharingError(f"aggregator id {ra.aggregator_id!r} appears twice")
        seen_ra.add(ra.aggregator_id)
        for household in ra.households:
            if household.household_id in seen_hh:
                raise ExcessSharingError(
                    f"household {household.household_id!r} is listed under both "
                    f"{seen_hh[household.household_id]!r} and {ra.aggregator_id!r}; "
                    "a household belongs to one aggregator per interval"
                )
            seen_hh[household.household_id] = ra.aggregator_id


def share_excess(available_w: int, aggregators: Iterable[AggregatorDemand]) -> SharingResult:
    """Share ``available_w`` of renewable excess among RAs (rules 1–5 of the module doc)."""
    check_int("available_w", available_w)
    ras = list(aggregators)
    _validate_community(ras)
    levels = list(Template)
    ra_levels = _fill_levels(
        available_w,
        [[ra.demand_at_w(t) for ra in ras] for t in levels],
        [ra.aggregator_id for ra in ras],
    )
    grants: list[LoadGrant] = []
    household_levels: dict[str, tuple[int, ...]] = {}
    unused_w = 0
    for ra, ra_level in zip(ras, ra_levels, strict=True):
        households = ra.households
        hh_levels = _fill_levels(
            sum(ra_level),
            [[hh.demand_at_w(t) for hh in households] for t in levels],
            [hh.household_id for hh in households],
        )
        for household, hh_level in zip(households, hh_levels, strict=True):
            household_levels[household.household_id] = hh_level
            load_grants, unused = _spend_in_household(sum(hh_level), household.loads)
            unused_w += unused
            for load, granted in zip(household.loads, load_grants, strict=True):
                grants.append(
                    LoadGrant(
                        ra.aggregator_id,
                        household.household_id,
                        load.appliance_id,
                        load.template,
                        load.priority,
                        load.demand_w,
                        granted,
                    )
                )
    granted_w = sum(g.granted_w for g in grants)
    return SharingResult(
        available_w=available_w,
        demand_w=sum(ra.demand_w for ra in ras),
        granted_w=granted_w,
        remainder_w=available_w - granted_w,
        unused_w=unused_w,
        grants=tuple(grants),
        aggregator_level_w={ra.aggregator_id: lv for ra, lv in zip(ras, ra_levels, strict=True)},
        household_level_w=household_levels,
    )
