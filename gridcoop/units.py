"""Units of energy and money, and the one rounding rule of each operation on them.

Why integers: money and energy are counted, not measured, on every path that pays
someone (market, ledger, settlement, KPIs). Energy is in Wh, money in µ€ (one
millionth of a euro), prices in µ€ per kWh. Floats appear only when a figure is
shown to a person (divide by ``UEUR_PER_EUR`` or ``WH_PER_KWH``).

Shared vocabulary: importable by every package, imports nothing of gridcoop.
"""

from __future__ import annotations

from typing import Final, NewType, TypeAlias, overload

import numpy as np
from numpy.typing import NDArray

Wh = NewType("Wh", int)
"""Energy in watt-hours."""
UEur = NewType("UEur", int)
"""Money in micro-euros (µ€)."""
UEurPerKwh = NewType("UEurPerKwh", int)
"""A price in µ€ per kWh."""

IntArray: TypeAlias = NDArray[np.int64]
"""A column of Wh, µ€ or µ€/kWh (int64); the unit is in the variable's name."""

WH_PER_KWH: Final = 1_000
UEUR_PER_EUR: Final = 1_000_000


@overload
def payment_ueur(energy_wh: int, price_ueur_per_kwh: int) -> int: ...
@overload
def payment_ueur(energy_wh: IntArray, price_ueur_per_kwh: int | IntArray) -> IntArray: ...
@overload
def payment_ueur(energy_wh: int | IntArray, price_ueur_per_kwh: IntArray) -> IntArray: ...
def payment_ueur(energy_wh: int | IntArray,
                 price_ueur_per_kwh: int | IntArray) -> int | IntArray:
    """Money for energy at a price: Wh × µ€/kWh // 1000, rounded down (the payer's favour).

    The one payment rule: the ledger's escrow, settlement, bills and KPIs all use it.
    """
    if isinstance(energy_wh, int) and isinstance(price_ueur_per_kwh, int):
        return energy_wh * price_ueur_per_kwh // WH_PER_KWH
    energy = np.asarray(energy_wh, dtype=np.int64)
    result: IntArray = energy * np.asarray(price_ueur_per_kwh, dtype=np.int64) // WH_PER_KWH
    return result


@overload
def released_ueur(amount_ueur: int, delivered_wh: int, contracted_wh: int) -> int: ...
@overload
def released_ueur(amount_ueur: IntArray, delivered_wh: IntArray,
                  contracted_wh: IntArray) -> IntArray: ...
def released_ueur(amount_ueur: int | IntArray, delivered_wh: int | IntArray,
                  contracted_wh: int | IntArray) -> int | IntArray:
    """What an escrow pays the seller for a partly delivered trade: amount × delivered //
    contracted, rounded down; the rest goes back to the buyer, so nothing is created."""
    if isinstance(amount_ueur, int) and isinstance(delivered_wh, int) \
            and isinstance(contracted_wh, int):
        return amount_ueur * delivered_wh // contracted_wh
    result: IntArray = (np.asarray(amount_ueur, dtype=np.int64)
                        * np.asarray(delivered_wh, dtype=np.int64)
                        // np.asarray(contracted_wh, dtype=np.int64))
    return result


def sum_by(index: IntArray, values: IntArray, size: int) -> IntArray:
    """Totals of integer ``values`` per ``index`` (0 .. ``size`` - 1), exact in int64.

    Why not ``np.bincount(index, weights=values)``: it adds in float64, exact only
    below 2**53, and money and energy are summed exactly.
    """
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, index, np.asarray(values, dtype=np.int64))
    return total


@overload
def ueur_from_eur(eur: float) -> int: ...
@overload
def ueur_from_eur(eur: NDArray[np.float64]) -> IntArray: ...
def ueur_from_eur(eur: float | NDArray[np.float64]) -> int | IntArray:
    """Euros (or €/kWh) from a configuration, a tariff or a pricing rule, to µ€: the nearest
    integer, halves to even (Python's ``round`` and numpy's ``rint`` agree on it)."""
    if isinstance(eur, np.ndarray):
        result: IntArray = np.rint(eur * UEUR_PER_EUR).astype(np.int64)
        return result
    return round(eur * UEUR_PER_EUR)


def counter_wh(before_wh: NDArray[np.float64], after_wh: NDArray[np.float64]) -> IntArray:
    """Whole Wh between two readings of a cumulative energy counter (in Wh): each reading
    rounded half up (``floor(x + 0.5)``), then the difference taken.

    The one rounding rule of metered energy: a meter reports its intervals by it (so
    its whole-Wh readings never drift from what it measured), and an order for energy
    that its member's meter will count is sized by it from the cumulative forecast, so
    a forecast that comes true is delivered to the Wh.
    """
    after = np.floor(np.asarray(after_wh, dtype=np.float64) + 0.5)
    before = np.floor(np.asarray(before_wh, dtype=np.float64) + 0.5)
    result: IntArray = (after - before).astype(np.int64)
    return result
