"""The columns a message was built from, for a receiver in the same process to take back.

Why: the bus hands a receiver in the sender's process the very message object the
sender built (it encodes nothing for it). Rebuilding node numbers from a list of
participant ids, one dictionary look-up each, would only recover the columns the
sender built the message from; so the builder leaves them here, under the message,
and the receiver takes them when the object it got is that message and every node
in them is one its index accepts. A message from another process is another object
and is parsed. An entry lives as long as its message (a weak reference).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from numpy.typing import NDArray

from gridcoop.units import IntArray

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class NodeIndex:
    """Node numbers of the participants ``node_ids[start:stop]``; any other id is unknown."""

    node_ids: tuple[str, ...]
    start: int
    stop: int
    by_id: dict[str, int]

    @staticmethod
    def of(node_ids: tuple[str, ...], nodes: slice | None = None) -> NodeIndex:
        start, stop = (0, len(node_ids)) if nodes is None else (nodes.start, nodes.stop)
        return NodeIndex(node_ids, start, stop, {node_ids[i]: i for i in range(start, stop)})

    def __getitem__(self, participant: str) -> int:
        """``KeyError`` for a participant this index does not hold."""
        return self.by_id[participant]

    def holds(self, node_ids: tuple[str, ...], *nodes: IntArray) -> bool:
        """Whether columns numbered by ``node_ids`` name only nodes this index holds."""
        if node_ids is not self.node_ids:
            return False
        return all(not n.size or (self.start <= int(n.min()) and int(n.max()) < self.stop)
                   for n in nodes)


class Handed(Generic[C]):
    """Columns by the message built from them, while that message lives.

    ``arrays`` gives every array of a set of columns, ``nodes`` those holding node numbers.
    """

    def __init__(self, arrays: Callable[[C], tuple[NDArray[Any], ...]],
                 nodes: Callable[[C], tuple[IntArray, ...]]) -> None:
        self._arrays = arrays
        self._nodes = nodes
        self._by_message: dict[int, tuple[weakref.ref[Any], tuple[str, ...], C]] = {}

    def keep(self, message: Any, node_ids: tuple[str, ...], columns: C) -> None:
        """Remember ``columns`` (numbered by ``node_ids``) as what ``message`` holds. Their
        arrays become read-only: sender and receiver share them, so an in-place write
        raises instead of changing the other's."""
        for array in self._arrays(columns):
            array.setflags(write=False)
        key = id(message)
        table = self._by_message
        table[key] = (weakref.ref(message, lambda _: table.pop(key, None)), node_ids, columns)

    def take(self, message: Any, index: NodeIndex) -> C | None:
        """The columns ``message`` was built from, if it is that object and ``index`` holds
        every node they name; else None (parse the message)."""
        entry = self._by_message.get(id(message))
        if entry is None or entry[0]() is not message:
            return None
        _, node_ids, columns = entry
        return columns if index.holds(node_ids, *self._nodes(columns)) else None

