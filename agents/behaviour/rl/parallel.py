"""``CommunityParallelEnv``: the community as a PettingZoo parallel environment.

Agents are the controlled members' ids; everyone else bids with the scenario's
policy. Episode, observation, action and reward: ``gridcoop.agents.behaviour.rl.community``.
Passes ``pettingzoo.test.parallel_api_test``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from gridcoop.agents.behaviour.rl.community import OBS_HIGH, OBS_LOW, CommunityEpisodes


class CommunityParallelEnv(ParallelEnv):  # type: ignore[misc]
    """Keywords: ``scenario`` (kind, default ``neighbourhood``: 12 households, 1 region,
    2 days), ``members`` (ids; default the first ``learners`` prosumers), ``learners``
    (default 2), ``levels`` (price grid, 11), ``seed``, and any scenario parameter."""

    metadata: ClassVar[dict[str, Any]] = {"name": "gridcoop_community_v0", "render_modes": []}

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        self.render_mode = render_mode
        self.episodes = CommunityEpisodes(**kwargs)
        self.possible_agents = list(self.episodes.members)
        self.agents: list[str] = []
        self._obs_space = spaces.Box(OBS_LOW, OBS_HIGH, dtype=np.float32)
        self._act_space = spaces.Discrete(self.episodes.levels)
        self.observation_spaces = {a: self._obs_space for a in self.possible_agents}
        self.action_spaces = {a: self._act_space for a in self.possible_agents}

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_space

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        self.episodes.reset(seed)
        self.agents = list(self.possible_agents)
        observations = self.episodes.observations()
        return ({a: observations[i] for i, a in enumerate(self.agents)},
                {a: {} for a in self.agents})

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Any], ...]:
        if not self.agents:
            raise RuntimeError("step() after the episode ended; call reset()")
        chosen = np.array([int(actions[a]) for a in self.possible_agents], dtype=np.int64)
        rewards = self.episodes.step(chosen)
        observations = self.episodes.observations()
        done = not self.episodes.running
        agents = list(self.agents)
        bills = self.episodes.bills_eur()
        result = ({a: observations[i] for i, a in enumerate(agents)},
                  {a: float(rewards[i]) for i, a in enumerate(agents)},
                  {a: done for a in agents}, {a: False for a in agents},
                  {a: {"bill_eur": bills[a]} for a in agents})
        if done:
            self.agents = []
        return result

    def render(self) -> None:
        return None

    def close(self) -> None:
        self.episodes.close()
