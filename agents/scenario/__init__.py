"""Scenario schemas and the one registry of scenario kinds."""
