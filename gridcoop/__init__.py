"""gridcoop: energy communities as agents, a clearing house, a signed ledger, a meter bridge.

The subpackages are ``gridcoop.agents``, ``gridcoop.market``, ``gridcoop.ledger``,
``gridcoop.hardware_bridge`` and ``gridcoop.experiments``; in the repository they are
the top-level folders of the same names (see ``docs/architecture.md``).
"""
