"""Every scenario parameter's meaning and unit, as ``gridcoop scenarios NAME`` shows them.

Why a table here and not in the schema: the schema (``gridcoop.agents.scenario``)
says what is valid; this says what a value means to a person choosing it.
``tests/experiments/test_scenario_parameters.py`` fails when a parameter of
any built-in scenario has no entry, or an entry names no parameter, so the
two cannot drift apart. Units: ``-`` for a plain number or a name, ``share``
for a fraction 0-1.
"""

from __future__ import annotations

from typing import NamedTuple


class ParameterDoc(NamedTuple):
    """What one parameter means and the unit of its value."""

    unit: str
    meaning: str


P = ParameterDoc

COMMON: dict[str, ParameterDoc] = {
    "name": P("-", "the scenario's name, used in outputs (summary.json, the default --out)"),
    "description": P("-", "one line saying what the scenario shows"),
    "kind": P("-", "the scenario kind: which population and mechanisms the model builds"),
    "days": P("days", "simulated days"),
    "seed": P("-", "seed of every random stream (same seed, same results)"),
    "metering_minutes": P("min", "metering interval: how often every meter is read"),
    "market_minutes": P("min", "market interval: one auction per delivery interval"),
    "mechanism": P("-", "clearing rule of the auctions (pay_as_clear, average_bid, ...)"),
    "mechanism_options": P("-", "options of the clearing rule, e.g. {bids: all} for average_bid"),
    "signing": P("-", "ledger signing: 'full' signs every transaction, 'block' each block"),
    "start_day_of_year": P("day", "day of the year the run starts (1 = 1 January)"),
    "start_weekday": P("-", "weekday of the first day (0 = Monday)"),
    "forecast_error": P("share", "relative error of the members' next-interval forecasts"),
    "feeder_capacity_kw": P("kW", "a region's feeder limit; intervals above it are counted"),
    "initial_balance_eur": P("€", "each member's starting money balance on the ledger"),
    "consensus": P("-", "neighbouring meters attest exports before settlement (none: off); "
                   "quorum, neighbours, tolerance_wh, tolerance_ppm, noise_ppm, liars, "
                   "liar_share, over_report_ppm"),
    "base_dir": P("path", "folder that relative file paths are read from (the file's own)"),
    "meters.default": P("-", "meters not listed in meters.sources are simulated"),
    "meters.sources": P("-", "meters read through hardware (serial, ChirpStack, TTN)"),
    "tariffs.peak_eur_per_kwh": P("€/kWh", "grid retail price in the peak period"),
    "tariffs.off_peak_eur_per_kwh": P("€/kWh", "grid retail price outside the peak period"),
    "tariffs.peak_start_hour": P("h", "hour the peak period starts"),
    "tariffs.peak_end_hour": P("h", "hour the peak period ends"),
    "tariffs.retail_eur_per_kwh_by_hour": P("€/kWh", "24 hourly retail prices (replace the "
                                                     "two periods when given)"),
    "tariffs.feed_in_eur_per_kwh": P("€/kWh", "what the grid pays for exported energy"),
    "tariffs.grid_fee_eur_per_kwh": P("€/kWh", "fee per kWh traded locally"),
    "strategy.kind": P("-", "how members price orders: zero_intelligence or fixed"),
    "strategy.seller_share": P("share", "range of sellers' markups across the spread "
                                        "feed-in → retail"),
    "strategy.buyer_share": P("share", "range of buyers' limits across the spread"),
    "strategy.fixed_share": P("share", "everyone's price with the fixed strategy"),
    "strategy.jitter": P("share", "random change of a member's price per auction"),
    "strategy.min_order_kwh": P("kWh", "orders smaller than this are not placed"),
    "strategy.quantity_share": P("share", "part of the forecast that is ordered"),
    "policies.bidding": P("-", "per member group, the policy that prices its orders "
                               "(empty: the built-in strategy)"),
    "policies.battery": P("-", "the policy that runs home batteries (empty: the default)"),
    "policies.ev": P("-", "the policy EV owners follow (empty: the default)"),
    "policies.dr": P("-", "the policy DR households answer events with (empty: the default)"),
    "policies.lighting": P("-", "the policy for switching classroom lights (empty: the "
                                "default)"),
}

