"""One learning episode over a ``CommunityModel``: the part both environments share.

Why separate from PettingZoo and Gymnasium: the stepping (from one gate to
the next), the observation and the reward are the environment; the two
libraries only differ in how they spell it. An episode is one run of the
scenario; one environment step is one auction: the controlled members' limit
prices for the next gate, then the model runs to the gate after it.

Observation of a member (float32, 6 values): the delivery hour as sine and
cosine; the last clearing price as a share of the feed-in -> retail band (-1
before any clearing); the member's forecast at its last gate (kWh, > 0 buys);
the share of its last order that cleared; its last payoff in €. Reward: the
payoff of its last auction against the grid tariffs (``BidFeedback.payoff_u``)
in €. Action: an index on the price grid (``levels`` steps from feed-in to retail).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.behaviour.bidding import TariffShareBidding
from gridcoop.agents.behaviour.errors import PolicyError
from gridcoop.agents.behaviour.rl.door import DoorBidding
from gridcoop.agents.model.population import NodeKind
from gridcoop.agents.scenario.registry import build_scenario
from gridcoop.units import UEUR_PER_EUR

FloatArray = NDArray[np.float32]
OBS_LOW = np.array([-1.0, -1.0, -1.0, -100.0, 0.0, 0.0], dtype=np.float32)
OBS_HIGH = np.array([1.0, 1.0, 2.0, 100.0, 1.0, 100.0], dtype=np.float32)
DEFAULTS: dict[str, Any] = {"households": 12, "regions": 1, "days": 2, "signing": "block"}


class CommunityEpisodes:
    """Builds, steps and observes the model for the environments (one episode at a time)."""

    def __init__(self, scenario: str = "neighbourhood", members: tuple[str, ...] | None = None,
                 learners: int = 2, levels: int = 11, seed: int = 0, **params: Any) -> None:
        self.kind = scenario
        self.params = {**DEFAULTS, **params} if scenario == "neighbourhood" else dict(params)
        self.levels = int(levels)
        self.seed = int(seed)
        self.episode = 0
        self.model: Any = None
        self.door: DoorBidding | None = None
        self.members: tuple[str, ...] = ()
        self._build(self.seed)  # to find the members (an env must name its agents up front)
        self.members = tuple(members) if members is not None else self._prosumers(learners)
        self.close()

    def _prosumers(self, count: int) -> tuple[str, ...]:
        pop = self.model.population
        ids = [pop.node_ids[i] for i in np.flatnonzero(pop.kind == NodeKind.PROSUMER)][:count]
        if len(ids) < count:
            raise PolicyError(f"scenario {self.kind!r} has {len(ids)} prosumer(s); "
                              f"{count} learner(s) asked for (name them with members=...)")
        return tuple(ids)

    def _build(self, seed: int) -> None:
        from gridcoop.agents.model.community import CommunityModel

        scenario = build_scenario(self.kind, {**self.params, "seed": seed})
        self.door = DoorBidding(self.members, self.levels, TariffShareBidding(scenario.strategy))
        self.model = CommunityModel(self.kind, replicas="shared", ledger_workers=0,
                                    policies={"bidding": {"all": self.door}},
                                    **{**self.params, "seed": seed})

    def reset(self, seed: int | None) -> None:
        """A fresh run: of ``seed``, or of the env's seed plus the episodes so far."""
        self.close()
        if seed is not None:
            self.seed, self.episode = int(seed), 0
        self._build(self.seed + self.episode)
        self.episode += 1

    @property
    def running(self) -> bool:
        return self.model is not None and bool(self.model.running)

    def step(self, actions: NDArray[np.int64]) -> FloatArray:
        """Price the next gate with ``actions``, run to the gate after; rewards in €."""
        assert self.door is not None
        self.door.act(actions)
        self.door.last_feedback = None
        model = self.model
        spm = model.clock.steps_per_market
        model.step()
        while model.running and model.steps % spm:
            model.step()
        return self._payoff_eur()

    def _payoff_eur(self) -> FloatArray:
        assert self.door is not None
        feedback = self.door.last_feedback
        if feedback is None:
            return np.zeros(len(self.members), dtype=np.float32)
        payoff = np.asarray(feedback.payoff_u)[self.door.rows]
        return (payoff / UEUR_PER_EUR).astype(np.float32)

    def observations(self) -> FloatArray:
        """One row per controlled member (see the module's docstring)."""
        model, door = self.model, self.door
        assert door is not None
        n = len(self.members)
        target = model.clock.market_of(min(model.steps, model.clock.total_steps - 1)) + 1
        hour = (target * model.clock.market_minutes / 60.0) % 24.0
        out = np.zeros((n, 6), dtype=np.float32)
        out[:, 0] = math.sin(2 * math.pi * hour / 24)
        out[:, 1] = math.cos(2 * math.pi * hour / 24)
        out[:, 2] = -1.0
        observed, feedback = door.last_observation, door.last_feedback
        if observed is not None:
            out[:, 3] = np.asarray(observed.forecast_kwh)[door.rows]
        if feedback is not None and observed is not None and feedback.price_u >= 0:
            band = max(observed.retail_u - observed.feed_in_u, 1)
            out[:, 2] = (feedback.price_u - observed.feed_in_u) / band
        if feedback is not None:
            rows = door.rows
            asked = (np.asarray(feedback.bid_wh) + np.asarray(feedback.offer_wh))[rows]
            got = (np.asarray(feedback.bought_wh) + np.asarray(feedback.sold_wh))[rows]
            out[:, 4] = np.where(asked > 0, got / np.maximum(asked, 1), 0.0)
            out[:, 5] = np.asarray(feedback.payoff_u)[rows] / UEUR_PER_EUR
        clipped: FloatArray = np.clip(out, OBS_LOW, OBS_HIGH)
        return clipped

    def bills_eur(self) -> dict[str, float]:
        """The controlled members' net bills so far (€; the ledger's record is in µ€)."""
        bills = self.model.kpis.bill_u
        index = {m: i for i, m in enumerate(self.model.population.node_ids)}
        return {m: int(bills[index[m]]) / UEUR_PER_EUR for m in self.members}

    def close(self) -> None:
        if self.model is not None:
            self.model.close()
            self.model = None
