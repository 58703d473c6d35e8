"""One compared result: the published figure, gridcoop's over seeds, and the verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class Row:
    """A published result and the same statistic from gridcoop's runs (one value per seed).

    ``tolerance`` is relative: the row matches when the published value lies within
    the seeds' range widened by it. A published bound (``compare="at_least"``, e.g.
    "always above 35 kW") matches when every seed reaches it. ``why`` says what
    differs when it does not, or how gridcoop reads an ambiguous figure.
    """

    case: str
    result: str
    unit: str
    published: float | None
    values: tuple[float, ...]
    tolerance: float = 0.15
    why: str = ""
    compare: Literal["within", "at_least"] = "within"

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else float("nan")

    @property
    def low(self) -> float:
        return float(np.min(self.values)) if self.values else float("nan")

    @property
    def high(self) -> float:
        return float(np.max(self.values)) if self.values else float("nan")

    @property
    def verdict(self) -> str:
        """``match``, ``differs`` or ``not published`` (gridcoop's figure shown alone)."""
        if self.published is None:
            return "not published"
        slack = abs(self.published) * self.tolerance
        if self.compare == "at_least":
            return "match" if self.low >= self.published - slack else "differs"
        inside = self.low - slack <= self.published <= self.high + slack
        return "match" if inside else "differs"


def make_row(case: str, result: str, unit: str, published: float | None,
             values: Sequence[float], *, tolerance: float = 0.15, why: str = "",
             compare: Literal["within", "at_least"] = "within") -> Row:
    """A row from any sequence of per-seed values."""
    return Row(case, result, unit, published, tuple(float(v) for v in values), tolerance, why,
               compare)
