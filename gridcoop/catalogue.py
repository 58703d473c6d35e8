"""The household appliance catalogue and the demand-response templates, written once.

Why one table: the device simulator (``hardware_bridge``), the model's households
(``agents.physics``), the DR device catalogue (``agents.mechanisms.dr``) and the
excess-sharing rules (``market``) must all speak of the same appliances, or a
simulated live household and a simulated model household draw different loads.

Where the values come from: each appliance's flexibility, daily window, working
hours and power rating are the campus pilot's appliance table
(docs/domain/communities.md), and the four DR
templates (T1 scheduled, T2 temperature range, T3 battery, T4 full flexibility)
are the pilot's, with the pilot's rationing order (T1 is served first). The pilot
gives no ownership or daily-use shares: those are the model's assumptions. Its EV
row has no owners here, because EVs belong to the EV owners the scenarios place
themselves (the DR catalogue's ``ev_share``, the EV mechanism's fleet).

Shared vocabulary: importable by every package, imports nothing of gridcoop.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final


class Template(IntEnum):
    """DR appliance templates, in rationing priority order (T1 is served first)."""

    SCHEDULED = 1  # T1: runs its working hours somewhere inside a window
    TEMPERATURE = 2  # T2: keeps a temperature inside a range
    BATTERY = 3  # T3: charges a battery (an EV) by a deadline
    FLEXIBLE = 4  # T4: fully flexible, may be switched at will


class UnknownApplianceError(KeyError):
    """An appliance name that is not in the catalogue."""


@dataclass(frozen=True, slots=True)
class ApplianceSpec:
    """One row of the catalogue: the pilot's figures plus how common the appliance is."""

    name: str
    flexible: bool
    start_h: float
    end_h: float  # may be "earlier" than start: the window wraps midnight
    working_h: float
    power_kw: float
    template: Template
    p_owned: float  # share of households owning one
    p_used_daily: float  # chance an owner runs it on a given day

    @property
    def window_h(self) -> float:
        """Length of the allowed window; windows may wrap past midnight (EV 19:00-06:00)."""
        span = (self.end_h - self.start_h) % 24.0
        return 24.0 if span == 0.0 else span

    @property
    def run_h(self) -> float:
        """Hours it runs in a day: the table's working hours, at most the window.

        (The table gives the air conditioner 7 h in a 5 h window: it then runs
        through the whole window.)
        """
        return min(self.working_h, self.window_h)


_T = Template
APPLIANCES: Final[tuple[ApplianceSpec, ...]] = (
    ApplianceSpec("refrigerator", False, 0.0, 24.0, 24.0, 0.125, _T.TEMPERATURE, 1.0, 1.0),
    ApplianceSpec("electric vehicle", True, 19.0, 6.0, 6.0, 3.65, _T.BATTERY, 0.0, 0.9),
    ApplianceSpec("air conditioner", True, 19.0, 24.0, 7.0, 1.00, _T.TEMPERATURE, 0.3, 0.5),
    ApplianceSpec("clothes dryer", False, 6.0, 22.0, 4.0, 0.74, _T.SCHEDULED, 0.4, 0.3),
    ApplianceSpec("dish washer", False, 22.0, 23.0, 1.5, 0.47, _T.SCHEDULED, 0.6, 0.8),
    ApplianceSpec("hair dryer", False, 6.0, 8.0, 0.5, 1.00, _T.SCHEDULED, 0.5, 0.7),
    ApplianceSpec("pool pump", True, 12.0, 21.0, 8.0, 2.00, _T.FLEXIBLE, 0.05, 1.0),
    ApplianceSpec("television", False, 7.0, 24.0, 4.0, 0.25, _T.SCHEDULED, 0.95, 1.0),
    ApplianceSpec("water heater", True, 6.0, 23.0, 3.0, 1.50, _T.TEMPERATURE, 0.3, 1.0),
    ApplianceSpec("electric stove", False, 6.0, 21.0, 5.0, 1.50, _T.SCHEDULED, 0.8, 0.3),
    ApplianceSpec("light", False, 16.0, 24.0, 7.0, 0.50, _T.SCHEDULED, 1.0, 0.7),
    ApplianceSpec("personal computer", False, 8.0, 18.0, 5.0, 0.25, _T.SCHEDULED, 0.7, 0.8),
    ApplianceSpec("vacuum cleaner", False, 10.0, 12.0, 0.5, 1.50, _T.SCHEDULED, 0.8, 0.3),
    ApplianceSpec("iron", False, 21.0, 23.0, 2.0, 1.50, _T.SCHEDULED, 0.6, 0.2),
)
"""The catalogue; a row's index is the appliance id of a DR command (``hardware_bridge``)."""


def appliance_index(name: str) -> int:
    """Row of ``name`` in ``APPLIANCES``."""
    for i, spec in enumerate(APPLIANCES):
        if spec.name == name:
            return i
    known = ", ".join(s.name for s in APPLIANCES)
    raise UnknownApplianceError(f"unknown appliance {name!r}; known: {known}")