HOUSEHOLDS: dict[str, ParameterDoc] = {
    "households": P("households", "homes in the community"),
    "regions": P("regions", "aggregator regions (feeders) the homes are split into"),
    "mix.prosumer": P("share", "homes with solar panels (and maybe a battery)"),
    "mix.ev_owner": P("share", "homes with an electric vehicle"),
    "mix.dr_household": P("share", "homes taking part in demand response"),
    "annual_load_kwh": P("kWh/year", "mean yearly consumption of a home"),
    "annual_load_sd": P("share", "spread of yearly consumption between homes"),
    "dr_base_load_share": P("share", "part of a DR home's load that cannot be shifted"),
    "prosumer.pv_kwp_min": P("kWp", "smallest solar installation"),
    "prosumer.pv_kwp_max": P("kWp", "largest solar installation"),
    "prosumer.battery_share": P("share", "prosumers with a home battery"),
    "prosumer.battery_kwh": P("kWh", "home battery capacity"),
    "prosumer.battery_kw": P("kW", "home battery charge and discharge power"),
    "prosumer.battery_round_trip": P("share", "energy a battery gives back per kWh stored"),
    "ev.leaf24_share": P("share", "EVs with a 24 kWh battery (the rest 30 kWh)"),
    "ev.profile_shares": P("share", "shares of driving profiles 1-4"),
    "ev.charger_kw": P("kW", "home charger power"),
    "pv_profile_csv": P("path", "measured solar profile (hour,value); empty: built-in"),
    "load_profile_csv": P("path", "measured load profile (hour,value); empty: built-in"),
}

EV_COMMUNITY: dict[str, ParameterDoc] = {
    f"ev_community.{key}": doc for key, doc in {
        "fleet": P("-", "pilot: the pilot's seven owners; random: drawn from the ev shares"),
        "step_minutes": P("min", "time step of the EV simulation"),
        "warmup_days": P("days", "history simulated before the run to train the forecaster"),
        "retrain_every_days": P("days", "how often the availability forecaster is retrained"),
        "change_rate": P("share", "chance an owner changes a planned trip"),
        "warn_probability": P("share", "chance an owner warns before breaking a commitment"),
        "margin_kwh": P("kWh", "energy kept above the next trip's need"),
        "committed_kwh": P("kWh", "energy an owner commits to the reserve"),
        "confidence": P("share", "probability the firm capacity is really there"),
        "offer_share": P("share", "part of the firm capacity offered each hour"),
        "price_eur_per_mw_day": P("€/MW/day", "availability price of the reserve offer"),
        "max_price_eur_per_mw_day": P("€/MW/day", "price cap of the reserve market"),
        "request_kw": P("kW", "reserve the grid asks of each community"),
        "pricing": P("-", "reserve market rule: pay-as-bid or pay-as-clear"),
        "calls_per_year": P("calls/year", "expected reserve calls"),
        "max_calls_per_year": P("calls/year", "most reserve calls allowed"),
        "mean_call_minutes": P("min", "mean length of a reserve call"),
        "penalty_eur_per_mwh": P("€/MWh", "penalty for reserve energy not delivered"),
        "tolerance": P("share", "shortfall tolerated before a penalty"),
        "break_threshold": P("share", "share of a commitment that counts as kept"),
        "min_replacement_probability": P("share", "chance needed to accept a replacement"),
        "base_tokens_per_hour": P("tokens/h", "tokens per committed hour"),
        "critical_factor": P("×", "token multiplier in critical periods"),
        "critical_periods": P("h", "auto: the warm-up's lowest-quarter hours of plugged-in "
                                   "battery; or [start, end) pairs"),
        "unlimited_charger_power": P("-", "pilot: a plugged EV is full at once; false: the "
                                          "charger's power"),
        "plug_whenever_parked": P("-", "pilot: every stay plugged from arrival; false: the "
                                       "profile's plug-in chance and delay"),
        "efficiency": P("share", "one-way charging and V2G efficiency (1: no losses)"),
        "capacity_fade_per_year": P("share/year", "usable capacity lost per year, linear "
                                                  "(0: constant)"),
        "chargers_per_community": P("chargers", "chargers each community shares, first come "
                                                "first served (null: one per EV, no queue)"),
        "abuse_contact": P("-", "who members contact about unfair treatment"),
        "communities": P("-", "location communities by connected hours (null: one per region, "
                              "every hour): name, periods ([start, end) hours or rest), days "
                              "(all, weekdays, weekend), critical_periods"),
    }.items()
}

