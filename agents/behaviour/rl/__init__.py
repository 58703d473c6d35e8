"""The door for outside learning libraries: a PettingZoo parallel environment over the
community and a single-agent Gymnasium wrapper (optional extra ``gridcoop[rl]``).

Nothing here imports PettingZoo or Gymnasium until an environment is built, so
gridcoop works without them::

    from gridcoop.agents.behaviour.rl import community_env, member_env
    env = community_env()          # pettingzoo.ParallelEnv, two prosumers learn
    single = member_env()          # gymnasium.Env, one prosumer learns
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcoop.agents.behaviour.rl.door import DoorBidding

if TYPE_CHECKING:
    from gridcoop.agents.behaviour.rl.parallel import CommunityParallelEnv
    from gridcoop.agents.behaviour.rl.single import MemberEnv


def community_env(**kwargs: Any) -> CommunityParallelEnv:
    """A ``pettingzoo.ParallelEnv`` (see ``CommunityParallelEnv`` for the keywords)."""
    from gridcoop.agents.behaviour.rl.parallel import CommunityParallelEnv

    return CommunityParallelEnv(**kwargs)


def member_env(**kwargs: Any) -> MemberEnv:
    """A ``gymnasium.Env`` for one member (see ``MemberEnv`` for the keywords)."""
    from gridcoop.agents.behaviour.rl.single import MemberEnv

    return MemberEnv(**kwargs)


__all__ = ["DoorBidding", "community_env", "member_env"]
