"""The payment and escrow-release rules, hand-worked, for ints and arrays alike."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gridcoop.units import (
    UEUR_PER_EUR,
    WH_PER_KWH,
    payment_ueur,
    released_ueur,
    sum_by,
    ueur_from_eur,
)


def test_payment_hand_worked() -> None:
    assert payment_ueur(1_500, 80_000) == 120_000  # 1.5 kWh at 0.08 €/kWh = 0.12 €
    assert payment_ueur(1, 999) == 0  # 0.999 µ€ rounds down, in the payer's favour
    assert payment_ueur(1, 1_000) == 1
    assert payment_ueur(0, 80_000) == 0
    assert isinstance(payment_ueur(1_500, 80_000), int)


def test_release_hand_worked() -> None:
    assert released_ueur(1_000, 2, 3) == 666  # the buyer gets 334 back
    assert released_ueur(1_000, 3, 3) == 1_000
    assert released_ueur(1_000, 0, 3) == 0


def test_arrays_give_what_ints_give() -> None:
    wh = np.array([1_500, 1, 0, 333], dtype=np.int64)
    price = np.array([80_000, 999, 80_000, 65_000], dtype=np.int64)
    assert payment_ueur(wh, price).tolist() == [120_000, 0, 0, 21_645]
    assert payment_ueur(wh, 80_000).tolist() == [120_000, 80, 0, 26_640]
    assert released_ueur(np.array([1_000, 1_000]), np.array([2, 3]),
                         np.array([3, 3])).tolist() == [666, 1_000]


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_payment_array_matches_int(energy_wh: int, price: int) -> None:
    as_int = payment_ueur(energy_wh, price)
    assert payment_ueur(np.array([energy_wh]), np.array([price])).tolist() == [as_int]
    assert as_int * WH_PER_KWH <= energy_wh * price < (as_int + 1) * WH_PER_KWH


@given(st.integers(0, 10**12), st.integers(1, 10**6), st.data())
def test_release_never_creates_money(amount: int, contracted: int, data: st.DataObject) -> None:
    delivered = data.draw(st.integers(0, contracted))
    paid = released_ueur(amount, delivered, contracted)
    assert 0 <= paid <= amount
    assert released_ueur(np.array([amount]), np.array([delivered]),
                         np.array([contracted])).tolist() == [paid]


def test_one_euro_is_a_million_ueur() -> None:
    assert UEUR_PER_EUR == 1_000_000 and WH_PER_KWH == 1_000


def test_euros_to_ueur_nearest_with_halves_to_even() -> None:
    assert ueur_from_eur(0.067) == 67_000 and ueur_from_eur(0.0801) == 80_100
    assert ueur_from_eur(2.5e-6) == 2 and ueur_from_eur(3.5e-6) == 4  # halves to even
    assert ueur_from_eur(np.array([0.095, 0.065, 2.5e-6])).tolist() == [95_000, 65_000, 2]


@given(st.floats(0.0, 10.0, allow_nan=False))
def test_euros_to_ueur_agree_for_scalars_and_arrays(eur: float) -> None:
    as_int = ueur_from_eur(eur)
    assert isinstance(as_int, int) and abs(as_int - eur * UEUR_PER_EUR) <= 0.5
    assert ueur_from_eur(np.array([eur])).tolist() == [as_int]


def test_sums_by_index_are_exact_past_float_precision() -> None:
    """2**53 + 1 µ€ stays 2**53 + 1 (float64 weights, as np.bincount adds, would lose the 1)."""
    index = np.array([1, 1, 3, 1])
    values = np.array([2**53, 1, 7, 2], dtype=np.int64)
    assert sum_by(index, values, 5).tolist() == [0, 2**53 + 3, 0, 7, 0]
    assert np.bincount(index, weights=values, minlength=5)[1] != 2**53 + 3
    assert sum_by(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 2).tolist() == [0, 0]
