"""Errors of the behaviour layer: a policy that cannot be found, or actions that cannot be used.

Why one error per bad field: a researcher's policy returning a NaN price for
one member among thousands must be told which policy, which member and which
field, in one line, before anything it returned reaches an order book or the
ledger.
"""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy that cannot be resolved, set up or used; the message says how to fix it."""


class PolicyImportError(PolicyError):
    """A scenario or caller named a policy that is neither built in nor importable."""


class ActionError(PolicyError):
    """A policy returned malformed actions; nothing of that step was recorded."""

    def __init__(self, policy: str, member: str | None, field: str, problem: str) -> None:
        self.policy = policy
        self.member = member
        self.field = field
        self.problem = problem
        who = f"member {member!r}" if member is not None else "all members"
        super().__init__(f"policy {policy!r}, {who}, field {field!r}: {problem}")
