"""The auction id: one delivery interval's name on the bus and the ledger (``a000042``).

Why a value type: the id is built by the central market and the aggregators and
read back from every message that names an auction; one type holds the format
both ways, so no caller slices or pads strings, and a malformed id is refused
with :class:`AuctionIdError` instead of silently matching no auction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Self

from gridcoop.agents.bus.errors import MalformedMessageError

_PATTERN: Final = re.compile(r"a(\d{6,})")


class AuctionIdError(MalformedMessageError):
    """A text is not an auction id (``a`` and the interval, at least six digits)."""


@dataclass(frozen=True, slots=True, order=True)
class AuctionId:
    """The auction of delivery interval ``interval`` (0 = the run's first market interval)."""

    interval: int

    def __post_init__(self) -> None:
        if self.interval < 0:
            raise AuctionIdError(f"an auction's interval is >= 0, got {self.interval}")

    def __str__(self) -> str:
        return f"a{self.interval:06d}"

    @classmethod
    def parse(cls, text: str) -> Self:
        """The id ``text`` names, or :class:`AuctionIdError` if it is not in the canonical form."""
        found = _PATTERN.fullmatch(text)
        if found is None or (len(found[1]) > 6 and found[1][0] == "0"):
            raise AuctionIdError(f"{text!r} is not an auction id (expected 'a' and at least "
                                 "six digits, e.g. 'a000042')")
        return cls(int(found[1]))
