"""The clearing house: orders, order books, clearing mechanisms, tariffs.

Pure: imports nothing from the rest of gridcoop, no Mesa, no ZeroMQ. The one-call
entry point is :func:`clear`; see the README section on the market.
"""

from market import continuous as _continuous  # noqa: F401  (registers "continuous")
from market import mechanisms as _mechanisms  # noqa: F401  (registers the periodic ones)
from market.batch import OrderBatch
from market.clearing import FAST_PATH_MIN_ORDERS, clear, prepare
from market.errors import (
    DuplicateMechanismError,
    DuplicateOrderError,
    GateClosedError,
    GateStateError,
    InvalidAllocationError,
    InvalidOptionError,
    InvalidOrderError,
    InvalidTariffError,
    MarketError,
    MixedIntervalsError,
    PriceCapExceededError,
    UnknownIntervalError,
    UnknownMechanismError,
    UnknownOrderError,
)
from market.hierarchical import HierarchicalResult, clear_hierarchical
from market.order_book import ClearingHouse, GateState, OrderBook
from market.orders import (
    DEFAULT_PRICE_CAP_EUR_PER_KWH,
    MAX_QUANTITY_KWH,
    QUANTITY_RESOLUTION_KWH,
    QUANTITY_TOLERANCE_KWH,
    Order,
    Side,
)
from market.prepared import Margin, MeritOrderMatch, PreparedBook, TradeColumns
from market.registry import MECHANISMS, get_mechanism, mechanism_names, register_mechanism
from market.results import ClearingResult, Trade, TradeArrays
from market.settlement import (
    GridSettlement,
    LineKind,
    LocalMoneyFlows,
    SettlementLine,
    local_money_flows,
    settle_hierarchical,
    settle_with_grid,
)
from market.tariffs import Tariff, TimeOfUseTariff

__all__ = [
    "DEFAULT_PRICE_CAP_EUR_PER_KWH",
    "FAST_PATH_MIN_ORDERS",
    "MAX_QUANTITY_KWH",
    "MECHANISMS",
    "QUANTITY_RESOLUTION_KWH",
    "QUANTITY_TOLERANCE_KWH",
    "ClearingHouse",
    "ClearingResult",
    "DuplicateMechanismError",
    "DuplicateOrderError",
    "GateClosedError",
    "GateState",
    "GateStateError",
    "GridSettlement",
    "HierarchicalResult",
    "InvalidAllocationError",
    "InvalidOptionError",
    "InvalidOrderError",
    "InvalidTariffError",
    "LineKind",
    "LocalMoneyFlows",
    "Margin",
    "MarketError",
    "MeritOrderMatch",
    "MixedIntervalsError",
    "Order",
    "OrderBatch",
    "OrderBook",
    "PreparedBook",
    "PriceCapExceededError",
    "SettlementLine",
    "Side",
    "Tariff",
    "TimeOfUseTariff",
    "Trade",
    "TradeArrays",
    "TradeColumns",
    "UnknownIntervalError",
    "UnknownMechanismError",
    "UnknownOrderError",
    "clear",
    "clear_hierarchical",
    "get_mechanism",
    "local_money_flows",
    "mechanism_names",
    "prepare",
    "register_mechanism",
    "settle_hierarchical",
    "settle_with_grid",
]
