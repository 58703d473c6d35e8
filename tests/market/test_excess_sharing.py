"""Hand-worked cases for sharing renewable excess among aggregators."""

from __future__ import annotations

import pytest

from gridcoop.market.excess_sharing import (
    AggregatorDemand,
    ExcessSharingError,
    FlexibleLoad,
    HouseholdDemand,
    Template,
    share_excess,
    split_largest_remainder,
)
from gridcoop.market.load_shedding import RunningLoad, turn_off_in_order

T1, T2, T3, T4 = Template.SCHEDULED, Template.TEMPERATURE, Template.BATTERY, Template.FLEXIBLE


def load(
    appliance_id: str, template: Template, priority: int, demand_w: int, divisible: bool = True
) -> FlexibleLoad:
    return FlexibleLoad(appliance_id, template, priority, demand_w, divisible)


def community() -> list[AggregatorDemand]:
    """Two RAs, four households.

    demand per template (W):   T1     T2     T3     T4
        ra-a (h1, h2)         2000   1000   3000      0
        ra-b (h3, h4)         1000   3000   3650   2000
        total                 3000   4000   6650   2000   = 15650
    """
    h1 = HouseholdDemand("h1", (load("pump", T1, 2, 2000), load("ev", T3, 1, 3000)))
    h2 = HouseholdDemand("h2", (load("ac", T2, 1, 1000),))
    h3 = HouseholdDemand("h3", (load("pump", T1, 1, 1000), load("heater", T4, 2, 2000)))
    h4 = HouseholdDemand("h4", (load("ac", T2, 1, 3000), load("ev", T3, 2, 3650)))
    return [AggregatorDemand("ra-a", (h1, h2)), AggregatorDemand("ra-b", (h3, h4))]


def test_excess_above_flexible_demand_serves_all_and_stores_the_rest() -> None:
    result = share_excess(20_000, community())
    # every load gets its demand; 20000 - 15650 = 4350 W to storage
    assert result.demand_w == 15_650
    assert result.granted_w == 15_650
    assert result.remainder_w == 4_350
    assert result.unused_w == 0
    assert result.aggregator_w() == {"ra-a": 6_000, "ra-b": 9_650}
    assert result.household_w() == {"h1": 5_000, "h2": 1_000, "h3": 3_000, "h4": 6_650}
    assert result.short_loads() == ()


def test_excess_below_flexible_demand_rations_by_template_then_priority() -> None:
    result = share_excess(5_000, community())
    # Between RAs: T1 total 3000 fits (a 2000, b 1000), 2000 W left.
    # T2 total 4000 does not: a gets 2000*1000/4000 = 500, b 2000*3000/4000 = 1500.
    assert result.aggregator_w() == {"ra-a": 2_500, "ra-b": 2_500}
    assert result.aggregator_level_w == {"ra-a": (2_000, 500, 0, 0), "ra-b": (1_000, 1_500, 0, 0)}
    # Inside ra-a (2500): T1 h1 2000 fits, 500 left; T2: only h2 claims -> 500.
    # Inside ra-b (2500): T1 h3 1000 fits, 1500 left; T2: only h4 claims -> 1500.
    assert result.household_w() == {"h1": 2_000, "h2": 500, "h3": 1_000, "h4": 1_500}
    assert result.household_level_w["h1"] == (2_000, 0, 0, 0)
    # Inside h1 the user's equipment priority decides: the EV (priority 1)
    # takes the 2000 W that the pump's T1 demand earned; the pump gets 0.
    assert result.load_w() == {
        ("h1", "pump"): 0,
        ("h1", "ev"): 2_000,
        ("h2", "ac"): 500,
        ("h3", "pump"): 1_000,
        ("h3", "heater"): 0,
        ("h4", "ac"): 1_500,
        ("h4", "ev"): 0,
    }
    assert result.remainder_w == 0
    assert {(g.household_id, g.appliance_id) for g in result.short_loads()} == {
        ("h1", "pump"),
        ("h1", "ev"),
        ("h2", "ac"),
        ("h3", "heater"),
        ("h4", "ac"),
        ("h4", "ev"),
    }


