"""Every random stream of a run, derived from the scenario seed by name.

Why a registry: a run must draw the same numbers for the same seed, and adding
draws to one purpose (say, the weather) must leave every other purpose alone.
So each purpose has a name here, and ``streams(seed).rng(name, *keys)`` gives
the generator of ``np.random.SeedSequence(entropy=seed, spawn_key=(crc32(name),
*keys))``: a child stream of the seed, independent of every other name's. The
extra ``keys`` (non-negative ints) split a purpose further, e.g. per region, so a
worker process that hosts region 3 draws exactly what one process draws for
region 3, or per day, so day 40 can be drawn without drawing days 0-39.

The name's number is a CRC-32 of its text (stable across processes and Python
versions, unlike ``hash()``). Negative seeds are folded onto the non-negative
integers one-to-one (0, -1, 1, -2, 2, ... -> 0, 1, 2, 3, 4, ...), since a
SeedSequence takes only non-negative entropy.

Shared vocabulary: importable by every package, imports nothing of gridcoop.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np

STREAM_NAMES: Final[dict[str, str]] = {
    # the community model (agents.model, agents.physics), per region where noted
    "population": "who is where: node kinds, PV sizes, batteries, EV profiles",
    "weather": "cloudiness per weather zone and day (per region)",
    "load": "household base load (per region)",
    "appliances": "appliance ownership and daily start times (per region)",
    "ev": "the simple EV fleet's trips (per region)",
    "forecast": "forecast errors of the members' import forecasts (per region)",
    "strategy": "members' pricing strategies",
    "timetable": "campus classroom timetables",
    "policy": "members' behaviour policies (per decision and group)",
    "consensus.noise": "neighbouring meters' observation noise (per delivery interval)",
    "consensus.liars": "which members' meters over-report their export (liar_share)",
    # demand response (agents.mechanisms.dr)
    "dr.households": "the DR households' devices and priorities",
    "dr.response": "households' answers to DR commands",
    "dr.override": "households overriding a command they accepted",
    "dr.events": "the simple scenario's random DR events",
    # EV reserve (agents.mechanisms.ev, market.reserve_calls)
    "ev.fleet": "the EV owners' batteries and commitments",
    "ev.trips": "the EV owners' trips and behaviour changes (per profile)",
    "ev.random_fleet": "a randomly drawn EV fleet (profiles and batteries)",
    "reserve.calls": "the reserve operator's calls (per contract year)",
    # simulated meters and devices (hardware_bridge, experiments.live, benchmarks)
    "devices.households": "the device simulator's households: appliances, sizes, PV",
    "devices.day": "the device simulator's daily schedules and clouds (per day)",
    "devices.noise": "the device simulator's per-interval noise (per interval start, s)",
    "live.simulated_meters": "a live community's simulated meters (per step)",
    "bench.market": "the market benchmark's random books",
    # learning bidders (agents.behaviour.learning)
    "learning.bids": "a learning bidder set up outside a model (the learning benchmark)",
    # the research experiment (experiments.research)
    "research.bootstrap": "bootstrap resamples of the research report's confidence intervals",
}
"""Every stream name and what it draws; a name not listed here is refused."""


class UnknownStreamError(KeyError):
    """A random stream asked for by a name that is not in ``STREAM_NAMES``."""

    def __str__(self) -> str:
        return str(self.args[0])


def stream_key(name: str) -> int:
    """The stable number of a stream name (CRC-32 of its UTF-8 text)."""
    if name not in STREAM_NAMES:
        raise UnknownStreamError(f"unknown random stream {name!r}; known: "
                                 f"{', '.join(sorted(STREAM_NAMES))}")
    return zlib.crc32(name.encode("utf-8"))


def _entropy(seed: int) -> int:
    """Fold any int one-to-one onto the non-negative ints (a SeedSequence's entropy)."""
    return 2 * seed if seed >= 0 else -2 * seed - 1


@dataclass(frozen=True, slots=True)
class Streams:
    """The named random streams of one scenario seed."""

    seed: int

    def sequence(self, name: str, *keys: int) -> np.random.SeedSequence:
        """The SeedSequence of stream ``name``, split further by ``keys`` (ints >= 0)."""
        for key in keys:
            if int(key) < 0:
                raise ValueError(f"stream {name!r}: keys must be >= 0, got {keys}")
        return np.random.SeedSequence(entropy=_entropy(int(self.seed)),
                                      spawn_key=(stream_key(name), *(int(k) for k in keys)))

    def rng(self, name: str, *keys: int) -> np.random.Generator:
        """A fresh generator of stream ``name`` (the same numbers every time it is asked)."""
        return np.random.default_rng(self.sequence(name, *keys))


def streams(seed: int) -> Streams:
    """The registry of ``seed``'s streams: ``streams(seed).rng("weather", region)``."""
    return Streams(int(seed))
