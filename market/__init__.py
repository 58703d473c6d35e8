"""The clearing house: orders, clearing mechanisms, hierarchical clearing, settlement
against meters, tariffs, and the ancillary-service markets (spinning reserve,
renewable-excess sharing).

Pure: imports nothing of gridcoop but ``gridcoop.units``, no Mesa, no ZeroMQ. Energy
is integer Wh and money integer µ€ (prices µ€/kWh) in and out. The one-call entry
point is :func:`clear`; see the README section on the market.
"""

from gridcoop.market import continuous as _continuous  # noqa: F401  (registers "continuous")
from gridcoop.market import mechanisms as _mechanisms  # noqa: F401  (registers the periodic ones)
from gridcoop.market.batch import OrderBatch
from gridcoop.market.clearing import clear, prepare
from gridcoop.market.errors import (
    DuplicateMechanismError,
    DuplicateOrderError,
    InvalidAllocationError,
    InvalidOptionError,
    InvalidOrderError,
    InvalidTariffError,
    MarketError,
    MixedIntervalsError,
    PriceCapExceededError,
    UnknownMechanismError,
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
from gridcoop.market.hierarchical import (
    HierarchicalResult,
    LocalClearing,
    clear_central,
    clear_hierarchical,
    clear_local,
)
from gridcoop.market.load_shedding import RunningLoad, ShedResult, turn_off_in_order
from gridcoop.market.orders import DEFAULT_PRICE_CAP_UEUR_PER_KWH, MAX_ENERGY_WH, Order, Side
from gridcoop.market.prepared import (
    Margin,
    MeritOrderMatch,
    PreparedBook,
    TradeColumns,
    mean_price,
    midpoint_price,
)
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
from gridcoop.market.results import ClearingResult, RemainderView, Trade, TradeView
from gridcoop.market.settlement import Delivery, settle_interval
from gridcoop.market.tariffs import Tariff, TimeOfUseTariff

__all__ = [
    "DEFAULT_PRICE_CAP_UEUR_PER_KWH",
    "MAX_ENERGY_WH",
    "MECHANISMS",
    "AggregatorDemand",
    "CallProcessConfig",
    "ClearingResult",
    "Delivery",
    "DuplicateMechanismError",
    "DuplicateOrderError",
    "ExcessSharingError",
    "FlexibleLoad",
    "HierarchicalResult",
    "HouseholdDemand",
    "InvalidAllocationError",
    "InvalidOptionError",
    "InvalidOrderError",
    "InvalidTariffError",
    "LoadGrant",
    "LocalClearing",
    "Margin",
    "MarketError",
    "MeritOrderMatch",
    "MixedIntervalsError",
    "Order",
    "OrderBatch",
    "PreparedBook",
    "PriceCapExceededError",
    "RemainderView",
    "ReserveCallProcess",
    "ReserveClearing",
    "ReserveError",
    "ReserveMarket",
    "ReserveOffer",
    "ReserveRequest",
    "RunningLoad",
    "SharingResult",
    "ShedResult",
    "ShortfallPolicy",
    "Side",
    "Tariff",
    "Template",
    "TimeOfUseTariff",
    "Trade",
    "TradeColumns",
    "TradeView",
    "UnknownMechanismError",
    "clear",
    "clear_central",
    "clear_hierarchical",
    "clear_local",
    "clear_reserve",
    "dispatch_call",
    "get_mechanism",
    "mean_price",
    "mechanism_names",
    "midpoint_price",
    "prepare",
    "register_mechanism",
    "settle_interval",
    "settle_reserve",
    "share_excess",
    "split_largest_remainder",
    "turn_off_in_order",
    "verify_delivery",
]
