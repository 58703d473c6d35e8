"""The clearing house: orders, order books, clearing mechanisms, tariffs, and the
ancillary-service markets (spinning reserve, renewable-excess sharing).

Pure: imports nothing from the rest of gridcoop, no Mesa, no ZeroMQ. The one-call
entry point is :func:`clear`; see the README section on the market.
"""

from gridcoop.market import continuous as _continuous  # noqa: F401  (registers "continuous")
from gridcoop.market import mechanisms as _mechanisms  # noqa: F401  (registers the periodic ones)
from gridcoop.market.batch import OrderBatch
from gridcoop.market.clearing import FAST_PATH_MIN_ORDERS, clear, prepare
from gridcoop.market.errors import (
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
from gridcoop.market.excess_sharing import (
    AggregatorDemand,
    ExcessSharingError,
    FlexibleLoad,
    HouseholdDemand,
    LoadGrant,
    SharingResult,
    Template,
    share_excess,
    split_largest_remainder,
)
from gridcoop.market.hierarchical import HierarchicalResult, clear_hierarchical
from gridcoop.market.load_shedding import RunningLoad, ShedResult, turn_off_in_order
from gridcoop.market.order_book import ClearingHouse, GateState, OrderBook
from gridcoop.market.orders import (
    DEFAULT_PRICE_CAP_EUR_PER_KWH,
    MAX_QUANTITY_KWH,
    QUANTITY_RESOLUTION_KWH,
    QUANTITY_TOLERANCE_KWH,
    Order,
    Side,
)
from gridcoop.market.prepared import Margin, MeritOrderMatch, PreparedBook, TradeColumns
from gridcoop.market.registry import MECHANISMS, get_mechanism, mechanism_names, register_mechanism
from gridcoop.market.reserve import (
    ReserveClearing,
    ReserveError,
    ReserveMarket,
    ReserveOffer,
    ReserveRequest,
    clear_reserve,
)
from gridcoop.market.reserve_calls import (
    CallProcessConfig,
    ReserveCallProcess,
    ShortfallPolicy,
    dispatch_call,
    settle_reserve,
    verify_delivery,
)
from gridcoop.market.results import ClearingResult, Trade, TradeArrays
from gridcoop.market.settlement import (
    GridSettlement,
    LineKind,
    LocalMoneyFlows,
    SettlementLine,
    local_money_flows,
    settle_hierarchical,
    settle_with_grid,
)
from gridcoop.market.tariffs import Tariff, TimeOfUseTariff

__all__ = [
    "DEFAULT_PRICE_CAP_EUR_PER_KWH",
    "FAST_PATH_MIN_ORDERS",
    "MAX_QUANTITY_KWH",
    "MECHANISMS",
    "QUANTITY_RESOLUTION_KWH",
    "QUANTITY_TOLERANCE_KWH",
    "AggregatorDemand",
    "CallProcessConfig",
    "ClearingHouse",
    "ClearingResult",
    "DuplicateMechanismError",
    "DuplicateOrderError",
    "ExcessSharingError",
    "FlexibleLoad",
    "GateClosedError",
    "GateState",
    "GateStateError",
    "GridSettlement",
    "HierarchicalResult",
    "HouseholdDemand",
    "InvalidAllocationError",
    "InvalidOptionError",
    "InvalidOrderError",
    "InvalidTariffError",
    "LineKind",
    "LoadGrant",
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
    "ReserveCallProcess",
    "ReserveClearing",
    "ReserveError",
    "ReserveMarket",
    "ReserveOffer",
    "ReserveRequest",
    "RunningLoad",
    "SettlementLine",
    "SharingResult",
    "ShedResult",
    "ShortfallPolicy",
    "Side",
    "Tariff",
    "Template",
    "TimeOfUseTariff",
    "Trade",
    "TradeArrays",
    "TradeColumns",
    "UnknownIntervalError",
    "UnknownMechanismError",
    "UnknownOrderError",
    "clear",
    "clear_hierarchical",
    "clear_reserve",
    "dispatch_call",
    "get_mechanism",
    "local_money_flows",
    "mechanism_names",
    "prepare",
    "register_mechanism",
    "settle_hierarchical",
    "settle_reserve",
    "settle_with_grid",
    "share_excess",
    "split_largest_remainder",
    "turn_off_in_order",
    "verify_delivery",
]
