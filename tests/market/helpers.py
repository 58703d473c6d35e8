"""Shared builders and hypothesis strategies for the market tests (Wh, µ€/kWh)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import strategies as st

from gridcoop.market import ClearingResult, Order, Side, clear
from tests.market.oracle import oracle_clear

Clearer = Callable[..., ClearingResult]
#: The market's numpy path and the tests' plain-Python oracle: hand-worked tests run on both.
CLEARERS: dict[str, Clearer] = {"fast": clear, "oracle": oracle_clear}


def bid(order_id: str, energy_wh: int, price_ueur_per_kwh: int, seq: int,
        who: str | None = None, interval: int = 0) -> Order:
    return Order(order_id, who or f"p-{order_id}", Side.BUY, energy_wh, price_ueur_per_kwh,
                 interval, seq)


def offer(order_id: str, energy_wh: int, price_ueur_per_kwh: int, seq: int,
          who: str | None = None, interval: int = 0) -> Order:
    return Order(order_id, who or f"p-{order_id}", Side.SELL, energy_wh, price_ueur_per_kwh,
                 interval, seq)


def by_id(orders: Sequence[Order]) -> dict[str, Order]:
    return {o.order_id: o for o in orders}


def remainders(result: ClearingResult) -> list[tuple[str, int]]:
    return [(o.order_id, o.energy_wh) for o in result.unmatched]


# Few distinct prices (ties) and odd ones (so midpoints and means need rounding).
PRICES = st.sampled_from([0, 50_000, 100_000, 100_001, 120_000, 150_000, 199_999, 250_000,
                          300_001, 1_000_000])
ENERGIES = st.one_of(st.sampled_from([1, 100, 333, 700, 1_000, 2_500, 3_000]),
                     st.integers(min_value=1, max_value=50_000))


@st.composite
def books(draw: st.DrawFn, max_orders: int = 40, unique_sequences: bool = False) -> list[Order]:
    """A random one-interval book; sequences repeat unless ``unique_sequences``."""
    n = draw(st.integers(min_value=0, max_value=max_orders))
    if unique_sequences:
        sequences = draw(st.permutations(list(range(n))))
    else:
        sequences = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    orders = []
    for k in range(n):
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        who = draw(st.sampled_from(["ana", "rui", "eva", "joao", "ines"]))
        orders.append(Order(f"o{k}", who, side, draw(ENERGIES), draw(PRICES), 3, sequences[k]))
    return orders