DR_COMMUNITY: dict[str, ParameterDoc] = {
    "layout": P("-", "pilot: the pilot's households; random: drawn from the appliance table"),
    "dr_households": P("households", "DR households (random layout)"),
    "aggregators": P("aggregators", "aggregators the households are split into"),
    "ev_share": P("share", "DR households with an EV (random layout)"),
    "opt_out_probability": P("share", "chance a household opts out of an event"),
    "override_probability": P("share", "chance a household overrides a command"),
    "plant_kw": P("kW", "renewable plant's peak power"),
    "production_events_per_day": P("events/day", "bursts of plant production per day"),
    "production_event_hours": P("h", "range of a production burst's length"),
    "dr_period_minutes": P("min", "how often the plant's excess is shared"),
    "min_excess_kw": P("kW", "smallest excess worth a dispatch"),
    "simple_events_per_day": P("events/day", "utility SIMPLE events (levels 1-3) per day"),
    "peak_hours": P("h", "evening peak the SIMPLE events fall in, [start, end)"),
    "tolerance_pct": P("%", "deviation from a commitment still counted as compliant"),
    "reward_tokens_per_wh": P("tokens/Wh", "tokens for each Wh of honoured commitment"),
    "penalty_tokens_per_wh": P("tokens/Wh", "tokens taken for each Wh not honoured"),
    "token_value_eur_u": P("µ€/token", "money value of one DR token"),
}

CAMPUS: dict[str, ParameterDoc] = {
    "classrooms": P("classrooms", "classrooms along the hallway"),
    "panels_per_classroom": P("panels", "solar panels on each classroom"),
    "panel_w": P("W", "peak power of one panel"),
    "lighting_w": P("W", "a classroom's lighting load"),
    "occupancy": P("share", "share of hours (random) or timetable slots a classroom is in use"),
    "occupancy_model": P("-", "random: occupied or not, drawn every block of every day (the "
                              "pilot's reading); timetable: a weekly timetable of classes"),
    "occupancy_block_minutes": P("min", "length of one random occupancy draw"),
    "tie_break": P("-", "at equal distance, next: the higher-numbered room first; previous: "
                        "the lower; split: next_share to the higher, the rest to the lower"),
    "next_share": P("share", "with tie_break split, the share offered to the higher-numbered room"),
    "source_order": P("-", "which classroom's surplus is routed first: up (classroom 1 first) "
                           "or down (the hallway's last classroom first)"),
    "max_hops": P("rooms", "farthest a classroom's surplus travels (null: the whole hallway)"),
    "timetable": P("-", "weekly classes (classroom, weekday, start_h, end_h); empty: drawn"),
    "allocation": P("-", "nearest: surplus to the nearest classroom; market: auctions"),
    "transfer_price_eur_per_kwh": P("€/kWh", "price of energy passed between classrooms"),
    "students": P("people", "students holding cards"),
    "teachers": P("people", "teachers holding cards"),
    "class_size_mean": P("people", "mean class size"),
    "absence_mean": P("share", "mean share of a class absent"),
    "early_leave": P("share", "chance a person leaves before the class ends"),
    "hvac_w": P("W", "a classroom's HVAC load while a class is held"),
    "person_w": P("W", "load per person present"),
    "standby_w": P("W", "a classroom's load when empty"),
    "lights_on_h": P("h", "hour security switches the classroom lights on, each day with "
                          "classes (campus-lighting: 16.25, the pilot's 16:15)"),
    "lights_off_h": P("h", "hour security switches unoccupied classrooms' lights off (none: "
                           "nobody does, lights burn until a class switches them off)"),
    "p_switch_off": P("share", "chance the last person switches the lights off"),
    "price_eur_per_kwh": P("€/kWh", "price of wasted and footprint energy"),
    "card_csv": P("path", "card-reader log; empty: simulated"),
    "top": P("rows", "entries in the ranking reports"),
    "rankings_from_day": P("day", "day the weekly rankings start being published (none: never)"),
}

MARKET_ONLY: dict[str, ParameterDoc] = {
    "buyers_csv": P("path", "buyers: hour, participant, quantity_kwh, price_eur_per_kwh"),
    "sellers_csv": P("path", "sellers: hour, participant, quantity_kwh, price_eur_per_kwh"),
}

PARAMETERS: dict[str, ParameterDoc] = {**COMMON, **HOUSEHOLDS, **EV_COMMUNITY, **DR_COMMUNITY,
                                       **CAMPUS, **MARKET_ONLY}
"""Every scenario parameter by its dotted name."""


def parameter_doc(key: str) -> ParameterDoc | None:
    """The meaning and unit of a dotted parameter name, or of the group it belongs to
    (``policies.bidding.prosumer.policy`` is documented by ``policies.bidding``)."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        doc = PARAMETERS.get(".".join(parts[:end]))
        if doc is not None:
            return doc
    return None


def describe_line(key: str, value: object) -> str:
    """``key = value [unit]  meaning``, one line of ``gridcoop scenarios NAME``."""
    doc = parameter_doc(key)
    if doc is None:
        return f"{key} = {value}"
    unit = "" if doc.unit == "-" else f" [{doc.unit}]"
    return f"{key} = {value}{unit}  ({doc.meaning})"
