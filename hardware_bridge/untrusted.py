"""The boundary every network-server message crosses: any input, a value or our own error.

Why a decorator around each parser: anyone who can publish on the broker can
send anything, and a message is read field by field in many small steps. Each
step validates what it needs, but a shape nobody anticipated (a number where a
list was expected, a 200k-deep array, an integer too large for a float) must
still end as ``MalformedMessageError`` for that one message, never as a
traceback that stops the bridge or an exception type its callers do not catch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from gridcoop.hardware_bridge.errors import BridgeError, MalformedMessageError

P = ParamSpec("P")
R = TypeVar("R")


def refuses_junk(parse: Callable[P, R]) -> Callable[P, R]:
    """``parse``, with any low-level failure on hostile input turned into
    ``MalformedMessageError`` (the project's own errors pass through unchanged)."""

    @functools.wraps(parse)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return parse(*args, **kwargs)
        except BridgeError:
            raise
        except (ValueError, TypeError, OverflowError, RecursionError, UnicodeError) as exc:
            detail = str(exc)[:200] if not isinstance(exc, RecursionError) else "nested too deep"
            raise MalformedMessageError(
                f"{parse.__name__}: unreadable message ({type(exc).__name__}: {detail})"
            ) from None

    return guarded


def string_list(value: object) -> list[str]:
    """The strings of a JSON list (correlation ids and the like); anything else is empty."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]
