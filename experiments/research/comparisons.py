"""The comparisons of the research experiment: one mechanism, off and on, one scenario.

Why a registry of plain data: the experiment, its CLI and its tests read the
same list, and a new mechanism is one entry. ``switch`` is a scenario
parameter (dotted, as ``gridcoop batch --param`` takes it), ``off``/``on`` its
two values; ``fixed`` are overrides that keep the default run short (the
command's ``--days`` overrides a comparison's days); ``outcomes`` are KPI
columns of the batch results with the direction that is better (or none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Better = Literal["lower", "higher", "none"]


@dataclass(frozen=True)
class Outcome:
    """A KPI of the run's summary, a label for the report and which way is better."""

    kpi: str
    label: str
    better: Better = "none"


@dataclass(frozen=True)
class Comparison:
    """One mechanism switched off and on in one scenario."""

    name: str
    title: str
    question: str
    scenario: str
    switch: str
    off: Any
    on: Any
    outcomes: tuple[Outcome, ...]
    days: int | None = None
    fixed: dict[str, Any] = field(default_factory=dict)


def _ev(**params: float) -> dict[str, Any]:
    """The EV owners' ``incentive_response`` policy; a response at 0 is its incentive off."""
    return {"ev": {"policy": "incentive_response", "params": params}}


EV_OUTCOMES = (Outcome("ev_calls_short", "reserve calls served short", "lower"),
               Outcome("ev_penalty_tokens_total", "penalty tokens taken", "lower"),
               Outcome("ev_replacements_found", "replacements found", "higher"),
               Outcome("ev_reserve_net_revenue_eur", "reserve net revenue, €", "higher"))
NEVER = 3660  # a day no run reaches (the longest scenario): the mechanism is off
BILLS = Outcome("bills_eur_total", "members' bills, € total", "lower")
SAVING = Outcome("mean_saving_eur", "mean saving against grid-only, €", "higher")
LOCAL = Outcome("share_traded_locally", "share of demand traded locally", "higher")

COMPARISONS: dict[str, Comparison] = {c.name: c for c in (
    Comparison(
        "lighting-rankings", "Lighting rankings",
        "does publishing weekly rankings of the most and least sustainable teachers (from "
        "day 28) make classes switch the lights off?",
        "campus-lighting", "rankings_from_day", NEVER, 28,
        (Outcome("lighting_gap_wh", "lighting waste in gaps, Wh", "lower"),
         Outcome("lighting_waste_eur_per_classroom_year", "waste, € per classroom-year",
                 "lower")),
        days=56, fixed={"policies": {"lighting": "ranking_response"}}),
    Comparison(
        "dynamic-prices", "Static vs dynamic prices",
        "do classrooms' bills change when surplus is sold on the local market instead of "
        "to the nearest classroom at a static price?",
        "campus-microgrid", "allocation", "nearest", "market",
        (BILLS, LOCAL, Outcome("community_grid_import_kwh", "grid import, kWh", "lower")),
        days=7),
    Comparison(
        "ev-penalties", "EV penalties for unannounced breaks",
        "do EV owners who face penalties for breaking a commitment unannounced break fewer?",
        "ev-community", "policies", _ev(penalty_response=0.0), _ev(), EV_OUTCOMES, days=42),
    Comparison(
        "ev-tokens", "EV tokens for kept days (gamification)",
        "do owners on a streak of token-earning days keep their routine more often?",
        "ev-community", "policies", _ev(token_response=0.0), _ev(), EV_OUTCOMES, days=42),
    Comparison(
        "ev-replacements", "EV warnings and replacements",
        "do owners warn more when a warned change is handed to a replacement without penalty?",
        "ev-community", "policies", _ev(replacement_response=0.0), _ev(), EV_OUTCOMES,
        days=42),
    Comparison(
        "dr-rewards", "DR rewards",
        "do token rewards for complying change how often households follow DR commands?",
        "dr-community", "reward_tokens_per_wh", 0, 1,
        (Outcome("dr_compliance_rate", "compliance rate", "higher"),
         Outcome("dr_opt_in_rate", "opt-in rate", "higher"),
         Outcome("dr_shed_kwh", "load shed, kWh", "higher")),
        days=7, fixed={"policies": {"dr": "incentive_response"}}),
    Comparison(
        "learning-bidder", "Learning bidders vs fixed shares",
        "do prosumers that learn their limit prices (Roth-Erev) save more than ones that "
        "price at fixed shares of the tariff spread?",
        "neighbourhood", "policies", {"bidding": {"prosumer": "tariff_share"}},
        {"bidding": {"prosumer": "roth_erev"}},
        (SAVING, LOCAL, Outcome("mean_local_price_eur_per_kwh", "mean local price, €/kWh")),
        days=7, fixed={"households": 40, "regions": 2}),
)}
"""Every built-in comparison by name, in report order."""


def arm(comparison: Comparison, value: Any) -> str:
    """``"off"`` or ``"on"`` for a swept value of ``comparison.switch``."""
    return "on" if value == comparison.on else "off"
