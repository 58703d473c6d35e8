"""``gridcoop reproduce``: the pilot's published results beside gridcoop's, case by case.

Each case runs its built-in scenario over several seeds and returns rows: one
published figure, the same statistic computed from gridcoop's runs, and whether
they match (with the reason when they do not). ``report`` writes the rows as
Markdown and CSV with one plot per case.
"""
