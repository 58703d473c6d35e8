"""The ``consensus`` scenario option: neighbouring meters attest each exporter's claim.

Why its own module: the rule lives in ``gridcoop.market.consensus``; this is only
the shape of its parameters in a scenario (``docs/guides/scenarios.md``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class ConsensusSpec(BaseModel):
    """Quorum and tolerances of the rule, the simulated neighbours' noise, and the liars.

    ``neighbours`` nearest members of an exporter's region (by member number,
    ties to the next number) observe its true injection with ``noise_ppm``
    (standard deviation, parts per million); ``liars`` (member ids) and a
    ``liar_share`` of the members drawn at random over-report their export by
    ``over_report_ppm``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    quorum: Annotated[int, Field(ge=1, le=64)] = 2
    neighbours: Annotated[int, Field(ge=0, le=64)] = 3
    tolerance_wh: Annotated[int, Field(ge=0)] = 1
    tolerance_ppm: Annotated[int, Field(ge=0, le=1_000_000)] = 20_000
    noise_ppm: Annotated[int, Field(ge=0, le=1_000_000)] = 5_000
    liars: tuple[str, ...] = ()
    liar_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    over_report_ppm: Annotated[int, Field(ge=0, le=10_000_000)] = 100_000