def test_marginal_level_inside_t3() -> None:
    result = share_excess(8_000, community())
    # T1 3000 + T2 4000 = 7000 served in full; 1000 W left for T3 (6650):
    # ra-a 1000*3000/6650 = 451.12 -> 451 (rem 760), ra-b 1000*3650/6650 = 548.87 -> 548
    # (rem 5800); one watt left goes to the larger remainder: ra-b -> 549.
    assert result.aggregator_w() == {"ra-a": 2_000 + 1_000 + 451, "ra-b": 1_000 + 3_000 + 549}
    # h1 = 2000 (T1) + 451 (T3) = 2451: EV priority 1 takes 2451 of its 3000.
    assert result.load_w()[("h1", "ev")] == 2_451
    assert result.load_w()[("h1", "pump")] == 0
    # h4 = 3000 (T2) + 549 (T3) = 3549: AC priority 1 takes 3000, EV 549.
    assert result.load_w()[("h4", "ac")] == 3_000
    assert result.load_w()[("h4", "ev")] == 549
    assert result.granted_w == 8_000


def test_tie_between_aggregators_goes_to_smaller_id_whatever_the_input_order() -> None:
    # 1001 W for two equal T2 demands of 1000 W: 500 each, remainders equal
    # (1001*1000 % 2000 = 1000); the spare watt goes to "ra-x" (smaller id).
    x = AggregatorDemand("ra-x", (HouseholdDemand("h5", (load("ac", T2, 1, 1000),)),))
    y = AggregatorDemand("ra-y", (HouseholdDemand("h6", (load("ac", T2, 1, 1000),)),))
    assert share_excess(1_001, [x, y]).aggregator_w() == {"ra-x": 501, "ra-y": 500}
    assert share_excess(1_001, [y, x]).aggregator_w() == {"ra-y": 500, "ra-x": 501}


def test_equal_priority_lower_template_first() -> None:
    # heater (T4) and pump (T1) share priority 1: the T1 pump is served first.
    hh = HouseholdDemand("h", (load("heater", T4, 1, 2000), load("pump", T1, 1, 1000)))
    result = share_excess(1_500, [AggregatorDemand("ra", (hh,))])
    assert result.load_w() == {("h", "heater"): 500, ("h", "pump"): 1_000}


def test_equal_priority_and_template_indivisible_first_then_proportional() -> None:
    # Group (priority 1, T1) with 1500 W: on/off loads in id order: "dryer" 1000
    # fits (500 left), "washer" 740 does not; divisible "pump" gets the 500.
    hh = HouseholdDemand(
        "h",
        (
            load("washer", T1, 1, 740, divisible=False),
            load("dryer", T1, 1, 1000, divisible=False),
            load("pump", T1, 1, 2000),
        ),
    )
    ra = AggregatorDemand("ra", (hh,))
    result = share_excess(1_500, [ra])
    assert result.load_w() == {("h", "washer"): 0, ("h", "dryer"): 1_000, ("h", "pump"): 500}
    assert result.remainder_w == 0


def test_on_off_loads_that_do_not_fit_send_the_power_to_storage() -> None:
    hh = HouseholdDemand(
        "h",
        (load("washer", T1, 1, 740, divisible=False), load("dryer", T1, 2, 1000, divisible=False)),
    )
    result = share_excess(700, [AggregatorDemand("ra", (hh,))])
    # neither 740 nor 1000 fits in 700: nothing runs, all 700 W go to storage.
    assert result.granted_w == 0
    assert result.unused_w == 700
    assert result.remainder_w == 700


def test_proportional_split_among_equal_priority_divisible_loads() -> None:
    # 1000 W among EVs of 3000, 2000, 1000 W at equal priority: 500, 333.3, 166.7
    # floors 500/333/166 (999); remainders 0, 2000, 4000 (of 6000) -> "c" gets +1.
    hh = HouseholdDemand(
        "h", (load("a", T3, 1, 3000), load("b", T3, 1, 2000), load("c", T3, 1, 1000))
    )
    result = share_excess(1_000, [AggregatorDemand("ra", (hh,))])
    assert result.load_w() == {("h", "a"): 500, ("h", "b"): 333, ("h", "c"): 167}


def test_proportional_split_between_households_inside_an_aggregator() -> None:
    # One RA, T2 demands 1000 and 3000, 2000 W granted: 500 and 1500.
    ra = AggregatorDemand(
        "ra",
        (
            HouseholdDemand("h1", (load("ac", T2, 1, 1000),)),
            HouseholdDemand("h2", (load("ac", T2, 1, 3000),)),
        ),
    )
    assert share_excess(2_000, [ra]).household_w() == {"h1": 500, "h2": 1_500}


