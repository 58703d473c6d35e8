"""Checking what a policy returned before any of it is used.

Why here and not in the market: the market refuses a bad order with an order
id; a researcher needs the policy, the member and the field. Every check
raises ``ActionError`` naming the first offending member, before the model
sends an order or records anything on the ledger.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridcoop.agents.behaviour.actions import BatteryActions, BidActions
from gridcoop.agents.behaviour.errors import ActionError
from gridcoop.agents.behaviour.observations import (
    BatteryObservation,
    BidObservation,
    BoolArray,
    FloatArray,
    IntArray,
)


def member_order(policy: str, member_ids: tuple[str, ...],
                 named: tuple[str, ...] | None) -> IntArray | None:
    """Row order that puts ``named`` rows in ``member_ids`` order (None: already in order)."""
    if named is None or tuple(named) == member_ids:
        return None
    index = {m: i for i, m in enumerate(member_ids)}
    for m in named:
        if m not in index:
            raise ActionError(policy, str(m), "member_ids", "not a member of the group it "
                              "decides for")
    if len(set(named)) != len(named) or len(named) != len(member_ids):
        missing = sorted(set(member_ids) - set(named))
        raise ActionError(policy, missing[0] if missing else None, "member_ids",
                          "every member of the group needs exactly one row")
    order = np.empty(len(named), dtype=np.int64)
    order[[index[m] for m in named]] = np.arange(len(named))
    return order


def int_column(policy: str, member_ids: tuple[str, ...], field: str, value: Any,
               low: int | None = None, high: int | None = None) -> IntArray:
    """``value`` as one int64 per member, or an ``ActionError`` naming the first bad one."""
    array = np.asarray(value)
    n = len(member_ids)
    if array.shape != (n,):
        raise ActionError(policy, None, field, f"shape {array.shape}, expected ({n},) "
                          "(one value per member)")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ActionError(policy, member_ids[i], field, f"{array[i]} is not a number")
        frac = array != np.rint(array)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise ActionError(policy, member_ids[i], field,
                              f"{array[i]} is not a whole number (integers only)")
    elif array.dtype.kind not in "iub":
        raise ActionError(policy, None, field, f"dtype {array.dtype} is not numeric")
    ints = array.astype(np.int64)
    for limit, word in ((low, "below"), (high, "above")):
        if limit is None:
            continue
        bad = ints < limit if word == "below" else ints > limit
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "negative" if limit == 0 and word == "below" else f"{word} {limit}"
            raise ActionError(policy, member_ids[i], field, f"{int(ints[i])} is {what}")
    return ints


def bool_column(policy: str, member_ids: tuple[str, ...], field: str, value: Any) -> BoolArray:
    """``value`` as one bool per member (0/1 allowed), or an ``ActionError``."""
    ints = int_column(policy, member_ids, field, value, low=0, high=1)
    return ints.astype(np.bool_)


def validate_bids(policy: str, observation: BidObservation, actions: Any) -> BidActions:
    """The policy's bids as int64 arrays in the observation's member order, checked.

    Quantities must be whole Wh >= 0; a price must be a whole µ€/kWh in
    [0, price cap] where its quantity is not zero.
    """
    if not isinstance(actions, BidActions):
        raise ActionError(policy, None, "actions",
                          f"returned {type(actions).__name__}, expected BidActions")
    ids = observation.member_ids
    order = member_order(policy, ids, actions.member_ids)
    named = ids if order is None else tuple(actions.member_ids or ())
    columns = {}
    for field, value in (("bid_wh", actions.bid_wh), ("offer_wh", actions.offer_wh)):
        columns[field] = int_column(policy, named, field, value, low=0)
    cap = observation.price_cap_u
    for field, qty in (("bid_price_u", "bid_wh"), ("offer_price_u", "offer_wh")):
        prices = int_column(policy, named, field, getattr(actions, field))
        used = columns[qty] > 0
        bad = used & ((prices < 0) | (prices > cap))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = "negative" if prices[i] < 0 else f"above the price cap of {cap} µ€/kWh"
            raise ActionError(policy, named[i], field, f"{int(prices[i])} µ€/kWh is {where}")
        columns[field] = prices  # unused where the quantity is zero
    if order is not None:
        columns = {k: v[order] for k, v in columns.items()}
    return BidActions(columns["bid_wh"], columns["bid_price_u"], columns["offer_wh"],
                      columns["offer_price_u"])


def validate_battery(policy: str, observation: BatteryObservation, actions: Any) -> FloatArray:
    """The policy's setpoints as float kWh in the observation's member order, checked.

    Each must be a finite number within ``[-discharge_limit_kwh, charge_limit_kwh]``
    (no tolerance: the limits are what the battery can do this step).
    """
    if not isinstance(actions, BatteryActions):
        raise ActionError(policy, None, "actions",
                          f"returned {type(actions).__name__}, expected BatteryActions")
    ids = observation.member_ids
    order = member_order(policy, ids, actions.member_ids)
    array = np.asarray(actions.charge_kwh)
    if array.shape != (len(ids),) or array.dtype.kind not in "fiub":
        raise ActionError(policy, None, "charge_kwh", f"shape {array.shape} of "
                          f"{array.dtype}, expected ({len(ids)},) numbers (one per battery)")
    charge = array.astype(np.float64, copy=False)
    if order is not None:
        charge = charge[order]
    fits = (charge <= observation.charge_limit_kwh) & (-charge <= observation.discharge_limit_kwh)
    if fits.all():  # the one check on the hot path (NaN fits neither side)
        return charge
    i = int(np.flatnonzero(~fits)[0])
    if not np.isfinite(charge[i]):
        raise ActionError(policy, ids[i], "charge_kwh", f"{charge[i]} is not a number")
    word, limit = (("charge", observation.charge_limit_kwh[i]) if charge[i] > 0
                   else ("discharge", observation.discharge_limit_kwh[i]))
    raise ActionError(policy, ids[i], "charge_kwh",
                      f"{charge[i]} kWh is beyond the {word} limit of {limit} kWh this step")
