"""``MemberEnv``: one member of the community as a Gymnasium environment.

The same episodes as the parallel environment with one controlled member;
passes ``gymnasium.utils.env_checker.check_env``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from gridcoop.agents.behaviour.rl.community import OBS_HIGH, OBS_LOW, CommunityEpisodes


class MemberEnv(gym.Env[NDArray[np.float32], np.int64]):
    """Keywords: ``scenario``, ``member`` (an id; default the first prosumer), ``levels``,
    ``seed``, and any scenario parameter (see ``CommunityParallelEnv``)."""

    def __init__(self, member: str | None = None, render_mode: str | None = None,
                 **kwargs: Any) -> None:
        members = (member,) if member is not None else None
        self.episodes = CommunityEpisodes(members=members, learners=1, **kwargs)
        self.member = self.episodes.members[0]
        self.render_mode = render_mode
        self.observation_space = spaces.Box(OBS_LOW, OBS_HIGH, dtype=np.float32)
        self.action_space = spaces.Discrete(self.episodes.levels)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self.episodes.reset(seed)
        return self.episodes.observations()[0], {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        rewards = self.episodes.step(np.array([int(action)], dtype=np.int64))
        observation = self.episodes.observations()[0]
        done = not self.episodes.running
        return (observation, float(rewards[0]), done, False,
                {"bill_eur": self.episodes.bills_eur()[self.member]})

    def close(self) -> None:
        self.episodes.close()