def test_no_excess_and_no_demand() -> None:
    assert share_excess(0, community()).granted_w == 0
    empty = share_excess(1_234, [])
    assert (empty.granted_w, empty.remainder_w, empty.grants) == (0, 1_234, ())


def test_split_largest_remainder() -> None:
    assert split_largest_remainder(10, [1, 1, 1], ["b", "a", "c"]) == [3, 4, 3]
    assert split_largest_remainder(0, [0, 0], ["a", "b"]) == [0, 0]
    with pytest.raises(ExcessSharingError, match="weights are all 0"):
        split_largest_remainder(5, [0, 0], ["a", "b"])
    with pytest.raises(ExcessSharingError, match="same length"):
        split_largest_remainder(5, [1], ["a", "b"])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FlexibleLoad("ev", T3, 1, 3.65), "must be an integer"),  # type: ignore[arg-type]
        (lambda: FlexibleLoad("ev", 7, 1, 100), "template must be 1..4"),  # type: ignore[arg-type]
        (lambda: FlexibleLoad("ev", T3, 1, -5), "must be >= 0"),
        (lambda: FlexibleLoad("", T3, 1, 5), "non-empty string"),
        (lambda: HouseholdDemand("h", (load("a", T1, 1, 1), load("a", T2, 1, 1))), "twice"),
    ],
)
def test_bad_loads_are_refused(build: object, message: str) -> None:
    with pytest.raises(ExcessSharingError, match=message):
        build()  # type: ignore[operator]


def test_template_given_as_int_is_accepted() -> None:
    assert FlexibleLoad("ev", 3, 1, 100).template is T3  # type: ignore[arg-type]


def test_bad_community_is_refused() -> None:
    hh = HouseholdDemand("h", (load("a", T1, 1, 1),))
    with pytest.raises(ExcessSharingError, match="listed under both"):
        share_excess(10, [AggregatorDemand("r1", (hh,)), AggregatorDemand("r2", (hh,))])
    with pytest.raises(ExcessSharingError, match="appears twice"):
        share_excess(10, [AggregatorDemand("r1", ()), AggregatorDemand("r1", ())])
    with pytest.raises(ExcessSharingError, match="available_w must be an integer"):
        share_excess(10.5, [])  # type: ignore[arg-type]
    with pytest.raises(ExcessSharingError, match="available_w must be >= 0"):
        share_excess(-1, [])


def test_turn_off_in_order_turns_down_the_last_divisible_load_only_as_needed() -> None:
    running = [
        RunningLoad("fridge", 125),
        RunningLoad("ac", 1000, divisible=True),
        RunningLoad("heater", 2000),
        RunningLoad("ev", 3650, divisible=True),
    ]
    # total 6775, limit 3000: heater off -> 4775; EV is divisible and 3650 > 1775
    # over, so it is turned down by 1775 to 1875 -> exactly 3000.
    result = turn_off_in_order(running, ["heater", "ev", "ac"], 3_000)
    assert result.turned_off == ("heater",)
    assert result.turned_down == ("ev",)
    assert result.power_w == {"fridge": 125, "ac": 1000, "heater": 0, "ev": 1875}
    assert (result.total_w, result.excess_over_limit_w) == (3_000, 0)


def test_turn_off_in_order_never_touches_unlisted_appliances() -> None:
    running = [
        RunningLoad("fridge", 125),
        RunningLoad("ac", 1000, divisible=True),
        RunningLoad("heater", 2000),
        RunningLoad("ev", 3650, divisible=True),
    ]
    # limit 100: heater off (4775), EV 3650 <= 4675 over -> off (1125),
    # AC 1000 <= 1025 over -> off (125); the fridge stays: 25 W over the limit.
    result = turn_off_in_order(running, ["heater", "ev", "ac"], 100)
    assert result.turned_off == ("heater", "ev", "ac")
    assert result.power_w["fridge"] == 125
    assert (result.total_w, result.excess_over_limit_w) == (125, 25)


def test_turn_off_in_order_within_limit_does_nothing() -> None:
    result = turn_off_in_order([RunningLoad("a", 500)], ["a"], 500)
    assert result.turned_off == () and result.power_w == {"a": 500}
    with pytest.raises(ExcessSharingError, match="twice"):
        turn_off_in_order([RunningLoad("a", 1)], ["a", "a"], 0)
    with pytest.raises(ExcessSharingError, match="listed twice"):
        turn_off_in_order([RunningLoad("a", 1), RunningLoad("a", 2)], ["a"], 0)
