"""Balance moves with their checks: the building blocks of the rules.

Why separate: every rule that moves money or tokens checks the payer's funds
and the payee's headroom before it changes anything, in the same way; keeping
these few functions together keeps that order in one place.
"""

from __future__ import annotations

from gridcoop.ledger.codec import INT64_MAX
from gridcoop.ledger.errors import (
    AmountOverflowError,
    InsufficientFundsError,
    MalformedTransactionError,
    UnknownMemberError,
)
from gridcoop.ledger.state import State
from gridcoop.ledger.transactions import GRID_ACCOUNT


def known(state: State, account: str, what: str) -> None:
    if account not in state.members:
        raise UnknownMemberError(f"{what} {account} is not registered; register it first")


def positive(value: int, what: str) -> None:
    if value <= 0:
        raise MalformedTransactionError(f"{what} must be positive, got {value}")


def need(state: State, account: str, asset: str, amount: int) -> int:
    have = state.balances.get((account, asset), 0)
    if have < amount:
        raise InsufficientFundsError(f"account {account} holds {have} {asset}, needs {amount}; "
                                     "the balance may not go negative")
    return have


def room(state: State, account: str, asset: str, amount: int) -> int:
    have = state.balances.get((account, asset), 0)
    if have + amount > INT64_MAX:
        raise AmountOverflowError(f"crediting {amount} {asset} to {account} would exceed 2**63-1")
    return have


def credit(state: State, account: str, asset: str, amount: int) -> None:
    if amount:
        key = (account, asset)
        state.put(state.balances, key, state.balances.get(key, 0) + amount)


def move(state: State, payer: str, payee: str, asset: str, amount: int) -> None:
    """Check both sides, then move ``amount`` from payer to payee."""
    have = need(state, payer, asset, amount)
    room(state, payee, asset, amount)
    state.put(state.balances, (payer, asset), have - amount)
    credit(state, payee, asset, amount)


def issue(state: State, to: str, asset: str, amount: int) -> None:
    supply = state.supply.get(asset, 0)
    if supply + amount > INT64_MAX:
        raise AmountOverflowError(f"issuing {amount} {asset} would exceed 2**63-1 in supply")
    room(state, to, asset, amount)
    state.put(state.supply, asset, supply + amount)
    credit(state, to, asset, amount)


def grid_pays(state: State, account: str, amount: int) -> None:
    """Feed-in: the grid account pays ``account`` (it may go into debt, within int64)."""
    grid = state.balances.get((GRID_ACCOUNT, "eur_u"), 0)
    if grid - amount < -INT64_MAX:
        raise AmountOverflowError("the grid account's debt would exceed 2**63-1 eur_u")
    room(state, account, "eur_u", amount)
    state.put(state.balances, (GRID_ACCOUNT, "eur_u"), grid - amount)
    credit(state, account, "eur_u", amount)
