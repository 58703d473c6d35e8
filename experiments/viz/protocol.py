"""What the page reads from a community: a small structural protocol.

The page never reaches into the model's internals. Everything it shows comes
through :class:`PageSource`, a read-only view with plain rows, so that

* the view-model functions (``gridcoop.experiments.viz.network`` and friends) can be
  unit-tested with hand-built rows and exact numbers;
* a simulated :class:`agents.CommunityModel` (through
  ``gridcoop.experiments.viz.source.page_source``) and a live run can both feed the
  same page;
* the model's own attribute names may change without touching the drawing.

Rows are protocols with read-only attributes, so a ``NamedTuple``, a frozen
dataclass or a pydantic model all satisfy them; nothing here needs to be
imported by ``agents`` (the arrows point from ``experiments`` to ``agents``).

Units are in the names. Times are simulated seconds since the run's start
(``time_s``). Energies of one interval are kWh, prices euro per kWh, powers
kW, tokens integers (1 token = 1 Wh in the pilot).

``PageSource`` (all methods cheap: called on every redraw)
------------------------------------------------------------
``step_count``                 Mesa steps taken so far.
``time_s``                     simulated time now.
``members()``                  every metered member: ``member_id``, ``kind``
                               (``prosumer``, ``ev_owner``, ``dr_household``,
                               ``consumer``, ``classroom`` or any other
                               label), ``region_id`` (its aggregator; ``""`` when
                               it trades at the central market directly).
``regions()``                  aggregator ids, in display order.
``interval_flows()``           this interval's measured energy per member:
                               ``member_id``, ``import_kwh``, ``export_kwh``
                               (both >= 0, as the meters count them).
``auctions()``                 each cleared auction so far: ``time_s``,
                               ``clearing_price_eur_per_kwh`` (``None`` when
                               nothing matched), ``volume_kwh``,
                               ``retail_eur_per_kwh``, ``feed_in_eur_per_kwh``.
``energy_balance()``           each metering interval so far, community
                               totals: ``time_s``, ``production_kwh``,
                               ``consumption_kwh``, ``import_kwh``,
                               ``export_kwh`` (across the community's
                               boundary), ``storage_kwh`` (net energy into
                               batteries, negative when they discharge), so
                               production + import = consumption + export +
                               storage.
``ledger()``                   a :class:`LedgerSource`, or ``None`` when the
                               run keeps no ledger.
``tokens()``                   each member's token balance now
                               (``member_id -> int``).
``token_history()``            ``time_s``, ``total_tokens``, ``by_kind``
                               (kind -> community total) per step.
``tokens_by_kind()``           every token kind's balances: ``kind ->
                               {holder -> tokens}``; kinds are ``energy``
                               (1 token = 1 Wh delivered locally), ``EV``,
                               ``DR``, ``footprint``, ``lighting``.
``kpis()``                     the key figures so far: ``self_sufficiency``,
                               ``self_consumption`` (shares), ``bills_eur``,
                               ``baseline_eur`` (grid-only), ``savings_eur``,
                               ``peak_import_kw`` (any may be ``None``).
``member_facts(member_id)``    ``(label, value)`` lines about one member (its
                               meters, bill against baseline, trades);
                               empty when the source knows none.
``live``                       True for a live community (the page says so).
``ev()``                       an :class:`EVSource`, or ``None`` when the
                               scenario has no EV community.
``dr()``                       a :class:`DRSource`, or ``None`` when the
                               scenario has no DR community.

``LedgerSource``
----------------
``head_hash`` (hex), ``height`` (the head block's height; genesis is 0),
``latest_blocks(n)``
(newest first: ``height``, ``block_hash``, ``time_s``, ``transaction_count``),
``latest_transactions(n)`` (newest first: ``tx_id``, ``kind``, ``sender``,
``receiver``, ``amount``, ``unit``), and ``verify()`` which checks the whole
chain (hashes, links, signatures) and raises an exception naming the first bad
block when it is not whole.

``EVSource``: ``capacity()`` (``time_s``, ``available_kw``, ``committed_kw``)
and ``reserve_calls()`` (``time_s``, ``requested_kw``, ``served_kw``).

``DRSource``: ``events()`` (``time_s``, ``level`` 0-3, ``targets``,
``opted_in``, ``complied``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable


class MemberRow(Protocol):
    """One metered member of the community."""

    @property
    def member_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def region_id(self) -> str: ...


class FlowRow(Protocol):
    """One member's metered energy in the current interval."""

    @property
    def member_id(self) -> str: ...
    @property
    def import_kwh(self) -> float: ...
    @property
    def export_kwh(self) -> float: ...


