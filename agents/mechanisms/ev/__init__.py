"""The EV community: behaviour, commitments, availability forecasts, V2G and gamification.

Pure numpy building blocks (no Mesa, no bus): the community model wires them
into agents. See README "EV community and spinning reserve".
"""

from gridcoop.agents.mechanisms.ev.capacity import HourlyCapacity, community_capacity, firm_power_kw
from gridcoop.agents.mechanisms.ev.commitments import (
    Commitment,
    CommitmentOutcome,
    CommitmentStatus,
    default_commitments,
    evaluate_commitments,
)
from gridcoop.agents.mechanisms.ev.forecast import (
    ForecastScore,
    NaiveBayesAvailability,
    evaluate_holdout,
    hourly,
    tolerant_labels,
)
from gridcoop.agents.mechanisms.ev.gamification import (
    CommitmentSettlement,
    ForwardedFailure,
    TokenRules,
    hour_weight,
    hour_weights,
    plugged_tokens,
    settle_commitments,
)
from gridcoop.agents.mechanisms.ev.newsletter import (
    MemberWeek,
    WeekSummary,
    render_newsletter,
    week_summary,
)
from gridcoop.agents.mechanisms.ev.profiles import (
    LEAF_24,
    LEAF_30,
    BatterySpec,
    BehaviourProfile,
    EVConfigError,
    Fleet,
    make_fleet,
    pilot_fleet,
    random_fleet,
)
from gridcoop.agents.mechanisms.ev.revenue import ApportionError, apportion, split_revenue
from gridcoop.agents.mechanisms.ev.simulate import (
    FleetHistory,
    SimulationOptions,
    simulate_fleet,
    simulate_trips,
)
from gridcoop.agents.mechanisms.ev.trips import TripTable, generate_trips
from gridcoop.agents.mechanisms.ev.v2g import (
    CallAllocation,
    allocate_call,
    call_limits_kwh,
    v2g_limit_kwh,
)

__all__ = [
    "LEAF_24",
    "LEAF_30",
    "ApportionError",
    "BatterySpec",
    "BehaviourProfile",
    "CallAllocation",
    "Commitment",
    "CommitmentOutcome",
    "CommitmentSettlement",
    "CommitmentStatus",
    "EVConfigError",
    "Fleet",
    "FleetHistory",
    "ForecastScore",
    "ForwardedFailure",
    "HourlyCapacity",
    "MemberWeek",
    "NaiveBayesAvailability",
    "SimulationOptions",
    "TokenRules",
    "TripTable",
    "WeekSummary",
    "allocate_call",
    "apportion",
    "call_limits_kwh",
    "community_capacity",
    "default_commitments",
    "evaluate_commitments",
    "evaluate_holdout",
    "firm_power_kw",
    "generate_trips",
    "hour_weight",
    "hour_weights",
    "hourly",
    "make_fleet",
    "pilot_fleet",
    "plugged_tokens",
    "random_fleet",
    "render_newsletter",
    "settle_commitments",
    "simulate_fleet",
    "simulate_trips",
    "split_revenue",
    "tolerant_labels",
    "v2g_limit_kwh",
    "week_summary",
]
