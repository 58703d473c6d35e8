"""Market-only traders: hourly quantities and limit prices from CSV files, no physics.

Why as a "physics": the meters, settlement and KPIs then treat CSV traders like
any node (a buyer consumes its quantity, a seller produces it, spread evenly
over the interval), so results compare one-to-one with other market simulators
fed the same CSVs.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridcoop.agents.physics.clock import SimClock
from gridcoop.agents.physics.flows import Flows, balance
from gridcoop.units import IntArray, counter_wh

FloatArray = NDArray[np.float64]

CSV_COLUMNS = ("hour", "participant", "quantity_kwh", "price_eur_per_kwh")


class TraderCsvError(ValueError):
    """A market-only CSV that cannot be read; the message names file, line and column."""


@dataclass(frozen=True, slots=True)
class TraderTable:
    """Quantities and limit prices per (market interval, participant) for buyers and sellers."""

    participants: tuple[str, ...]
    buy_kwh: FloatArray  # (intervals, participants)
    buy_price: FloatArray
    sell_kwh: FloatArray
    sell_price: FloatArray

    @property
    def intervals(self) -> int:
        return int(self.buy_kwh.shape[0])


def _read_rows(path: Path) -> list[tuple[int, str, float, float]]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise TraderCsvError(f"cannot open {path}: {exc.strerror}; check the path") from None
    rows = []
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise TraderCsvError(
                f"{path}: missing column(s) {', '.join(missing)}; the header "
                f"must be {','.join(CSV_COLUMNS)}"
            )
        for line, row in enumerate(reader, start=2):
            try:
                hour = int(row["hour"])
                quantity = float(row["quantity_kwh"])
                price = float(row["price_eur_per_kwh"])
            except (TypeError, ValueError):
                raise TraderCsvError(
                    f"{path}:{line}: hour must be an integer and quantity_kwh, "
                    f"price_eur_per_kwh numbers, got {dict(row)}"
                ) from None
            who = (row["participant"] or "").strip()
            if (
                hour < 0
                or quantity < 0
                or price < 0
                or not who
                or not np.isfinite([quantity, price]).all()
            ):
                raise TraderCsvError(
                    f"{path}:{line}: need hour >= 0, a participant name, "
                    f"quantity_kwh >= 0 and price_eur_per_kwh >= 0"
                )
            rows.append((hour, who, quantity, price))
    return rows


@dataclass(frozen=True, slots=True)
class _Columns:
    hour: IntArray
    names: list[str]  # participant names, each once
    who: IntArray  # each row's index into ``names``
    kwh: FloatArray
    price: FloatArray


_EXACT_FLOATS: dict[str, Any] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"})
"""pandas 3 parses floats exactly by default (and deprecates the option); pandas 2's default
parser misreads the last bit of about a third of random values, its round-trip one does not."""


def _read_columns(path: Path) -> _Columns | None:
    """The CSV as arrays, when every row is valid and no (hour, participant) repeats;
    None otherwise, and the row-by-row reader then decides (and names the bad line).

    Why: 100,000 traders x 7 days are 16.8 million rows per file; as Python tuples
    they take gigabytes, as columns (names once, as categories) a few hundred MB.
    Every value is read as ``float()`` reads it (``_EXACT_FLOATS``).
    """
    try:
        frame = pd.read_csv(path, usecols=list(CSV_COLUMNS), encoding="utf-8", na_filter=False,
                            **_EXACT_FLOATS,
                            dtype={"hour": np.int64, "participant": "category",
                                   "quantity_kwh": np.float64, "price_eur_per_kwh": np.float64})
    except (OSError, ValueError, UnicodeError, pd.errors.ParserError):
        return None
    stripped = [str(name).strip() for name in frame["participant"].cat.categories]
    hour = frame["hour"].to_numpy(np.int64)
    kwh, price = (frame[c].to_numpy(np.float64) for c in CSV_COLUMNS[2:])
    if not len(frame) or not all(stripped) or (hour < 0).any() or \
            not (np.isfinite(kwh) & np.isfinite(price) & (kwh >= 0) & (price >= 0)).all():
        return None
    names, remap = np.unique(np.array(stripped, dtype=object), return_inverse=True)
    who = remap[frame["participant"].cat.codes.to_numpy()]
    if len(np.unique(hour * len(names) + who)) != len(hour):
        return None
    return _Columns(hour, [str(n) for n in names], who.astype(np.int64), kwh, price)


def load_trader_table(buyers_csv: Path, sellers_csv: Path) -> TraderTable:
    """Read both CSVs; a participant may appear in both (it then buys and sells)."""
    buyers_columns, sellers_columns = _read_columns(buyers_csv), _read_columns(sellers_csv)
    if buyers_columns is None or sellers_columns is None:
        return _table_from_rows(buyers_csv, sellers_csv)
    sides = (buyers_columns, sellers_columns)
    names = tuple(sorted(set(buyers_columns.names) | set(sellers_columns.names)))
    column = {name: i for i, name in enumerate(names)}
    intervals = max(int(side.hour.max()) for side in sides) + 1
    tables = [np.zeros((intervals, len(names))) for _ in range(4)]
    for side, (qty, price) in zip(sides, (tables[:2], tables[2:]), strict=True):
        columns = np.array([column[name] for name in side.names], dtype=np.int64)[side.who]
        qty[side.hour, columns] = side.kwh
        price[side.hour, columns] = side.price
    return TraderTable(names, *tables)


def _table_from_rows(buyers_csv: Path, sellers_csv: Path) -> TraderTable:
    """Row by row: finds and names the first bad line, and merges rows the way it always has
    (a row may follow one of zero quantity for the same participant and hour)."""
    buyers, sellers = _read_rows(buyers_csv), _read_rows(sellers_csv)
    names = tuple(sorted({r[1] for r in buyers} | {r[1] for r in sellers}))
    if not names:
        raise TraderCsvError(f"{buyers_csv} and {sellers_csv} hold no rows; add some traders")
    column = {name: i for i, name in enumerate(names)}
    intervals = max(r[0] for r in buyers + sellers) + 1
    tables = [np.zeros((intervals, len(names))) for _ in range(4)]
    for rows, (qty, price), path in (
        (buyers, tables[:2], buyers_csv),
        (sellers, tables[2:], sellers_csv),
    ):
        for hour, who, quantity, limit in rows:
            if qty[hour, column[who]]:
                raise TraderCsvError(
                    f"{path}: participant {who!r} has two rows for hour {hour}; merge them"
                )
            qty[hour, column[who]] = quantity
            price[hour, column[who]] = limit
    return TraderTable(names, *tables)


class TraderPhysics:
    """Buyers consume and sellers produce their CSV quantity, evenly over the interval."""

    def __init__(self, table: TraderTable, clock: SimClock) -> None:
        self.table = table
        self.clock = clock
        self.n = len(table.participants)
        zero = np.zeros((1, self.n))
        self._counted_wh = tuple(np.concatenate([zero, np.cumsum(kwh * 1000, axis=0)])
                                 for kwh in (table.buy_kwh, table.sell_kwh))

    @property
    def size(self) -> int:
        return self.n

    def _row(self, market: int, which: FloatArray) -> FloatArray:
        if market >= self.table.intervals:
            return np.zeros(self.n)
        row: FloatArray = which[market]
        return row

    def step(self, step: int) -> Flows:
        market = self.clock.market_of(step)
        share = 1.0 / self.clock.steps_per_market
        produced = self._row(market, self.table.sell_kwh) * share
        consumed = self._row(market, self.table.buy_kwh) * share
        zero = np.zeros(self.n)
        return balance(produced, consumed, zero, zero)

    def forecast_import_kwh(self, market: int) -> FloatArray:
        return self._row(market, self.table.buy_kwh) - self._row(market, self.table.sell_kwh)

    def gross_orders_wh(self, market: int) -> tuple[IntArray, IntArray]:
        """(bid, offer) in whole Wh: the CSV quantities counted by the meters' rule
        (``units.counter_wh`` over the run's cumulative quantities), so what a trader
        orders is what its meter reads when it consumes or produces as it said."""
        if market >= self.table.intervals:
            zero = np.zeros(self.n, dtype=np.int64)
            return zero, zero
        buy, sell = self._counted_wh
        return (counter_wh(buy[market], buy[market + 1]),
                counter_wh(sell[market], sell[market + 1]))

    def limit_prices(self, market: int) -> tuple[FloatArray, FloatArray]:
        """(bid limit, offer limit) of every participant for ``market``."""
        return self._row(market, self.table.buy_price), self._row(market, self.table.sell_price)
