"""Adaptive bidding: learning kernels (Roth-Erev, Q-learning) and the policies built on them.

The kernels hold one learner per member in numpy arrays and update them all
at once; every random draw comes from a generator the caller passes in (a
named stream of ``gridcoop.streams``), so a run is repeatable from its seed.
"""