class AuctionRow(Protocol):
    """One cleared auction and the grid tariffs that applied to it."""

    @property
    def time_s(self) -> int: ...
    @property
    def clearing_price_eur_per_kwh(self) -> float | None: ...
    @property
    def volume_kwh(self) -> float: ...
    @property
    def retail_eur_per_kwh(self) -> float: ...
    @property
    def feed_in_eur_per_kwh(self) -> float: ...


class BalanceRow(Protocol):
    """The community's energy totals over one metering interval."""

    @property
    def time_s(self) -> int: ...
    @property
    def production_kwh(self) -> float: ...
    @property
    def consumption_kwh(self) -> float: ...
    @property
    def import_kwh(self) -> float: ...
    @property
    def export_kwh(self) -> float: ...
    @property
    def storage_kwh(self) -> float: ...


class BlockRow(Protocol):
    """One ledger block, summarised."""

    @property
    def height(self) -> int: ...
    @property
    def block_hash(self) -> str: ...
    @property
    def time_s(self) -> int: ...
    @property
    def transaction_count(self) -> int: ...


class TransactionRow(Protocol):
    """One ledger transaction, summarised."""

    @property
    def tx_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def receiver(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def unit(self) -> str: ...


class TokenPoint(Protocol):
    """The community's token totals after one step."""

    @property
    def time_s(self) -> int: ...
    @property
    def total_tokens(self) -> int: ...
    @property
    def by_kind(self) -> Mapping[str, int]: ...


class CapacityRow(Protocol):
    """EV capacity the aggregator can offer vs what it committed, one hour."""

    @property
    def time_s(self) -> int: ...
    @property
    def available_kw(self) -> float: ...
    @property
    def committed_kw(self) -> float: ...


class ReserveCallRow(Protocol):
    """One spinning-reserve call and how much of it the EVs served."""

    @property
    def time_s(self) -> int: ...
    @property
    def requested_kw(self) -> float: ...
    @property
    def served_kw(self) -> float: ...


class DREventRow(Protocol):
    """One demand-response event and how its targets answered."""

    @property
    def time_s(self) -> int: ...
    @property
    def level(self) -> int: ...
    @property
    def targets(self) -> int: ...
    @property
    def opted_in(self) -> int: ...
    @property
    def complied(self) -> int: ...


class MemberIntervalRow(Protocol):
    """One member's load and production over one metering interval (kWh)."""

    @property
    def time_s(self) -> int: ...
    @property
    def load_kwh(self) -> float: ...
    @property
    def production_kwh(self) -> float: ...


class LedgerSource(Protocol):
    """The ledger as the page reads it."""

    @property
    def head_hash(self) -> str: ...
    @property
    def height(self) -> int: ...
    def latest_blocks(self, n: int) -> Sequence[BlockRow]: ...
    def latest_transactions(self, n: int) -> Sequence[TransactionRow]: ...
    def verify(self) -> None: ...


class EVSource(Protocol):
    """The EV community's capacity and reserve calls."""

    def capacity(self) -> Sequence[CapacityRow]: ...
    def reserve_calls(self) -> Sequence[ReserveCallRow]: ...


class DRSource(Protocol):
    """The DR community's events."""

    def events(self) -> Sequence[DREventRow]: ...


@runtime_checkable
class PageSource(Protocol):
    """Everything the page shows, read from a simulated or a live community."""

    @property
    def step_count(self) -> int: ...
    @property
    def time_s(self) -> int: ...
    def members(self) -> Sequence[MemberRow]: ...
    def regions(self) -> Sequence[str]: ...
    def interval_flows(self) -> Sequence[FlowRow]: ...
    def auctions(self) -> Sequence[AuctionRow]: ...
    def energy_balance(self) -> Sequence[BalanceRow]: ...
    def ledger(self) -> LedgerSource | None: ...
    def tokens(self) -> Mapping[str, int]: ...
    def token_history(self) -> Sequence[TokenPoint]: ...
    def tokens_by_kind(self) -> Mapping[str, Mapping[str, int]]: ...
    def kpis(self) -> Mapping[str, float | None]: ...
    def member_facts(self, member_id: str) -> Sequence[tuple[str, str]]: ...
    def member_history(self, member_id: str) -> Sequence[MemberIntervalRow]: ...
    @property
    def live(self) -> bool: ...
    def ev(self) -> EVSource | None: ...
    def dr(self) -> DRSource | None: ...
