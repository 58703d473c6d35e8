"""Errors raised by the clearing house.

Every error is a :class:`MarketError`, so a caller can catch the whole family;
each subclass names one thing that went wrong, and its message says what to do.
An operation that raises leaves every batch and the registry unchanged.
"""

from __future__ import annotations


class MarketError(Exception):
    """Base class of every error the market package raises."""


class InvalidOrderError(MarketError, ValueError):
    """An order (or a column of an order batch) has a value the market cannot accept."""


class PriceCapExceededError(InvalidOrderError):
    """An order's limit price is above the market's price cap."""


class MixedIntervalsError(InvalidOrderError):
    """One clearing was given orders for more than one delivery interval."""


class DuplicateOrderError(MarketError, ValueError):
    """Two orders share one ``order_id`` in a book or in one clearing."""


class UnknownMechanismError(MarketError, KeyError):
    """No clearing mechanism is registered under the given name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DuplicateMechanismError(MarketError, ValueError):
    """A mechanism name is registered twice without ``replace=True``."""


class InvalidOptionError(MarketError, TypeError):
    """A clearing option is unknown to the mechanism or has a bad value."""


class InvalidTariffError(MarketError, ValueError):
    """A tariff has a missing, negative or non-finite price, or a bad hour."""


class InvalidAllocationError(MarketError):
    """A clearing mechanism produced trades that break the book's rules.

    Raised by the result builder when a (usually newly registered) mechanism
    over-fills an order, pairs two orders of the same side, or trades a
    non-positive quantity: a bug in that mechanism, never in the caller's input.
    """
