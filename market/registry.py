"""The registry of clearing mechanisms, keyed by the names scenario files use.

A mechanism is a pure function ``(book: PreparedBook, **options) -> ClearingResult``;
``register_mechanism("name")`` adds one. See the README section on the market
for a worked example.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from gridcoop.market.errors import (
    DuplicateMechanismError,
    InvalidOptionError,
    UnknownMechanismError,
)
from gridcoop.market.prepared import PreparedBook
from gridcoop.market.results import ClearingResult

Mechanism = Callable[..., ClearingResult]
M = TypeVar("M", bound=Mechanism)

_MECHANISMS: dict[str, Mechanism] = {}
_SIGNATURES: dict[str, inspect.Signature] = {}
_CROSSING_ONLY: set[str] = set()

#: Read-only view of the registered mechanisms (name -> function).
MECHANISMS: Mapping[str, Mechanism] = MappingProxyType(_MECHANISMS)


def register_mechanism(name: str, *, replace: bool = False,
                       crossing_only: bool = False) -> Callable[[M], M]:
    """Decorator: register ``fn(book, **options) -> ClearingResult`` under ``name``.

    Registering a taken name raises :class:`DuplicateMechanismError` unless
    ``replace=True`` (for deliberate overrides in experiments). ``crossing_only``
    declares that the mechanism trades only a bid and an offer whose prices cross
    (as every merit-order match does), so a book whose best bid is below its best
    offer need not be cleared at all.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidOptionError(
            f"mechanism name must be an identifier such as 'pay_as_clear', got {name!r}"
        )

    def decorate(fn: M) -> M:
        if name in _MECHANISMS and not replace:
            raise DuplicateMechanismError(
                f"a clearing mechanism named {name!r} is already registered; "
                f"pick another name or pass replace=True"
            )
        signature = inspect.signature(fn)
        if not signature.parameters:
            raise InvalidOptionError(
                f"mechanism {name!r} must take the prepared book as its first argument"
            )
        _MECHANISMS[name] = fn
        _SIGNATURES[name] = signature
        if crossing_only:
            _CROSSING_ONLY.add(name)
        else:
            _CROSSING_ONLY.discard(name)
        return fn

    return decorate


def mechanism_names() -> tuple[str, ...]:
    """Registered mechanism names, sorted."""
    return tuple(sorted(_MECHANISMS))


def is_crossing_only(name: str) -> bool:
    """Whether mechanism ``name`` was registered as trading only crossing prices."""
    return name in _CROSSING_ONLY


def get_mechanism(name: str) -> Mechanism:
    """The mechanism registered under ``name``; :class:`UnknownMechanismError` if none."""
    try:
        return _MECHANISMS[name]
    except (KeyError, TypeError):
        known = ", ".join(mechanism_names())
        raise UnknownMechanismError(
            f"no clearing mechanism named {name!r}; registered mechanisms: {known}"
        ) from None


def check_options(name: str, options: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidOptionError` when ``options`` do not fit the mechanism."""
    get_mechanism(name)
    signature = _SIGNATURES[name]
    try:
        signature.bind(None, **options)
    except TypeError as exc:
        accepted = [p for p in list(signature.parameters)[1:]]
        raise InvalidOptionError(
            f"mechanism {name!r} does not accept options {sorted(options)} ({exc}); "
            f"its options are: {', '.join(accepted) or 'none'}"
        ) from None


def run_mechanism(name: str, book: PreparedBook, options: Mapping[str, Any]) -> ClearingResult:
    """Run a registered mechanism on a prepared book."""
    check_options(name, options)
    return run_checked(name, book, options)


def run_checked(name: str, book: PreparedBook, options: Mapping[str, Any]) -> ClearingResult:
    """Run a mechanism whose ``options`` the caller has just checked (:func:`check_options`)."""
    return _MECHANISMS[name](book, **options)
