"""Meter-verified compliance, tokens, penalties and rankings, hand-worked."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.agents.mechanisms.dr.compliance import (
    Commitment,
    ComplianceError,
    RankRow,
    TokenRules,
    Verdict,
    commitments_from,
    rank_members,
    slot_energy_wh,
    token_balances,
    verify,
    verify_arrays,
)
from gridcoop.agents.mechanisms.dr.response import CommandResponse

RULES = TokenRules()  # 5-minute slots, 10 % tolerance, 1 token/Wh, penalty 2 tokens/Wh
SHED = Commitment("h1", "e1", ("c1",), 0, (-250, -250, -250))  # 750 Wh less over 15 min


def test_shed_honoured_within_tolerance() -> None:
    # baseline 300 Wh per slot, metered 50 + 50 + 80: delivered 250 + 250 + 220 = 720 Wh;
    # 100 * 720 = 72000 >= 90 * 750 = 67500 -> honoured; reward 720 tokens.
    verdict = verify(SHED, [300, 300, 300], [50, 50, 80], RULES)
    assert verdict == Verdict("h1", "e1", ("c1",), 750, 720, True, 720, 0)


def test_shed_not_honoured_is_penalised() -> None:
    # metered 50 + 60 + 300: delivered 250 + 240 + 0 = 490 Wh; 49000 < 67500 -> not honoured;
    # penalty (750 - 490) * 2 = 520 tokens, no reward.
    verdict = verify(SHED, [300, 300, 300], [50, 60, 300], RULES)
    assert (verdict.honoured, verdict.reward_tokens, verdict.penalty_tokens) == (False, 0, 520)


def test_over_delivery_is_credited_only_up_to_the_commitment() -> None:
    verdict = verify(SHED, [300, 300, 300], [0, 0, 0], RULES)
    assert (verdict.delivered_wh, verdict.reward_tokens) == (900, 750)


def test_consuming_more_during_a_shed_delivers_nothing() -> None:
    verdict = verify(SHED, [300, 300, 300], [400, 400, 400], RULES)
    assert (verdict.delivered_wh, verdict.penalty_tokens) == (0, 1500)


def test_increase_commitments_check_the_other_way() -> None:
    # absorb 2 x 100 Wh more: baseline 50, metered 140 + 150 -> delivered 190 >= 180.
    absorb = Commitment("h2", "e2", ("c9",), 0, (100, 100))
    assert verify(absorb, [50, 50], [140, 150], RULES).reward_tokens == 190
    strict = TokenRules(tolerance_pct=0, reward_tokens_per_wh=3, penalty_tokens_per_wh=5)
    # with no tolerance 190 < 200: penalty (200 - 190) * 5 = 50
    assert verify(absorb, [50, 50], [140, 150], strict).penalty_tokens == 50


def test_nothing_committed_is_trivially_honoured() -> None:
    zero = Commitment("h", "e", ("c",), 0, (0, 0))
    assert verify(zero, [10, 10], [0, 99], RULES) == Verdict("h", "e", ("c",), 0, 0, True, 0, 0)


def test_bad_inputs() -> None:
    with pytest.raises(ComplianceError, match="need 3 slots"):
        verify(SHED, [1, 2], [1, 2, 3], RULES)
    with pytest.raises(ComplianceError, match="one shape"):
        verify_arrays(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 2)), RULES)
    with pytest.raises(ComplianceError, match="tolerance_pct"):
        TokenRules(tolerance_pct=120)
    with pytest.raises(ComplianceError, match="reward_tokens_per_wh"):
        TokenRules(reward_tokens_per_wh=1.5)  # type: ignore[arg-type]


def response(
    command_id: str,
    household: str,
    shift_kw: tuple[float, ...],
    start_s: int = 0,
    opt_in: bool = True,
) -> CommandResponse:
    return CommandResponse(
        command_id,
        "e1",
        household,
        "dev",
        opt_in,
        "",
        start_s,
        300,
        shift_kw,
        int(sum(shift_kw) * 300 / 3.6),
    )


def test_commitments_group_commands_per_household_and_slot() -> None:
    responses = [
        response("a", "h1", (-3.0, -3.0)),  # -250 Wh per 5-minute step
        response("b", "h1", (-1.2,), start_s=300),  # -100 Wh in the second slot
        response("c", "h2", (2.0,)),
        response("d", "h3", (-5.0,), opt_in=False),  # opted out: nothing to verify
    ]
    commitments = commitments_from(responses, RULES)
    assert commitments == [
        Commitment("h1", "e1", ("a", "b"), 0, (-250, -350)),
        Commitment("h2", "e1", ("c",), 0, (166,)),  # 2 kW * 5 min = 166.67 Wh -> 166
    ]
    fifteen = commitments_from(responses[:1], TokenRules(slot_s=600))
    assert fifteen[0].expected_wh == (-500,)
    with pytest.raises(ComplianceError, match="whole 900 s slots"):
        commitments_from(responses[:1], TokenRules(slot_s=900))


def test_slot_energy_per_household() -> None:
    # devices 0,1 in household 0, device 2 in household 1; 5-minute steps, 10-minute slots
    power = np.array([[1.2, 0.0, 6.0], [1.2, 0.6, 6.0]])
    wh = slot_energy_wh(np.array([0, 0, 1]), 2, power, 300, 600)
    # household 0: (1.2 + 1.2 + 0.6) kW * 300 s / 3.6 = 250 Wh; household 1: 12 * 300 / 3.6 = 1000
    assert wh.tolist() == [[250], [1000]]


def test_rankings_share_ranks_and_break_ties_by_id() -> None:
    rows = rank_members({"zoe": 10, "amy": 30, "bob": 10, "cat": 30, "dan": -5})
    assert rows == [
        RankRow(1, "amy", 30),
        RankRow(1, "cat", 30),
        RankRow(3, "bob", 10),
        RankRow(3, "zoe", 10),
        RankRow(5, "dan", -5),
    ]


def test_token_balances_net_rewards_and_penalties() -> None:
    verdicts = [
        Verdict("h1", "e1", ("a",), 10, 10, True, 10, 0),
        Verdict("h1", "e2", ("b",), 10, 0, False, 0, 20),
        Verdict("h2", "e1", ("c",), 5, 5, True, 5, 0),
    ]
    assert token_balances(verdicts) == {"h1": -10, "h2": 5}


@given(
    st.lists(
        st.tuples(st.integers(-500, 500), st.integers(0, 800), st.integers(0, 800)),
        min_size=1,
        max_size=12,
    )
)
def test_tokens_are_integers_and_one_sided(slots: list[tuple[int, int, int]]) -> None:
    expected, baseline, metered = (np.array([[s[i] for s in slots]]) for i in range(3))
    out = verify_arrays(expected, baseline, metered, RULES)
    reward, penalty = int(out["reward_tokens"][0]), int(out["penalty_tokens"][0])
    assert reward >= 0 and penalty >= 0 and (reward == 0 or penalty == 0)
    assert reward <= int(out["committed_wh"][0])
    assert out["reward_tokens"].dtype == np.int64
