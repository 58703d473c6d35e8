"""The research question in one command: does each community mechanism change behaviour?

    from gridcoop.experiments.research import run_research
    result = run_research("out/research", seeds=5, workers=2)   # or dask="local"

Each comparison (``COMPARISONS``) runs one scenario with one mechanism switched
off and on over the same seeds, through the batch runner, and the report gives
each outcome's effect (on - off, paired by seed) with a 95 % bootstrap interval (and the
paired t interval beside it), Hedges' g and a plot. ``gridcoop research`` is its CLI.
"""

from gridcoop.experiments.research.comparisons import COMPARISONS, Comparison, Outcome
from gridcoop.experiments.research.experiment import ResearchResult, run_research
from gridcoop.experiments.research.stats import Effect, effect

__all__ = ["COMPARISONS", "Comparison", "Effect", "Outcome", "ResearchResult", "effect",
           "run_research"]
