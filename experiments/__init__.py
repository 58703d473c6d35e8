"""Wiring of runs: scenarios, campus cases, batch, the web page, live mode, the CLI, benchmarks."""
