"""Invariants of excess sharing, checked on random communities."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.market.excess_sharing import (
    AggregatorDemand,
    FlexibleLoad,
    HouseholdDemand,
    Template,
    share_excess,
    split_largest_remainder,
)

loads = st.lists(
    st.builds(
        lambda t, p, d, div: (t, p, d, div),
        st.sampled_from(list(Template)),
        st.integers(1, 4),
        st.integers(0, 5_000),
        st.booleans(),
    ),
    max_size=5,
)


@st.composite
def communities(draw: st.DrawFn) -> list[AggregatorDemand]:
    ras = []
    n_households = 0
    for r in range(draw(st.integers(0, 4))):
        households = []
        for _ in range(draw(st.integers(0, 4))):
            n_households += 1
            items = draw(loads)
            households.append(
                HouseholdDemand(
                    f"h{n_households}",
                    tuple(
                        FlexibleLoad(f"a{i}", t, p, d, div)
                        for i, (t, p, d, div) in enumerate(items)
                    ),
                )
            )
        ras.append(AggregatorDemand(f"ra{r}", tuple(households)))
    return ras


@settings(max_examples=200, deadline=None)
@given(communities(), st.integers(0, 60_000))
def test_conservation_and_caps(ras: list[AggregatorDemand], available_w: int) -> None:
    result = share_excess(available_w, ras)
    assert result.granted_w + result.remainder_w == available_w
    assert all(0 <= g.granted_w <= g.demand_w for g in result.grants)
    # indivisible loads get all or nothing
    divisible = {
        (h.household_id, x.appliance_id): x.divisible
        for ra in ras
        for h in ra.households
        for x in h.loads
    }
    for g in result.grants:
        if not divisible[(g.household_id, g.appliance_id)]:
            assert g.granted_w in (0, g.demand_w)
    if available_w >= result.demand_w:
        assert result.granted_w == result.demand_w
    elif all(divisible.values()):
        assert result.remainder_w == 0
    assert result.remainder_w - result.unused_w == max(0, available_w - result.demand_w)


@settings(max_examples=100, deadline=None)
@given(communities(), st.integers(0, 60_000), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(
    ras: list[AggregatorDemand], available_w: int, rnd: random.Random
) -> None:
    shuffled = []
    for ra in ras:
        households = list(ra.households)
        rnd.shuffle(households)
        shuffled.append(
            AggregatorDemand(
                ra.aggregator_id,
                tuple(
                    HouseholdDemand(h.household_id, tuple(rnd.sample(h.loads, len(h.loads))))
                    for h in households
                ),
            )
        )
    rnd.shuffle(shuffled)
    assert share_excess(available_w, ras).load_w() == share_excess(available_w, shuffled).load_w()


@settings(max_examples=200, deadline=None)
@given(communities(), st.integers(0, 60_000))
def test_a_template_level_gets_power_only_when_every_lower_level_is_full(
    ras: list[AggregatorDemand], available_w: int
) -> None:
    result = share_excess(available_w, ras)
    for scope, demand_of, levels_of in (
        ("aggregator", {ra.aggregator_id: ra for ra in ras}, result.aggregator_level_w),
        (
            "household",
            {h.household_id: h for ra in ras for h in ra.households},
            result.household_level_w,
        ),
    ):
        for key, levels in levels_of.items():
            demand = [demand_of[key].demand_at_w(t) for t in Template]
            assert all(0 <= g <= d for g, d in zip(levels, demand, strict=True)), scope
        for t in range(3):
            if any(levels[t + 1] > 0 for levels in levels_of.values()):
                assert all(
                    levels_of[k][t] == demand_of[k].demand_at_w(Template(t + 1)) for k in levels_of
                ), scope
    # each RA passes on exactly what it got: its households' levels sum to its own
    for ra in ras:
        ra_total = sum(result.aggregator_level_w[ra.aggregator_id])
        assert ra_total == sum(sum(result.household_level_w[h.household_id]) for h in ra.households)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(0, 1_000), min_size=1, max_size=8))
def test_split_largest_remainder_is_exact_and_within_one_of_the_quota(
    total: int, weights: list[int]
) -> None:
    if sum(weights) == 0:
        total = 0
    shares = split_largest_remainder(total, weights, [f"k{i}" for i in range(len(weights))])
    assert sum(shares) == total
    weight_sum = sum(weights) or 1
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * weight_sum - total * weight) < weight_sum
