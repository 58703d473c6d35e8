"""Shared builders and hypothesis strategies for the market tests."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from gridcoop.market import Order, Side

TOL = 1e-9  # kWh: the market's quantity resolution and comparison tolerance


def bid(order_id: str, quantity: float, price: float, seq: int, who: str | None = None,
        interval: int = 0) -> Order:
    return Order(order_id, who or f"p-{order_id}", Side.BUY, quantity, price, interval, seq)


def offer(order_id: str, quantity: float, price: float, seq: int, who: str | None = None,
          interval: int = 0) -> Order:
    return Order(order_id, who or f"p-{order_id}", Side.SELL, quantity, price, interval, seq)


def by_id(orders: Sequence[Order]) -> dict[str, Order]:
    return {o.order_id: o for o in orders}


# Few distinct prices and awkward decimal quantities: ties and float sums on purpose.
PRICES = st.sampled_from([0.0, 0.05, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 1.0])
QUANTITIES = st.one_of(
    st.sampled_from([0.1, 0.2, 0.3, 0.7, 1.0, 2.5, 3.0, 1e-9, 0.333]),
    st.floats(min_value=0.001, max_value=50.0, allow_nan=False, allow_infinity=False),
)


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
        orders.append(Order(f"o{k}", who, side, draw(QUANTITIES), draw(PRICES), 3,
                            sequences[k]))
    return orders
