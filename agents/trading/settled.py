"""The settled trades a run keeps for its outputs, in as few bytes as they fit.

Why a type of its own: a run keeps every settled trade until it writes its
tables, and a week of 100,000 + 100,000 traders settles about 20 million.
The outputs need each trade's id, its two members, contracted and delivered
Wh and its price, not the order ids behind it (those are on the ledger), so
only those are kept: the ids packed in one bytes array, member positions as
32-bit integers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.trading.book import Trades
from gridcoop.units import IntArray

PositionArray = NDArray[np.int32]


class PackedIds(Sequence[str]):
    """Ids packed in one fixed-width bytes array (UTF-8), read back as strings.

    Three Python strings per trade took gigabytes where their bytes take a few
    hundred megabytes. numpy drops trailing NUL characters, which no gridcoop
    id has.
    """

    __slots__ = ("_packed",)

    def __init__(self, ids: Sequence[str]) -> None:
        self._packed = np.array([i.encode() for i in ids], dtype=np.bytes_) if len(ids) \
            else np.zeros(0, dtype="S1")

    def __len__(self) -> int:
        return len(self._packed)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [b.decode() for b in self._packed[index].tolist()]
        return bytes(self._packed[index]).decode()

    def __iter__(self) -> Iterator[str]:
        """All ids at once (the default reads them one ``__getitem__`` at a time)."""
        return iter(self[:])


@dataclass(frozen=True, slots=True)
class SettledTrades:
    """One delivery interval's settled trades: what the run's tables and plots read."""

    trade_ids: PackedIds
    buyer: PositionArray
    seller: PositionArray
    energy_wh: IntArray
    price_u: IntArray

    def __len__(self) -> int:
        return len(self.trade_ids)

    @classmethod
    def keep(cls, trades: Trades) -> SettledTrades:
        """The part of ``trades`` worth keeping to the end of the run."""
        return cls(PackedIds(trades.trade_ids), trades.buyer.astype(np.int32),
                   trades.seller.astype(np.int32), trades.energy_wh, trades.price_u)
